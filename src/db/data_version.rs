//! Whether the device logins can have changed since the login sync last read them, so that an
//! idle poll does not read every row (docs/PERFORMANCE.md, items 28 and 30).
//!
//! - SQLite: `PRAGMA data_version` on a connection of its own, a number that changes whenever
//!   any other connection (this process's pool, the CLI, another program) commits to the
//!   database.
//! - PostgreSQL: the row counts and row-version sums of the two tables
//!   ([`RowVersions`]), through the pool.
//!
//! A marker that cannot be read is `None`, and the caller then reads the tables.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

use super::broker_logins::{row_versions, RowVersions};
use super::pool::SQLITE_BUSY_TIMEOUT_MS;
use super::{DbConn, DbPool, DbUrl};

/// What a poll compares with the last read's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Sqlite(i64),
    Postgres(RowVersions),
}

/// The watcher of one database.
pub enum Watch {
    /// The SQLite file; its connection is opened on first use and again after an error.
    Sqlite {
        path: PathBuf,
        conn: Option<SqliteConnection>,
    },
    Postgres,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

impl Watch {
    pub fn for_url(url: &DbUrl) -> Watch {
        match url {
            DbUrl::Sqlite(path) => Watch::Sqlite {
                path: path.clone(),
                conn: None,
            },
            DbUrl::Postgres(_) => Watch::Postgres,
        }
    }

    /// The marker now. On SQLite only this watcher's own commits would not move it, and it
    /// never writes.
    pub fn read(&mut self, pool: &DbPool) -> Option<Marker> {
        match self {
            Watch::Sqlite { path, conn } => {
                let version = sqlite_connection(path, conn).and_then(|c| {
                    diesel::sql_query("PRAGMA data_version")
                        .get_result::<Row>(c)
                        .ok()
                });
                if version.is_none() {
                    *conn = None;
                }
                version.map(|row| Marker::Sqlite(row.data_version))
            }
            Watch::Postgres => match pool.get().ok()? {
                DbConn::Postgres(mut c) => row_versions(&mut c).ok().map(Marker::Postgres),
                DbConn::Sqlite(_) => None,
            },
        }
    }
}

fn sqlite_connection<'c>(
    path: &Path,
    conn: &'c mut Option<SqliteConnection>,
) -> Option<&'c mut SqliteConnection> {
    if conn.is_none() {
        let mut opened = SqliteConnection::establish(&path.to_string_lossy()).ok()?;
        opened
            .batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"))
            .ok()?;
        *conn = Some(opened);
    }
    conn.as_mut()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn sqlite_moves_when_another_connection_commits_and_not_otherwise() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("v.sqlite");
        let url = DbUrl::Sqlite(path.clone());
        let mut writer = SqliteConnection::establish(&path.to_string_lossy())?;
        writer.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")?;
        let pool = DbPool::open(&url, 1, Duration::from_secs(5))?;
        let mut watch = Watch::for_url(&url);
        let first = watch.read(&pool);
        assert!(
            matches!(first, Some(Marker::Sqlite(_))),
            "readable: {first:?}"
        );
        assert_eq!(watch.read(&pool), first, "nothing committed");
        writer.batch_execute("INSERT INTO t VALUES (1);")?;
        let second = watch.read(&pool);
        assert!(
            second.is_some() && second != first,
            "a commit by another connection"
        );
        assert_eq!(watch.read(&pool), second);
        Ok(())
    }
}

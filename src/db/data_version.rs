//! SQLite's `PRAGMA data_version` on a connection of its own: a number that changes whenever
//! any other connection (this process's pool, the CLI, another program) commits to the
//! database. The device-login sync reads it every poll and reads the tables only when it
//! moved, instead of every row every quarter second (docs/PERFORMANCE.md, item 28).
//! PostgreSQL has no such counter; there the sync reads the tables every poll.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

use super::DbUrl;

/// The watcher; its connection is opened on first use and again after an error.
pub struct DataVersion {
    path: PathBuf,
    conn: Option<SqliteConnection>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

impl DataVersion {
    /// A watcher for a SQLite database; `None` for PostgreSQL.
    pub fn for_url(url: &DbUrl) -> Option<DataVersion> {
        match url {
            DbUrl::Sqlite(path) => Some(DataVersion {
                path: path.clone(),
                conn: None,
            }),
            DbUrl::Postgres(_) => None,
        }
    }

    /// The current data version, or `None` if it cannot be read now (the caller then reads
    /// the tables, as without a watcher). Only this connection's own commits would not move
    /// it, and it never writes.
    pub fn read(&mut self) -> Option<i64> {
        let version = self.connection().and_then(|c| {
            diesel::sql_query("PRAGMA data_version")
                .get_result::<Row>(c)
                .ok()
        });
        if version.is_none() {
            self.conn = None;
        }
        version.map(|row| row.data_version)
    }

    fn connection(&mut self) -> Option<&mut SqliteConnection> {
        if self.conn.is_none() {
            let mut conn = SqliteConnection::establish(&self.path.to_string_lossy()).ok()?;
            conn.batch_execute("PRAGMA busy_timeout = 1000;").ok()?;
            self.conn = Some(conn);
        }
        self.conn.as_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_when_another_connection_commits_and_not_otherwise() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("v.sqlite");
        let url = DbUrl::Sqlite(path.clone());
        let mut writer = SqliteConnection::establish(&path.to_string_lossy())?;
        writer.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")?;
        let mut watcher = DataVersion::for_url(&url).ok_or(anyhow::anyhow!("no watcher"))?;
        let first = watcher.read();
        assert!(first.is_some(), "readable");
        assert_eq!(watcher.read(), first, "nothing committed");
        writer.batch_execute("INSERT INTO t VALUES (1);")?;
        let second = watcher.read();
        assert!(
            second.is_some() && second != first,
            "a commit by another connection"
        );
        assert_eq!(watcher.read(), second);
        Ok(())
    }

    #[test]
    fn is_for_sqlite_only() -> anyhow::Result<()> {
        let url = DbUrl::parse("postgres://u@127.0.0.1/db").map_err(anyhow::Error::msg)?;
        assert!(DataVersion::for_url(&url).is_none());
        Ok(())
    }
}

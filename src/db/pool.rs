//! Connection pools. The backend is chosen from the URL scheme; each connection is prepared on
//! acquire (PostgreSQL: UTC session time zone; SQLite: foreign keys, WAL, busy timeout).

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{PgConnection, SqliteConnection};

use super::liveness::{self, PgPooled};
use super::pg_url::libpq_url;
use crate::secret::redact_url;

/// How long a SQLite writer waits for the lock before the request gets a 503.
pub(crate) const SQLITE_BUSY_TIMEOUT_MS: u64 = 1_000;

/// The server ends a statement, or a transaction left idle, after this long. Every query here
/// takes milliseconds; a longer one means a stalled connection. The bound also makes a write
/// whose COMMIT is held up by a stall past the request's deadline roll back at the server
/// instead of landing after its 503 (docs/OPERATIONS.md, "When the database fails").
pub(crate) const PG_STATEMENT_TIMEOUT_MS: u64 = 1_000;

/// A parsed `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// `postgres://…` or `postgresql://…`, passed to libpq as is.
    Postgres(String),
    /// `sqlite://PATH` (relative to the working directory, or `sqlite:///abs/path`).
    Sqlite(PathBuf),
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl DbUrl {
    /// Parses a URL; the error names the accepted forms.
    pub fn parse(url: &str) -> Result<DbUrl, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_string()));
        }
        match url.strip_prefix("sqlite://") {
            Some(path) if !path.is_empty() => Ok(DbUrl::Sqlite(PathBuf::from(path))),
            _ => Err(format!(
                "DATABASE_URL '{}' is neither postgres://… nor sqlite://PATH",
                redact_url(url)
            )),
        }
    }

    /// The URL with any password hidden, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DbUrl::Postgres(url) => redact_url(url),
            DbUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        }
    }
}

/// Why the data layer could not answer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection within the timeout, or the connection broke: the database is unavailable.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed for another reason.
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
}

impl DbError {
    /// Sorts a query error: lost connections and SQLite lock time-outs are unavailability.
    pub fn classify(err: diesel::result::Error) -> DbError {
        use diesel::result::Error;
        match &err {
            lost if liveness::lost(lost) => DbError::Unavailable(err.to_string()),
            Error::DatabaseError(_, info)
                if [
                    "database is locked",
                    "statement timeout",
                    "idle-in-transaction",
                ]
                .iter()
                .any(|cause| info.message().contains(cause)) =>
            {
                DbError::Unavailable(err.to_string())
            }
            // A write batch whose requests came too close to their deadline to commit.
            Error::RollbackTransaction => {
                DbError::Unavailable("request deadline reached before commit".to_string())
            }
            _ => DbError::Query(err),
        }
    }
}

/// A pool for the backend the URL names.
#[derive(Clone)]
pub enum DbPool {
    /// PostgreSQL.
    Postgres(Pool<ConnectionManager<PgConnection>>),
    /// SQLite file.
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
}

/// A pooled connection of either backend; use [`crate::with_conn!`] to query it.
pub enum DbConn {
    /// PostgreSQL.
    Postgres(PgPooled),
    /// SQLite.
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
}

impl DbConn {
    /// Sorts a query error of this connection ([`DbError::classify`]); a PostgreSQL connection
    /// found lost is also marked broken, so the pool drops it.
    pub fn classify(&mut self, err: diesel::result::Error) -> DbError {
        if let DbConn::Postgres(conn) = self {
            if liveness::lost(&err) {
                liveness::mark_broken(conn);
            }
        }
        DbError::classify(err)
    }
}

#[derive(Debug)]
struct PgSetup;

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for PgSetup {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        // `last_login` is timestamptz but declared Timestamp: without UTC every write would be
        // shifted by the server's offset (a timestamptz written through a Timestamp column). diesel 2.3's
        // `PgConnection::establish` already does this; repeated so the guarantee does not rest
        // on that detail (tests/it/compat.rs checks the round trip on a non-UTC server).
        conn.batch_execute(&format!(
            "SET TIME ZONE 'UTC'; SET statement_timeout = {PG_STATEMENT_TIMEOUT_MS}; \
             SET idle_in_transaction_session_timeout = {PG_STATEMENT_TIMEOUT_MS}"
        ))
        .map_err(diesel::r2d2::Error::QueryError)?;
        // Generic plans: every query here is a key lookup or a one-row update, for which the
        // generic plan is the custom one. Left to choose, PostgreSQL re-plans the batched
        // `getCurrent` join (`id = ANY($1)`) on every execution, and planning cost more than
        // the query. Per session, so a DeviceHive server sharing the database is unaffected;
        // a server older than 12 lacks the setting and just keeps its default.
        if let Err(e) = conn.batch_execute("SET plan_cache_mode = force_generic_plan") {
            log::debug!(target: "dh::db", "plan_cache_mode not set: {e}");
        }
        Ok(())
    }
}

#[derive(Debug)]
struct SqliteSetup;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqliteSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; \
             PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

impl DbPool {
    /// Opens a pool of `size` connections; `get()` waits at most `timeout` for one, so a
    /// database outage becomes a 503 within that time instead of r2d2's default 30 s.
    pub fn open(url: &DbUrl, size: u32, timeout: Duration) -> Result<DbPool, DbError> {
        let unavailable =
            |e: diesel::r2d2::PoolError| DbError::Unavailable(format!("{}: {e}", url.redacted()));
        Ok(match url {
            DbUrl::Postgres(u) => DbPool::Postgres(
                Pool::builder()
                    .max_size(size)
                    .connection_timeout(timeout)
                    // Not at every checkout: `liveness` pings idle connections only.
                    .test_on_check_out(false)
                    .connection_customizer(Box::new(PgSetup))
                    .build(ConnectionManager::new(libpq_url(u)))
                    .map_err(unavailable)?,
            ),
            DbUrl::Sqlite(path) => DbPool::Sqlite(
                Pool::builder()
                    .max_size(size)
                    .connection_timeout(timeout)
                    .test_on_check_out(false)
                    .connection_customizer(Box::new(SqliteSetup))
                    .build(ConnectionManager::new(path.to_string_lossy()))
                    .map_err(unavailable)?,
            ),
        })
    }

    /// (connections open, of which idle).
    pub fn state(&self) -> (u32, u32) {
        let state = match self {
            DbPool::Postgres(pool) => pool.state(),
            DbPool::Sqlite(pool) => pool.state(),
        };
        (state.connections, state.idle_connections)
    }

    /// Takes a connection, waiting at most the pool's timeout. Blocking: call it only from a
    /// thread that may block (the repository's `SyncArbiter`, the CLI).
    pub fn get(&self) -> Result<DbConn, DbError> {
        let unavailable = |e: diesel::r2d2::PoolError| DbError::Unavailable(e.to_string());
        Ok(match self {
            DbPool::Postgres(pool) => {
                DbConn::Postgres(liveness::checkout(pool).map_err(DbError::Unavailable)?)
            }
            DbPool::Sqlite(pool) => DbConn::Sqlite(pool.get().map_err(unavailable)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            DbUrl::parse("sqlite://dh.sqlite"),
            Ok(DbUrl::Sqlite(PathBuf::from("dh.sqlite")))
        );
        assert_eq!(
            DbUrl::parse("sqlite:///var/lib/dh.sqlite"),
            Ok(DbUrl::Sqlite(PathBuf::from("/var/lib/dh.sqlite")))
        );
        assert!(matches!(
            DbUrl::parse("postgresql://u@h/db"),
            Ok(DbUrl::Postgres(_))
        ));
        let err = DbUrl::parse("mysql://u:pw@h/db").err().unwrap_or_default();
        assert!(err.contains("mysql://u:***@h/db"), "{err}");
        assert!(DbUrl::parse("sqlite://").is_err());
    }
}

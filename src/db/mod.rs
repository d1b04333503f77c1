//! The data layer: a connection pool per backend chosen from the URL, the DeviceHive schema,
//! embedded migrations, and the user repository's queries.
//!
//! Queries are written once and compiled for both backends by [`with_conn!`] and
//! [`write_transaction!`], which match on [`DbConn`]. We dispatch on the URL ourselves instead
//! of deriving `MultiConnection`, whose `establish` hides every backend's real error, and so
//! that SQLite writes can take `BEGIN IMMEDIATE` (a deferred transaction that reads then writes
//! fails at once with "database is locked" when another writer got there first).

pub mod broker_logins;
pub mod bulk_update;
pub mod combine;
pub mod data_version;
pub mod directory;
pub mod instance;
pub mod keeper_lock;
pub mod like;
pub mod liveness;
pub mod migrate;
pub mod model;
pub mod pg_url;
pub mod pool;
pub mod prepared;
pub mod schema;
pub mod server_clock;
pub mod sessions;
pub mod update_batch;
pub mod user_admin;
pub mod user_links;
pub mod user_repo;

pub use pool::{DbConn, DbError, DbPool, DbUrl};

/// Runs `$body` with `$c` bound to the concrete connection (`&mut PgConnection` or
/// `&mut SqliteConnection`); the body is compiled once per backend.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres(pooled) => {
                let $c: &mut ::diesel::PgConnection = &mut **pooled;
                $body
            }
            $crate::db::DbConn::Sqlite(pooled) => {
                let $c: &mut ::diesel::SqliteConnection = &mut **pooled;
                $body
            }
        }
    };
}

/// Runs `$body` in a write transaction: a plain transaction on PostgreSQL, `BEGIN IMMEDIATE`
/// on SQLite so that concurrent writers queue on `busy_timeout` instead of failing.
#[macro_export]
macro_rules! write_transaction {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres(pooled) => {
                ::diesel::Connection::transaction(&mut **pooled, |$c| $body)
            }
            $crate::db::DbConn::Sqlite(pooled) => pooled.immediate_transaction(|$c| $body),
        }
    };
}

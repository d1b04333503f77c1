//! Whether a pooled PostgreSQL connection still works, without a round trip per checkout.
//!
//! r2d2's `test_on_check_out` pings at every checkout: a `SELECT 1` round trip before every
//! batch, about a quarter of the server's CPU per `getCurrent` and a wait on the lane
//! (docs/PERFORMANCE.md, item 22). Connections die while idle (a server restart, an idle
//! timeout, `pg_terminate_backend`), so only a connection not checked out for
//! [`PING_AFTER_IDLE`] is pinged; one that fails a query with a lost connection is marked
//! broken, so the pool drops it instead of handing it out again. diesel 2.3 already does that
//! when libpq no longer knows the transaction status; marking it here keeps the guarantee
//! from resting on that detail. The repository's periodic health check (`Ping`) meets dead
//! idle connections too, and so drops them before a request would.

use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error};
use diesel::PgConnection;

/// A connection checked out within this long is used without a ping.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// When a connection was last handed out (kept in the pool's per-connection extensions).
struct LastCheckout(Instant);

/// A pooled PostgreSQL connection.
pub type PgPooled = PooledConnection<ConnectionManager<PgConnection>>;

/// A working connection: pinged first if it has been idle, dead ones dropped on the way.
/// The error says why none could be had.
pub fn checkout(pool: &Pool<ConnectionManager<PgConnection>>) -> Result<PgPooled, String> {
    // Each failed ping drops one dead connection; a pool's worth of them plus one means
    // even fresh connections fail.
    for _ in 0..=pool.max_size() {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        let recent = PgPooled::extensions(&conn)
            .get::<LastCheckout>()
            .is_some_and(|last| last.0.elapsed() < PING_AFTER_IDLE);
        if recent || conn.ping().is_ok() {
            PgPooled::extensions_mut(&mut conn).insert(LastCheckout(Instant::now()));
            return Ok(conn);
        }
        mark_broken(&mut conn);
    }
    Err("every PostgreSQL connection failed its check".to_string())
}

/// Whether `err` means the connection itself is gone.
pub fn lost(err: &Error) -> bool {
    matches!(
        err,
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

/// Makes the pool drop `conn` when it is returned (r2d2 asks diesel's `is_broken`, which
/// is true for a transaction manager in error).
pub fn mark_broken(conn: &mut PgConnection) {
    AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
}

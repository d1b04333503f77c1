//! Which instance holds the keeper, the deployment's one persistent broker session
//! (`mqtt::keeper_identity`): a PostgreSQL session-level advisory lock, on a connection of its
//! own in a thread of its own. The lock lives and dies with that connection, so an instance
//! that is stopped or killed (SIGKILL included) frees it at once, and another instance, polling,
//! takes the keeper over within [`POLL`]. On SQLite there is one instance per file
//! (`db::instance`), which always holds it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::sql_types::{BigInt, Bool};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use tokio::sync::watch;

use super::pg_url::libpq_url;
use super::DbUrl;
use crate::secret::redact_url;

/// How often a waiting instance tries the lock, and a holder checks its connection.
pub const POLL: Duration = Duration::from_millis(250);
/// How long an instance whose keeper session was taken over waits before trying again.
const YIELD_PAUSE: Duration = Duration::from_secs(5);

/// The lock's state, shared with the thread that holds it.
pub struct KeeperLock {
    /// Whether this instance holds the keeper now.
    pub held: watch::Receiver<bool>,
    control: Arc<Control>,
    thread: Option<JoinHandle<()>>,
}

/// Gives the keeper lock up (see [`KeeperLock::give_up`]).
#[derive(Clone)]
pub struct GiveUp(pub Arc<dyn Fn() + Send + Sync>);

#[derive(Default)]
struct Control {
    stop: AtomicBool,
    yield_now: AtomicBool,
}

#[derive(QueryableByName)]
struct Held {
    #[diesel(sql_type = Bool)]
    held: bool,
}

impl KeeperLock {
    /// Starts contending for the keeper of `name` on `url`.
    pub fn start(url: &DbUrl, name: &str) -> KeeperLock {
        let control = Arc::new(Control::default());
        let DbUrl::Postgres(url) = url else {
            let (_, held) = watch::channel(true);
            return KeeperLock {
                held,
                control,
                thread: None,
            };
        };
        let (tx, held) = watch::channel(false);
        let (url, key, shared) = (url.clone(), lock_key(name), Arc::clone(&control));
        let thread = std::thread::Builder::new()
            .name("dh-keeper-lock".into())
            .spawn(move || contend(&url, key, &shared, &tx))
            .map_err(
                |e| log::error!(target: "dh::keeper", "cannot start the keeper lock thread: {e}"),
            )
            .ok();
        KeeperLock {
            held,
            control,
            thread,
        }
    }

    /// What gives the lock up (the keeper session was taken over by another instance), to
    /// contend again a while later.
    pub fn give_up(&self) -> GiveUp {
        let control = Arc::clone(&self.control);
        GiveUp(Arc::new(move || {
            control.yield_now.store(true, Ordering::Relaxed)
        }))
    }

    /// Releases the lock and ends the thread; call once the keeper connection is closed.
    pub fn release(mut self) {
        self.control.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The advisory-lock key of a keeper name (FNV-1a: stable across builds and instances).
fn lock_key(name: &str) -> i64 {
    let hash = format!("dh-mqtt-plugin keeper {name}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The thread: connect, try the lock every [`POLL`] until it is ours, then check the
/// connection every [`POLL`]; a lost connection is a lost lock.
fn contend(url: &str, key: i64, control: &Control, held: &watch::Sender<bool>) {
    let stopping = || control.stop.load(Ordering::Relaxed);
    while !stopping() {
        let mut conn = match PgConnection::establish(&libpq_url(url)) {
            Ok(conn) => conn,
            Err(e) => {
                log::warn!(target: "dh::keeper", "keeper lock: cannot connect to {}: {e}", redact_url(url));
                std::thread::sleep(POLL * 4);
                continue;
            }
        };
        let lost = hold(&mut conn, key, control, held);
        if *held.borrow() {
            let _ = held.send(false);
        }
        if let Err(e) = lost {
            log::warn!(target: "dh::keeper", "keeper lock: database connection lost: {e}");
        }
    }
}

/// Runs on one connection until it fails or the service stops.
fn hold(
    conn: &mut PgConnection,
    key: i64,
    control: &Control,
    held: &watch::Sender<bool>,
) -> diesel::QueryResult<()> {
    loop {
        let holding = *held.borrow();
        if control.stop.load(Ordering::Relaxed) {
            if holding {
                unlock(conn, key)?;
            }
            return Ok(());
        }
        if control.yield_now.swap(false, Ordering::Relaxed) && holding {
            unlock(conn, key)?;
            let _ = held.send(false);
            log::warn!(target: "dh::keeper", "gave the keeper session up; contending again in {YIELD_PAUSE:?}");
            std::thread::sleep(YIELD_PAUSE);
            continue;
        }
        if holding {
            diesel::sql_query("SELECT 1").execute(conn)?;
        } else {
            let got: Held = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS held")
                .bind::<BigInt, _>(key)
                .get_result(conn)?;
            if got.held {
                let _ = held.send(true);
            }
        }
        std::thread::sleep(POLL);
    }
}

fn unlock(conn: &mut PgConnection, key: i64) -> diesel::QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(key)
        .execute(conn)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_name_and_never_change() {
        assert_ne!(lock_key("dhplugin"), lock_key("dhplugin2"));
        assert_eq!(lock_key("dhplugin"), lock_key("dhplugin"));
    }
}

//! Keeps the broker plugin's device logins in step with the database (docs/OPERATIONS.md,
//! "Device logins"): every [`POLL`] it reads `dh_mqtt_broker_login` with each user's login
//! and status, and publishes what changed on `dh/plugin/credentials`; after every subscribe
//! of the connection (a reconnect may be to a restarted broker, whose plugin knows nothing),
//! and every [`SNAPSHOT_EVERY`], the whole table with the key. A user disabled, locked or
//! deleted by anyone (this service, the CLI, a DeviceHive server) is therefore refused and
//! disconnected by the plugin within about `POLL`.
//!
//! A write through this instance that can change a device login (`user/insert`, a new login,
//! status or password) wakes it at once ([`LoginsChanged`]); the CLI and other writers are seen
//! at the next poll.
//!
//! A poll first reads a marker of the database ([`Watch`]) and reads the table only when it
//! moved since the last read, or a snapshot is due.
//!
//! Its own thread: a blocking query every quarter second must not hold up an actor.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dh_mqtt_rules::{from_hex, is_valid_client_id, Change, CREDENTIALS_TOPIC};

use crate::auth::broker_login::{BrokerKey, LoginsChanged};
use crate::db::broker_logins::{load_all, BrokerLogin};
use crate::db::data_version::{Marker, Watch};
use crate::db::DbPool;
use crate::ops::health::Link;

/// How often the table is read.
pub const POLL: Duration = Duration::from_millis(250);
/// How often the whole table is sent again, whatever changed (a safety net for a broker
/// restarted between two polls).
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(60);
/// Lines per message, so that one message stays far below any payload limit (~130 bytes each).
const LINES_PER_MESSAGE: usize = 1000;
/// How long a publish may take before the next poll starts over with a snapshot.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// The running sync; stopped when dropped.
pub struct LoginSync {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for LoginSync {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts syncing over `client` (the instance's first broker connection).
pub fn start(
    pool: DbPool,
    watch: Watch,
    client: paho_mqtt::AsyncClient,
    link: Arc<Link>,
    key: BrokerKey,
    changed: LoginsChanged,
) -> LoginSync {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("login-sync".into())
        .spawn(move || Syncer::new(pool, watch, client, link, key).run(&flag, &changed))
        .map_err(|e| log::error!(target: "dh::logins", "cannot start the login sync: {e}"))
        .ok();
    LoginSync { stop, thread }
}

/// What the plugin was last told about one user.
type Known = BTreeMap<i64, Change>;

struct Syncer {
    pool: DbPool,
    /// The database's marker, and the one the last read of the table saw.
    watch: Watch,
    read_at: Option<Marker>,
    client: paho_mqtt::AsyncClient,
    link: Arc<Link>,
    /// `link.sessions` when the plugin was last told everything.
    session: u64,
    key: BrokerKey,
    /// `None`: the plugin's state is unknown (never sent, reconnected, a publish failed).
    known: Option<Known>,
    last_snapshot: Instant,
    failing: bool,
}

impl Syncer {
    fn new(
        pool: DbPool,
        watch: Watch,
        client: paho_mqtt::AsyncClient,
        link: Arc<Link>,
        key: BrokerKey,
    ) -> Syncer {
        Syncer {
            pool,
            watch,
            read_at: None,
            client,
            link,
            session: 0,
            key,
            known: None,
            last_snapshot: Instant::now(),
            failing: false,
        }
    }

    fn run(mut self, stop: &AtomicBool, changed: &LoginsChanged) {
        while !stop.load(Ordering::Relaxed) {
            changed.wait(POLL);
            // Subscribed again since the last snapshot: the broker (and the plugin's table)
            // may be new, even when the reconnect fell between two polls.
            let session = self.link.sessions.load(Ordering::Relaxed);
            if session != self.session {
                self.session = session;
                self.known = None;
            }
            if !self.link.subscribed.load(Ordering::Relaxed) || !self.client.is_connected() {
                continue;
            }
            match self.tick() {
                Ok(()) => self.failing = false,
                Err(e) => {
                    self.known = None;
                    if !std::mem::replace(&mut self.failing, true) {
                        log::warn!(target: "dh::logins", "broker logins not synced: {e}");
                    }
                }
            }
        }
    }

    fn tick(&mut self) -> anyhow::Result<()> {
        let snapshot = self.known.is_none() || self.last_snapshot.elapsed() >= SNAPSHOT_EVERY;
        // Read before the table: a commit in between moves it again for the next poll.
        let version = self.watch.read(&self.pool);
        if !snapshot && version.is_some() && version == self.read_at {
            return Ok(());
        }
        self.read_at = None;
        let rows = load_all(&mut self.pool.get()?)?;
        let now: Known = rows.iter().filter_map(change_of).collect();
        let lines: Vec<String> = if snapshot {
            std::iter::once(Change::Key(self.key.bytes().to_vec()))
                .chain(now.values().cloned())
                .map(|c| c.line())
                .collect()
        } else {
            let known = self.known.as_ref();
            now.iter()
                .filter(|(id, change)| known.and_then(|k| k.get(id)) != Some(change))
                .map(|(_, change)| change.line())
                .collect()
        };
        for chunk in lines.chunks(LINES_PER_MESSAGE) {
            let payload = chunk.join("\n");
            let message = paho_mqtt::Message::new(CREDENTIALS_TOPIC, payload, 1);
            self.client
                .publish(message)
                .wait_for(PUBLISH_TIMEOUT)
                .map_err(|e| anyhow::anyhow!("publishing on {CREDENTIALS_TOPIC}: {e}"))?;
        }
        if snapshot {
            self.last_snapshot = Instant::now();
            log::info!(target: "dh::logins", "broker plugin told {} device logins", now.len());
        } else if !lines.is_empty() {
            log::info!(target: "dh::logins", "broker plugin told {} changed device logins", lines.len());
        }
        self.known = Some(now);
        self.read_at = version;
        Ok(())
    }
}

/// The line for one row; `None` for a login that cannot be a client id (it can never connect
/// through the plugin, and one bad line would make the plugin refuse the whole message).
fn change_of(row: &BrokerLogin) -> Option<(i64, Change)> {
    if !is_valid_client_id(&row.login) {
        return None;
    }
    let (user_id, login) = (row.user_id, row.login.clone());
    let grant = match (row.active, from_hex(&row.salt), from_hex(&row.verifier)) {
        (true, Some(salt), Some(verifier)) => {
            verifier.try_into().ok().map(|verifier| Change::Grant {
                user_id,
                login: login.clone(),
                salt,
                verifier,
            })
        }
        _ => None,
    };
    Some((user_id, grant.unwrap_or(Change::Revoke { user_id, login })))
}

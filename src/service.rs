//! Wiring and lifecycle of `serve`: open the pool, start each actor under its own supervision,
//! connect, and on shutdown drain in-flight requests before disconnecting.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Supervisor, SyncArbiter};

use crate::actors::admission::Admission;
use crate::actors::auth::AuthActor;
use crate::actors::batcher::Batcher;
use crate::actors::hasher::HasherActor;
use crate::actors::ingest::{IngestActor, IngestSettings, Retire};
use crate::actors::lanes::RepoLanes;
use crate::actors::messages::{LoadBatch, PruneSessions, SessionBatch, UpdateBatch};
use crate::actors::password_budget::PasswordBudget;
use crate::actors::password_work::PasswordWork;
use crate::actors::pipeline::Peers;
use crate::actors::publisher::PublisherActor;
use crate::actors::repo::RepoActor;
use crate::actors::supervise::FaultPlan;
use crate::auth::password::HashScheme;
use crate::config::Config;
use crate::db::keeper_lock::{GiveUp, KeeperLock};
use crate::db::{DbPool, DbUrl};
use crate::handlers::TokenPolicy;
use crate::mqtt::{self, Identity};
use crate::ops::health::Health;
use crate::ops::metrics::{self, Sources};
use crate::ops::probe::Probe;
use crate::ops::{http, systemd};

/// How often draining checks whether in-flight requests are done.
const DRAIN_POLL: Duration = Duration::from_millis(20);
/// How long draining waits for a lost broker connection to come back.
const DRAIN_OFFLINE_GRACE: Duration = Duration::from_secs(2);
/// How often expired sessions are deleted (by every instance; deleting twice is harmless).
const SESSION_PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Runs the service inside the current actix `System` until `shutdown` resolves, then drains
/// and disconnects. Migrations are the caller's job (`serve` runs them first).
pub async fn run(
    config: Arc<Config>,
    faults: FaultPlan,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // Held until the service stops: one serving instance per SQLite file.
    let _instance = crate::db::instance::instance_lock(&config.database)?;
    let keeper_identity = mqtt::keeper_identity(&config);
    // The broker names a connection by its user name under `use_username_as_clientid`.
    let keeper_name = keeper_identity
        .username
        .clone()
        .unwrap_or_else(|| keeper_identity.client_id.clone());
    let mut keeper_lock = KeeperLock::start(&config.database, &keeper_name);
    if config.instance.is_none() {
        await_keeper_lock(&mut keeper_lock, &keeper_name).await?;
    }
    let admission = Admission::new(config.max_in_flight);
    let (shared, all_lanes) = start_actors(&config, &faults, &admission)?;
    let pruning = actix_rt::spawn(prune_sessions(shared.repo.clone()));
    let health = Health::new();
    if let Some(addr) = config.metrics_listen {
        let sources = Sources {
            admission: Arc::clone(&admission),
            pool: shared.pool.clone(),
            passwords: shared.hasher.budget(),
            health: Arc::clone(&health),
        };
        http::start(addr, metrics::install()?, sources)
            .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
    }
    let probe = Probe {
        auth: shared.auth.clone(),
        lanes: all_lanes.to_vec(),
        health: Arc::clone(&health),
    };
    let checks = actix_rt::spawn(systemd::run(
        probe,
        shared.repo.clone(),
        Arc::clone(&admission),
    ));
    let wiring = Wiring {
        config: &config,
        shared: &shared,
        faults: &faults,
        subscriptions: mqtt::request_subscriptions(&config),
        health: &health,
    };
    let mut connections = Vec::new();
    let (persistent, clean): (Vec<_>, Vec<_>) = mqtt::identities(&config)
        .into_iter()
        .partition(|i| i.persistent);
    for identity in clean {
        connections.push(wiring.open(identity, None, None)?);
    }
    // The keeper's answers leave on a clean connection when there is one (see `Connection`).
    for identity in persistent {
        let via = connections
            .first()
            .map(|c: &Connection| c.publisher.clone());
        connections.push(wiring.open(identity, None, via)?);
    }
    let mut keeper = None;
    let mut shutdown = std::pin::pin!(shutdown);
    if config.instance.is_some() {
        // A named instance holds the keeper while the lock is its own (`db::keeper_lock`).
        let mut held = keeper_lock.held.clone();
        loop {
            let holding = *held.borrow_and_update();
            match (holding, keeper.is_some()) {
                (true, false) => {
                    log::info!(target: "dh::service", "this instance now holds the keeper session {keeper_name}");
                    let give_up = Some(keeper_lock.give_up());
                    let via = connections.first().map(|c| c.publisher.clone());
                    keeper = Some(wiring.open(keeper_identity.clone(), give_up, via)?);
                }
                (false, true) => {
                    if let Some(lost) = keeper.take() {
                        lost.ingest
                            .do_send(Retire("this instance no longer holds the keeper lock"));
                        health.unlink(&keeper_identity.client_id);
                    }
                }
                _ => {}
            }
            tokio::select! {
                () = &mut shutdown => break,
                changed = held.changed() => if changed.is_err() {
                    (&mut shutdown).await;
                    break;
                },
            }
        }
    } else {
        shutdown.await;
    }
    connections.extend(keeper);
    systemd::stopping(admission.in_flight());
    // Clean connections leave the share group first, so requests arriving from now on go to
    // the other instances, or queue in the keeper's session once it is gone too.
    let subscriptions = &wiring.subscriptions;
    let leaving = connections
        .iter()
        .filter(|c| !c.persistent)
        .map(|c| c.client.unsubscribe_many(&subscriptions.wanted));
    for left in futures::future::join_all(leaving).await {
        if let Err(e) = left {
            log::warn!(target: "dh::service", "leaving the share group failed: {e}");
        }
    }
    // A keeper that answers through another connection is closed before the drain, so no
    // request reaches it after the drain ends (Paho acknowledges a request on arrival: one
    // arriving after the drain would be lost); what it does not take queues in its session.
    let closing = connections
        .iter()
        .filter(|c| c.persistent && c.answers_elsewhere)
        .map(|c| {
            c.ingest
                .send(Retire("stopping; requests queue in its session"))
        });
    if futures::future::join_all(closing)
        .await
        .iter()
        .any(Result::is_ok)
    {
        // Requests it handed over before closing reach the admission count.
        actix_rt::time::sleep(KEEPER_SETTLE).await;
    }
    let clients: Vec<_> = connections
        .iter()
        .filter(|c| !(c.persistent && c.answers_elsewhere))
        .map(|c| c.client.clone())
        .collect();
    drain(&admission, &clients, config.drain_timeout).await;
    futures::future::join_all(clients.iter().map(disconnect)).await;
    // Only now: another instance that takes the keeper over finds its session closed.
    keeper_lock.release();
    for lanes in &all_lanes {
        lanes.stop();
    }
    drop(connections);
    pruning.abort();
    checks.abort();
    log::info!(target: "dh::service", "stopped; {}", admission.summary());
    Ok(())
}

/// How long an unnamed instance waits for the keeper lock (a previous process may still be
/// stopping) before refusing to start.
const KEEPER_START_WAIT: Duration = Duration::from_secs(5);

/// Waits for an unnamed instance's keeper lock: its first connection is the keeper session.
async fn await_keeper_lock(lock: &mut KeeperLock, name: &str) -> anyhow::Result<()> {
    let got = actix_rt::time::timeout(KEEPER_START_WAIT, lock.held.wait_for(|held| *held)).await;
    match got {
        Ok(Ok(_)) => Ok(()),
        _ => anyhow::bail!(
            "another instance holds the broker session {name} on this database; give every \
             instance its own DH_INSTANCE to run several (docs/OPERATIONS.md, \"Several instances\")"
        ),
    }
}

/// How long after closing the keeper its last requests take to reach the admission count.
const KEEPER_SETTLE: Duration = Duration::from_millis(100);

/// One broker connection: its client, and the ingest actor that reads it. A keeper publishes
/// its answers through another connection's publisher when the instance has a clean one, so
/// it can be closed before the drain while its last requests are still answered.
struct Connection {
    client: paho_mqtt::AsyncClient,
    persistent: bool,
    /// Its answers leave on another connection.
    answers_elsewhere: bool,
    /// Where answers to its requests are published.
    publisher: actix::Addr<PublisherActor>,
    /// Held: a supervised actor without an address is not restarted.
    ingest: actix::Addr<IngestActor>,
}

/// What every connection is opened with.
struct Wiring<'a> {
    config: &'a Config,
    shared: &'a SharedActors,
    faults: &'a FaultPlan,
    subscriptions: mqtt::Subscriptions,
    health: &'a Arc<Health>,
}

impl Wiring<'_> {
    /// Opens a connection with an ingest and a publisher of its own (or `via`'s): each answer
    /// leaves on the connection its request came in on, so the broker's reads are spread like
    /// its writes; the keeper's may leave on a clean connection (see [`Connection`]).
    fn open(
        &self,
        identity: Identity,
        keeper: Option<GiveUp>,
        via: Option<actix::Addr<PublisherActor>>,
    ) -> anyhow::Result<Connection> {
        let (config, faults) = (self.config, self.faults);
        let identity_name = identity.client_id.clone();
        let mut client = mqtt::create_client(config, &identity)?;
        // Opened before connecting: with a persistent session requests can arrive at once.
        let events = client.get_event_stream(None);
        let answers_elsewhere = via.is_some();
        let publisher = via.unwrap_or_else(|| {
            let (client, faults) = (client.clone(), faults.clone());
            Supervisor::start(move |_| PublisherActor::new(client, faults))
        });
        let settings = IngestSettings {
            client: client.clone(),
            events: Box::new(events),
            connect_options: mqtt::connect_options(config, &identity, false)?,
            clean_connect_options: mqtt::connect_options(config, &identity, true)?,
            subscriptions: self.subscriptions.clone(),
            client_id: identity.client_id,
            broker_url: config.broker_url.clone(),
            max_payload_bytes: config.max_payload_bytes,
            admission: Arc::clone(&self.shared.admission),
            peers: self.shared.peers(publisher.clone()),
            faults: faults.clone(),
            link: self.health.link(&identity_name),
            keeper,
        };
        let ingest = Supervisor::start(move |_| IngestActor::new(settings));
        Ok(Connection {
            client,
            persistent: identity.persistent,
            answers_elsewhere,
            publisher,
            ingest,
        })
    }
}

/// The actors every broker connection shares.
struct SharedActors {
    policy: TokenPolicy,
    auth: actix::Addr<AuthActor>,
    repo: RepoLanes,
    hasher: PasswordWork,
    reads: actix::Addr<Batcher<LoadBatch>>,
    sessions: actix::Addr<Batcher<SessionBatch>>,
    updates: actix::Addr<Batcher<UpdateBatch>>,
    admission: Arc<Admission>,
    /// For the metrics of the pool.
    pool: DbPool,
}

impl SharedActors {
    /// The peers of a request on the connection whose publisher is `publisher`.
    fn peers(&self, publisher: actix::Addr<PublisherActor>) -> Peers {
        Peers {
            policy: self.policy,
            auth: self.auth.clone(),
            repo: self.repo.clone(),
            hasher: self.hasher.clone(),
            reads: self.reads.clone(),
            sessions: self.sessions.clone(),
            updates: self.updates.clone(),
            publisher,
            admission: Arc::clone(&self.admission),
        }
    }
}

/// Starts every actor but the per-connection ones, each under its own supervision; returns
/// them and the repository lanes to stop at shutdown.
fn start_actors(
    config: &Config,
    faults: &FaultPlan,
    admission: &Arc<Admission>,
) -> anyhow::Result<(SharedActors, [RepoLanes; 3])> {
    let keys = Arc::new(config.jwt_keys()?);
    let pool = DbPool::open(&config.database, config.db_pool_size, config.db_timeout)?;
    let lanes = LaneCounts::for_database(&config.database, config.db_pool_size);
    let new_repo = {
        let (pool, faults, max) = (pool.clone(), faults.clone(), config.max_login_attempts);
        move || RepoActor::new(pool.clone(), max, faults.clone())
    };
    let repo = RepoLanes::start(lanes.other, admission, new_repo.clone());
    let read_lanes = RepoLanes::start(lanes.reads, admission, new_repo.clone());
    let write_lanes = RepoLanes::start(lanes.writes, admission, new_repo);
    let auth = {
        let faults = faults.clone();
        Supervisor::start(move |_| AuthActor::new(keys, faults))
    };
    let shared = SharedActors {
        policy: TokenPolicy {
            access_lifetime_ms: config.access_lifetime_ms,
            refresh_lifetime_ms: config.refresh_lifetime_ms,
            upgrade_legacy_hashes: config.password_hash == HashScheme::Argon2id,
        },
        auth,
        repo: repo.clone(),
        hasher: start_hasher(config, faults, admission),
        reads: Batcher::<LoadBatch>::start(&read_lanes, admission, faults),
        sessions: Batcher::<SessionBatch>::start(&read_lanes, admission, faults),
        updates: Batcher::<UpdateBatch>::start(&write_lanes, admission, faults),
        admission: Arc::clone(admission),
        pool,
    };
    Ok((shared, [repo, read_lanes, write_lanes]))
}

/// Deletes expired sessions now and every [`SESSION_PRUNE_INTERVAL`], so the table holds
/// at most the sessions bound within one token lifetime.
async fn prune_sessions(repo: RepoLanes) {
    loop {
        match repo.ask(PruneSessions).await {
            Ok(0) => {}
            Ok(n) => log::info!(target: "dh::service", "{n} expired sessions deleted"),
            Err(e) => log::warn!(target: "dh::service", "deleting expired sessions failed: {e}"),
        }
        actix_rt::time::sleep(SESSION_PRUNE_INTERVAL).await;
    }
}

/// The password hasher on half the cores: Argon2 is pure CPU, and a login flood on every
/// core would starve every other request (P5 in docs/PERFORMANCE.md).
fn start_hasher(config: &Config, faults: &FaultPlan, admission: &Arc<Admission>) -> PasswordWork {
    let (scheme, faults) = (config.password_hash, faults.clone());
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let threads = (cores / 2).max(1);
    let budget = PasswordBudget::new(
        config.password_queue,
        config.password_cpu_percent,
        Arc::clone(admission),
    );
    let work = Arc::clone(&budget);
    let hasher = SyncArbiter::start(threads, move || {
        HasherActor::new(scheme, Arc::clone(&work), faults.clone())
    });
    PasswordWork::new(hasher, budget)
}

/// How the pool's size is split into repository lanes (threads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LaneCounts {
    /// `getCurrent` batches: one lane, so that batches grow under load (each batch is one
    /// thread hand-off and, on PostgreSQL, one round trip).
    reads: usize,
    /// Update batches: SQLite has one writer; PostgreSQL commits in parallel on half the pool.
    writes: usize,
    /// Logins, `authenticate`, `token/create`: the rest, at least one.
    other: usize,
}

impl LaneCounts {
    fn for_database(database: &DbUrl, pool_size: u32) -> LaneCounts {
        let pool = pool_size.max(1) as usize;
        let writes = match database {
            DbUrl::Sqlite(_) => 1,
            DbUrl::Postgres(_) => (pool / 2).max(1),
        };
        LaneCounts {
            reads: 1,
            writes,
            other: pool.saturating_sub(1 + writes).max(1),
        }
    }
}

/// Waits until every admitted request has been answered, the timeout passes, or no broker
/// connection has been up for [`DRAIN_OFFLINE_GRACE`]: answers that cannot be delivered are
/// not waited for.
async fn drain(admission: &Admission, clients: &[paho_mqtt::AsyncClient], timeout: Duration) {
    let started = Instant::now();
    let mut online_at = Instant::now();
    log::info!(target: "dh::service", "stopping: answering {} in-flight requests", admission.in_flight());
    while admission.in_flight() > 0 && started.elapsed() < timeout {
        if clients.iter().any(|c| c.is_connected()) {
            online_at = Instant::now();
        } else if online_at.elapsed() >= DRAIN_OFFLINE_GRACE {
            log::warn!(target: "dh::service", "no broker connection for {DRAIN_OFFLINE_GRACE:?}: {} answers cannot be delivered; stopping", admission.in_flight());
            return;
        }
        actix_rt::time::sleep(DRAIN_POLL).await;
    }
    match admission.in_flight() {
        0 => log::info!(target: "dh::service", "drained in {:?}", started.elapsed()),
        n => {
            log::warn!(target: "dh::service", "{n} requests still in flight after {timeout:?}; stopping anyway")
        }
    }
}

async fn disconnect(client: &paho_mqtt::AsyncClient) {
    if client.is_connected() {
        match client.disconnect(None).await {
            Ok(_) => {
                log::info!(target: "dh::service", "{} disconnected cleanly", client.client_id())
            }
            Err(e) => {
                log::warn!(target: "dh::service", "{} disconnect failed: {e}", client.client_id())
            }
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn termination_signal() {
    use actix_rt::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            futures::future::select(Box::pin(term.recv()), Box::pin(int.recv())).await;
        }
        _ => {
            log::error!(target: "dh::service", "cannot install signal handlers; stopping only on Ctrl-C");
            let _ = actix_rt::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_split_the_pool() {
        let sqlite = DbUrl::Sqlite("x.sqlite".into());
        let pg = DbUrl::Postgres("postgres://x".into());
        let split = |db: &DbUrl, pool| {
            let l = LaneCounts::for_database(db, pool);
            (l.reads, l.writes, l.other)
        };
        assert_eq!(split(&sqlite, 4), (1, 1, 2));
        assert_eq!(split(&pg, 8), (1, 4, 3));
        // Every kind of work keeps a lane even on a pool of one connection.
        assert_eq!(split(&pg, 1), (1, 1, 1));
        assert_eq!(split(&sqlite, 0), (1, 1, 1));
    }
}

//! Wiring and lifecycle of `serve`: open the pool, start each actor under its own supervision,
//! connect (`connections`), and on shutdown drain in-flight requests before disconnecting.

mod connections;
mod login_sync;

use crate::auth::broker_login::{BrokerKey, LoginsChanged};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix::{Supervisor, SyncArbiter};

use crate::actors::admission::Admission;
use crate::actors::auth::AuthActor;
use crate::actors::batcher::Batcher;
use crate::actors::hasher::HasherActor;
use crate::actors::lanes::RepoLanes;
use crate::actors::messages::{LoadBatch, PruneSessions, SessionBatch, UpdateBatch};
use crate::actors::password_budget::PasswordBudget;
use crate::actors::password_work::PasswordWork;
use crate::actors::pipeline::Peers;
use crate::actors::repo::RepoActor;
use crate::actors::supervise::FaultPlan;
use crate::auth::password::HashScheme;
use crate::config::Config;
use crate::db::data_version::Watch;
use crate::db::keeper_lock::KeeperLock;
use crate::db::DbPool;
use crate::handlers::TokenPolicy;
use crate::mqtt;
use crate::ops::health::Health;
use crate::ops::metrics::{self, Sources};
use crate::ops::probe::Probe;
use crate::ops::{http, systemd};
use connections::Wiring;

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
    let keeper_name = keeper_identity.broker_name().to_string();
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
    let make_peers = |publisher| shared.peers(publisher);
    let wiring = Wiring {
        config: &config,
        peers: &make_peers,
        admission: &admission,
        faults: &faults,
        subscriptions: mqtt::request_subscriptions(&config),
        health: &health,
    };
    let mut connections = wiring.open_own()?;
    let logins = match (&shared.broker_key, connections.first()) {
        (Some(key), Some(first)) => Some(login_sync::start(
            shared.pool.clone(),
            Watch::for_url(&config.database),
            first.client().clone(),
            Arc::clone(first.link()),
            key.clone(),
            shared.logins_changed.clone(),
        )),
        _ => None,
    };
    let mut shutdown = std::pin::pin!(shutdown);
    if config.instance.is_some() {
        let keeper = wiring
            .follow_keeper(&keeper_lock, &keeper_identity, &connections, &mut shutdown)
            .await?;
        connections.extend(keeper);
    } else {
        shutdown.await;
    }
    drop(logins);
    systemd::stopping(admission.in_flight());
    wiring.close(&connections, config.drain_timeout).await;
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
    /// For the metrics of the pool and the broker-login sync.
    pool: DbPool,
    broker_key: Option<BrokerKey>,
    logins_changed: LoginsChanged,
}

impl SharedActors {
    /// The peers of a request on the connection whose publisher is `publisher`.
    fn peers(&self, publisher: actix::Addr<crate::actors::publisher::PublisherActor>) -> Peers {
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
            broker_key: self.broker_key.clone(),
            logins_changed: self.logins_changed.clone(),
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
    let lanes = LaneCounts::for_pool(config.db_pool_size);
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
        broker_key: config.broker_key(),
        logins_changed: LoginsChanged::default(),
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
    /// Update batches: one lane on both databases. SQLite has one writer; on PostgreSQL more
    /// lanes only split the load into smaller batches, each a transaction's round trips and
    /// commit, and cost more CPU per update than they gained (docs/PERFORMANCE.md, item 23).
    writes: usize,
    /// Logins, `authenticate`, `token/create`: the rest, at least one.
    other: usize,
}

impl LaneCounts {
    fn for_pool(pool_size: u32) -> LaneCounts {
        let pool = pool_size.max(1) as usize;
        LaneCounts {
            reads: 1,
            writes: 1,
            other: pool.saturating_sub(2).max(1),
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
        let split = |pool| {
            let l = LaneCounts::for_pool(pool);
            (l.reads, l.writes, l.other)
        };
        assert_eq!(split(4), (1, 1, 2));
        assert_eq!(split(8), (1, 1, 6));
        // Every kind of work keeps a lane even on a pool of one connection.
        assert_eq!(split(1), (1, 1, 1));
        assert_eq!(split(0), (1, 1, 1));
    }
}

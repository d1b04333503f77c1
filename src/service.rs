//! Wiring and lifecycle of `serve`: open the pool, start each actor under its own supervision,
//! connect, and on shutdown drain in-flight requests before disconnecting.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Supervisor, SyncArbiter};

use crate::actors::admission::Admission;
use crate::actors::auth::AuthActor;
use crate::actors::batcher::UpdateBatcher;
use crate::actors::hasher::HasherActor;
use crate::actors::ingest::{IngestActor, IngestSettings};
use crate::actors::pipeline::Peers;
use crate::actors::publisher::PublisherActor;
use crate::actors::repo::RepoActor;
use crate::actors::supervise::FaultPlan;
use crate::actors::tokens::TokenPolicy;
use crate::auth::password::HashScheme;
use crate::config::Config;
use crate::db::DbPool;
use crate::mqtt;

/// How often draining checks whether in-flight requests are done.
const DRAIN_POLL: Duration = Duration::from_millis(20);

/// Runs the service inside the current actix `System` until `shutdown` resolves, then drains
/// and disconnects. Migrations are the caller's job (`serve` runs them first).
pub async fn run(
    config: Arc<Config>,
    faults: FaultPlan,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let keys = Arc::new(config.jwt_keys()?);
    let pool = DbPool::open(&config.database, config.db_pool_size, config.db_timeout)?;
    let mut client = mqtt::create_client(&config)?;
    // Opened before connecting: with a persistent session requests can arrive at once.
    let events = client.get_event_stream(None);
    let admission = Admission::new(config.max_in_flight);

    let repo = {
        let (pool, faults, max) = (pool.clone(), faults.clone(), config.max_login_attempts);
        SyncArbiter::start(config.db_pool_size as usize, move || {
            RepoActor::new(pool.clone(), max, faults.clone())
        })
    };
    let hasher = {
        let (scheme, faults) = (config.password_hash, faults.clone());
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        SyncArbiter::start(threads, move || HasherActor::new(scheme, faults.clone()))
    };
    let auth = {
        let faults = faults.clone();
        Supervisor::start(move |_| AuthActor::new(keys, faults))
    };
    let publisher = {
        let (client, faults) = (client.clone(), faults.clone());
        Supervisor::start(move |_| PublisherActor::new(client, faults))
    };
    let updates = {
        let (repo, faults) = (repo.clone(), faults.clone());
        // SQLite has one writer; PostgreSQL commits in parallel on half the pool.
        let writers = match config.database {
            crate::db::DbUrl::Sqlite(_) => 1,
            crate::db::DbUrl::Postgres(_) => (config.db_pool_size as usize / 2).max(1),
        };
        Supervisor::start(move |_| UpdateBatcher::new(repo, writers, faults))
    };
    let peers = Peers {
        updates,
        policy: TokenPolicy {
            access_lifetime_ms: config.access_lifetime_ms,
            refresh_lifetime_ms: config.refresh_lifetime_ms,
            upgrade_legacy_hashes: config.password_hash == HashScheme::Argon2id,
        },
        auth,
        repo,
        hasher,
        publisher,
    };
    let settings = IngestSettings {
        client: client.clone(),
        events: Box::new(events),
        connect_options: mqtt::connect_options(&config)?,
        subscriptions: mqtt::request_subscriptions(&config),
        broker_url: config.broker_url.clone(),
        max_payload_bytes: config.max_payload_bytes,
        admission: Arc::clone(&admission),
        peers,
        faults,
    };
    let _ingest = Supervisor::start(move |_| IngestActor::new(settings));

    shutdown.await;
    drain(&admission, config.drain_timeout).await;
    if client.is_connected() {
        match client.disconnect(None).await {
            Ok(_) => log::info!(target: "dh::service", "disconnected cleanly"),
            Err(e) => log::warn!(target: "dh::service", "disconnect failed: {e}"),
        }
    }
    log::info!(target: "dh::service", "stopped; {}", admission.summary());
    Ok(())
}

/// Waits until every admitted request has been answered (or the timeout passes).
async fn drain(admission: &Admission, timeout: Duration) {
    let started = Instant::now();
    log::info!(target: "dh::service", "stopping: answering {} in-flight requests", admission.in_flight());
    while admission.in_flight() > 0 && started.elapsed() < timeout {
        actix_rt::time::sleep(DRAIN_POLL).await;
    }
    match admission.in_flight() {
        0 => log::info!(target: "dh::service", "drained in {:?}", started.elapsed()),
        n => {
            log::warn!(target: "dh::service", "{n} requests still in flight after {timeout:?}; stopping anyway")
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

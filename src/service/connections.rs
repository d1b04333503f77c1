//! The service's broker connections: each with its ingest and publisher, the keeper of a named
//! instance opened and closed as the keeper lock comes and goes, and the order they close in
//! at shutdown (docs/OPERATIONS.md, "Broker sessions of several instances").

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Addr, Supervisor};

use crate::actors::admission::Admission;
use crate::actors::ingest::{IngestActor, IngestSettings, Retire};
use crate::actors::pipeline::Peers;
use crate::actors::publisher::PublisherActor;
use crate::actors::supervise::FaultPlan;
use crate::config::Config;
use crate::db::keeper_lock::{GiveUp, KeeperLock};
use crate::mqtt::{self, Identity};
use crate::ops::health::{Health, Link};

/// How often draining checks whether in-flight requests are done.
const DRAIN_POLL: Duration = Duration::from_millis(20);
/// How long draining waits for a lost broker connection to come back.
const DRAIN_OFFLINE_GRACE: Duration = Duration::from_secs(2);
/// How long after closing the keeper its last requests take to reach the admission count.
const KEEPER_SETTLE: Duration = Duration::from_millis(100);

/// One broker connection: its client, and the ingest actor that reads it. A keeper publishes
/// its answers through another connection's publisher when the instance has a clean one, so
/// it can be closed before the drain while its last requests are still answered.
pub struct Connection {
    client: paho_mqtt::AsyncClient,
    link: Arc<Link>,
    persistent: bool,
    /// Its answers leave on another connection.
    answers_elsewhere: bool,
    /// Where answers to its requests are published.
    publisher: Addr<PublisherActor>,
    /// Held: a supervised actor without an address is not restarted.
    ingest: Addr<IngestActor>,
}

impl Connection {
    /// The connection's Paho client.
    pub fn client(&self) -> &paho_mqtt::AsyncClient {
        &self.client
    }

    /// The connection's health.
    pub fn link(&self) -> &Arc<Link> {
        &self.link
    }

    /// A keeper that answers through another connection: closed before the drain, so no
    /// request reaches it after the drain ends (Paho acknowledges a request on arrival: one
    /// arriving after the drain would be lost); what it does not take queues in its session.
    fn closes_before_drain(&self) -> bool {
        self.persistent && self.answers_elsewhere
    }
}

/// What every connection is opened with.
pub struct Wiring<'a> {
    /// The settings.
    pub config: &'a Config,
    /// The peers of a request on the connection whose answers `publisher` sends.
    pub peers: &'a dyn Fn(Addr<PublisherActor>) -> Peers,
    /// The admission bound and counters.
    pub admission: &'a Arc<Admission>,
    /// Test-only fault plan.
    pub faults: &'a FaultPlan,
    /// The request subscriptions.
    pub subscriptions: mqtt::Subscriptions,
    /// Where each connection's state goes.
    pub health: &'a Arc<Health>,
}

impl Wiring<'_> {
    /// The connections the instance holds for as long as it runs; the keeper among them
    /// answers through a clean one when there is one (see [`Connection`]).
    pub fn open_own(&self) -> anyhow::Result<Vec<Connection>> {
        let (persistent, clean): (Vec<_>, Vec<_>) = mqtt::identities(self.config)
            .into_iter()
            .partition(|i| i.persistent);
        let mut connections = Vec::new();
        for identity in clean {
            connections.push(self.open(identity, None, None)?);
        }
        for identity in persistent {
            let via = connections.first().map(|c| c.publisher.clone());
            connections.push(self.open(identity, None, via)?);
        }
        Ok(connections)
    }

    /// A named instance's keeper: opened while the keeper lock is this instance's, retired
    /// when the lock is lost, until `shutdown`; the keeper held then, if any.
    pub async fn follow_keeper(
        &self,
        lock: &KeeperLock,
        identity: &Identity,
        own: &[Connection],
        shutdown: &mut (impl Future<Output = ()> + Unpin),
    ) -> anyhow::Result<Option<Connection>> {
        let mut keeper: Option<Connection> = None;
        let mut held = lock.held.clone();
        loop {
            let holding = *held.borrow_and_update();
            match (holding, keeper.take()) {
                (true, None) => {
                    log::info!(target: "dh::service", "this instance now holds the keeper session {}", identity.broker_name());
                    let via = own.first().map(|c| c.publisher.clone());
                    keeper = Some(self.open(identity.clone(), Some(lock.give_up()), via)?);
                }
                (false, Some(lost)) => {
                    lost.ingest
                        .do_send(Retire("this instance no longer holds the keeper lock"));
                    self.health.unlink(&identity.client_id);
                }
                (_, unchanged) => keeper = unchanged,
            }
            tokio::select! {
                () = &mut *shutdown => return Ok(keeper),
                changed = held.changed() => if changed.is_err() {
                    shutdown.await;
                    return Ok(keeper);
                },
            }
        }
    }

    /// Closes `connections` in order: clean ones leave the share group (requests from now on
    /// go to the other instances, or queue in the keeper's session), a keeper that answers
    /// elsewhere closes, in-flight requests are answered, then the rest disconnect.
    pub async fn close(&self, connections: &[Connection], drain_timeout: Duration) {
        let wanted = &self.subscriptions.wanted;
        let leaving = connections
            .iter()
            .filter(|c| !c.persistent)
            .map(|c| c.client.unsubscribe_many(wanted));
        for left in futures::future::join_all(leaving).await {
            if let Err(e) = left {
                log::warn!(target: "dh::service", "leaving the share group failed: {e}");
            }
        }
        let closing = connections
            .iter()
            .filter(|c| c.closes_before_drain())
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
            .filter(|c| !c.closes_before_drain())
            .map(|c| c.client.clone())
            .collect();
        drain(self.admission, &clients, drain_timeout).await;
        futures::future::join_all(clients.iter().map(disconnect)).await;
    }

    /// Opens a connection with an ingest and a publisher of its own (or `via`'s): each answer
    /// leaves on the connection its request came in on, so the broker's reads are spread like
    /// its writes; the keeper's may leave on a clean connection (see [`Connection`]).
    fn open(
        &self,
        identity: Identity,
        keeper: Option<GiveUp>,
        via: Option<Addr<PublisherActor>>,
    ) -> anyhow::Result<Connection> {
        let (config, faults) = (self.config, self.faults);
        let mut client = mqtt::create_client(config, &identity)?;
        // Opened before connecting: with a persistent session requests can arrive at once.
        let events = client.get_event_stream(None);
        let answers_elsewhere = via.is_some();
        let publisher = via.unwrap_or_else(|| {
            let (client, faults) = (client.clone(), faults.clone());
            Supervisor::start(move |_| PublisherActor::new(client, faults))
        });
        let link = self.health.link(&identity.client_id);
        let settings = IngestSettings {
            client: client.clone(),
            events: Box::new(events),
            connect_options: mqtt::connect_options(config, &identity, false)?,
            clean_connect_options: mqtt::connect_options(config, &identity, true)?,
            subscriptions: self.subscriptions.clone(),
            link: Arc::clone(&link),
            client_id: identity.client_id,
            broker_url: config.broker_url.clone(),
            max_payload_bytes: config.max_payload_bytes,
            admission: Arc::clone(self.admission),
            peers: Arc::new((self.peers)(publisher.clone())),
            faults: faults.clone(),
            keeper,
        };
        let ingest = Supervisor::start(move |_| IngestActor::new(settings));
        Ok(Connection {
            client,
            link,
            persistent: identity.persistent,
            answers_elsewhere,
            publisher,
            ingest,
        })
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

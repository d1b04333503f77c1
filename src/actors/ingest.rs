//! The ingest actor: owns the Paho session, reads its event stream, turns each publish into a
//! decoded request (or an error answer) and starts a pipeline task for it.
//!
//! The Paho callback only `try_send`s into an unbounded channel (a bounded one silently drops
//! messages Paho already acknowledged); the bound is applied here instead,
//! with a 503 answer. Nothing in this actor blocks.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::fut::wrap_future;
use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, StreamHandler, Supervised,
};
use paho_mqtt::{
    AsyncClient, ConnectOptions, Event, Message, PropertyCode, ReasonCode, RetainHandling,
    SubscribeOptionsBuilder,
};

use super::admission::Admission;
use super::pipeline::{self, Peers};
use super::rate_limited::RateLimited;
use super::supervise::{inject, FaultPlan, FaultSite};
use crate::db::keeper_lock::GiveUp;
use crate::error::ServiceError;
use crate::logging::excerpt;
use crate::mqtt::Subscriptions;
use crate::ops::health::Link;
use crate::ops::metrics;
use crate::protocol::accept::{accept, check_action, Publish, Refusal};
use crate::protocol::{decode, Answer, DecodeFailure, Origin};

/// Reconnect schedule (docs/OPERATIONS.md, "Broker restarts"): the first attempt this soon
/// after losing the broker, then from [`MIN_CONNECT_BACKOFF`] doubling up to
/// [`MAX_CONNECT_BACKOFF`]. Paho's own automatic reconnect counts in whole seconds (1 s,
/// then 2 s, …) and left requests unanswered for 3 s after a broker restart.
const FIRST_RECONNECT: Duration = Duration::from_millis(50);
const MIN_CONNECT_BACKOFF: Duration = Duration::from_millis(100);
const MAX_CONNECT_BACKOFF: Duration = Duration::from_millis(500);
/// A connection lost this soon after it was made counts as a flap.
const FLAP_WINDOW: Duration = Duration::from_secs(2);
/// After this many flaps in a row the next connect starts a clean session, which makes Paho
/// drop the publishes it holds: one the broker refuses would otherwise be resent, and refused,
/// on every reconnect.
const MAX_FLAPS: u32 = 3;

/// Everything ingest needs, built once at start-up.
pub struct IngestSettings {
    /// The Paho client (shared with the publisher).
    pub client: AsyncClient,
    /// Paho's event stream, opened before connecting (boxed: the channel is `!Unpin`, actors
    /// must be `Unpin`).
    pub events: Box<paho_mqtt::AsyncReceiver<Event>>,
    /// How to connect.
    pub connect_options: ConnectOptions,
    /// How to connect when the session must be dropped (after [`MAX_FLAPS`] flaps).
    pub clean_connect_options: ConnectOptions,
    /// The request subscriptions (and stale ones to drop).
    pub subscriptions: Subscriptions,
    /// This connection's client id, for log lines.
    pub client_id: String,
    /// The broker URL, for log lines.
    pub broker_url: String,
    /// Request size limit.
    pub max_payload_bytes: usize,
    /// The admission bound and counters.
    pub admission: Arc<Admission>,
    /// Where requests go; shared, since every request's task holds it (a clone of the
    /// addresses themselves was ~900 instructions per request).
    pub peers: Arc<Peers>,
    /// Test-only fault plan.
    pub faults: FaultPlan,
    /// This connection's state for `/healthz` and systemd's readiness.
    pub link: Arc<Link>,
    /// For the keeper connection: gives the keeper lock up when another instance took the
    /// session over (then this connection does not reconnect).
    pub keeper: Option<GiveUp>,
}

/// Closes the connection for good (it never reconnects), answering once it is closed: the
/// keeper of an instance that lost the keeper lock, or any keeper at shutdown. Requests it
/// handed over before closing are still served.
#[derive(actix::Message)]
#[rtype(result = "()")]
pub struct Retire(pub &'static str);

/// The ingest actor.
pub struct IngestActor {
    settings: IngestSettings,
    connect_started: bool,
    backoff: Duration,
    /// A connect is under way or scheduled.
    connecting: bool,
    /// When the current connection was made.
    connected_at: Option<Instant>,
    /// Connections in a row lost within [`FLAP_WINDOW`].
    flaps: u32,
    warnings: RateLimited,
    /// Closed for good (see [`Retire`]): never reconnects.
    retired: bool,
    /// Counts connections made and lost, so a subscribe retry scheduled for one connection
    /// does not run on a later one (which subscribes itself on `Connected`).
    generation: u64,
}

impl IngestActor {
    /// An actor that connects when started.
    pub fn new(settings: IngestSettings) -> IngestActor {
        IngestActor {
            settings,
            connect_started: false,
            backoff: MIN_CONNECT_BACKOFF,
            connecting: false,
            connected_at: None,
            flaps: 0,
            warnings: RateLimited::default(),
            retired: false,
            generation: 0,
        }
    }

    fn connect(&mut self, clean: bool, ctx: &mut Context<Self>) {
        self.connecting = true;
        let options = match clean {
            true => self.settings.clean_connect_options.clone(),
            false => self.settings.connect_options.clone(),
        };
        let token = self.settings.client.connect(options);
        ctx.spawn(wrap_future::<_, Self>(token).map(move |result, act, ctx| match result {
            Ok(_) => {
                act.backoff = MIN_CONNECT_BACKOFF;
                act.connecting = false;
            }
            Err(e) => {
                let (url, backoff) = (act.settings.broker_url.clone(), act.backoff);
                act.warnings.warn(|| format!("cannot connect to broker {url}: {e}; retrying every {backoff:?} or sooner"));
                ctx.run_later(act.backoff, move |act, ctx| act.connect(clean, ctx));
                act.backoff = (act.backoff * 2).min(MAX_CONNECT_BACKOFF);
            }
        }));
    }

    /// The connection is gone: reconnect at once, with a clean session if it keeps being
    /// dropped right after connecting.
    fn on_connection_lost(&mut self, ctx: &mut Context<Self>) {
        self.generation += 1;
        self.settings
            .link
            .subscribed
            .store(false, Ordering::Relaxed);
        metrics::broker_connection(&self.settings.client_id, false);
        if !self.retired {
            metrics::broker_reconnect(&self.settings.client_id);
        }
        let short = self
            .connected_at
            .take()
            .is_some_and(|t| t.elapsed() < FLAP_WINDOW);
        self.flaps = if short { self.flaps + 1 } else { 0 };
        if self.connecting || self.retired {
            return;
        }
        let clean = self.flaps >= MAX_FLAPS;
        if clean {
            log::error!(target: "dh::ingest", "broker {} dropped connection {} right after connecting {} times in a row (a publish it refuses, or another process using this client id); reconnecting with a clean session, which drops the answers still awaiting acknowledgement", self.settings.broker_url, self.settings.client_id, self.flaps);
            self.flaps = 0;
        }
        self.connecting = true;
        ctx.run_later(FIRST_RECONNECT, move |act, ctx| act.connect(clean, ctx));
    }

    fn subscribe(&mut self, ctx: &mut Context<Self>) {
        let topics = self.settings.subscriptions.wanted.clone();
        // Retain-as-published lets us see (and refuse) a retained request even when it is
        // delivered live; don't-send-retained keeps resubscribes from replaying old ones.
        let options = SubscribeOptionsBuilder::new()
            .retain_as_published(true)
            .retain_handling(RetainHandling::DontSendRetained)
            .finalize();
        let token = self.settings.client.subscribe_many_with_options(
            &topics,
            &vec![1; topics.len()],
            &vec![options; topics.len()],
            None,
        );
        let generation = self.generation;
        ctx.spawn(wrap_future::<_, Self>(token).map(move |result, act, ctx| {
            if act.generation != generation {
                // The connection it was for is gone; the next one subscribes on `Connected`.
                return;
            }
            match result {
                Ok(_) => act.drop_stale_subscriptions(topics, ctx),
                Err(e) => {
                    log::warn!(target: "dh::ingest", "subscribing to {} failed: {e}; retrying", topics.join(", "));
                    ctx.run_later(Duration::from_secs(1), move |act, ctx| {
                        if act.generation == generation {
                            act.subscribe(ctx);
                        }
                    });
                }
            }
        }));
    }

    /// After subscribing (never before, so no request falls between the two forms); the
    /// service is ready once the stale forms are gone, since until then a request may arrive
    /// twice.
    fn drop_stale_subscriptions(&mut self, topics: Vec<String>, ctx: &mut Context<Self>) {
        let stale = self.settings.subscriptions.stale.clone();
        let token = self.settings.client.unsubscribe_many(&stale);
        let generation = self.generation;
        ctx.spawn(wrap_future::<_, Self>(token).map(move |result, act, _ctx| {
            if act.generation != generation {
                return; // lost meanwhile: not ready, and the next connection subscribes
            }
            if let Err(e) = result {
                log::debug!(target: "dh::ingest", "dropping stale subscriptions {}: {e}", stale.join(", "));
            }
            log::info!(target: "dh::ingest", "ready: subscribed to {} as {}", topics.join(", "), act.settings.client_id);
            act.settings.link.subscribed.store(true, Ordering::Relaxed);
            act.settings.link.sessions.fetch_add(1, Ordering::Relaxed);
            metrics::broker_connection(&act.settings.client_id, true);
        }));
    }

    /// Where a message came from and where its answer may go (`protocol::accept`); `None`
    /// for messages that must not be executed or cannot be answered, counted and logged.
    fn origin_of(&mut self, msg: &Message) -> Option<Origin> {
        let props = msg.properties();
        let response_topic = props.get_string(PropertyCode::ResponseTopic);
        let correlation = props.get_binary(PropertyCode::CorrelationData);
        let publish = Publish {
            topic: msg.topic(),
            retained: msg.retained(),
            response_topic: response_topic.as_deref(),
            correlation: correlation.as_deref(),
        };
        accept(&publish)
            .map_err(|refusal| self.refused(&refusal, &publish, ""))
            .ok()
    }

    /// Counts and logs (rate-limited) a refused message.
    fn refused(&mut self, refusal: &Refusal, publish: &Publish<'_>, action: &str) {
        let admission = &self.settings.admission;
        let counter = match refusal {
            Refusal::Retained => Some(&admission.retained_ignored),
            Refusal::Unanswerable => Some(&admission.unanswerable),
            Refusal::ForeignResponseTopic | Refusal::ActionMismatch => {
                Some(&admission.refused_response_topic)
            }
            Refusal::NotARequest => None,
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.warnings.warn(|| refusal.describe(publish, action));
    }

    fn on_message(&mut self, msg: &Message) {
        let Some(origin) = self.origin_of(msg) else {
            return;
        };
        inject(&self.settings.faults, FaultSite::Ingest);
        let qos = msg.qos() as i32;
        let decoded = decode(msg.payload(), self.settings.max_payload_bytes);
        let action = match &decoded {
            Ok(req) => req.action.name(),
            Err(failure) => failure.raw_action.as_str(),
        };
        if let Err(refusal) = check_action(&origin, action) {
            let props = msg.properties();
            let response_topic = props.get_string(PropertyCode::ResponseTopic);
            let publish = Publish {
                topic: msg.topic(),
                retained: false,
                response_topic: response_topic.as_deref(),
                correlation: None,
            };
            let action = action.to_string();
            self.refused(&refusal, &publish, &action);
            return;
        }
        let request = match decoded {
            Ok(request) => request,
            Err(failure) => {
                let DecodeFailure {
                    raw_action,
                    request_id,
                    error,
                } = *failure;
                let answer = Answer {
                    action: raw_action,
                    request_id,
                    result: Err(error),
                };
                return self.answer(origin, qos, answer);
            }
        };
        let Some(permit) = self.settings.admission.try_admit() else {
            self.settings.admission.shed.fetch_add(1, Ordering::Relaxed);
            self.warnings
                .warn(|| "backlog over its bound: answering 503 Server is busy".to_string());
            let answer = Answer {
                action: request.action.name().to_string(),
                request_id: request.request_id,
                result: Err(ServiceError::ServerBusy),
            };
            return self.answer(origin, qos, answer);
        };
        let peers = Arc::clone(&self.settings.peers);
        // Boxed: tokio moves a task's future by value when it spawns and finishes it (five
        // copies of its ~1.6 KB), a box is moved as a pointer (docs/PERFORMANCE.md item 39).
        actix_rt::spawn(Box::pin(async move {
            pipeline::serve(&peers, origin, qos, request).await;
            drop(permit);
        }));
    }

    /// Publishes an answer decided here (decode errors, 503s, 500s).
    fn answer(&self, origin: Origin, qos: i32, answer: Answer) {
        let permit = self.settings.admission.admit_answer();
        let peers = Arc::clone(&self.settings.peers);
        actix_rt::spawn(async move {
            pipeline::deliver(&peers, &origin, qos, answer).await;
            drop(permit);
        });
    }

    /// After a panic while handling `msg`: answer it with a 500 if it can be addressed.
    fn answer_internal_error(&mut self, msg: &Message) {
        let Some(origin) = self.origin_of(msg) else {
            return;
        };
        let decoded = decode(msg.payload(), self.settings.max_payload_bytes);
        let (action, request_id) = match decoded {
            Ok(req) => (req.action.name().to_string(), req.request_id),
            Err(failure) => (failure.raw_action, failure.request_id),
        };
        let answer = Answer {
            action,
            request_id,
            result: Err(ServiceError::Internal),
        };
        self.answer(origin, msg.qos() as i32, answer);
    }
}

impl Actor for IngestActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Re-run after every restart: the stream is a clone of the same channel, so messages
        // queued in it while restarting are not lost.
        ctx.add_stream(Box::pin((*self.settings.events).clone()));
        if !self.connect_started {
            self.connect_started = true;
            log::info!(target: "dh::ingest", "connecting to broker {} as {}", self.settings.broker_url, self.settings.client_id);
            self.connect(false, ctx);
        }
    }
}

impl Supervised for IngestActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        log::warn!(target: "dh::ingest", "ingest actor restarting");
    }
}

impl actix::Handler<Retire> for IngestActor {
    type Result = actix::ResponseActFuture<Self, ()>;

    fn handle(&mut self, Retire(why): Retire, _: &mut Self::Context) -> Self::Result {
        self.retired = true;
        log::info!(target: "dh::ingest", "closing {}: {why}", self.settings.client_id);
        let token = self.settings.client.disconnect(None);
        Box::pin(wrap_future::<_, Self>(token).map(|outcome, act, _| {
            if let Err(e) = outcome {
                log::warn!(target: "dh::ingest", "closing {}: {e}", act.settings.client_id);
            }
        }))
    }
}

impl StreamHandler<Event> for IngestActor {
    fn handle(&mut self, event: Event, ctx: &mut Self::Context) {
        match event {
            Event::Connected => {
                log::info!(target: "dh::ingest", "connected to broker {} as {}", self.settings.broker_url, self.settings.client_id);
                self.connecting = false;
                self.connected_at = Some(Instant::now());
                self.generation += 1;
                self.subscribe(ctx);
            }
            Event::ConnectionLost => {
                log::warn!(target: "dh::ingest", "connection to broker lost; reconnecting");
                self.on_connection_lost(ctx);
            }
            Event::Disconnected { reason_code, .. } => {
                log::warn!(target: "dh::ingest", "broker disconnected {}: {reason_code}", self.settings.client_id);
                match (&self.settings.keeper, reason_code) {
                    (Some(give_up), ReasonCode::SessionTakenOver) => {
                        // Reconnecting would take it back: two instances would fight over it.
                        log::warn!(target: "dh::ingest", "another instance took the keeper session {} over; leaving it to that one", self.settings.client_id);
                        self.retired = true;
                        (give_up.0)();
                    }
                    _ => self.on_connection_lost(ctx),
                }
            }
            Event::Shutdown => log::info!(target: "dh::ingest", "MQTT client shut down"),
            Event::Message(msg) => {
                let outcome = catch_unwind(AssertUnwindSafe(|| self.on_message(&msg)));
                if outcome.is_err() {
                    log::error!(target: "dh::supervise", "ingest actor panicked while handling a message on '{}'; answering 500 and restarting it", excerpt(msg.topic()));
                    self.answer_internal_error(&msg);
                    ctx.stop();
                }
            }
        }
    }

    fn finished(&mut self, _: &mut Self::Context) {
        // The event stream only ends when the client is dropped at shutdown.
        log::debug!(target: "dh::ingest", "event stream ended");
    }
}

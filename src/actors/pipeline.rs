//! One request's way through the actors: the action's handler (`handlers`, over the
//! [`Services`](crate::handlers::Services) the actors give it), then the answer. Runs as its own
//! task per request (spawned by ingest), so many requests are in flight at once and none is
//! tied to the lifetime of the ingest actor.

use crate::auth::broker_login::{BrokerKey, LoginsChanged};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use actix::Addr;

use super::admission::Admission;
use super::ask::ask;
use super::auth::AuthActor;
use super::batcher::Batcher;
use super::lanes::RepoLanes;
use super::messages::{Delivery, LoadBatch, Publish, SessionBatch, UpdateBatch};
use super::password_work::PasswordWork;
use super::publisher::PublisherActor;
use crate::error::ServiceError;
use crate::handlers::{self, TokenPolicy};
use crate::ops::metrics;
use crate::protocol::topic::ResponseTopic;
use crate::protocol::{Answer, Origin, Request};

/// The actors a request may visit.
#[derive(Clone)]
pub struct Peers {
    /// Token lifetimes and hash policy.
    pub policy: TokenPolicy,
    /// Tokens and permissions.
    pub auth: Addr<AuthActor>,
    /// Logins and other single queries.
    pub repo: RepoLanes,
    /// Password hashing, within its budget.
    pub hasher: PasswordWork,
    /// Batched `getCurrent` reads.
    pub reads: Addr<Batcher<LoadBatch>>,
    /// Batched session reads of requests without a token.
    pub sessions: Addr<Batcher<SessionBatch>>,
    /// Group commit of updates.
    pub updates: Addr<Batcher<UpdateBatch>>,
    /// Answers.
    pub publisher: Addr<PublisherActor>,
    /// Counters for the stop summary.
    pub admission: Arc<Admission>,
    /// Device logins at the broker; `None` without the broker plugin.
    pub broker_key: Option<BrokerKey>,
    /// Wakes the login sync after a user was written.
    pub logins_changed: LoginsChanged,
}

/// Serves one decoded request and publishes its answer.
pub async fn serve(peers: &Peers, origin: Origin, qos: i32, request: Request) {
    let started = Instant::now();
    let action = request.action;
    let request_id = request.request_id.clone();
    let result = handlers::handle(peers, &origin, request).await;
    let code = match &result {
        Ok(_) => 200,
        Err(err) => {
            log::debug!(target: "dh::pipeline", "{} {}: {} {err}", origin.describe(), action.name(), err.code());
            err.code()
        }
    };
    let answer = Answer {
        action: action.name().to_string(),
        request_id,
        result,
    };
    deliver(peers, &origin, qos, answer).await;
    metrics::request(action.name(), code, started.elapsed());
}

/// Publishes an answer and waits for the broker to take it. If the publisher fails on this
/// answer, a 500 is published in its place so the client is never left waiting in silence.
///
/// The rare path (a 500 in place of the answer) is a boxed future of its own: every request's
/// task carries this future, and its size is copied whenever the task is spawned and moved
/// (callgrind showed the copies among the largest costs of a request).
pub async fn deliver(peers: &Peers, origin: &Origin, qos: i32, answer: Answer) {
    let out = answer.address(origin, qos);
    let topic = out.topic.clone();
    peers.admission.answered.fetch_add(1, Ordering::Relaxed);
    match ask(&peers.publisher, Publish(out)).await {
        Ok(delivery) => await_delivery(peers, topic, delivery).await,
        Err(_) => Box::pin(deliver_internal_error(peers, origin, qos, answer)).await,
    }
}

/// The publisher failed on `answer`: publishes a 500 in its place (on the same topic).
async fn deliver_internal_error(peers: &Peers, origin: &Origin, qos: i32, answer: Answer) {
    let failed = Answer {
        result: Err(ServiceError::Internal),
        ..answer
    };
    let out = failed.address(origin, qos);
    let topic = out.topic.clone();
    match ask(&peers.publisher, Publish(out)).await {
        Ok(delivery) => await_delivery(peers, topic, delivery).await,
        Err(_) => {
            log::error!(target: "dh::pipeline", "answer on '{topic}' could not be published")
        }
    }
}

async fn await_delivery(peers: &Peers, topic: ResponseTopic, delivery: Delivery) {
    if let Err(error) = delivery.outcome().await {
        // Not published again: the broker refused it, or it was dropped with a clean session
        // after the broker kept refusing it; a retry would only be refused again.
        peers.admission.undelivered.fetch_add(1, Ordering::Relaxed);
        log::error!(target: "dh::pipeline", "answer on '{topic}' not delivered, dropped: {error}");
    }
}

//! One request's way through the actors: authorize, act, answer. Runs as its own task per
//! request (spawned by ingest), so many requests are in flight at once and none is tied to
//! the lifetime of the ingest actor.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Handler, Message};
use serde_json::{Map, Value};

use super::admission::Admission;
use super::auth::AuthActor;
use super::batcher::{submit, Batcher};
use super::deadline::DB_DEADLINE;
use super::lanes::RepoLanes;
use super::messages::{
    Authorize, BindSession, Delivery, HashPassword, LoadBatch, Publish, RecordAuthentication,
    UpdateBatch,
};
use super::password_work::PasswordWork;
use super::publisher::PublisherActor;
use super::tokens::{self, TokenPolicy};
use crate::auth::jwt::Claims;
use crate::db::model::UserChanges;
use crate::db::user_repo::UpdateJob;
use crate::error::ServiceError;
use crate::protocol::update::{self, UserUpdate};
use crate::protocol::{Action, Answer, Body, Origin, Outgoing, Request};

/// The actors a request may visit.
#[derive(Clone)]
pub struct Peers {
    /// Token lifetimes and hash policy.
    pub policy: TokenPolicy,
    /// Tokens, sessions, permissions.
    pub auth: Addr<AuthActor>,
    /// Logins and other single queries.
    pub repo: RepoLanes,
    /// Password hashing, within its budget.
    pub hasher: PasswordWork,
    /// Batched `getCurrent` reads.
    pub reads: Addr<Batcher<LoadBatch>>,
    /// Group commit of updates.
    pub updates: Addr<Batcher<UpdateBatch>>,
    /// Answers.
    pub publisher: Addr<PublisherActor>,
    /// Counters for the stop summary.
    pub admission: Arc<Admission>,
}

/// Sends a message and flattens a mailbox failure (actor gone) into a 500.
pub async fn ask<A, M, T>(addr: &Addr<A>, msg: M) -> Result<T, ServiceError>
where
    A: Actor + Handler<M>,
    A::Context: ToEnvelope<A, M>,
    M: Message<Result = Result<T, ServiceError>> + Send + 'static,
    T: Send + 'static,
{
    addr.send(msg).await.unwrap_or_else(|e| {
        log::error!(target: "dh::pipeline", "actor did not answer: {e}");
        Err(ServiceError::Internal)
    })
}

/// Serves one decoded request and publishes its answer.
pub async fn serve(peers: &Peers, origin: Origin, qos: i32, request: Request) {
    let action = request.action;
    let request_id = request.request_id.clone();
    let result = execute(peers, &origin, request).await;
    if let Err(err) = &result {
        log::debug!(target: "dh::pipeline", "{} {}: {} {err}", origin.describe(), action.name(), err.code());
    }
    let answer = Answer {
        action: action.name().to_string(),
        request_id,
        result,
    };
    deliver(peers, &origin, qos, answer).await;
}

async fn execute(peers: &Peers, origin: &Origin, request: Request) -> Result<Body, ServiceError> {
    // Every action but getCurrent runs in a boxed future of its own: see `deliver` on the
    // size of every request's task.
    match request.action {
        Action::Token => {
            return Box::pin(tokens::login(peers, &request.body))
                .await
                .map(Body::from)
        }
        Action::TokenRefresh => {
            return Box::pin(tokens::refresh(peers, &request.body))
                .await
                .map(Body::from)
        }
        _ => {}
    }
    let claims = ask(
        &peers.auth,
        Authorize {
            action: request.action,
            token: request.token,
            session_key: origin.session_key().map(str::to_string),
        },
    )
    .await?;
    let user_id = claims.u.ok_or(ServiceError::Unauthorized)?;
    match request.action {
        Action::GetCurrentUser => {
            // Not kept across the read.
            drop(claims);
            let current = submit(&peers.reads, &peers.admission, user_id).await?;
            Ok(Body::Current(Box::new(current)))
        }
        Action::UpdateCurrentUser => Box::pin(update_current(peers, user_id, &request.body)).await,
        Action::Authenticate => Box::pin(authenticate(peers, origin, claims, user_id)).await,
        Action::TokenCreate => Box::pin(tokens::create(peers, claims, &request.body))
            .await
            .map(Body::from),
        // Served above, before any access token is asked for.
        Action::Token | Action::TokenRefresh => Err(ServiceError::Internal),
    }
}

/// `user/updateCurrent`: validates, hashes a new password, joins the next group commit.
async fn update_current(
    peers: &Peers,
    user_id: i64,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let update = update::parse(body)?;
    let needs_admin = update.needs_admin();
    let changes = changes_for(peers, update).await?;
    let job = UpdateJob {
        user_id,
        changes,
        needs_admin,
        deadline: Instant::now() + DB_DEADLINE,
    };
    submit(&peers.updates, &peers.admission, job).await?;
    Ok(Body::empty())
}

/// `authenticate`: records the login and binds the token's claims to the client's session.
async fn authenticate(
    peers: &Peers,
    origin: &Origin,
    claims: Claims,
    user_id: i64,
) -> Result<Body, ServiceError> {
    if !peers.repo.ask(RecordAuthentication { user_id }).await? {
        return Err(ServiceError::InvalidCredentials);
    }
    // On the MQTT 5 topic the publisher is unverified: check the token, keep no session.
    if let Some(client_id) = origin.session_key() {
        let client_id = client_id.to_string();
        ask(&peers.auth, BindSession { client_id, claims }).await?;
    }
    Ok(Body::empty())
}

/// Turns a validated update into the columns to write, hashing a new password first.
async fn changes_for(peers: &Peers, update: UserUpdate) -> Result<UserChanges, ServiceError> {
    let mut changes = UserChanges {
        login: update.login,
        role: update.role.map(|r| r.ordinal()),
        status: update.status.map(|s| s.ordinal()),
        data: update.data.map(|d| d.map(|v| v.to_string())),
        intro_reviewed: update.intro_reviewed,
        ..UserChanges::default()
    };
    if let Some(password) = update.password {
        let slot = peers.hasher.reserve()?;
        let stored = slot.hash(HashPassword { password }).await?;
        changes.password_hash = Some(stored.hash);
        changes.password_salt = Some(stored.salt);
    }
    Ok(changes)
}

/// Publishes an answer and waits for the broker to take it. If the publisher fails on this
/// answer, a 500 is published in its place so the client is never left waiting in silence.
///
/// The rare paths (a 500 in place of the answer, delivery retries) are boxed futures of their
/// own: every request's task carries this future, and its size is copied whenever the task is
/// spawned and moved (callgrind showed the copies among the largest costs of a request).
pub async fn deliver(peers: &Peers, origin: &Origin, qos: i32, answer: Answer) {
    let out = answer.address(origin, qos);
    match ask(&peers.publisher, Publish(out.clone())).await {
        Ok(delivery) => await_delivery(peers, out, delivery).await,
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
    match ask(&peers.publisher, Publish(out.clone())).await {
        Ok(delivery) => await_delivery(peers, out, delivery).await,
        Err(_) => {
            log::error!(target: "dh::pipeline", "answer on '{}' could not be published", out.topic)
        }
    }
}

async fn await_delivery(peers: &Peers, out: Outgoing, delivery: Delivery) {
    if let Err(error) = delivery.outcome().await {
        // Not published again: the broker refused it, or it was dropped with a clean session
        // after the broker kept refusing it; a retry would only be refused again.
        peers.admission.undelivered.fetch_add(1, Ordering::Relaxed);
        log::error!(target: "dh::pipeline", "answer on '{}' not delivered, dropped: {error}", out.topic);
    }
}

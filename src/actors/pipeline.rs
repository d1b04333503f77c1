//! One request's way through the actors: authorize, act, answer. Runs as its own task per
//! request (spawned by ingest), so many requests are in flight at once and none is tied to
//! the lifetime of the ingest actor.

use std::time::Duration;

use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Handler, Message};
use serde_json::{Map, Value};

use super::auth::AuthActor;
use super::batcher::{Batcher, Enqueue};
use super::hasher::HasherActor;
use super::lanes::RepoLanes;
use super::messages::{
    Authorize, BindSession, HashPassword, LoadBatch, Publish, RecordAuthentication, UpdateBatch,
};
use super::publisher::PublisherActor;
use super::tokens::{self, TokenPolicy};
use crate::db::model::UserChanges;
use crate::db::user_repo::UpdateJob;
use crate::error::ServiceError;
use crate::protocol::update::{self, UserUpdate};
use crate::protocol::user_view::current_user_json;
use crate::protocol::{Action, Answer, Origin, Request};

/// Attempts to hand an answer to the broker before giving up on it.
const DELIVERY_ATTEMPTS: u32 = 3;
/// Pause between delivery attempts.
const DELIVERY_RETRY_DELAY: Duration = Duration::from_millis(200);

/// The actors a request may visit.
#[derive(Clone)]
pub struct Peers {
    /// Token lifetimes and hash policy.
    pub policy: TokenPolicy,
    /// Tokens, sessions, permissions.
    pub auth: Addr<AuthActor>,
    /// Logins and other single queries.
    pub repo: RepoLanes,
    /// Password hashing.
    pub hasher: Addr<HasherActor>,
    /// Batched `getCurrent` reads.
    pub reads: Addr<Batcher<LoadBatch>>,
    /// Group commit of updates.
    pub updates: Addr<Batcher<UpdateBatch>>,
    /// Answers.
    pub publisher: Addr<PublisherActor>,
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

async fn execute(
    peers: &Peers,
    origin: &Origin,
    request: Request,
) -> Result<Map<String, Value>, ServiceError> {
    match request.action {
        Action::Token => return tokens::login(peers, &request.body).await,
        Action::TokenRefresh => return tokens::refresh(peers, &request.body).await,
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
            let current = ask(&peers.reads, Enqueue::<LoadBatch>(user_id)).await?;
            let mut fields = Map::new();
            fields.insert("current".into(), current_user_json(&current));
            Ok(fields)
        }
        Action::UpdateCurrentUser => {
            let update = update::parse(&request.body)?;
            let needs_admin = update.needs_admin();
            let changes = changes_for(peers, update).await?;
            let job = UpdateJob {
                user_id,
                changes,
                needs_admin,
            };
            ask(&peers.updates, Enqueue::<UpdateBatch>(job)).await?;
            Ok(Map::new())
        }
        Action::Authenticate => {
            if !peers.repo.ask(RecordAuthentication { user_id }).await? {
                return Err(ServiceError::InvalidCredentials);
            }
            // On the MQTT 5 topic the publisher is unverified: check the token, keep no session.
            if let Some(client_id) = origin.session_key() {
                let client_id = client_id.to_string();
                ask(&peers.auth, BindSession { client_id, claims }).await?;
            }
            Ok(Map::new())
        }
        Action::TokenCreate => tokens::create(peers, claims, &request.body).await,
        // Served above, before any access token is asked for.
        Action::Token | Action::TokenRefresh => Err(ServiceError::Internal),
    }
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
        let stored = ask(&peers.hasher, HashPassword { password }).await?;
        changes.password_hash = Some(stored.hash);
        changes.password_salt = Some(stored.salt);
    }
    Ok(changes)
}

/// Publishes an answer and waits for the broker to take it. If the publisher fails on this
/// answer, a 500 is published in its place so the client is never left waiting in silence.
pub async fn deliver(peers: &Peers, origin: &Origin, qos: i32, answer: Answer) {
    let Some(out) = answer.address(origin, qos) else {
        log::warn!(target: "dh::pipeline", "no valid response topic for action '{}' from {}; answer dropped", answer.action, origin.describe());
        return;
    };
    let topic = out.topic.clone();
    let first = ask(&peers.publisher, Publish(out.clone())).await;
    let out = match first {
        Ok(token) => return await_delivery(peers, out, token).await,
        Err(_) => {
            let failed = Answer {
                result: Err(ServiceError::Internal),
                ..answer
            };
            match failed.address(origin, qos) {
                Some(out) => out,
                None => return,
            }
        }
    };
    match ask(&peers.publisher, Publish(out.clone())).await {
        Ok(token) => await_delivery(peers, out, token).await,
        Err(_) => log::error!(target: "dh::pipeline", "answer on '{topic}' could not be published"),
    }
}

async fn await_delivery(
    peers: &Peers,
    out: crate::protocol::Outgoing,
    mut token: paho_mqtt::DeliveryToken,
) {
    for attempt in 1..=DELIVERY_ATTEMPTS {
        match token.await {
            Ok(()) => return,
            Err(e) if attempt < DELIVERY_ATTEMPTS => {
                log::warn!(target: "dh::pipeline", "delivery on '{}' failed ({e}); retrying", out.topic);
                actix_rt::time::sleep(DELIVERY_RETRY_DELAY).await;
                match ask(&peers.publisher, Publish(out.clone())).await {
                    Ok(next) => token = next,
                    Err(_) => break,
                }
            }
            Err(e) => {
                log::error!(target: "dh::pipeline", "answer on '{}' lost after {attempt} attempts: {e}", out.topic);
                return;
            }
        }
    }
}

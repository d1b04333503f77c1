//! The publisher actor: turns an addressed answer into a Paho publish, and tells the caller when
//! the broker has taken it (PUBACK).
//!
//! It watches the delivery tokens itself instead of handing them to the caller to await. An
//! awaited Paho token wakes the actix thread from Paho's receive thread once per answer (an
//! `eventfd` write and often a context switch); a token checked here never registers a waker.
//! Tokens are checked on every publish (answers are acknowledged in the order they were sent,
//! so only the oldest are looked at) and by a timer while any are outstanding. The caller waits
//! on a channel completed on this same thread, which costs no wake-up across threads.
//!
//! The outstanding tokens are the actor's own state, kept across a supervised restart, so a
//! restart cannot lose a delivery already handed to Paho.

use std::collections::VecDeque;
use std::time::Duration;

use actix::{Actor, AsyncContext, Context, Handler, Supervised};
use paho_mqtt::{AsyncClient, MessageBuilder, Properties, PropertyCode, Token};
use tokio::sync::oneshot;

use super::messages::{Delivery, Publish};
use super::supervise::{guarded, inject, tripped, FaultPlan, FaultSite};
use crate::error::ServiceError;
use crate::protocol::Outgoing;

/// How often outstanding deliveries are checked when no publish checks them: after the last
/// answer of a burst, and for an answer whose PUBACK arrives behind a later one's.
const SWEEP_INTERVAL: Duration = Duration::from_millis(2);

/// An answer handed to Paho, not yet acknowledged by the broker.
struct Outstanding {
    token: Token,
    /// Taken when the outcome is sent.
    done: Option<oneshot::Sender<Result<(), paho_mqtt::Error>>>,
}

impl Outstanding {
    /// Completes the caller's wait if the broker has answered; `false` while it has not.
    fn settled(&mut self) -> bool {
        let Some(result) = self.token.try_wait() else {
            return false;
        };
        if let Some(done) = self.done.take() {
            // The caller may have gone (shutdown); then nobody waits for the outcome.
            let _ = done.send(result.map(|_| ()));
        }
        true
    }
}

/// Publishes answers through the shared Paho client (a cheap, thread-safe handle).
pub struct PublisherActor {
    client: AsyncClient,
    faults: FaultPlan,
    outstanding: VecDeque<Outstanding>,
    sweep_armed: bool,
}

impl PublisherActor {
    /// A publisher over `client`.
    pub fn new(client: AsyncClient, faults: FaultPlan) -> PublisherActor {
        PublisherActor {
            client,
            faults,
            outstanding: VecDeque::new(),
            sweep_armed: false,
        }
    }

    fn publish(&self, out: Outgoing) -> Result<Token, ServiceError> {
        inject(&self.faults, FaultSite::Publisher);
        let mut props = Properties::new();
        if let Some(correlation) = out.correlation {
            props
                .push_binary(PropertyCode::CorrelationData, correlation)
                .map_err(|e| {
                    log::error!(target: "dh::publisher", "cannot set correlation data: {e}");
                    ServiceError::Internal
                })?;
        }
        let mut topic = out.topic.into_string();
        if tripped(&self.faults, FaultSite::RefusedTopic) {
            // Test-only: a control character, which Mosquitto answers by disconnecting us.
            topic.push('\u{1}');
        }
        let msg = MessageBuilder::new()
            .topic(topic)
            .payload(out.payload)
            .qos(out.qos)
            .retained(false)
            .properties(props)
            .finalize();
        Ok(Token::from(self.client.publish(msg)))
    }

    /// Settles the oldest deliveries the broker has acknowledged.
    fn settle_oldest(&mut self) {
        while self
            .outstanding
            .front_mut()
            .is_some_and(Outstanding::settled)
        {
            self.outstanding.pop_front();
        }
    }

    /// Settles every acknowledged delivery, and checks again later while any are left.
    fn sweep(&mut self, ctx: &mut Context<Self>) {
        self.outstanding.retain_mut(|o| !o.settled());
        self.sweep_armed = false;
        self.arm_sweep(ctx);
    }

    fn arm_sweep(&mut self, ctx: &mut Context<Self>) {
        if !self.sweep_armed && !self.outstanding.is_empty() {
            self.sweep_armed = true;
            ctx.run_later(SWEEP_INTERVAL, |act, ctx| act.sweep(ctx));
        }
    }
}

impl Actor for PublisherActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
        // After a restart: the timer of the previous run died with its context.
        self.sweep_armed = false;
        self.arm_sweep(ctx);
    }
}

impl Supervised for PublisherActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        log::warn!(target: "dh::publisher", "publisher actor restarting");
    }
}

impl Handler<Publish> for PublisherActor {
    type Result = Result<Delivery, ServiceError>;

    fn handle(&mut self, msg: Publish, ctx: &mut Self::Context) -> Self::Result {
        let token = guarded(ctx, "publisher", || self.publish(msg.0))?;
        let (done, delivery) = oneshot::channel();
        let mut sent = Outstanding {
            token,
            done: Some(done),
        };
        if !sent.settled() {
            self.outstanding.push_back(sent);
        }
        self.settle_oldest();
        self.arm_sweep(ctx);
        Ok(Delivery(delivery))
    }
}

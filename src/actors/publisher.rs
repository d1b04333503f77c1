//! The publisher actor: turns an addressed answer into a Paho publish. It replies with the
//! delivery token instead of awaiting it, so the caller waits for the broker's PUBACK and a
//! restart of this actor cannot cancel a delivery already handed to Paho.

use actix::{Actor, Context, Handler, Supervised};
use paho_mqtt::{AsyncClient, DeliveryToken, MessageBuilder, Properties, PropertyCode};

use super::messages::Publish;
use super::supervise::{guarded, inject, FaultPlan, FaultSite};
use crate::error::ServiceError;
use crate::protocol::Outgoing;

/// Publishes answers through the shared Paho client (a cheap, thread-safe handle).
pub struct PublisherActor {
    client: AsyncClient,
    faults: FaultPlan,
}

impl PublisherActor {
    /// A publisher over `client`.
    pub fn new(client: AsyncClient, faults: FaultPlan) -> PublisherActor {
        PublisherActor { client, faults }
    }

    fn publish(&self, out: Outgoing) -> Result<DeliveryToken, ServiceError> {
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
        let msg = MessageBuilder::new()
            .topic(out.topic)
            .payload(out.payload)
            .qos(out.qos)
            .retained(false)
            .properties(props)
            .finalize();
        Ok(self.client.publish(msg))
    }
}

impl Actor for PublisherActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
    }
}

impl Supervised for PublisherActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        log::warn!(target: "dh::publisher", "publisher actor restarting");
    }
}

impl Handler<Publish> for PublisherActor {
    type Result = Result<DeliveryToken, ServiceError>;

    fn handle(&mut self, msg: Publish, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "publisher", || self.publish(msg.0))
    }
}

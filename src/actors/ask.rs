//! Asking an actor: `send` with a mailbox failure (the actor is gone) flattened into a 500, for
//! messages that answer `Result<_, ServiceError>`.

use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Handler, Message};

use crate::error::ServiceError;

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

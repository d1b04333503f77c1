//! The update batcher: group commit for `user/updateCurrent`. Updates that arrive while
//! earlier batches are being written wait here and go to the repository together, as one
//! transaction with a savepoint each; every request still gets its own answer. With one batch
//! in flight per writer, a burst costs a few commits instead of one per request (SQLite WAL
//! `synchronous=FULL` and PostgreSQL `synchronous_commit=on` each pay an fsync per commit).

use actix::fut::wrap_future;
use actix::{
    Actor, ActorFutureExt, Addr, AsyncContext, Context, Handler, ResponseFuture, Supervised,
};
use tokio::sync::oneshot;

use super::messages::{UpdateBatch, UpdateCurrent};
use super::repo::RepoActor;
use super::supervise::{catch, inject, FaultPlan, FaultSite};
use crate::db::user_repo::UpdateJob;
use crate::error::ServiceError;

/// Most updates in one transaction.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<(), ServiceError>>;

/// Collects updates and writes them in batches.
pub struct UpdateBatcher {
    repo: Addr<RepoActor>,
    waiting: Vec<(UpdateJob, Reply)>,
    batches_in_flight: usize,
    max_batches_in_flight: usize,
    faults: FaultPlan,
}

impl UpdateBatcher {
    /// A batcher writing through `repo` with at most `writers` batches at once (1 for SQLite,
    /// which has a single writer anyway).
    pub fn new(repo: Addr<RepoActor>, writers: usize, faults: FaultPlan) -> UpdateBatcher {
        UpdateBatcher {
            repo,
            waiting: Vec::new(),
            batches_in_flight: 0,
            max_batches_in_flight: writers.max(1),
            faults,
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        while self.batches_in_flight < self.max_batches_in_flight && !self.waiting.is_empty() {
            let take = self.waiting.len().min(MAX_BATCH);
            let (jobs, replies): (Vec<UpdateJob>, Vec<Reply>) = self.waiting.drain(..take).unzip();
            self.batches_in_flight += 1;
            let sent = self.repo.send(UpdateBatch(jobs));
            ctx.spawn(wrap_future::<_, Self>(sent).map(move |result, act, ctx| {
                act.batches_in_flight = act.batches_in_flight.saturating_sub(1);
                let outcomes = result.unwrap_or_else(|e| {
                    log::error!(target: "dh::batcher", "repository did not answer: {e}");
                    Err(ServiceError::Internal)
                });
                match outcomes {
                    Ok(list) if list.len() == replies.len() => {
                        for (reply, outcome) in replies.into_iter().zip(list) {
                            let _ = reply.send(outcome);
                        }
                    }
                    Ok(_) => replies
                        .into_iter()
                        .for_each(|r| drop(r.send(Err(ServiceError::Internal)))),
                    Err(e) => replies
                        .into_iter()
                        .for_each(|r| drop(r.send(Err(e.clone())))),
                }
                act.flush(ctx);
            }));
        }
    }
}

impl Actor for UpdateBatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
    }
}

impl Supervised for UpdateBatcher {
    fn restarting(&mut self, _: &mut Self::Context) {
        // Batches in flight were dropped with the context: their requests get 500 (their reply
        // senders are gone); the waiting ones are answered 500 too, then we start clean.
        log::warn!(target: "dh::batcher", "update batcher restarting");
        for (_, reply) in self.waiting.drain(..) {
            let _ = reply.send(Err(ServiceError::Internal));
        }
        self.batches_in_flight = 0;
    }
}

impl Handler<UpdateCurrent> for UpdateBatcher {
    type Result = ResponseFuture<Result<(), ServiceError>>;

    fn handle(&mut self, msg: UpdateCurrent, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let (accepted, restart) = catch("update batcher", || {
            inject(&self.faults, FaultSite::Batcher);
            self.waiting.push((msg.0, tx));
            self.flush(ctx);
            Ok(())
        });
        if restart {
            actix::ActorContext::stop(ctx);
        }
        Box::pin(async move {
            accepted?;
            rx.await.unwrap_or(Err(ServiceError::Internal))
        })
    }
}

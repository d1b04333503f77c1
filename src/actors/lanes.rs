//! Repository lanes: each a [`RepoActor`] alone on its own arbiter thread, supervised there.
//! A lane's handlers block that thread only. Separate lane sets serve reads, update batches
//! and everything else, so a slow login query never delays a `getCurrent` batch.
//!
//! Why not a `SyncArbiter`: its threads share a crossbeam queue and spin and `sched_yield`
//! before sleeping; on a busy two-core machine that cost about 25 µs of CPU per request
//! (measured with `dh-bench`, see docs/PERFORMANCE.md). A lane sleeps on its
//! runtime's event loop and is woken once per message.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Arbiter, ArbiterHandle, Handler, Message, Supervisor};

use super::admission::Admission;
use super::ask::ask;
use super::deadline::within_deadline;
use super::repo::RepoActor;
use crate::error::ServiceError;

struct Lane {
    addr: Addr<RepoActor>,
    arbiter: ArbiterHandle,
    /// Messages sent to this lane and not yet answered.
    load: AtomicUsize,
}

/// A set of repository lanes; a message goes to the least loaded.
#[derive(Clone)]
pub struct RepoLanes {
    lanes: Arc<[Lane]>,
    /// Counts requests past the database deadline.
    admission: Arc<Admission>,
}

/// Counts a message on its lane until answered, also when the asker gives up waiting.
struct Pending {
    lanes: Arc<[Lane]>,
    index: usize,
}

impl Pending {
    fn start(lanes: &Arc<[Lane]>, index: usize) -> Pending {
        if let Some(lane) = lanes.get(index) {
            lane.load.fetch_add(1, Ordering::Relaxed);
        }
        Pending {
            lanes: Arc::clone(lanes),
            index,
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(lane) = self.lanes.get(self.index) {
            lane.load.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl RepoLanes {
    /// Starts `count` lanes (at least one), each running an actor made by `make`.
    pub fn start(
        count: usize,
        admission: &Arc<Admission>,
        make: impl Fn() -> RepoActor + Clone + Send + 'static,
    ) -> RepoLanes {
        let lanes: Vec<Lane> = (0..count.max(1))
            .map(|_| {
                let arbiter = Arbiter::new().handle();
                let make = make.clone();
                let addr = Supervisor::start_in_arbiter(&arbiter, move |_| make());
                Lane {
                    addr,
                    arbiter,
                    load: AtomicUsize::new(0),
                }
            })
            .collect();
        RepoLanes {
            lanes: lanes.into(),
            admission: Arc::clone(admission),
        }
    }

    /// How many lanes there are.
    pub fn len(&self) -> usize {
        self.lanes.len()
    }

    /// Always false: a lane set has at least one lane.
    pub fn is_empty(&self) -> bool {
        self.lanes.is_empty()
    }

    /// Sends `msg` to the least loaded lane and waits for its answer within the database
    /// deadline (then 503; the message is skipped if not started); a lane that is gone
    /// answers 500.
    pub fn ask<M, T>(&self, msg: M) -> impl Future<Output = Result<T, ServiceError>> + 'static
    where
        RepoActor: Handler<M>,
        <RepoActor as Actor>::Context: ToEnvelope<RepoActor, M>,
        M: Message<Result = Result<T, ServiceError>> + Send + 'static,
        T: Send + 'static,
    {
        let least_loaded = self
            .lanes
            .iter()
            .enumerate()
            .min_by_key(|(_, lane)| lane.load.load(Ordering::Relaxed))
            .map_or(0, |(index, _)| index);
        let answer = self.ask_on(least_loaded, msg);
        let admission = Arc::clone(&self.admission);
        async move { within_deadline(&admission, answer).await? }
    }

    /// Sends `msg` to lane `index` (modulo the lane count) and waits for its answer.
    pub fn ask_on<M, T>(
        &self,
        index: usize,
        msg: M,
    ) -> impl Future<Output = Result<T, ServiceError>> + 'static
    where
        RepoActor: Handler<M>,
        <RepoActor as Actor>::Context: ToEnvelope<RepoActor, M>,
        M: Message<Result = Result<T, ServiceError>> + Send + 'static,
        T: Send + 'static,
    {
        let pending = Pending::start(&self.lanes, index % self.lanes.len().max(1));
        async move {
            match pending.lanes.get(pending.index) {
                Some(lane) => ask(&lane.addr, msg).await,
                None => Err(ServiceError::Internal),
            }
        }
    }

    /// Stops the lanes' threads once they have handled what is queued.
    pub fn stop(&self) {
        for lane in self.lanes.iter() {
            lane.arbiter.stop();
        }
    }
}

//! Batchers in front of the repository. Jobs that arrive while earlier batches are at the
//! database wait here and go to the repository together; every request still gets its own
//! answer.
//!
//! - Updates (group commit): one transaction per batch (see `update_current_batch`). SQLite
//!   WAL `synchronous=FULL` and PostgreSQL `synchronous_commit=on` each pay an fsync per
//!   commit, so a burst costs a few commits instead of one per request.
//! - Reads (`getCurrent`): one joined query per batch (see `load_current_many`). Under load
//!   the profile was thread hand-offs, not queries: each request woke a repository thread and
//!   then the actix thread again. A batch pays that once.
//!
//! Each batcher has repository lanes of its own and keeps at most one batch per lane at the
//! database; that bound is what lets the next batch form. While the service is behind (see
//! [`BEHIND`]), a lane is held after a batch so that requests in the service can join the next
//! one (batches of ~2 became ~10 at 16 × 4): until twice that batch is waiting, at most until
//! the runtime's next timer tick ([`NEXT_TICK`]). A lone request, or a steady half load, never
//! waits. A job's lane is chosen by the row it touches (the user), never by which lane is free.

use std::sync::Arc;
use std::time::Duration;

use actix::dev::ToEnvelope;
use actix::fut::wrap_future;
use actix::{
    Actor, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message, SpawnHandle, Supervised,
    Supervisor,
};
use tokio::sync::oneshot;

use super::admission::Admission;
use super::deadline::within_deadline;
use super::lanes::RepoLanes;
use super::messages::{LoadBatch, SessionBatch, UpdateBatch};
use super::repo::RepoActor;
use super::supervise::{catch, inject, FaultPlan, FaultSite};
use crate::db::sessions::StoredSession;
use crate::db::user_repo::{CurrentUser, UpdateJob};
use crate::error::ServiceError;
use crate::ops::metrics;

/// Most jobs in one batch.
const MAX_BATCH: usize = 256;

/// Requests in the service from which it counts as behind and batchers hold their lanes (see
/// `Batcher::lane_done`): above what half load keeps in it, below saturation's
/// (docs/PERFORMANCE.md, item 15).
const BEHIND: usize = 24;

/// A held lane is freed as soon as this many times the batch just done is waiting: the next
/// batch has grown, and holding on only adds latency (docs/PERFORMANCE.md, item 17).
const GROWTH: usize = 2;

/// The longest hold: tokio rounds a timer up to its millisecond tick, so a zero-length timer
/// fires at the next tick (under a millisecond, half on average) and a 1-ms one after 1–2 ms,
/// longer than a whole request takes on a fast machine (docs/PERFORMANCE.md, item 18).
const NEXT_TICK: Option<Duration> = Some(Duration::ZERO);

/// A repository message made of jobs that waited together; answers one outcome per job, in
/// order, or one error for the whole batch.
pub trait Batch:
    Message<Result = Result<Vec<Result<Self::Output, ServiceError>>, ServiceError>> + Send + 'static
{
    /// One request's part.
    type Job: Send + Unpin + 'static;
    /// One request's outcome.
    type Output: Send + 'static;
    /// Names the batcher in logs.
    const NAME: &'static str;
    /// Where a test may inject a panic into this batcher.
    const FAULT_SITE: FaultSite;
    /// The message for the repository.
    fn of(jobs: Vec<Self::Job>) -> Self;
    /// How long a lane is held after a batch while the service is behind (see [`BEHIND`]), so
    /// that the requests in it join the next batch; `None` sends the next batch at once.
    const LINGER: Option<Duration> = None;
    /// Which lane a job goes to (modulo the lane count). Jobs on the same rows share a lane,
    /// so batches on different lanes never wait on each other's row locks and cannot
    /// deadlock by locking two rows in opposite orders.
    fn partition(job: &Self::Job) -> u64;
}

/// Batcher: one job and where its outcome goes. The job carries its own reply channel rather
/// than returning a future: actix runs a handler's `ResponseFuture` as a task of its own, one
/// spawn and one more channel per request (callgrind: ~2,000 instructions of ~60,000).
pub struct Enqueue<B: Batch> {
    job: B::Job,
    reply: Reply<B>,
}

impl<B: Batch> Message for Enqueue<B> {
    type Result = ();
}

type Reply<B> = oneshot::Sender<Result<<B as Batch>::Output, ServiceError>>;

/// Queues `job` on the batcher at `addr` and waits for its outcome, within the database
/// deadline (then 503, counted in `admission`; the job is skipped if it has not started). A
/// batcher that is gone or restarted while the job waited answers 500.
pub async fn submit<B: Batch>(
    addr: &Addr<Batcher<B>>,
    admission: &Admission,
    job: B::Job,
) -> Result<B::Output, ServiceError>
where
    RepoActor: Handler<B>,
    <RepoActor as Actor>::Context: ToEnvelope<RepoActor, B>,
{
    let (reply, outcome) = oneshot::channel();
    // Unbounded on purpose: the admission bound already limits the requests in the service.
    addr.do_send(Enqueue { job, reply });
    let outcome = within_deadline(admission, outcome).await?;
    outcome.unwrap_or_else(|_| {
        log::error!(target: "dh::batcher", "{} batcher dropped a job without answering", B::NAME);
        Err(ServiceError::Internal)
    })
}

/// Jobs waiting for one lane, and whether that lane has a batch at the database (or is held).
struct LaneQueue<B: Batch> {
    waiting: Vec<(B::Job, Reply<B>)>,
    busy: bool,
    hold: Option<Hold>,
}

/// A lane held after a batch (see `Batcher::lane_done`).
#[derive(Clone, Copy)]
struct Hold {
    /// Frees the lane when the hold times out.
    timer: SpawnHandle,
    /// Jobs waiting at which the lane is freed before that.
    until: usize,
}

/// Collects jobs of one kind and sends them to the repository in batches.
pub struct Batcher<B: Batch> {
    repo: RepoLanes,
    /// Requests in the service: whether more jobs may be on their way.
    pressure: Arc<Admission>,
    lanes: Vec<LaneQueue<B>>,
    faults: FaultPlan,
}

impl<B: Batch> Batcher<B>
where
    RepoActor: Handler<B>,
    <RepoActor as Actor>::Context: ToEnvelope<RepoActor, B>,
{
    /// Starts a supervised batcher over `repo`'s lanes; `pressure` counts the requests in
    /// the service.
    pub fn start(repo: &RepoLanes, pressure: &Arc<Admission>, faults: &FaultPlan) -> Addr<Self> {
        let (repo, pressure, faults) = (repo.clone(), Arc::clone(pressure), faults.clone());
        Supervisor::start(move |_| {
            Batcher::new(repo.clone(), Arc::clone(&pressure), faults.clone())
        })
    }

    /// A batcher with lanes of its own: one batch at a time per lane.
    fn new(repo: RepoLanes, pressure: Arc<Admission>, faults: FaultPlan) -> Batcher<B> {
        let lanes = (0..repo.len())
            .map(|_| LaneQueue {
                waiting: Vec::new(),
                busy: false,
                hold: None,
            })
            .collect();
        Batcher {
            repo,
            pressure,
            lanes,
            faults,
        }
    }

    #[expect(
        clippy::expect_used,
        reason = "a lane set has at least one lane and the index is taken modulo its length; dropping the job would leave its request unanswered"
    )]
    fn enqueue(&mut self, job: B::Job, reply: Reply<B>, ctx: &mut Context<Self>) {
        let count = self.lanes.len().max(1) as u64;
        let index = (B::partition(&job) % count) as usize;
        let lane = self
            .lanes
            .get_mut(index)
            .expect("a lane for every partition");
        lane.waiting.push((job, reply));
        if let Some(hold) = lane.hold.filter(|h| lane.waiting.len() >= h.until) {
            ctx.cancel_future(hold.timer);
            self.free_lane(index, ctx);
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        for (index, lane) in self.lanes.iter_mut().enumerate() {
            if lane.busy {
                continue;
            }
            // A job whose request passed its deadline has nobody waiting: never run it.
            lane.waiting.retain(|(_, reply)| !reply.is_closed());
            if lane.waiting.is_empty() {
                continue;
            }
            let take = lane.waiting.len().min(MAX_BATCH);
            let (jobs, replies): (Vec<B::Job>, Vec<Reply<B>>) = lane.waiting.drain(..take).unzip();
            lane.busy = true;
            metrics::batch(B::NAME, take);
            log::trace!(target: "dh::batcher", "{}: batch of {take} on lane {index}", B::NAME);
            let sent = self.repo.ask_on(index, B::of(jobs));
            ctx.spawn(wrap_future::<_, Self>(sent).map(move |outcomes, act, ctx| {
                answer::<B>(replies, outcomes);
                act.lane_done(index, take, ctx);
            }));
        }
    }

    /// Frees a lane after a batch of `size`, or holds it so the next batch is fuller: until
    /// [`GROWTH`] times `size` jobs wait for it, for [`Batch::LINGER`] at most. It holds only
    /// while the service is behind: [`BEHIND`] or more requests in it, and some of them not in
    /// this lane yet (they may be on their way here).
    /// Holding pays at saturation (bigger batches, fewer thread hand-offs per request) and
    /// costs up to a timer tick per request at a steady half load. Neither the batch's size
    /// nor what queued during its database trip told the two apart on both databases (a hold makes the next batch big, and a SQLite trip
    /// takes microseconds); the count of requests in the service does.
    fn lane_done(&mut self, index: usize, size: usize, ctx: &mut Context<Self>) {
        let waiting = self.lanes.get(index).map_or(0, |lane| lane.waiting.len());
        let in_flight = self.pressure.in_flight();
        // The batch just done is still in flight until its answers are published.
        let coming = in_flight.saturating_sub(waiting + size);
        let until = (size * GROWTH).min(MAX_BATCH);
        let linger = B::LINGER.filter(|_| in_flight >= BEHIND && coming > 0 && waiting < until);
        match (linger, self.lanes.get_mut(index)) {
            (Some(linger), Some(lane)) => {
                let timer = ctx.run_later(linger, move |act, ctx| act.free_lane(index, ctx));
                lane.hold = Some(Hold { timer, until });
            }
            _ => self.free_lane(index, ctx),
        }
    }

    fn free_lane(&mut self, index: usize, ctx: &mut Context<Self>) {
        if let Some(lane) = self.lanes.get_mut(index) {
            lane.busy = false;
            lane.hold = None;
        }
        self.flush(ctx);
    }
}

/// Hands each waiting request its own outcome.
fn answer<B: Batch>(
    replies: Vec<Reply<B>>,
    outcomes: Result<Vec<Result<B::Output, ServiceError>>, ServiceError>,
) {
    match outcomes {
        Ok(list) if list.len() == replies.len() => {
            for (reply, outcome) in replies.into_iter().zip(list) {
                let _ = reply.send(outcome);
            }
        }
        Ok(list) => {
            log::error!(target: "dh::batcher", "{}: {} outcomes for {} jobs", B::NAME, list.len(), replies.len());
            for reply in replies {
                let _ = reply.send(Err(ServiceError::Internal));
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

impl<B: Batch> Actor for Batcher<B>
where
    RepoActor: Handler<B>,
    <RepoActor as Actor>::Context: ToEnvelope<RepoActor, B>,
{
    // No mailbox capacity: jobs arrive by `do_send` (see `submit`), which ignores it.
    type Context = Context<Self>;
}

impl<B: Batch> Supervised for Batcher<B>
where
    RepoActor: Handler<B>,
    <RepoActor as Actor>::Context: ToEnvelope<RepoActor, B>,
{
    fn restarting(&mut self, _: &mut Self::Context) {
        // Batches in flight were dropped with the context: their requests get 500 (their reply
        // senders are gone); the waiting ones are answered 500 too, then we start clean.
        log::warn!(target: "dh::batcher", "{} batcher restarting", B::NAME);
        for lane in &mut self.lanes {
            for (_, reply) in lane.waiting.drain(..) {
                let _ = reply.send(Err(ServiceError::Internal));
            }
            lane.busy = false;
            lane.hold = None;
        }
    }
}

impl<B: Batch> Handler<Enqueue<B>> for Batcher<B>
where
    RepoActor: Handler<B>,
    <RepoActor as Actor>::Context: ToEnvelope<RepoActor, B>,
{
    type Result = ();

    fn handle(&mut self, msg: Enqueue<B>, ctx: &mut Self::Context) {
        // A panic drops the reply sender, so the request is answered 500.
        let (_, restart) = catch(B::NAME, || {
            inject(&self.faults, B::FAULT_SITE);
            self.enqueue(msg.job, msg.reply, ctx);
            self.flush(ctx);
            Ok(())
        });
        if restart {
            actix::ActorContext::stop(ctx);
        }
    }
}

// The batches and their policy.

impl Batch for LoadBatch {
    type Job = i64;
    type Output = CurrentUser;
    const NAME: &'static str = "read";
    // A batch costs a round trip and two thread hand-offs whatever its size
    // (docs/PERFORMANCE.md, item 7).
    const LINGER: Option<Duration> = NEXT_TICK;
    const FAULT_SITE: FaultSite = FaultSite::Reads;
    fn of(jobs: Vec<i64>) -> Self {
        LoadBatch(jobs)
    }
    fn partition(user_id: &i64) -> u64 {
        user_id.unsigned_abs()
    }
}

impl Batch for SessionBatch {
    type Job = String;
    type Output = StoredSession;
    const NAME: &'static str = "session";
    // As for `getCurrent` reads: every session request pays this batch's trip.
    const LINGER: Option<Duration> = NEXT_TICK;
    const FAULT_SITE: FaultSite = FaultSite::Reads;
    fn of(jobs: Vec<String>) -> Self {
        SessionBatch(jobs)
    }
    fn partition(client_id: &String) -> u64 {
        // Reads take no locks; one lane is what the read batchers run on (`LaneCounts`).
        client_id.len() as u64
    }
}

impl Batch for UpdateBatch {
    type Job = UpdateJob;
    type Output = ();
    const NAME: &'static str = "update";
    // Each commit costs about the same whatever its size (an fsync, BEGIN and COMMIT, two
    // thread hand-offs); under load a short wait lets several more updates share it.
    const LINGER: Option<Duration> = NEXT_TICK;
    const FAULT_SITE: FaultSite = FaultSite::Updates;
    fn of(jobs: Vec<UpdateJob>) -> Self {
        UpdateBatch(jobs)
    }
    fn partition(job: &UpdateJob) -> u64 {
        job.user_id.unsigned_abs()
    }
}

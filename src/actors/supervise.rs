//! Supervision that survives panics. actix's `Supervisor` restarts an
//! actor that *stops*, but a panicking handler just closes the mailbox, and a panicking
//! `SyncArbiter` thread is never replaced. So every handler runs its body under
//! `catch_unwind`; on a panic it answers `Internal` (500) and stops the actor, which the
//! `Supervisor` (or the `SyncArbiter` factory) then restarts with the mailbox intact.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use actix::ActorContext;

use crate::error::ServiceError;

/// Where a fault can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultSite {
    /// The ingest actor, while handling a received message.
    Ingest = 0,
    /// The auth actor.
    Auth = 1,
    /// The repository actor.
    Repo = 2,
    /// The password hasher.
    Hasher = 3,
    /// The publisher actor.
    Publisher = 4,
    /// The update batcher.
    Updates = 5,
    /// The read batcher.
    Reads = 6,
    /// The publisher publishes on a topic the broker refuses (no panic).
    RefusedTopic = 7,
}

/// How many [`FaultSite`]s there are.
const FAULT_SITES: usize = FaultSite::RefusedTopic as usize + 1;

/// A test-only fault plan: "panic in the next N messages handled at this site". It is only
/// reachable through the library API (`service::run`), never from the command line or the
/// configuration, so a deployed service cannot be told to panic.
#[derive(Debug, Default)]
pub struct Faults {
    armed: [AtomicU32; FAULT_SITES],
}

impl Faults {
    /// Makes the next `count` messages at `site` panic.
    pub fn arm(&self, site: FaultSite, count: u32) {
        if let Some(slot) = self.armed.get(site as usize) {
            slot.store(count, Ordering::SeqCst);
        }
    }

    fn trip(&self, site: FaultSite) -> bool {
        self.armed.get(site as usize).is_some_and(|slot| {
            slot.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        })
    }
}

/// Optional fault plan shared by the actors.
pub type FaultPlan = Option<Arc<Faults>>;

/// Whether a fault armed at `site` fires now (for faults that are not panics).
pub fn tripped(plan: &FaultPlan, site: FaultSite) -> bool {
    plan.as_ref().is_some_and(|f| f.trip(site))
}

/// Panics if a fault is armed at `site`.
#[expect(
    clippy::panic,
    reason = "the test hook's whole purpose is to panic on request"
)]
pub fn inject(plan: &FaultPlan, site: FaultSite) {
    if tripped(plan, site) {
        panic!("injected fault at {site:?}");
    }
}

/// Runs a handler body; a panic becomes `Err(Internal)` for that request and stops the actor,
/// which its `Supervisor` (or `SyncArbiter` factory) then restarts.
pub fn guarded<T>(
    ctx: &mut impl ActorContext,
    actor: &str,
    body: impl FnOnce() -> Result<T, ServiceError>,
) -> Result<T, ServiceError> {
    let (result, panicked) = catch(actor, body);
    if panicked {
        ctx.stop();
    }
    result
}

/// Runs `body`; a panic becomes `Err(Internal)` and `true`. For handlers whose body needs
/// the context itself (and so cannot use [`guarded`]).
pub fn catch<T>(
    actor: &str,
    body: impl FnOnce() -> Result<T, ServiceError>,
) -> (Result<T, ServiceError>, bool) {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => (result, false),
        Err(_) => {
            log::error!(target: "dh::supervise", "{actor} actor panicked while handling a message; answering 500 and restarting it");
            (Err(ServiceError::Internal), true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armed_faults_fire_the_given_number_of_times() {
        let plan: FaultPlan = Some(Arc::new(Faults::default()));
        if let Some(f) = &plan {
            f.arm(FaultSite::Repo, 1);
        }
        let (first, restart) = catch("repo", || {
            inject(&plan, FaultSite::Repo);
            Ok(1)
        });
        assert_eq!((first, restart), (Err(ServiceError::Internal), true));
        let (second, restart) = catch("repo", || {
            inject(&plan, FaultSite::Repo);
            Ok(2)
        });
        assert_eq!((second, restart), (Ok(2), false));
    }
}

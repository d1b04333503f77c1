//! The budget of password work. Argon2id costs ~18 ms of CPU per hash, and on a 2-core machine
//! any busy thread halves the throughput of the rest of the pipeline whatever its priority
//! (docs/PERFORMANCE.md, item 9). So the service bounds password work itself, two ways:
//! - a queue bound: logins and password changes beyond `queue` waiting for the hasher are
//!   answered 503 `Server is busy` at once, before any database work, so a login flood cannot
//!   fill the global admission bound and turn `getCurrent` away;
//! - a duty cycle: while other requests are in flight, each hash is followed by a rest so that
//!   hashing takes at most `cpu_percent` of the hasher's time. With nothing else to do (a fleet
//!   logging in after an outage) it hashes at full speed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::admission::Admission;

/// How much password work may wait and run.
#[derive(Debug)]
pub struct PasswordBudget {
    waiting: AtomicUsize,
    queue: usize,
    cpu_percent: u32,
    admission: Arc<Admission>,
}

impl PasswordBudget {
    /// At most `queue` password operations admitted at once; `cpu_percent` (1–100) of the
    /// hasher's time while `admission` counts other requests in flight.
    pub fn new(queue: usize, cpu_percent: u32, admission: Arc<Admission>) -> Arc<PasswordBudget> {
        Arc::new(PasswordBudget {
            waiting: AtomicUsize::new(0),
            queue,
            cpu_percent: cpu_percent.clamp(1, 100),
            admission,
        })
    }

    /// The rest a hasher thread takes after `busy` of hashing.
    pub fn rest_after(&self, busy: Duration) -> Duration {
        let others = self
            .admission
            .in_flight()
            .saturating_sub(self.waiting.load(Ordering::Acquire));
        if others == 0 {
            return Duration::ZERO;
        }
        busy * (100 - self.cpu_percent) / self.cpu_percent
    }

    /// Password operations admitted and not finished.
    pub fn queued(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// A place in the queue, if there is one.
    pub fn try_reserve(self: &Arc<Self>) -> Option<Ticket> {
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.queue).then_some(n + 1)
            })
            .ok()
            .map(|_| Ticket(Arc::clone(self)))
    }
}

/// One admitted password operation; gives its place back when dropped.
#[derive(Debug)]
pub struct Ticket(Arc<PasswordBudget>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(queue: usize, percent: u32) -> (Arc<Admission>, Arc<PasswordBudget>) {
        let admission = Admission::new(100);
        let budget = PasswordBudget::new(queue, percent, Arc::clone(&admission));
        (admission, budget)
    }

    #[test]
    fn the_queue_bound_refuses_the_next_and_frees_on_drop() {
        let (_, budget) = budget(2, 25);
        let first = budget.try_reserve();
        let second = budget.try_reserve();
        assert!(first.is_some() && second.is_some());
        assert!(budget.try_reserve().is_none());
        drop(first);
        assert!(budget.try_reserve().is_some());
    }

    #[test]
    fn hashing_rests_only_while_other_requests_wait() {
        let (admission, budget) = budget(8, 25);
        let busy = Duration::from_millis(18);
        // A login alone: admitted once overall, once in the password queue.
        let _login = admission.try_admit();
        let _slot = budget.try_reserve();
        assert_eq!(budget.rest_after(busy), Duration::ZERO);
        // A getCurrent in flight too: 25 % duty cycle, 3 × the hash time at rest.
        let _get = admission.try_admit();
        assert_eq!(budget.rest_after(busy), Duration::from_millis(54));
    }

    #[test]
    fn a_full_share_never_rests() {
        let (admission, budget) = budget(8, 100);
        let _get = admission.try_admit();
        assert_eq!(budget.rest_after(Duration::from_millis(18)), Duration::ZERO);
    }
}

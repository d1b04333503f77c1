//! The admission bound: Paho acknowledges a request before we see it and its hand-off is
//! unbounded (a bounded Paho stream drops silently), so load is shed here, with a 503 answer, never by dropping.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts requests being handled, and what was refused or ignored.
#[derive(Debug, Default)]
pub struct Admission {
    in_flight: AtomicUsize,
    max: usize,
    /// Requests answered 503 `Server is busy`.
    pub shed: AtomicU64,
    /// Retained publishes on request topics, ignored.
    pub retained_ignored: AtomicU64,
    /// `dh/request` publishes without a usable Response Topic, dropped.
    pub unanswerable: AtomicU64,
    /// MQTT 5 requests whose Response Topic is outside the contract, refused.
    pub refused_response_topic: AtomicU64,
    /// Requests answered 503 `Service unavailable` because their deadline passed.
    pub timed_out: AtomicU64,
    /// Answers the broker did not take, dropped.
    pub undelivered: AtomicU64,
    /// Answers handed to the publisher (for the request rate in systemd's status).
    pub answered: AtomicU64,
}

/// One admitted request; releases its slot when dropped.
#[derive(Debug)]
pub struct Permit(Arc<Admission>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    /// A bound of `max` requests in flight.
    pub fn new(max: usize) -> Arc<Admission> {
        Arc::new(Admission {
            max,
            ..Admission::default()
        })
    }

    /// Admits a request if the bound allows.
    pub fn try_admit(self: &Arc<Self>) -> Option<Permit> {
        let admitted = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok();
        admitted.then(|| Permit(Arc::clone(self)))
    }

    /// Counts an answer that must go out whatever the load (errors, 503s), so draining waits
    /// for it too.
    pub fn admit_answer(self: &Arc<Self>) -> Permit {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Permit(Arc::clone(self))
    }

    /// Requests and answers not finished yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// A one-line summary for the log.
    pub fn summary(&self) -> String {
        format!(
            "shed {} (503), past their deadline {} (503), retained ignored {}, unanswerable {}, \
             refused response topics {}, undelivered answers {}",
            self.shed.load(Ordering::Relaxed),
            self.timed_out.load(Ordering::Relaxed),
            self.retained_ignored.load(Ordering::Relaxed),
            self.unanswerable.load(Ordering::Relaxed),
            self.refused_response_topic.load(Ordering::Relaxed),
            self.undelivered.load(Ordering::Relaxed)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_releases() {
        let a = Admission::new(2);
        let p1 = a.try_admit();
        let p2 = a.try_admit();
        assert!(p1.is_some() && p2.is_some());
        assert!(a.try_admit().is_none());
        let extra = a.admit_answer();
        assert_eq!(a.in_flight(), 3);
        drop((p1, extra));
        assert_eq!(a.in_flight(), 1);
        assert!(a.try_admit().is_some());
    }
}

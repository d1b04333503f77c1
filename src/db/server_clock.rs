//! The database server's clock as seen from this process, so that a statement sent outside a
//! transaction can refuse to start too late.
//!
//! An update batch that is one bulk statement runs without `BEGIN` and `COMMIT` on PostgreSQL
//! (two round trips fewer, docs/PERFORMANCE.md item 37). Inside a transaction a statement held
//! up by a stall finds its session ended by `idle_in_transaction_session_timeout` and changes
//! nothing; alone, it would run whenever it arrived, after its request's 503. So it carries the
//! latest server time at which it may start, and writes nothing if it starts later. That time
//! comes from the last bulk statement's own start (`statement_timestamp()`, read on the same
//! server) and the local time its answer came back, which makes it early, never late: the
//! server read its clock before the answer left. A reading older than [`FRESH`] is not used,
//! and a statement refused as late is run again inside a transaction.

use std::time::{Duration, Instant};

/// How long a reading is trusted: clock drift between readings stays far below a millisecond.
const FRESH: Duration = Duration::from_secs(60);

/// The latest reading of the server's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerClock {
    /// When an answer came back, and the server's time (µs since the epoch) at some moment
    /// before.
    seen: Option<(Instant, i64)>,
}

impl ServerClock {
    /// Records that the server's clock read `server_us` before `answered`.
    pub fn observe(&mut self, answered: Instant, server_us: i64) {
        self.seen = Some((answered, server_us));
    }

    /// The server time (µs since the epoch) of the local moment `by`, or earlier; `None`
    /// without a fresh reading at `now`.
    pub fn server_time_of(&self, by: Instant, now: Instant) -> Option<i64> {
        let (answered, server_us) = self.seen?;
        if now.saturating_duration_since(answered) > FRESH {
            return None;
        }
        let ahead = i64::try_from(by.saturating_duration_since(answered).as_micros()).ok()?;
        server_us.checked_add(ahead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_is_mapped_from_the_last_reading_never_later() {
        let mut clock = ServerClock::default();
        let now = Instant::now();
        assert_eq!(clock.server_time_of(now, now), None, "no reading yet");
        clock.observe(now, 1_000_000);
        let later = now + Duration::from_millis(500);
        assert_eq!(clock.server_time_of(later, now), Some(1_500_000));
        // A moment before the reading maps to the reading itself: early, not late.
        let before = now.checked_sub(Duration::from_millis(5)).unwrap_or(now);
        assert_eq!(clock.server_time_of(before, now), Some(1_000_000));
        let stale = now + FRESH + Duration::from_secs(1);
        assert_eq!(clock.server_time_of(stale, stale), None, "too old");
    }
}

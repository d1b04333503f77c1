//! Rate-limited warnings: a flood of ignored messages logs one line per interval, with a count
//! of the ones held back, instead of one line each.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Repeated warnings are logged at most this often.
const WARN_INTERVAL: Duration = Duration::from_secs(10);

/// Logs a repeated warning at most once per [`WARN_INTERVAL`], with how many were held back.
#[derive(Default)]
pub struct RateLimited {
    last: Option<Instant>,
    suppressed: AtomicU64,
}

impl RateLimited {
    /// Logs `text()` unless a warning went out within [`WARN_INTERVAL`].
    pub fn warn(&mut self, text: impl FnOnce() -> String) {
        let due = self.last.is_none_or(|t| t.elapsed() >= WARN_INTERVAL);
        if due {
            let held = self.suppressed.swap(0, Ordering::Relaxed);
            log::warn!(target: "dh::ingest", "{} ({held} similar messages since the last report)", text());
            self.last = Some(Instant::now());
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

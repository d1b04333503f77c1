//! A run second by second: how many requests were meant to go out in each second, how many of
//! those were answered, and their latency. A p99 over a whole run hides *when* it went slow;
//! lined up with per-second CPU of the broker, the service and the database, the slow seconds
//! say which of them was busy (docs/PERFORMANCE.md, P7).

use std::io::Write;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// One second's requests, by the second they were meant to be sent in.
#[derive(Debug, Clone)]
struct Second {
    sent: u64,
    errors: u64,
    latency_us: Histogram<u64>,
}

/// Per-second statistics from `origin` on.
#[derive(Debug)]
pub struct Timeline {
    origin: Instant,
    seconds: Vec<Second>,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SecondStats {
    /// Seconds since the start of the run.
    pub second: usize,
    /// Requests meant to be sent in this second.
    pub sent: u64,
    /// Of those, answered (success or error).
    pub answered: u64,
    /// Of those, answered with an error.
    pub errors: u64,
    /// Latency percentiles of the answered ones, in ms.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Timeline {
    /// An empty timeline starting at `origin`.
    pub fn new(origin: Instant) -> Timeline {
        Timeline {
            origin,
            seconds: Vec::new(),
        }
    }

    fn second(&mut self, at: Instant) -> Option<&mut Second> {
        let index = usize::try_from(at.saturating_duration_since(self.origin).as_secs()).ok()?;
        while self.seconds.len() <= index {
            // Two significant digits: a per-second p99 needs no more, and 600 of them stay small.
            let latency_us = Histogram::new_with_bounds(1, 100_000_000, 2).ok()?;
            self.seconds.push(Second {
                sent: 0,
                errors: 0,
                latency_us,
            });
        }
        self.seconds.get_mut(index)
    }

    /// A request meant to be sent at `intended`.
    pub fn sent(&mut self, intended: Instant) {
        if let Some(s) = self.second(intended) {
            s.sent += 1;
        }
    }

    /// Its answer, `latency` after `intended`.
    pub fn answered(&mut self, intended: Instant, latency: Duration, error: bool) {
        if let Some(s) = self.second(intended) {
            s.errors += u64::from(error);
            let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
            let _ = s.latency_us.record(us.max(1));
        }
    }

    /// The seconds so far.
    pub fn stats(&self) -> Vec<SecondStats> {
        let ms = |us: u64| us as f64 / 1000.0;
        self.seconds
            .iter()
            .enumerate()
            .map(|(second, s)| SecondStats {
                second,
                sent: s.sent,
                answered: s.latency_us.len(),
                errors: s.errors,
                p50_ms: ms(s.latency_us.value_at_quantile(0.5)),
                p99_ms: ms(s.latency_us.value_at_quantile(0.99)),
                max_ms: ms(s.latency_us.max()),
            })
            .collect()
    }
}

/// Writes `stats` as CSV with a header line.
pub fn write_csv(out: &mut impl Write, stats: &[SecondStats]) -> std::io::Result<()> {
    writeln!(out, "second,sent,answered,errors,p50_ms,p99_ms,max_ms")?;
    for s in stats {
        writeln!(
            out,
            "{},{},{},{},{:.3},{:.3},{:.3}",
            s.second, s.sent, s.answered, s.errors, s.p50_ms, s.p99_ms, s.max_ms
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_land_in_the_second_they_were_meant_for() -> std::io::Result<()> {
        let t0 = Instant::now();
        let mut t = Timeline::new(t0);
        let late = t0 + Duration::from_millis(2_300);
        t.sent(t0);
        t.sent(late);
        t.sent(late);
        t.answered(t0, Duration::from_millis(3), false);
        t.answered(late, Duration::from_millis(40), true);
        let stats = t.stats();
        let row = |i: usize| stats.get(i).map(|s| (s.sent, s.answered, s.errors));
        assert_eq!(stats.len(), 3);
        assert_eq!(row(0), Some((1, 1, 0)));
        assert_eq!(row(1), Some((0, 0, 0)), "a quiet second is still a line");
        assert_eq!(row(2), Some((2, 1, 1)), "one of the two never answered");
        assert!(stats
            .get(2)
            .is_some_and(|s| (39.0..41.0).contains(&s.max_ms)));
        let mut csv = Vec::new();
        write_csv(&mut csv, &stats)?;
        let text = String::from_utf8_lossy(&csv);
        assert_eq!(text.lines().count(), 4);
        assert!(text
            .lines()
            .nth(3)
            .is_some_and(|l| l.starts_with("2,2,1,1,")));
        Ok(())
    }
}

//! The load tool's accounting, free of I/O: every request is numbered when sent; each answer
//! settles one number. At the end each request is answered (success or error, by code),
//! missing, and extra answers are counted as duplicated. Latencies go into an HDR histogram.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::timeline::Timeline;

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pending,
    Success,
    Error(u16),
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// When it should have been sent (open loop) or was sent (closed loop).
    intended: Instant,
    /// Sent after the warm-up: counted in latency and throughput.
    measured: bool,
    outcome: Outcome,
    /// When the first answer came.
    answered: Option<Instant>,
    /// Answers received (more than one is a duplicate).
    answers: u32,
}

/// All requests of one run.
#[derive(Debug)]
pub struct Ledger {
    slots: Vec<Slot>,
    duplicated: u64,
    unknown: u64,
    latency_us: Histogram<u64>,
    timeline: Option<Timeline>,
}

/// The totals of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Totals {
    /// Requests sent.
    pub sent: u64,
    /// Answered with success.
    pub success: u64,
    /// Answered with an error, by code.
    pub errors: BTreeMap<u16, u64>,
    /// Never answered.
    pub missing: u64,
    /// Answers beyond the first for a request.
    pub duplicated: u64,
    /// Answers for numbers never sent.
    pub unknown: u64,
    /// Measured (post-warm-up) requests answered.
    pub measured_answered: u64,
}

impl Totals {
    /// Requests answered at all (success or error), warm-up included.
    pub fn answered(&self) -> u64 {
        self.success + self.errors.values().sum::<u64>()
    }
}

impl Ledger {
    /// An empty ledger (latencies from 1 µs to 100 s, 3 significant digits).
    pub fn new() -> Result<Ledger, hdrhistogram::CreationError> {
        Ok(Ledger {
            slots: Vec::new(),
            duplicated: 0,
            unknown: 0,
            latency_us: Histogram::new_with_bounds(1, 100_000_000, 3)?,
            timeline: None,
        })
    }

    /// Also keeps per-second statistics, from `origin` on.
    pub fn track_seconds(&mut self, origin: Instant) {
        self.timeline = Some(Timeline::new(origin));
    }

    /// The per-second statistics, if tracked.
    pub fn timeline(&self) -> Option<&Timeline> {
        self.timeline.as_ref()
    }

    /// Numbers a new request and returns its number.
    pub fn send(&mut self, intended: Instant, measured: bool) -> u64 {
        if let Some(t) = &mut self.timeline {
            t.sent(intended);
        }
        self.slots.push(Slot {
            intended,
            measured,
            outcome: Outcome::Pending,
            answered: None,
            answers: 0,
        });
        (self.slots.len() - 1) as u64
    }

    /// Settles request `seq` with an answer (`None` code = success) received `at`. Returns
    /// true for the first answer, false for a duplicate or an unknown number.
    pub fn answer(&mut self, seq: u64, code: Option<u16>, at: Instant) -> bool {
        let Some(slot) = usize::try_from(seq)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
        else {
            self.unknown += 1;
            return false;
        };
        slot.answers = slot.answers.saturating_add(1);
        if slot.outcome != Outcome::Pending {
            self.duplicated += 1;
            return false;
        }
        slot.outcome = code.map_or(Outcome::Success, Outcome::Error);
        slot.answered = Some(at);
        let latency = at.saturating_duration_since(slot.intended);
        if let Some(t) = &mut self.timeline {
            t.answered(slot.intended, latency, code.is_some());
        }
        if slot.measured {
            let us = latency.as_micros();
            let _ = self
                .latency_us
                .record(u64::try_from(us).unwrap_or(u64::MAX).max(1));
        }
        true
    }

    /// Counts up the run.
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            sent: self.slots.len() as u64,
            duplicated: self.duplicated,
            unknown: self.unknown,
            ..Totals::default()
        };
        for slot in &self.slots {
            match slot.outcome {
                Outcome::Pending => t.missing += 1,
                Outcome::Success => t.success += 1,
                Outcome::Error(code) => *t.errors.entry(code).or_default() += 1,
            }
            if slot.measured && slot.outcome != Outcome::Pending {
                t.measured_answered += 1;
            }
        }
        t
    }

    /// Requests still waiting for an answer.
    /// Writes one CSV line per request: `seq,sent_ms,answered_ms,answers,code`, times in
    /// milliseconds since the Unix epoch (`origin` is the instant of `origin_epoch_ms`), an
    /// empty `answered_ms` for a request never answered, `code` 0 for success.
    pub fn write_outcomes(
        &self,
        out: &mut impl std::io::Write,
        origin: Instant,
        origin_epoch_ms: u128,
    ) -> std::io::Result<()> {
        let epoch_ms = |t: Instant| {
            let since = t.saturating_duration_since(origin).as_millis();
            let before = origin.saturating_duration_since(t).as_millis();
            (origin_epoch_ms + since).saturating_sub(before)
        };
        writeln!(out, "seq,sent_ms,answered_ms,answers,code")?;
        for (seq, slot) in self.slots.iter().enumerate() {
            let answered = slot
                .answered
                .map(|t| epoch_ms(t).to_string())
                .unwrap_or_default();
            let code = match slot.outcome {
                Outcome::Error(code) => code,
                _ => 0,
            };
            let sent = epoch_ms(slot.intended);
            writeln!(out, "{seq},{sent},{answered},{},{code}", slot.answers)?;
        }
        Ok(())
    }

    pub fn pending(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.outcome == Outcome::Pending)
            .count()
    }

    /// The latency at `quantile` (0..=1) of measured answers.
    pub fn latency(&self, quantile: f64) -> Duration {
        Duration::from_micros(self.latency_us.value_at_quantile(quantile))
    }

    /// The slowest measured answer.
    pub fn max_latency(&self) -> Duration {
        Duration::from_micros(self.latency_us.max())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_success_errors_missing_duplicates_and_unknown(
    ) -> Result<(), hdrhistogram::CreationError> {
        let mut l = Ledger::new()?;
        let t0 = Instant::now();
        let a = l.send(t0, true);
        let b = l.send(t0, true);
        let _missing = l.send(t0, false);
        assert!(l.answer(a, None, t0 + Duration::from_millis(2)));
        assert!(!l.answer(a, None, t0), "second answer is a duplicate");
        assert!(l.answer(b, Some(503), t0 + Duration::from_millis(4)));
        assert!(!l.answer(99, None, t0));
        let t = l.totals();
        assert_eq!(
            (t.sent, t.success, t.missing, t.duplicated, t.unknown),
            (3, 1, 1, 1, 1)
        );
        assert_eq!(t.errors.get(&503), Some(&1));
        assert_eq!(t.measured_answered, 2);
        assert!(l.latency(1.0) >= Duration::from_millis(4));
        assert_eq!(l.pending(), 1);
        Ok(())
    }
}

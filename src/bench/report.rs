//! What a scenario measured: accounting, throughput, latency percentiles, broker drops; as a
//! readable table and JSON.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::cpu::CpuPerRequest;
use super::ledger::{Ledger, Totals};
use super::scenario::LoadConfig;

/// Quantiles drawn in the latency plot.
pub const PLOT_QUANTILES: [f64; 9] = [0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1.0];

/// One scenario's results.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The scenario.
    pub config: LoadConfig,
    /// Accounting.
    pub totals: Totals,
    /// Measured answers per second.
    pub throughput: f64,
    /// Latency percentiles in ms: p50, p90, p99, p99.9, max.
    pub p50_ms: f64,
    /// p90
    pub p90_ms: f64,
    /// p99
    pub p99_ms: f64,
    /// p99.9
    pub p999_ms: f64,
    /// max
    pub max_ms: f64,
    /// (quantile, ms) for plotting.
    pub curve: Vec<(f64, f64)>,
    /// `$SYS/broker/publish/messages/dropped` before the run.
    pub dropped_before: Option<u64>,
    /// … and after.
    pub dropped_after: Option<u64>,
    /// CPU per answered request of each party, when `compare` measured it.
    pub cpu: Option<CpuPerRequest>,
    /// Answers to the requests of each second of the run, warm-up included.
    pub per_second: Vec<u64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Report {
    /// Summarises a ledger measured over `measured`.
    pub fn new(
        config: &LoadConfig,
        ledger: &Ledger,
        measured: Duration,
        dropped_before: Option<u64>,
        dropped_after: Option<u64>,
    ) -> Report {
        let totals = ledger.totals();
        Report {
            config: config.clone(),
            throughput: totals.measured_answered as f64 / measured.as_secs_f64().max(1e-9),
            totals,
            p50_ms: ms(ledger.latency(0.5)),
            p90_ms: ms(ledger.latency(0.9)),
            p99_ms: ms(ledger.latency(0.99)),
            p999_ms: ms(ledger.latency(0.999)),
            max_ms: ms(ledger.max_latency()),
            curve: PLOT_QUANTILES
                .iter()
                .map(|q| (*q, ms(ledger.latency(*q))))
                .collect(),
            dropped_before,
            dropped_after,
            cpu: None,
            per_second: ledger
                .timeline()
                .map(|t| t.stats().iter().map(|s| s.answered).collect())
                .unwrap_or_default(),
        }
    }

    /// Broker drops during the run, if the counter could be read.
    pub fn broker_drops(&self) -> Option<u64> {
        Some(self.dropped_after?.saturating_sub(self.dropped_before?))
    }

    /// A readable summary.
    pub fn table(&self) -> String {
        let t = &self.totals;
        let errors: Vec<String> = t.errors.iter().map(|(c, n)| format!("{c}: {n}")).collect();
        let drops = self
            .broker_drops()
            .map_or("unknown (no $SYS access)".to_string(), |d| d.to_string());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "requests   sent {}  success {}  errors {{{}}}  missing {}  duplicated {}  unknown {}",
            t.sent,
            t.success,
            errors.join(", "),
            t.missing,
            t.duplicated,
            t.unknown
        );
        let _ = writeln!(
            out,
            "throughput {:.0} answers/s (warm-up excluded)",
            self.throughput
        );
        let _ = writeln!(
            out,
            "latency ms p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            self.p50_ms, self.p90_ms, self.p99_ms, self.p999_ms, self.max_ms
        );
        let _ = writeln!(out, "broker     dropped messages during the run: {drops}");
        out
    }
}

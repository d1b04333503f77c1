//! What a scenario measured: accounting, throughput, latency percentiles, broker drops; as a
//! readable table, JSON, and an SVG latency-percentile plot.

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

/// An SVG plot of latency against percentile (log-scaled "nines") for named curves.
pub fn latency_svg(title: &str, series: &[(&str, &[(f64, f64)])]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 400.0;
    const L: f64 = 60.0;
    const B: f64 = 40.0;
    let nines = |q: f64| -(1.0 - q.min(0.99999)).log10(); // 0.5 → 0.3, 0.999 → 3
    let max_x = nines(0.99999);
    let max_y = series
        .iter()
        .flat_map(|(_, c)| c.iter().map(|(_, y)| *y))
        .fold(0.1_f64, f64::max)
        * 1.1;
    let px = |q: f64| L + nines(q) / max_x * (W - L - 20.0);
    let py = |y: f64| H - B - y / max_y * (H - B - 30.0);
    let colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"];
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="18" text-anchor="middle" font-size="14">{title}</text>
<line x1="{L}" y1="{}" x2="{}" y2="{}" stroke="black"/>
<line x1="{L}" y1="30" x2="{L}" y2="{}" stroke="black"/>
<text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">latency (ms)</text>
"#,
        W / 2.0,
        H - B,
        W - 20.0,
        H - B,
        H - B,
        H / 2.0,
        H / 2.0
    );
    for (label, q) in [
        ("p50", 0.5),
        ("p90", 0.9),
        ("p99", 0.99),
        ("p99.9", 0.999),
        ("p99.99", 0.9999),
    ] {
        let x = px(q);
        let _ = writeln!(
            svg,
            r#"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="black"/><text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            H - B,
            H - B + 5.0,
            H - B + 18.0
        );
    }
    for i in 0..=4 {
        let y = max_y * f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{L}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#ddd"/><text x="{2}" y="{3:.1}" text-anchor="end">{y:.2}</text>"##,
            py(y),
            W - 20.0,
            L - 5.0,
            py(y) + 4.0
        );
    }
    for (i, (name, curve)) in series.iter().enumerate() {
        let colour = colours.get(i % colours.len()).copied().unwrap_or("black");
        let points: Vec<String> = curve
            .iter()
            .filter(|(q, _)| *q < 1.0)
            .map(|(q, y)| format!("{:.1},{:.1}", px(*q), py(*y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" fill="{colour}">{name}</text>"#,
            L + 10.0,
            45.0 + 16.0 * i as f64
        );
    }
    svg.push_str("</svg>\n");
    svg
}

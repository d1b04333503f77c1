//! `compare`'s plots, drawn with plotters as SVG: latency percentiles of echo and the service
//! side by side, and throughput second by second for every run of a scenario.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::stats::median;
use super::{Run, Target};
use crate::bench::report::PLOT_QUANTILES;

/// A latency curve: (quantile, ms).
type Curve = Vec<(f64, f64)>;

/// The responders drawn, with their colours.
const SERIES: [(Target, RGBColor); 2] = [(Target::Echo, BLUE), (Target::Service, RED)];

/// Writes latency-{c2,c3}.svg and throughput-{c2,c3}.svg into `out`.
pub fn write_all(out: &Path, label: &str, results: &[Run]) -> anyhow::Result<()> {
    for (key, what) in [
        ("C2", "user/getCurrent, 16 clients × 4 in flight"),
        ("C3", "user/updateCurrent, 16 clients × 4 in flight"),
    ] {
        let name = key.to_lowercase();
        latency(
            &out.join(format!("latency-{name}.svg")),
            &format!("{what}, QoS 1 ({label}): latency, medians over the rounds"),
            results,
            key,
        )?;
        throughput(
            &out.join(format!("throughput-{name}.svg")),
            &format!("{what} ({label}): answers per second, every round"),
            results,
            key,
        )?;
    }
    Ok(())
}

/// A white 720 × 420 SVG at `path`.
fn canvas(path: &Path) -> anyhow::Result<DrawingArea<SVGBackend<'_>, Shift>> {
    let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    Ok(root)
}

/// The title and margins every plot has.
fn frame<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(65);
    builder
}

/// "Nines" of a quantile: 0.9 → 1, 0.99 → 2, 0.999 → 3; the maximum is left out.
fn nines(q: f64) -> f64 {
    -(1.0 - q.min(0.99999)).log10()
}

/// (quantile, median latency over the rounds) for `target`'s runs of `key`.
fn median_curve(results: &[Run], key: &str, target: Target) -> Curve {
    PLOT_QUANTILES
        .iter()
        .filter(|&&q| q < 1.0)
        .map(|&q| {
            let at_q = results
                .iter()
                .filter(|r| r.key == key && r.target == target)
                .filter_map(|r| r.report.curve.iter().find(|(cq, _)| *cq == q))
                .map(|&(_, ms)| ms)
                .collect();
            (q, median(at_q))
        })
        .filter(|(_, ms)| ms.is_finite())
        .collect()
}

fn latency(path: &Path, title: &str, results: &[Run], key: &str) -> anyhow::Result<()> {
    let curves: Vec<(Target, RGBColor, Curve)> = SERIES
        .iter()
        .map(|&(t, colour)| (t, colour, median_curve(results, key, t)))
        .collect();
    let top = curves
        .iter()
        .flat_map(|(_, _, c)| c.iter().map(|&(_, ms)| ms))
        .fold(0.1, f64::max)
        * 1.1;
    let root = canvas(path)?;
    let mut chart = frame(&root, title).build_cartesian_2d(nines(0.5)..nines(0.9999), 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms)")
        .x_labels(5)
        .x_label_formatter(&|x| {
            let q = 1.0 - 10f64.powf(-x);
            format!("p{}", (q * 10_000.0).round() / 100.0)
        })
        .draw()?;
    for (target, colour, curve) in curves {
        let points = curve.into_iter().map(|(q, ms)| (nines(q), ms));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
            .label(target.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}

fn throughput(path: &Path, title: &str, results: &[Run], key: &str) -> anyhow::Result<()> {
    let runs: Vec<&Run> = results
        .iter()
        .filter(|r| r.key == key && SERIES.iter().any(|(t, _)| *t == r.target))
        .collect();
    let seconds = runs
        .iter()
        .map(|r| r.report.per_second.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let top = runs
        .iter()
        .flat_map(|r| r.report.per_second.iter().copied())
        .fold(1, u64::max) as f64
        * 1.15;
    let root = canvas(path)?;
    let mut chart = frame(&root, title).build_cartesian_2d(0.0..seconds as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("second of the run (warm-up included)")
        .y_desc("answers/s")
        .x_label_formatter(&|s| format!("{s:.0}"))
        .y_label_formatter(&|n| format!("{n:.0}"))
        .draw()?;
    for &(target, colour) in &SERIES {
        let mut labelled = false;
        for run in runs.iter().filter(|r| r.target == target) {
            // The last second is partial: the run stops sending inside it.
            let full = run.report.per_second.len().saturating_sub(1);
            let points = run.report.per_second.iter().take(full).enumerate();
            let series = chart.draw_series(LineSeries::new(
                points.map(|(s, &n)| (s as f64 + 0.5, n as f64)),
                colour.mix(0.75).stroke_width(1),
            ))?;
            if !labelled {
                series
                    .label(format!("{} (one line per round)", target.name()))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
                labelled = true;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}

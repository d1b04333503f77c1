//! The goal table `compare` prints and writes to table.md, with the CPU line under it.

use std::fmt::Write as _;

use super::{med, median, round_ratios, CompareConfig, Run, Target};
use crate::bench::cpu::{self, CpuPerRequest};
use crate::bench::report::Report;

pub(super) fn table(cfg: &CompareConfig, results: &[Run]) -> String {
    let m = |k: &str, t, f: fn(&Report) -> f64| med(results, k, t, f);
    let tput = |r: &Report| r.throughput;
    let p50 = |r: &Report| r.p50_ms;
    let p99 = |r: &Report| r.p99_ms;
    let yes = |ok: bool| if ok { "yes" } else { "**no**" };
    let (e1, s1) = (m("P1", Target::Echo, tput), m("P1", Target::Service, tput));
    let (e2, s2) = (m("P2", Target::Echo, tput), m("P2", Target::Service, tput));
    let (s3a, s3b) = (m("P3", Target::Service, p50), m("P3", Target::Service, p99));
    let (e3a, e3b) = (m("P3", Target::Echo, p50), m("P3", Target::Echo, p99));
    let (s4g, s4u) = (
        m("P4get", Target::Service, p99),
        m("P4update", Target::Service, p99),
    );
    let (e4g, e4u) = (
        m("P4get", Target::Echo, p99),
        m("P4update", Target::Echo, p99),
    );
    let (half_get, half_update) = (
        m("P4get-ceiling", Target::Service, tput) / 2.0,
        m("P4update-ceiling", Target::Service, tput) / 2.0,
    );
    let service_p99s = |key: &str| -> Vec<f64> {
        results
            .iter()
            .filter(|r| r.key == key && r.target == Target::Service)
            .map(|r| r.report.p99_ms)
            .collect()
    };
    let (r1, r2) = (round_ratios(results, "P1"), round_ratios(results, "P2"));
    let (q1, q2) = (median(r1.clone()), median(r2.clone()));
    let list = |v: &[f64]| {
        v.iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let missing: u64 = results.iter().map(|r| r.report.totals.missing).sum();
    let duplicated: u64 = results.iter().map(|r| r.report.totals.duplicated).sum();
    let drops: Option<u64> = results.iter().map(|r| r.report.broker_drops()).sum();
    let errors: u64 = results
        .iter()
        .flat_map(|r| r.report.totals.errors.values())
        .sum();
    let mut t = String::new();
    let _ = writeln!(t, "Database: {}. {} alternating rounds, {} s measured after {} s warm-up, QoS {}. \
        Throughputs and latencies are medians over the rounds; a ratio is the median of the rounds' \
        ratios (listed), each round running echo and the service back to back.\n",
        cfg.label, cfg.rounds, cfg.base.duration.as_secs(), cfg.base.warmup.as_secs(), cfg.base.qos);
    let _ = writeln!(t, "| # | measure | echo | service | ratio / value | goal | met |\n|---|---|---|---|---|---|---|");
    let _ = writeln!(t, "| P1 | getCurrent, 16 clients × 4 in flight | {e1:.0}/s | {s1:.0}/s | {q1:.2} ({}) | ≥ 0.8 × echo | {} |", list(&r1), yes(q1 >= 0.8));
    let _ = writeln!(
        t,
        "| P2 | updateCurrent (data), 16 × 4 | {e2:.0}/s | {s2:.0}/s | {q2:.2} ({}) | ≥ 0.5 × echo | {} |",
        list(&r2),
        yes(q2 >= 0.5)
    );
    let _ = writeln!(t, "| P3 | getCurrent, 1 × 1: p50 / p99 | {e3a:.2} / {e3b:.2} ms | {s3a:.2} / {s3b:.2} ms | | p50 ≤ 1, p99 ≤ 2 ms | {} |", yes(s3a <= 1.0 && s3b <= 2.0));
    let _ = writeln!(t, "| P4 | open loop at half the round's ceiling (median {half_get:.0}/s), getCurrent: p99 | {e4g:.2} ms | {s4g:.2} ms | ({}) | ≤ 10 ms | {} |", list(&service_p99s("P4get")), yes(s4g <= 10.0));
    let _ = writeln!(t, "| P4 | the same (median {half_update:.0}/s), updateCurrent: p99 | {e4u:.2} ms | {s4u:.2} ms | ({}) | ≤ 15 ms | {} |", list(&service_p99s("P4update")), yes(s4u <= 15.0));
    let _ = writeln!(t, "\n{}", cpu_line(results));
    let drops = drops.map_or("unknown".to_string(), |d| d.to_string());
    let _ = writeln!(
        t,
        "\nAll runs: {missing} missing, {duplicated} duplicated answers, {drops} broker drops, \
         {errors} error answers."
    );
    t
}

/// CPU per P1 getCurrent of each party, for echo and for the service.
fn cpu_line(results: &[Run]) -> String {
    let of = |target: Target| -> Vec<CpuPerRequest> {
        results
            .iter()
            .filter(|r| r.key == "P1" && r.target == target)
            .filter_map(|r| r.report.cpu)
            .collect()
    };
    cpu::summary(&of(Target::Echo), &of(Target::Service))
}

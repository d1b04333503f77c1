//! The goal table `compare` prints and writes to table.md (C1–C5), with the CPU line under it.

use std::fmt::Write as _;

use super::stats::{med, median, round_ratios, values};
use super::target::OTHERS;
use super::{CompareConfig, Run, Target};
use crate::bench::cpu::{self, CpuPerRequest};
use crate::bench::echo::Engine;
use crate::bench::report::Report;

fn tput(r: &Report) -> f64 {
    r.throughput
}

fn responder_cpu(r: &Report) -> f64 {
    r.cpu.map_or(f64::NAN, |c| c.responder_us)
}

fn yes(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "**no**"
    }
}

fn list(v: &[f64]) -> String {
    v.iter()
        .map(|r| format!("{r:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn table(cfg: &CompareConfig, results: &[Run]) -> String {
    let m = |k: &str, t, f: fn(&Report) -> f64| med(results, k, t, f);
    let (echo, service) = (Target::Echo, Target::Service);
    let p50 = |r: &Report| r.p50_ms;
    let p99 = |r: &Report| r.p99_ms;
    let others: Vec<Target> = OTHERS.map(Target::Other).to_vec();
    let r1 = round_ratios(results, "C2", echo, &others, tput);
    let r2 = round_ratios(results, "C2", service, &[echo], tput);
    let r3 = round_ratios(results, "C3", service, &[echo], tput);
    let r4 = round_ratios(results, "C2", service, &[echo], responder_cpu);
    let (q1, q2, q3, q4) = (
        median(r1.clone()),
        median(r2.clone()),
        median(r3.clone()),
        median(r4.clone()),
    );
    let other_tputs = others
        .iter()
        .map(|&t| format!("{} {:.0}/s", t.name(), m("C2", t, tput)))
        .collect::<Vec<_>>()
        .join(", ");
    let (s3a, s3b) = (m("P3", service, p50), m("P3", service, p99));
    let (e3a, e3b) = (m("P3", echo, p50), m("P3", echo, p99));
    let (s4g, s4u) = (m("P4get", service, p99), m("P4update", service, p99));
    let (e4g, e4u) = (m("P4get", echo, p99), m("P4update", echo, p99));
    let half_get = m("P4get-ceiling", service, tput) / 2.0;
    let half_update = m("P4update-ceiling", service, tput) / 2.0;
    let service_p99s = |key: &str| list(&values(results, key, service, p99));
    let users = match cfg.update_users {
        0 | 1 => "one user".to_string(),
        n => format!("{n} distinct users"),
    };
    let mut t = String::new();
    let _ = writeln!(t, "Database: {}. {} rounds, {} s measured after {} s warm-up, QoS {}. \
        Throughputs and latencies are medians over the rounds; a ratio is the median of the rounds' \
        ratios (listed), each round running its responders back to back. echo is `dh-bench echo` \
        ({} engine).\n",
        cfg.label, cfg.rounds, cfg.base.duration.as_secs(), cfg.base.warmup.as_secs(), cfg.base.qos,
        Engine::DEFAULT.name());
    let _ = writeln!(t, "| # | measure | echo | other / service | ratio / value | goal | met |\n|---|---|---|---|---|---|---|");
    let _ = writeln!(t, "| C1 | echo vs the best other responder, getCurrent 16 × 4 | {:.0}/s | {other_tputs} | {q1:.2} ({}) | ≥ 0.95 × | {} |",
        m("C2", echo, tput), list(&r1), yes(q1 >= 0.95));
    let _ = writeln!(t, "| C2 | getCurrent, 16 clients × 4 in flight | {:.0}/s | {:.0}/s | {q2:.2} ({}) | ≥ 0.9 × echo | {} |",
        m("C2", echo, tput), m("C2", service, tput), list(&r2), yes(q2 >= 0.9));
    let _ = writeln!(t, "| C3 | updateCurrent (data), 16 × 4, {users}, durable commits | {:.0}/s | {:.0}/s | {q3:.2} ({}) | ≥ 0.7 × echo | {} |",
        m("C3", echo, tput), m("C3", service, tput), list(&r3), yes(q3 >= 0.7));
    let _ = writeln!(t, "| C4 | CPU per getCurrent of the responder (the C2 runs) | {:.1} µs | {:.1} µs | {q4:.2} ({}) | ≤ 1.3 × echo | {} |",
        m("C2", echo, responder_cpu), m("C2", service, responder_cpu), list(&r4), yes(q4 <= 1.3));
    let _ = writeln!(t, "| C5 | P3: getCurrent, 1 × 1: p50 / p99 | {e3a:.2} / {e3b:.2} ms | {s3a:.2} / {s3b:.2} ms | | p50 ≤ 1, p99 ≤ 2 ms | {} |", yes(s3a <= 1.0 && s3b <= 2.0));
    let _ = writeln!(t, "| C5 | P4: open loop at half the round's ceiling (median {half_get:.0}/s), getCurrent: p99 | {e4g:.2} ms | {s4g:.2} ms | ({}) | ≤ 10 ms | {} |", service_p99s("P4get"), yes(s4g <= 10.0));
    let _ = writeln!(t, "| C5 | P4: the same (median {half_update:.0}/s), updateCurrent: p99 | {e4u:.2} ms | {s4u:.2} ms | ({}) | ≤ 15 ms | {} |", service_p99s("P4update"), yes(s4u <= 15.0));
    let _ = writeln!(t, "\n{}", cpu_line(results));
    let _ = writeln!(t, "\n{}", totals_line(results));
    t
}

/// CPU per C2 getCurrent of each party, for echo and for the service, and each responder's own.
fn cpu_line(results: &[Run]) -> String {
    let of = |target: Target| -> Vec<CpuPerRequest> {
        results
            .iter()
            .filter(|r| r.key == "C2" && r.target == target)
            .filter_map(|r| r.report.cpu)
            .collect()
    };
    let others = OTHERS
        .iter()
        .map(|&e| {
            let t = Target::Other(e);
            format!(
                "{} {:.1} µs",
                t.name(),
                med(results, "C2", t, responder_cpu)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{} The other responders' own CPU per request: {others}.",
        cpu::summary(&of(Target::Echo), &of(Target::Service))
    )
}

fn totals_line(results: &[Run]) -> String {
    let missing: u64 = results.iter().map(|r| r.report.totals.missing).sum();
    let duplicated: u64 = results.iter().map(|r| r.report.totals.duplicated).sum();
    let drops: Option<u64> = results.iter().map(|r| r.report.broker_drops()).sum();
    let errors: u64 = results
        .iter()
        .flat_map(|r| r.report.totals.errors.values())
        .sum();
    let drops = drops.map_or("unknown".to_string(), |d| d.to_string());
    format!(
        "All runs: {missing} missing, {duplicated} duplicated answers, {drops} broker drops, \
         {errors} error answers."
    )
}

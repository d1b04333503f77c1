//! Medians and per-round ratios of `compare`'s runs.

use super::{Run, Target};
use crate::bench::report::Report;

/// `targets` rotated by `round`: each target leads in turn, so none always runs first (on a
/// warm broker) or last.
pub fn rotated(targets: &[Target], round: usize) -> Vec<Target> {
    let mut order = targets.to_vec();
    if !order.is_empty() {
        let n = order.len();
        order.rotate_left(round % n);
    }
    order
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    match (v.len() % 2, v.get(mid.wrapping_sub(1)), v.get(mid)) {
        (1, _, Some(&m)) => m,
        (_, Some(&lower), Some(&upper)) => (lower + upper) / 2.0,
        _ => f64::NAN,
    }
}

/// The median of `f` over the runs of `key` on `target`.
pub fn med(results: &[Run], key: &str, target: Target, f: impl Fn(&Report) -> f64) -> f64 {
    median(values(results, key, target, f))
}

/// `f` of every run of `key` on `target`, in round order.
pub fn values(results: &[Run], key: &str, target: Target, f: impl Fn(&Report) -> f64) -> Vec<f64> {
    results
        .iter()
        .filter(|r| r.key == key && r.target == target)
        .map(|r| f(&r.report))
        .collect()
}

/// `f(a) / f(b)` for each round of `key` that ran both, in round order, where `b` is the best
/// of `over` in that round.
pub fn round_ratios(
    results: &[Run],
    key: &str,
    a: Target,
    over: &[Target],
    f: impl Fn(&Report) -> f64,
) -> Vec<f64> {
    let runs: Vec<(usize, Target, f64)> = results
        .iter()
        .filter(|r| r.key == key)
        .map(|r| (r.round, r.target, f(&r.report)))
        .collect();
    paired_ratios(&runs, a, over)
}

/// From (round, target, value): per round, `a`'s value over the largest of `over`'s; a round
/// without `a` or without any of `over` is left out.
pub fn paired_ratios(runs: &[(usize, Target, f64)], a: Target, over: &[Target]) -> Vec<f64> {
    let rounds = runs.iter().map(|&(r, _, _)| r + 1).max().unwrap_or(0);
    (0..rounds)
        .filter_map(|round| {
            let of = |t: Target| {
                runs.iter()
                    .find(|&&(r, target, _)| r == round && target == t)
                    .map(|&(_, _, v)| v)
            };
            let best = over.iter().filter_map(|&t| of(t)).reduce(f64::max)?;
            Some(of(a)? / best)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::echo::Engine;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn ratios_pair_runs_of_the_same_round() {
        // A fast first round and a slow second: each round's service is compared with its own
        // echo, whatever order they ran in; a round missing its echo is left out.
        let runs = [
            (0, Target::Echo, 10_000.0),
            (0, Target::Service, 9_000.0),
            (1, Target::Service, 4_000.0),
            (1, Target::Echo, 5_000.0),
            (2, Target::Service, 7_000.0),
        ];
        assert_eq!(
            paired_ratios(&runs, Target::Service, &[Target::Echo]),
            vec![0.9, 0.8]
        );
    }

    #[test]
    fn c1_compares_echo_with_the_best_other_responder_of_each_round() {
        let (rumqttc, paho) = (Target::Other(Engine::Rumqttc), Target::Other(Engine::Paho));
        let runs = [
            (0, Target::Echo, 19_000.0),
            (0, rumqttc, 20_000.0),
            (0, paho, 12_000.0),
            (1, Target::Echo, 18_000.0),
            (1, rumqttc, 15_000.0),
            (1, paho, 16_000.0),
        ];
        assert_eq!(
            paired_ratios(&runs, Target::Echo, &[rumqttc, paho]),
            vec![0.95, 1.125]
        );
    }

    #[test]
    fn every_target_leads_in_turn() {
        let t = [Target::Echo, Target::Service, Target::Other(Engine::Paho)];
        assert_eq!(rotated(&t, 0), t.to_vec());
        assert_eq!(
            rotated(&t, 1),
            vec![Target::Service, Target::Other(Engine::Paho), Target::Echo]
        );
        assert_eq!(rotated(&t, 3), t.to_vec());
    }
}

//! `compare`: in one run, alternates the echo responder and the service on the same broker,
//! configuration and load, and prints the goal table of the benchmark (P1–P4) with ratios.
//! Every scenario of every round runs echo and the service back to back, each started fresh
//! (waited for until it answers, stopped after), echo first in even rounds and the service
//! first in odd ones. A ratio is the median of the rounds' own ratios: on a shared machine
//! whose speed drifts by tens of percent within minutes, a pair run seconds apart compares
//! like with like, where medians taken over the whole run may pair a fast minute with a slow
//! one.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use super::connection::{connect, Account};
use super::cpu::Snapshot;
use super::load::{self, LoadConfig, Mix, Pace};
use super::report::{latency_svg, Report};

/// What `compare` needs.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    /// The load settings shared by every scenario (clients, pace and mix are set per scenario).
    pub base: LoadConfig,
    /// The service binary; it reads its settings (database, secret, broker account) from the
    /// environment this command runs in.
    pub service_bin: PathBuf,
    /// The account the echo responder connects as (the service's, from the environment).
    pub echo_account: Account,
    /// Alternating rounds per scenario.
    pub rounds: usize,
    /// Where to write results.json, table.md and the SVG plot.
    pub out: Option<PathBuf>,
    /// A label for the table (e.g. the database).
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Echo,
    Service,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Echo => "echo",
            Target::Service => "service",
        }
    }
}

struct Running(Child);

impl Running {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn start(cfg: &CompareConfig, target: Target, log: &std::fs::File) -> anyhow::Result<Running> {
    let mut cmd = match target {
        Target::Service => {
            let mut c = Command::new(&cfg.service_bin);
            c.arg("serve");
            c
        }
        Target::Echo => {
            let mut c = Command::new(std::env::current_exe()?);
            c.args([
                "echo",
                "--broker-url",
                &cfg.echo_account.broker_url,
                "--username",
                &cfg.echo_account.login,
            ])
            .env("DH_BROKER_PASSWORD", &cfg.echo_account.password);
            c
        }
    };
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.try_clone()?)
        .spawn()
        .with_context(|| format!("cannot start the {}", target.name()))?;
    Ok(Running(child))
}

/// Sends `body` from the first bench connection until an answer arrives (or 30 s pass).
async fn ask(cfg: &LoadConfig, action: &str, body: Value) -> anyhow::Result<Value> {
    let account = Account {
        broker_url: cfg.broker_url.clone(),
        login: format!("{}01", cfg.client_prefix),
        password: cfg.client_password.clone(),
    };
    let topic = format!("dh/response/{action}@{}", account.login);
    let (client, stream) = connect(&account, std::slice::from_ref(&topic), 1).await?;
    for _ in 0..60 {
        let msg =
            paho_mqtt::Message::new(format!("dh/request/{}", account.login), body.to_string(), 1);
        drop(client.publish(msg));
        if let Ok(Ok(Some(answer))) =
            tokio::time::timeout(Duration::from_millis(500), stream.recv()).await
        {
            let _ = client.disconnect(None).await;
            return Ok(serde_json::from_slice(answer.payload())?);
        }
    }
    bail!("no answer to '{action}' within 30 s")
}

/// One measured scenario of the table.
struct Scenario {
    key: &'static str,
    clients: usize,
    pace: Pace,
    kind: &'static str,
}

/// One measured run.
struct Run {
    key: &'static str,
    round: usize,
    target: Target,
    report: Report,
}

/// Echo first in even rounds, the service first in odd ones.
fn order(round: usize) -> [Target; 2] {
    if round.is_multiple_of(2) {
        [Target::Echo, Target::Service]
    } else {
        [Target::Service, Target::Echo]
    }
}

/// Runs each scenario on echo and on the service back to back, `rounds` times.
async fn run_rounds(
    cfg: &CompareConfig,
    scenarios: &[Scenario],
    log: &std::fs::File,
    results: &mut Vec<Run>,
) -> anyhow::Result<()> {
    for round in 0..cfg.rounds {
        for s in scenarios {
            for target in order(round) {
                let report = run_one(cfg, target, s, log).await?;
                results.push(Run {
                    key: s.key,
                    round,
                    target,
                    report,
                });
            }
        }
    }
    Ok(())
}

/// Starts `target` fresh, waits until it answers, runs one scenario on it, stops it.
async fn run_one(
    cfg: &CompareConfig,
    target: Target,
    s: &Scenario,
    log: &std::fs::File,
) -> anyhow::Result<Report> {
    let running = start(cfg, target, log)?;
    let answer = ask(
        &cfg.base,
        "user/getCurrent",
        json!({"action": "user/getCurrent", "token": cfg.base.token}),
    )
    .await?;
    // A table of error answers would be a table of nothing: a DH_BENCH_TOKEN signed with
    // another JWT_SECRET had the service answer 401 to every request, at full speed.
    if answer.get("status").and_then(Value::as_str) != Some("success") {
        bail!(
            "the {} answered getCurrent with {answer}, not success; a 401 means the token \
             does not fit this service (is DH_BENCH_TOKEN from another JWT_SECRET or \
             database?): give a --token it issued, or leave the token out and let compare log in",
            target.name()
        );
    }
    let load = LoadConfig {
        clients: s.clients,
        pace: s.pace,
        mix: s.kind.parse::<Mix>().map_err(anyhow::Error::msg)?,
        ..cfg.base.clone()
    };
    eprintln!("{} {} ({})", s.key, target.name(), cfg.label);
    let before = Snapshot::take(running.pid());
    let mut report = load::run(&load).await?;
    let after = Snapshot::take(running.pid());
    report.cpu = Some(before.per_request(&after, report.totals.answered()));
    eprint!("{}", report.table());
    Ok(report)
}

/// P4: open loop at half of the service's own ceiling, for getCurrent and for updateCurrent.
/// Each round first measures that ceiling (the P1 or P2 load on the service) and then runs
/// echo and the service at half of it: this machine's speed drifts by tens of percent within
/// minutes, and a rate taken from P1 minutes earlier can be more than the service's whole
/// ceiling by the time P4 runs, which measures an overload, not half load.
async fn run_p4(
    cfg: &CompareConfig,
    log: &std::fs::File,
    results: &mut Vec<Run>,
) -> anyhow::Result<()> {
    let kinds = [
        ("P4get-ceiling", "P4get", "get"),
        ("P4update-ceiling", "P4update", "update"),
    ];
    for round in 0..cfg.rounds {
        for (ceiling_key, key, kind) in kinds {
            let ceiling = Scenario {
                key: ceiling_key,
                clients: 16,
                pace: Pace::Closed { in_flight: 4 },
                kind,
            };
            let report = run_one(cfg, Target::Service, &ceiling, log).await?;
            let rate = (report.throughput / 2.0).max(1.0);
            results.push(Run {
                key: ceiling_key,
                round,
                target: Target::Service,
                report,
            });
            let open = Scenario {
                key,
                clients: 16,
                pace: Pace::Open { rate },
                kind,
            };
            for target in order(round) {
                let report = run_one(cfg, target, &open, log).await?;
                results.push(Run {
                    key,
                    round,
                    target,
                    report,
                });
            }
        }
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    match (v.len() % 2, v.get(mid.wrapping_sub(1)), v.get(mid)) {
        (1, _, Some(&m)) => m,
        (_, Some(&lower), Some(&upper)) => (lower + upper) / 2.0,
        _ => f64::NAN,
    }
}

fn med(results: &[Run], key: &str, target: Target, f: impl Fn(&Report) -> f64) -> f64 {
    median(
        results
            .iter()
            .filter(|r| r.key == key && r.target == target)
            .map(|r| f(&r.report))
            .collect(),
    )
}

/// Service throughput over echo's for each round of `key`, in round order.
fn round_ratios(results: &[Run], key: &str) -> Vec<f64> {
    paired_ratios(
        results
            .iter()
            .filter(|r| r.key == key)
            .map(|r| (r.round, r.target, r.report.throughput)),
    )
}

/// Service over echo per round, from (round, target, throughput); a round without both is
/// left out.
fn paired_ratios(runs: impl Iterator<Item = (usize, Target, f64)> + Clone) -> Vec<f64> {
    let of = |round, target| {
        runs.clone()
            .find(|&(r, t, _)| r == round && t == target)
            .map(|(_, _, throughput)| throughput)
    };
    let rounds = runs.clone().map(|(r, _, _)| r + 1).max().unwrap_or(0);
    (0..rounds)
        .filter_map(|round| Some(of(round, Target::Service)? / of(round, Target::Echo)?))
        .collect()
}

/// Runs the comparison and returns the markdown table.
pub async fn run(cfg: &CompareConfig) -> anyhow::Result<String> {
    let out = cfg.out.clone().unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&out)?;
    let log = std::fs::File::create(out.join("targets.log"))?;
    let mut cfg = cfg.clone();
    if cfg.base.token.is_empty() {
        let Some((login, password)) = cfg.base.login.clone() else {
            bail!("give --token or --login/--password");
        };
        let _service = start(&cfg, Target::Service, &log)?;
        let answer = ask(
            &cfg.base,
            "token",
            json!({"action": "token", "login": login, "password": password}),
        )
        .await?;
        cfg.base.token = answer
            .get("accessToken")
            .and_then(Value::as_str)
            .with_context(|| format!("login failed: {answer}"))?
            .to_string();
    }
    let closed = |in_flight| Pace::Closed { in_flight };
    let phase_a = [
        Scenario {
            key: "P1",
            clients: 16,
            pace: closed(4),
            kind: "get",
        },
        Scenario {
            key: "P2",
            clients: 16,
            pace: closed(4),
            kind: "update",
        },
        Scenario {
            key: "P3",
            clients: 1,
            pace: closed(1),
            kind: "get",
        },
    ];
    let mut results = Vec::new();
    run_rounds(&cfg, &phase_a, &log, &mut results).await?;
    run_p4(&cfg, &log, &mut results).await?;
    let table = table(&cfg, &results);
    let curve = |key: &str, target| {
        results
            .iter()
            .rev()
            .find(|r| r.key == key && r.target == target)
            .map(|r| r.report.curve.clone())
            .unwrap_or_default()
    };
    let (echo_curve, service_curve) = (curve("P1", Target::Echo), curve("P1", Target::Service));
    let svg = latency_svg(
        &format!(
            "user/getCurrent, 16 clients x 4 in flight, QoS 1 ({})",
            cfg.label
        ),
        &[("echo", &echo_curve), ("dh-mqtt-plugin", &service_curve)],
    );
    std::fs::write(out.join("latency-p1.svg"), svg)?;
    std::fs::write(out.join("table.md"), &table)?;
    let all: Vec<Value> = results
        .iter()
        .map(|r| json!({"scenario": r.key, "round": r.round, "target": r.target.name(), "report": r.report}))
        .collect();
    // Compact: the raw data of a published run is kept in the tree, pretty it ran to
    // thousands of lines.
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string(&all)? + "\n",
    )?;
    Ok(table)
}

mod table;

use table::table;

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(paired_ratios(runs.iter().copied()), vec![0.9, 0.8]);
    }
}

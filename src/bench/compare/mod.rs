//! `compare`: in one run, alternates echo and the service on the same broker, configuration
//! and load, and prints the goal table (C1–C5, docs/PERFORMANCE.md) with ratios. Every
//! scenario of every round runs its targets back to back, each started fresh (waited for
//! until it answers, stopped after), in an order that rotates from round to round. A ratio is
//! the median of the rounds' own ratios: on a shared machine whose speed drifts by tens of
//! percent within minutes, runs seconds apart compare like with like, where medians taken
//! over the whole run may pair a fast minute with a slow one.

use std::path::PathBuf;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use super::connection::Account;
use super::cpu::Snapshot;
use super::load::{self, LoadConfig, Mix, Pace};
use super::report::Report;

mod plots;
mod stats;
mod table;
mod target;
mod users;

use stats::rotated;
pub use target::Target;
use target::{ask, start, OTHERS};

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
    /// Where to write results.json, table.md and the plots.
    pub out: Option<PathBuf>,
    /// A label for the table (e.g. the database).
    pub label: String,
    /// Distinct users the updateCurrent scenarios write (C3); 0 for the login's one user.
    pub update_users: usize,
}

/// One measured scenario of the table.
struct Scenario {
    key: &'static str,
    clients: usize,
    pace: Pace,
    kind: &'static str,
    targets: Vec<Target>,
}

/// One measured run.
pub(crate) struct Run {
    key: &'static str,
    round: usize,
    target: Target,
    report: Report,
}

/// Runs each scenario on its targets back to back, `rounds` times.
async fn run_rounds(
    cfg: &CompareConfig,
    scenarios: &[Scenario],
    log: &std::fs::File,
    results: &mut Vec<Run>,
) -> anyhow::Result<()> {
    for round in 0..cfg.rounds {
        for s in scenarios {
            for target in rotated(&s.targets, round) {
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
    let mix = s.kind.parse::<Mix>().map_err(anyhow::Error::msg)?;
    let load = LoadConfig {
        clients: s.clients,
        pace: s.pace,
        tokens: match mix.writes() {
            true => cfg.base.tokens.clone(),
            false => Vec::new(),
        },
        mix,
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
/// Each round first measures that ceiling (the C2 or C3 load on the service) and then runs
/// echo and the service at half of it: this machine's speed drifts by tens of percent within
/// minutes, and a rate taken from C2 minutes earlier can be more than the service's whole
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
            let ceiling = scenario(ceiling_key, 16, Pace::Closed { in_flight: 4 }, kind, false);
            let report = run_one(cfg, Target::Service, &ceiling, log).await?;
            let rate = (report.throughput / 2.0).max(1.0);
            results.push(Run {
                key: ceiling_key,
                round,
                target: Target::Service,
                report,
            });
            let open = scenario(key, 16, Pace::Open { rate }, kind, true);
            for target in rotated(&open.targets, round) {
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

fn scenario(
    key: &'static str,
    clients: usize,
    pace: Pace,
    kind: &'static str,
    with_echo: bool,
) -> Scenario {
    let targets = match with_echo {
        true => vec![Target::Echo, Target::Service],
        false => vec![Target::Service],
    };
    Scenario {
        key,
        clients,
        pace,
        kind,
        targets,
    }
}

/// Logs in as `--login` through the service when no token was given.
async fn login(cfg: &mut CompareConfig, log: &std::fs::File) -> anyhow::Result<()> {
    if !cfg.base.token.is_empty() {
        return Ok(());
    }
    let Some((login, password)) = cfg.base.login.clone() else {
        bail!("give --token or --login/--password");
    };
    let _service = start(cfg, Target::Service, log)?;
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
    Ok(())
}

/// Runs the comparison and returns the markdown table.
pub async fn run(cfg: &CompareConfig) -> anyhow::Result<String> {
    let out = cfg.out.clone().unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&out)?;
    let log = std::fs::File::create(out.join("targets.log"))?;
    let mut cfg = cfg.clone();
    login(&mut cfg, &log).await?;
    cfg.base.tokens = users::tokens(&cfg, cfg.update_users)?;
    let closed = Pace::Closed { in_flight: 4 };
    let mut c1 = scenario("C2", 16, closed, "get", true);
    // C1: the other responders run beside echo and the service in the same rounds.
    c1.targets.extend(OTHERS.map(Target::Other));
    let phase_a = [
        c1,
        scenario("C3", 16, closed, "update", true),
        scenario("P3", 1, Pace::Closed { in_flight: 1 }, "get", true),
    ];
    let mut results = Vec::new();
    run_rounds(&cfg, &phase_a, &log, &mut results).await?;
    run_p4(&cfg, &log, &mut results).await?;
    let table = table::table(&cfg, &results);
    plots::write_all(&out, &cfg.label, &results)?;
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

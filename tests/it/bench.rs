//! The load tool's accounting against a real broker: a scripted responder answers one request
//! twice and another never; `dh-bench` must count them as duplicated and missing.

use std::process::Command;
use std::time::Duration;

use dh_mqtt_plugin::auth::jwt::{now_ms, JwtKeys, TokenType};
use dh_mqtt_plugin::bench::load::{self, LoadConfig, Pace};
use dh_mqtt_plugin::model::Role;
use serde_json::{json, Value};

use crate::support::broker::{CLIENT_PASSWORD, SERVICE_PASSWORD};
use crate::support::db::Tokens;
use crate::support::service::{binary, service_env};
use crate::support::{Backend, Stack, TestBroker, TestClient, TestDb};

#[test]
fn counts_duplicated_and_missing_answers() -> crate::support::TestResult {
    let broker = TestBroker::start();
    let responder = TestClient::connect_raw(&broker, "dhplugin", "dhplugin", SERVICE_PASSWORD);
    responder.subscribe(&["dh/request/+".to_string()]);
    let timeline = tempfile::tempdir()?;
    let config = LoadConfig {
        broker_url: broker.url(),
        client_prefix: "bench".into(),
        client_password: CLIENT_PASSWORD.into(),
        first_client: 1,
        clients: 1,
        pace: Pace::Burst { count: 4 },
        duration: Duration::ZERO,
        warmup: Duration::ZERO,
        qos: 1,
        mix: "get=1".parse()?,
        token: "t".into(),
        tokens: Vec::new(),
        login: None,
        timeout: Duration::from_secs(2),
        monitor: None,
        progress: false,
        timeline: Some(timeline.path().join("seconds.csv")),
        outcomes: Some(timeline.path().join("outcomes.csv")),
        resilient: false,
    };
    let script = std::thread::spawn(move || {
        for _ in 0..4 {
            let Some(request) = responder.next(Duration::from_secs(10)) else {
                return;
            };
            let seq = request.json["requestId"].as_u64().unwrap_or(99);
            let answer =
                json!({"action": "user/getCurrent", "requestId": seq, "status": "success"});
            let times = match seq {
                0 => 2, // answered twice
                1 => 0, // never answered
                3 => {
                    let error = json!({"action": "user/getCurrent", "requestId": 3, "status": "error", "code": 503});
                    responder.publish(
                        "dh/response/user/getCurrent@bench01",
                        error.to_string().as_bytes(),
                        1,
                    );
                    0
                }
                _ => 1,
            };
            for _ in 0..times {
                responder.publish(
                    "dh/response/user/getCurrent@bench01",
                    answer.to_string().as_bytes(),
                    1,
                );
            }
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(load::run(&config))?;
    script.join().map_err(|_| "responder panicked")?;
    let t = &report.totals;
    assert_eq!(
        (t.sent, t.success, t.missing, t.duplicated),
        (4, 2, 1, 1),
        "{t:?}"
    );
    assert_eq!(t.errors.get(&503), Some(&1));
    let json: Value = serde_json::to_value(&report)?;
    assert_eq!(json["totals"]["missing"], 1);
    // The burst went out in the first second: 4 sent, 3 answered (one twice, counted once),
    // one of them an error.
    let csv = std::fs::read_to_string(timeline.path().join("seconds.csv"))?;
    let first = csv.lines().nth(1).unwrap_or_default();
    assert!(first.starts_with("0,4,3,1,"), "{csv}");
    // Per request: seq, sent, first answer (empty if none), answers, code.
    let outcomes = std::fs::read_to_string(timeline.path().join("outcomes.csv"))?;
    let rows: Vec<Vec<&str>> = outcomes
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let summary: Vec<(&str, bool, &str, &str)> = rows
        .iter()
        .map(|r| (r[0], !r[2].is_empty(), r[3], r[4]))
        .collect();
    assert_eq!(
        summary,
        [
            ("0", true, "2", "0"),
            ("1", false, "0", "0"),
            ("2", true, "1", "0"),
            ("3", true, "1", "503")
        ],
        "{outcomes}"
    );
    Ok(())
}

/// `dh-bench compare` end to end, as docs/PERFORMANCE.md runs it, on a real broker, service and SQLite
/// file: one round of one-second runs. It logs in by itself, adds the C3 users, prints every
/// row of the goal table, runs C1's responders in the round of C2 and P4's ceiling before
/// P4's pair, and draws the plots; the figures are not checked (no timing assertions), only
/// that every request was accounted for and where the writes went.
#[test]
fn compare_prints_the_goal_table() -> crate::support::TestResult {
    let broker = TestBroker::start();
    let db = TestDb::new(Backend::Sqlite);
    let bench = db.add_user("bench", "bench-password", Role::Client);
    let out = tempfile::tempdir()?;
    let output = compare(&broker, &db, out.path())
        .env("DH_BENCH_PASSWORD", "bench-password")
        .output()?;
    let table = String::from_utf8_lossy(&output.stdout);
    let log = std::fs::read_to_string(out.path().join("targets.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "{table}\n{}\n{log}",
        String::from_utf8_lossy(&output.stderr)
    );
    for row in ["| C1 |", "| C2 |", "| C3 |", "| C4 |"] {
        assert_eq!(table.matches(row).count(), 1, "{row} in:\n{table}");
    }
    assert_eq!(table.matches("| C5 |").count(), 3, "{table}");
    assert!(
        table.contains("64 distinct users, durable commits"),
        "{table}"
    );
    assert!(
        table.contains("All runs: 0 missing, 0 duplicated"),
        "{table}"
    );
    assert!(table.contains(" 0 error answers."), "{table}");
    let runs: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("results.json"))?)?;
    let order = |prefix: &str| -> Vec<(String, String)> {
        runs.iter()
            .filter_map(|r| Some((r["scenario"].as_str()?, r["target"].as_str()?)))
            .filter(|(scenario, _)| scenario.starts_with(prefix))
            .map(|(s, t)| (s.to_string(), t.to_string()))
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(s, t)| (s.to_string(), t.to_string()))
            .collect()
    };
    // C1: the other responders run in the same round as echo and the service.
    assert_eq!(
        order("C2"),
        pairs(&[
            ("C2", "echo"),
            ("C2", "service"),
            ("C2", "echo-codec"),
            ("C2", "echo-rumqttc"),
        ])
    );
    assert_eq!(
        order("P4"),
        pairs(&[
            ("P4get-ceiling", "service"),
            ("P4get", "echo"),
            ("P4get", "service"),
            ("P4update-ceiling", "service"),
            ("P4update", "echo"),
            ("P4update", "service"),
        ])
    );
    // Every run answered something in its first second.
    for r in &runs {
        let first = r["report"]["per_second"][0].as_u64().unwrap_or(0);
        assert!(first > 0, "{}", r["scenario"]);
    }
    // The updates were spread over the 64 users compare added (ids 2 to 65), none on the
    // login's own row.
    assert_eq!(db.user(bench).data, None);
    for n in 1..=64 {
        let user = db.user(bench + n);
        assert_eq!(user.login, format!("dhbench-user-{n}"));
        assert!(user.data.is_some(), "{} was never updated", user.login);
    }
    for plot in ["latency-c2", "throughput-c2", "latency-c3", "throughput-c3"] {
        let svg = std::fs::read_to_string(out.path().join(format!("{plot}.svg")))?;
        assert!(svg.contains("<svg") && svg.contains("service"), "{plot}");
    }
    Ok(())
}

/// `dh-bench load --tokens FILE` takes the file's tokens in turn by request number: of a burst
/// of four updates from one connection, requests 0 and 2 write alice, 1 and 3 write bob.
#[test]
fn load_takes_its_tokens_in_turn_from_a_file() -> crate::support::TestResult {
    let stack = Stack::start(Backend::Sqlite);
    let users = ["alice", "bob"].map(|login| {
        let id = stack.db.add_user(login, "secret1", Role::Client);
        (login, stack.tokens.access(id, Role::Client))
    });
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("tokens");
    std::fs::write(&file, format!("{}\n\n{}\n", users[0].1, users[1].1))?;
    let output = Command::new(env!("CARGO_BIN_EXE_dh-bench"))
        .args([
            "load",
            "--clients",
            "1",
            "--burst",
            "4",
            "--mix",
            "update=1",
            "--quiet",
        ])
        .args(["--warmup", "0", "--tokens"])
        .arg(&file)
        .args(["--broker-url", &stack.broker.url()])
        .env("DH_BENCH_CLIENT_PASSWORD", CLIENT_PASSWORD)
        .env_remove("DH_BENCH_TOKEN")
        .env_remove("DH_BENCH_MONITOR_PASSWORD")
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("success 4 "), "{stdout}");
    for ((login, token), parity) in users.iter().zip([0, 1]) {
        let answer = stack
            .client(login)
            .request(json!({"action": "user/getCurrent", "token": token}));
        let n = answer["current"]["data"]["n"].as_u64();
        assert_eq!(n.map(|n| n % 2), Some(parity), "{login}: {answer}");
    }
    Ok(())
}

/// A token the service did not issue (here: signed with another secret) is refused before any
/// measuring: `compare` stops with an error naming the answer, instead of timing a table of
/// 401s as if they were getCurrent answers.
#[test]
fn compare_refuses_a_token_the_service_rejects() -> crate::support::TestResult {
    let broker = TestBroker::start();
    let db = TestDb::new(Backend::Sqlite);
    let id = db.add_user("bench", "bench-password", Role::Client);
    let claims = Tokens::claims(id, Role::Client, TokenType::Access, now_ms() + 60_000);
    let foreign = JwtKeys::new(&[9u8; 32]).mint(&claims)?;
    let out = tempfile::tempdir()?;
    let output = compare(&broker, &db, out.path())
        .args(["--token", &foreign])
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("not success"), "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("| C1 |"),
        "no table"
    );
    Ok(())
}

/// `dh-bench compare` for one round of one-second runs against the service on `broker` and
/// `db`, logging in by itself unless given a token.
fn compare(broker: &TestBroker, db: &TestDb, out: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dh-bench"));
    command
        .args([
            "compare",
            "--rounds",
            "1",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--quiet",
        ])
        .arg("--out")
        .arg(out)
        .arg("--service-bin")
        .arg(binary())
        .envs(service_env(&broker.url(), db))
        .env("RUST_LOG", "warn")
        .env("DH_BENCH_CLIENT_PASSWORD", CLIENT_PASSWORD)
        .env_remove("DH_BENCH_TOKEN")
        .env_remove("DH_BENCH_MONITOR_PASSWORD");
    command
}

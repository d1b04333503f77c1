//! Running under systemd and a monitor (docs/OPERATIONS.md, "Health, metrics and systemd"):
//! the notify protocol on a socket the test binds itself (no systemd needed), `/healthz` and
//! `dh-mqtt-plugin health`, and `/metrics` checked by Debian's `promtool`.

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::{Duration, Instant};

use dh_mqtt_plugin::bench::proxy::Mode;
use dh_mqtt_plugin::cli::health::get;
use dh_mqtt_plugin::model::Role;
use serde_json::json;

use crate::database_faults::proxied_with;
use crate::support::service::binary;
use crate::support::{wait_for, Backend, Stack};

const SETUP_HINT: &str = "`deploy/test.sh` installs it (package prometheus, see README)";

/// A notify socket bound by the test, as systemd would bind it.
struct NotifySocket {
    _dir: tempfile::TempDir,
    path: String,
    socket: UnixDatagram,
}

impl NotifySocket {
    fn bind() -> NotifySocket {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let path = dir.path().join("notify.sock").display().to_string();
        let socket = UnixDatagram::bind(&path).unwrap_or_else(|e| panic!("bind {path}: {e}"));
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap_or_else(|e| panic!("timeout: {e}"));
        NotifySocket {
            _dir: dir,
            path,
            socket,
        }
    }

    /// Every message received within `wait`.
    fn messages(&self, wait: Duration) -> Vec<String> {
        let deadline = Instant::now() + wait;
        let mut out = Vec::new();
        let mut buf = [0_u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.socket.recv(&mut buf) {
                out.push(String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned());
            }
        }
        out
    }

    /// Waits for a message containing `text`; returns it.
    fn wait_for(&self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(m) = self
                .messages(Duration::from_millis(200))
                .into_iter()
                .find(|m| m.contains(text))
            {
                return m;
            }
        }
        panic!("no notify message with {text} within {within:?}");
    }
}

fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    drop(listener);
    addr
}

fn healthz(addr: &str) -> (u16, String) {
    let addr = addr.parse().unwrap_or_else(|e| panic!("{addr}: {e}"));
    get(addr, "/healthz").unwrap_or_else(|e| panic!("GET /healthz: {e}"))
}

fn wait_health(addr: &str, status: u16, within: Duration) -> String {
    wait_for(&format!("/healthz to answer {status}"), within, || {
        let (got, body) = healthz(addr);
        (got == status).then_some(body)
    })
}

#[test]
fn systemd_hears_ready_after_subscribing_then_status_watchdog_and_stopping() {
    let notify = NotifySocket::bind();
    let mut stack = Stack::start_with(
        Backend::Sqlite,
        &[
            ("NOTIFY_SOCKET", &notify.path),
            ("WATCHDOG_USEC", "3000000"),
        ],
    );
    let ready = notify.wait_for("READY=1", Duration::from_secs(10));
    assert!(
        stack.service.log().contains("ready: subscribed"),
        "READY before subscribing: {ready}"
    );
    let status = notify.wait_for("STATUS=", Duration::from_secs(10));
    assert!(
        status.contains("1/1 broker connections subscribed"),
        "{status}"
    );
    let pings = notify.messages(Duration::from_millis(2_500));
    assert!(
        pings.iter().filter(|m| m.contains("WATCHDOG=1")).count() >= 2,
        "{pings:?}"
    );
    assert!(stack.service.terminate().success());
    notify.wait_for("STOPPING=1", Duration::from_secs(2));
}

#[test]
fn the_watchdog_stops_and_healthz_fails_while_the_pipeline_is_wedged_then_both_recover() {
    let notify = NotifySocket::bind();
    let metrics = free_addr();
    let env = [
        ("NOTIFY_SOCKET", notify.path.as_str()),
        ("WATCHDOG_USEC", "3000000"),
        ("DH_METRICS_LISTEN", metrics.as_str()),
    ];
    let (mut stack, proxy) = proxied_with(&env);
    notify.wait_for("READY=1", Duration::from_secs(10));
    assert!(wait_health(&metrics, 200, Duration::from_secs(5)).starts_with("ok"));
    let cli = |args: &[&str]| {
        Command::new(binary())
            .args(args)
            .env("DH_METRICS_LISTEN", &metrics)
            .output()
    };
    let healthy = cli(&["health"]).unwrap_or_else(|e| panic!("health: {e}"));
    assert!(
        healthy.status.success(),
        "{}",
        String::from_utf8_lossy(&healthy.stderr)
    );

    // Every repository lane blocks on a database that stopped answering: wedged.
    proxy.set(Mode::Stall);
    let reason = wait_health(&metrics, 503, Duration::from_secs(6));
    assert!(reason.contains("database"), "{reason}");
    let _ = notify.messages(Duration::from_millis(1_500));
    let while_wedged = notify.messages(Duration::from_secs(4));
    assert!(
        !while_wedged.iter().any(|m| m.contains("WATCHDOG=1")),
        "{while_wedged:?}"
    );
    let unhealthy = cli(&["health"]).unwrap_or_else(|e| panic!("health: {e}"));
    assert!(!unhealthy.status.success());
    assert!(String::from_utf8_lossy(&unhealthy.stderr).contains("database"));

    proxy.set(Mode::Forward);
    notify.wait_for("WATCHDOG=1", Duration::from_secs(10));
    wait_health(&metrics, 200, Duration::from_secs(10));

    // The broker goes away: unhealthy, with the connection named; back when it returns.
    stack.broker.stop();
    let reason = wait_health(&metrics, 503, Duration::from_secs(10));
    assert!(
        reason.contains("broker connection not subscribed: dh-mqtt-plugin"),
        "{reason}"
    );
    stack.broker.start_again();
    wait_health(&metrics, 200, Duration::from_secs(15));
}

#[test]
fn metrics_pass_promtool_under_load_and_count_the_requests_sent() {
    let metrics = free_addr();
    let stack = Stack::start_with(Backend::Sqlite, &[("DH_METRICS_LISTEN", &metrics)]);
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let token = stack.tokens.access(id, Role::Client);
    let alice = stack.client("alice");
    let sent: Vec<_> = (0..40)
        .map(|_| alice.send_request(json!({"action": "user/getCurrent", "token": token})))
        .collect();
    let bad = alice.request(json!({"action": "user/getCurrent", "token": "invalid"}));
    assert_eq!(bad["code"], 401);
    // Scraped while the answers are still coming in.
    let addr = metrics.parse().unwrap_or_else(|e| panic!("{e}"));
    let (status, during) = get(addr, "/metrics").unwrap_or_else(|e| panic!("scrape: {e}"));
    assert_eq!(status, 200);
    promtool_accepts(&during);
    for id in &sent {
        assert_eq!(alice.answer_to(id)["status"], "success");
    }
    let counted = wait_for("the counters to settle", Duration::from_secs(5), || {
        let (_, text) = get(addr, "/metrics").ok()?;
        let value = |labels: &str| sample(&text, &format!("dh_mqtt_requests_total{{{labels}}}"));
        (value("action=\"user/getCurrent\",code=\"200\"") == Some(40.0)).then_some(text)
    });
    assert_eq!(
        sample(
            &counted,
            "dh_mqtt_requests_total{action=\"user/getCurrent\",code=\"401\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &counted,
            "dh_mqtt_broker_connected{connection=\"dh-mqtt-plugin\"}"
        ),
        Some(1.0)
    );
    assert!(
        counted.contains("dh_mqtt_request_duration_seconds_bucket{action=\"user/getCurrent\""),
        "{counted}"
    );
    assert!(
        counted.contains("dh_mqtt_build_info{version=\""),
        "{counted}"
    );
    promtool_accepts(&counted);
}

/// The value of the sample `name{labels}` (labels in the exporter's order).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|rest| rest.trim().parse().ok())
}

fn promtool_accepts(text: &str) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run promtool ({e}): {SETUP_HINT}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("promtool: {e}"));
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

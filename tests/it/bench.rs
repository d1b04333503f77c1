//! The load tool's accounting against a real broker: a scripted responder answers one request
//! twice and another never; `dh-bench` must count them as duplicated and missing.

use std::time::Duration;

use dh_mqtt_plugin::bench::load::{self, LoadConfig, Pace};
use serde_json::{json, Value};

use crate::support::broker::{CLIENT_PASSWORD, SERVICE_PASSWORD};
use crate::support::{TestBroker, TestClient};

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
        login: None,
        timeout: Duration::from_secs(2),
        monitor: None,
        progress: false,
        timeline: Some(timeline.path().join("seconds.csv")),
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
    Ok(())
}

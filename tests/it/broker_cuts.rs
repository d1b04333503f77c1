//! The service's broker connection reset again and again while it is answering, through a TCP
//! proxy the test owns between the service and its own broker: once mid-burst, once while Paho
//! sends what it held, right after reconnecting. A write that failed there made Paho C free the
//! answer it still had to resend (vendor/paho-mqtt-sys/PATCHES.md): clients got answers built
//! from freed memory, and the service counted as dropped answers it later sent. The race is hit
//! in some runs, not all.

use std::collections::HashSet;
use std::thread;
use std::time::Duration;

use dh_mqtt_plugin::bench::proxy::{Mode, TcpProxy};
use dh_mqtt_plugin::model::Role;
use serde_json::{json, Value};

use crate::support::db::Tokens;
use crate::support::{Backend, TestBroker, TestClient, TestDb, TestService};

/// Rounds of two resets, each round after the service has kept its connection longer than its
/// flap window (2 s), so it resumes its session every time instead of starting a clean one.
const ROUNDS: usize = 8;
const PAST_FLAP_WINDOW: Duration = Duration::from_millis(2_300);
/// Requests per round: enough that the service is still answering them at the first reset.
const BURST: usize = 300;

/// Resets every connection, and closes new ones at once for 50 ms.
fn reset_for_a_while(proxy: &TcpProxy) {
    proxy.set(Mode::Reset);
    thread::sleep(Duration::from_millis(50));
    proxy.set(Mode::Forward);
}

/// Publishes a burst of getCurrent requests and returns their ids.
fn burst(client: &TestClient, token: &str, round: usize) -> Vec<Value> {
    (0..BURST)
        .map(|i| {
            let id = json!(format!("r{round}-{i}"));
            let body = json!({"action": "user/getCurrent", "token": token, "requestId": id});
            client.publish(
                &format!("dh/request/{}", client.id),
                body.to_string().as_bytes(),
                1,
            );
            id
        })
        .collect()
}

#[test]
fn resets_while_answering_lose_nothing_and_crash_nothing() -> crate::support::TestResult {
    let broker = TestBroker::start();
    let db = TestDb::new(Backend::Sqlite);
    let user = db.add_user("alice", "secret1", Role::Client);
    let token = Tokens::new().access(user, Role::Client);
    let target = broker.url().trim_start_matches("tcp://").to_string();
    let proxy = TcpProxy::start(0, &target).unwrap_or_else(|e| panic!("proxy: {e}"));
    let url = format!("tcp://127.0.0.1:{}", proxy.port());
    let mut service = TestService::spawn_with(&url, &db, &[]);
    service.wait_ready();
    let alice = TestClient::connect(&broker, "alice");
    let mut sent = Vec::new();
    for round in 0..ROUNDS {
        thread::sleep(PAST_FLAP_WINDOW);
        sent.extend(burst(&alice, &token, round));
        // While the service is writing the burst's answers; Paho holds the rest meanwhile.
        thread::sleep(Duration::from_millis(5));
        reset_for_a_while(&proxy);
        // Again while Paho sends what it held, right after it has connected.
        let forwarded = proxy.forwarded();
        while proxy.forwarded() == forwarded {
            thread::sleep(Duration::from_micros(100));
        }
        // The CONNECT exchange takes a fraction of a millisecond; where the send begins varies.
        thread::sleep(Duration::from_micros(250 * (round as u64 % 4 + 1)));
        reset_for_a_while(&proxy);
        let again = alice
            .try_request(
                json!({"action": "user/getCurrent", "token": token}),
                Duration::from_secs(10),
            )
            .unwrap_or_else(|| panic!("not served again after round {round}:\n{}", service.log()));
        assert_eq!(again["status"], "success", "served again: {again}");
    }
    let mut missing: HashSet<String> = sent.iter().map(ToString::to_string).collect();
    while !missing.is_empty() {
        let Some(got) = alice.next(Duration::from_secs(15)) else {
            panic!(
                "{} of {} requests never answered, e.g. {:?}\n{}",
                missing.len(),
                sent.len(),
                missing.iter().take(5).collect::<Vec<_>>(),
                service.log()
            );
        };
        assert_eq!(
            got.json["status"], "success",
            "on {}: {:?}",
            got.topic, got.raw
        );
        // A request whose PUBACK a reset lost is delivered, and answered, again.
        missing.remove(&got.json["requestId"].to_string());
    }
    let after = alice.request(json!({"action": "user/getCurrent", "token": token}));
    assert_eq!(after["status"], "success", "still serving: {after}");
    // Every answer held or in flight at a reset went out after it.
    assert!(
        !service.log().contains("not delivered"),
        "answers dropped:\n{}",
        service.log()
    );
    let status = service.terminate();
    assert!(
        status.success(),
        "the service ended with {status}:\n{}",
        service.log()
    );
    Ok(())
}

//! How the service reads its broker connection: the patched Paho C reads ahead up to 64 KiB
//! at a time (vendor/paho-mqtt-sys/PATCHES.md), so packets that arrive together share one
//! read and a packet can straddle reads. None may be lost, merged or read twice.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dh_mqtt_plugin::model::Role;
use serde_json::{json, Value};

use crate::support::error_of;
use crate::support::{Backend, Stack};

#[test]
fn a_burst_around_a_request_larger_than_the_read_ahead_is_answered_once_each() {
    let stack = Stack::start(Backend::Sqlite);
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let token = stack.tokens.access(id, Role::Client);
    let alice = stack.client("alice");
    // QoS 0, so the test client does not wait for each PUBACK and the requests reach the
    // service back to back. The big one is over DH_MAX_PAYLOAD_BYTES (64 KiB by default), so
    // it is answered 400 on the actionless topic.
    let big = json!({"action": "user/getCurrent", "pad": "x".repeat(200 * 1024)}).to_string();
    const COUNT: i64 = 400;
    for n in 0..COUNT {
        if n == COUNT / 2 {
            alice.publish("dh/request/alice", big.as_bytes(), 0);
        }
        let body = json!({"action": "user/getCurrent", "requestId": n, "token": token});
        alice.publish("dh/request/alice", body.to_string().as_bytes(), 0);
    }
    let mut answered: BTreeMap<i64, u32> = BTreeMap::new();
    let mut oversized = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while answered.len() < COUNT as usize || oversized.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(got) = alice.next(left) else { break };
        match got.json.get("requestId").and_then(Value::as_i64) {
            Some(n) => {
                assert_eq!(
                    got.json["current"]["id"],
                    json!(id),
                    "answer {n}: {}",
                    got.json
                );
                *answered.entry(n).or_default() += 1;
            }
            None => oversized.push(error_of(&got.json)),
        }
    }
    alice.expect_silence(Duration::from_millis(500));
    let missing: Vec<i64> = (0..COUNT).filter(|n| !answered.contains_key(n)).collect();
    assert!(missing.is_empty(), "requests never answered: {missing:?}");
    let twice: Vec<_> = answered.iter().filter(|(_, c)| **c > 1).collect();
    assert!(
        twice.is_empty(),
        "requests answered more than once: {twice:?}"
    );
    assert_eq!(
        oversized,
        vec![(400, "Malformed Json received.".to_string())]
    );
}

//! The malformed-input corpus (`tests/corpus/malformed-requests.jsonl`): every case gets its
//! expected answer on the expected topic, the database is byte-identical afterwards, and the
//! service still answers.

use std::time::Duration;

use dh_mqtt_plugin::model::Role;
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::Stack;

const CORPUS: &str = include_str!("../corpus/malformed-requests.jsonl");

/// One case's payload bytes, with the test's tokens and ids filled in.
fn payload(case: &Value, fill: &[(&str, String)]) -> Vec<u8> {
    if let Some(hex) = case["payload_hex"].as_str() {
        return (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_else(|e| panic!("{e}")))
            .collect();
    }
    let mut text = case["payload"].as_str().unwrap_or_default().to_string();
    for (key, value) in fill {
        text = text.replace(key, value);
    }
    text.into_bytes()
}

/// What is wrong with `answer` for `case`, if anything.
fn mismatch(case: &Value, topic: &str, answer: &Value, client: &str) -> Option<String> {
    let expect = &case["expect"];
    let wanted_topic = format!(
        "dh/response/{}@{client}",
        case["topic"].as_str().unwrap_or_default()
    );
    let mut wrong = Vec::new();
    if topic != wanted_topic {
        wrong.push(format!("topic {topic}, expected {wanted_topic}"));
    }
    for key in ["status", "code", "error"] {
        if !expect[key].is_null() && answer[key] != expect[key] {
            wrong.push(format!("{key} {}, expected {}", answer[key], expect[key]));
        }
    }
    (!wrong.is_empty()).then(|| format!("{}: {} (answer {answer})", case["name"], wrong.join("; ")))
}

both_backends! {
    fn every_malformed_request_gets_its_answer_and_changes_nothing(backend) {
        let stack = Stack::start_with(backend, &[("DH_MAX_PAYLOAD_BYTES", "4096")]);
        let alice_id = stack.db.add_user("alice", "secret1", Role::Client);
        let bob_id = stack.db.add_user("bob", "secret1", Role::Admin);
        let token = stack.tokens.access(alice_id, Role::Client);
        let fill = [
            ("\"$ALICE_ID\"", alice_id.to_string()),
            ("\"$BOB_ID\"", bob_id.to_string()),
            ("$TOKEN", token.clone()),
            ("$GET_ONLY", stack.tokens.with_actions(alice_id, &[10])),
            ("$ADMIN", stack.tokens.access(bob_id, Role::Admin)),
        ];
        let before = stack.db.dump();
        let alice = stack.client("alice");
        let cases: Vec<Value> = CORPUS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect();
        assert!(cases.len() >= 200, "{} cases", cases.len());
        // The plugin lets alice read the answer of any action of hers, unknown ones included.
        let mut topics: Vec<String> = cases.iter()
            .map(|c| format!("dh/response/{}@alice", c["topic"].as_str().unwrap_or_default()))
            .collect();
        topics.sort();
        topics.dedup();
        alice.subscribe(&topics);
        let mut failures = Vec::new();
        for case in &cases {
            alice.publish("dh/request/alice", &payload(case, &fill), 1);
            let Some(got) = alice.next(Duration::from_secs(5)) else {
                failures.push(format!("{}: no answer", case["name"]));
                continue;
            };
            failures.extend(mismatch(case, &got.topic, &got.json, "alice"));
        }
        assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
        assert_eq!(stack.db.dump(), before, "a refused request changed the database");
        let alive = alice.request(json!({"action": "user/getCurrent", "token": token}));
        assert_eq!(alive["status"], "success", "{alive}");
        Ok(())
    }
}

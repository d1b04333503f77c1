//! Requests that used to silence the service: an action with a control character or a
//! Unicode non-character (the answer topic built from it made Mosquitto drop the service's
//! connection, again on every reconnect), an action with `@` that forged an answer on another
//! client's topic, NUL in text fields, request ids beyond `f64` precision.

use std::time::Duration;

use dh_mqtt_plugin::model::Role;
use serde_json::json;

use crate::both_backends;
use crate::support::{error_of, Backend, Stack, TestClient};

/// The characters Mosquitto refuses in a topic: C0 and C1 controls, non-characters.
fn refused_characters() -> Vec<char> {
    (0x00..=0x1F)
        .chain(0x7F..=0x9F)
        .chain(0xFDD0..=0xFDEF)
        .chain([0xFFFE, 0xFFFF])
        .filter_map(char::from_u32)
        .collect()
}

#[test]
fn control_and_non_characters_in_action_never_silence_the_service() -> crate::support::TestResult {
    let stack = Stack::start(Backend::Sqlite);
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let token = stack.tokens.access(id, Role::Client);
    let alice = stack.client("alice");
    let mut cases = 0;
    for c in refused_characters() {
        for qos in [0, 1] {
            let action = format!("x{c}y");
            let poison = json!({"action": action, "requestId": format!("p{cases}")});
            alice.publish("dh/request/alice", poison.to_string().as_bytes(), qos);
            let normal = json!({"action": "user/getCurrent", "token": token});
            let answer = alice
                .try_request(normal, Duration::from_secs(1))
                .unwrap_or_else(|| {
                    panic!(
                        "U+{:04X} at QoS {qos}: next request unanswered in 1 s",
                        c as u32
                    )
                });
            assert_eq!(answer["status"], "success", "U+{:04X}: {answer}", c as u32);
            let error = alice
                .wait_answer(
                    |r| r.json["requestId"] == json!(format!("p{cases}")),
                    Duration::from_secs(1),
                )
                .unwrap_or_else(|| panic!("U+{:04X} at QoS {qos}: no error answer", c as u32));
            assert_eq!(error.topic, "dh/response/@alice", "U+{:04X}", c as u32);
            assert_eq!(
                error.json["action"],
                json!(action),
                "the action is echoed in the JSON"
            );
            assert_eq!(
                error_of(&error.json),
                (400, format!("Illegal argument: {action}"))
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 2 * (32 + 33 + 32 + 2));
    let log = stack.service.log();
    assert!(
        !log.contains("connection to broker lost"),
        "the service was disconnected:\n{log}"
    );
    Ok(())
}

#[test]
fn an_action_with_at_cannot_forge_an_answer_for_another_client() -> crate::support::TestResult {
    let stack = Stack::start(Backend::Sqlite);
    let attacker = stack.client("atk");
    // The answer to "user/getCurrent@vic" would be dh/response/user/getCurrent@vic@atk, which
    // the client "vic@atk" could read: it goes to the attacker's error topic instead.
    attacker.publish(
        "dh/request/atk",
        br#"{"action":"user/getCurrent@vic","requestId":7}"#,
        1,
    );
    let got = attacker
        .next(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no answer"));
    assert_eq!(got.topic, "dh/response/@atk");
    assert_eq!(got.json["requestId"], 7);
    assert_eq!(
        error_of(&got.json),
        (400, "Illegal argument: user/getCurrent@vic".to_string())
    );
    // And the plugin refuses a client id with '@' at CONNECT, so no such client exists.
    let refused = TestClient::try_connect(&stack.broker, "vic@atk");
    assert!(refused.is_err(), "vic@atk was let in");
    Ok(())
}

both_backends! {
    fn nul_in_text_fields_is_refused_before_any_query(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let before = stack.db.user(id);
        let alice = stack.client("alice");
        let token = stack.tokens.access(id, Role::Client);
        let expected = |field: &str| (400, format!("Invalid value of field '{field}': expected text without NUL characters"));
        let answer = alice.request(json!({"action": "token", "login": "ali\u{0}ce", "password": "secret1"}));
        assert_eq!(error_of(&answer), expected("login"));
        let answer = alice.request(json!({"action": "user/updateCurrent", "token": token,
                                          "user": {"login": "a\u{0}", "password": "pass\u{0}word"}}));
        assert_eq!(error_of(&answer), expected("user.login"));
        let answer = alice.request(json!({"action": "authenticate", "token": format!("{token}\u{0}")}));
        assert_eq!(error_of(&answer), expected("token"));
        let after = stack.db.user(id);
        assert_eq!((after.login, after.password_hash, after.login_attempts),
                   (before.login, before.password_hash, before.login_attempts));
        Ok(())
    }
}

#[test]
fn request_ids_are_echoed_byte_for_byte() -> crate::support::TestResult {
    let stack = Stack::start(Backend::Sqlite);
    let alice = stack.client("alice");
    for id in [
        "18446744073709551616",
        "123456789012345678901234567890.000001",
        "1.0e5",
        "-0",
        r#""\u0041""#,
        r#"{"z":1,"a":[1.50,true]}"#,
    ] {
        let payload = format!(r#"{{"action":"authenticate","requestId":{id}}}"#);
        alice.publish("dh/request/alice", payload.as_bytes(), 1);
        let raw = alice
            .next(Duration::from_secs(5))
            .unwrap_or_else(|| panic!("no answer to {id}"))
            .raw;
        let expected = format!(r#"{{"action":"authenticate","requestId":{id},"status":"error""#);
        assert!(raw.starts_with(&expected), "{raw}");
    }
    Ok(())
}

//! Every error row of docs/PROTOCOL.md that a request can provoke on its own (the 503 and
//! 500 rows are in `resilience` and `supervision`).

use std::time::Duration;

use dh_mqtt_plugin::auth::jwt::{now_ms, TokenType};
use dh_mqtt_plugin::model::{Role, UserStatus};
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::db::Tokens;
use crate::support::error_of;
use crate::support::{Stack, TestClient};

fn raw_answer(client: &TestClient, payload: &[u8]) -> Value {
    client.publish(&format!("dh/request/{}", client.id), payload, 1);
    client
        .next(Duration::from_secs(10))
        .map(|r| {
            assert_eq!(r.topic, format!("dh/response/@{}", client.id));
            r.json
        })
        .unwrap_or_else(|| panic!("no answer to {}", String::from_utf8_lossy(payload)))
}

both_backends! {
    fn malformed_requests_get_400_on_the_actionless_topic(backend) {
        let stack = Stack::start_with(backend, &[("DH_MAX_PAYLOAD_BYTES", "2048")]);
        let alice = stack.client("alice");
        let malformed = (400, "Malformed Json received.".to_string());
        assert_eq!(error_of(&raw_answer(&alice, b"{not json")), malformed);
        assert_eq!(error_of(&raw_answer(&alice, b"[1,2]")), malformed);
        let big = json!({"action": "user/getCurrent", "pad": "x".repeat(4096)}).to_string();
        assert_eq!(error_of(&raw_answer(&alice, big.as_bytes())), malformed);
        let answer = raw_answer(&alice, br#"{"requestId": 9}"#);
        assert_eq!(error_of(&answer), (400, "Action is required".to_string()));
        assert_eq!(answer["requestId"], 9);
        let answer = raw_answer(&alice, br#"{"action": 5, "requestId": "r"}"#);
        assert_eq!(error_of(&answer), (400, "Action is required".to_string()));
        Ok(())
    }

    fn unknown_actions_get_400_on_their_own_or_the_error_topic(backend) {
        let stack = Stack::start(backend);
        let alice = stack.client("alice");
        // The plugin lets a client read the answer of any action of its own, so a misspelt
        // action's error reaches the sender.
        alice.subscribe(&["dh/response/user/search@alice".to_string()]);
        alice.publish("dh/request/alice", br#"{"action":"user/search","requestId":3}"#, 1);
        let got = alice.next(Duration::from_secs(10)).unwrap_or_else(|| panic!("no answer"));
        assert_eq!(got.topic, "dh/response/user/search@alice");
        assert_eq!(got.json, json!({"action": "user/search", "requestId": 3, "status": "error",
                                    "code": 400, "error": "Illegal argument: user/search"}));
        // An action that cannot name a topic is answered on the sender's error topic.
        alice.publish("dh/request/alice", br#"{"action":"a/+/b","requestId":4}"#, 1);
        let got = alice.next(Duration::from_secs(10)).unwrap_or_else(|| panic!("no answer"));
        assert_eq!(got.topic, "dh/response/@alice");
        assert_eq!(error_of(&got.json), (400, "Illegal argument: a/+/b".to_string()));
        alice.expect_silence(Duration::from_millis(300));
        Ok(())
    }

    fn credentials_errors(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let alice = stack.client("alice");
        let ask = |token: Option<String>| {
            let mut body = json!({"action": "user/getCurrent"});
            if let Some(t) = token {
                body["token"] = json!(t);
            }
            error_of(&alice.request(body))
        };
        let unauthorized = (401, "Unauthorized".to_string());
        assert_eq!(ask(None), unauthorized, "no token and no session");
        let other_key = dh_mqtt_plugin::auth::jwt::JwtKeys::new(&[9u8; 32]);
        let forged = other_key.mint(&Tokens::claims(id, Role::Admin, TokenType::Access, now_ms() + 60_000))?;
        assert_eq!(ask(Some(forged)), unauthorized, "bad signature");
        assert_eq!(ask(Some("not.a.jwt".into())), unauthorized, "malformed");
        let refresh = stack.tokens.mint(&Tokens::claims(id, Role::Client, TokenType::Refresh, now_ms() + 60_000));
        assert_eq!(ask(Some(refresh)), unauthorized, "refresh token used as access");
        assert_eq!(ask(Some(stack.tokens.access(id + 100, Role::Client))), unauthorized, "unknown user");
        let expired = stack.tokens.mint(&Tokens::claims(id, Role::Client, TokenType::Access, now_ms() - 1));
        assert_eq!(ask(Some(expired)), (401, "Token expired".to_string()));
        let no_get = stack.tokens.with_actions(id, &[11]);
        assert_eq!(ask(Some(no_get)), (403, "Access is denied".to_string()));
        let answer = alice.request(json!({"action": "user/updateCurrent", "user": {"data": 1},
                                          "token": stack.tokens.with_actions(id, &[10])}));
        assert_eq!(error_of(&answer), (403, "Access is denied".to_string()));
        let answer = alice.request(json!({"action": "user/getCurrent", "token": 12}));
        assert_eq!(error_of(&answer).0, 400, "a non-string token names the field: {answer}");
        stack.db.set_status(id, UserStatus::Disabled);
        assert_eq!(ask(Some(stack.tokens.access(id, Role::Client))), unauthorized, "disabled user");
        stack.db.set_status(id, UserStatus::LockedOut);
        assert_eq!(ask(Some(stack.tokens.access(id, Role::Client))), unauthorized, "locked user");
        assert_eq!(stack.db.user(id).data, None, "nothing changed");
        Ok(())
    }

    fn retained_requests_are_never_executed(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let alice = stack.client("alice");
        let body = json!({"action": "user/updateCurrent", "requestId": 1,
                          "token": stack.tokens.access(id, Role::Client), "user": {"data": "replayed"}});
        alice.publish_with("dh/request/alice", body.to_string().as_bytes(), 1, true,
                           paho_mqtt::Properties::new());
        alice.expect_silence(Duration::from_millis(800));
        assert_eq!(stack.db.user(id).data, None);
        // Clear the retained message so later subscribers are not bothered.
        alice.publish_with("dh/request/alice", b"", 1, true, paho_mqtt::Properties::new());
        Ok(())
    }
}

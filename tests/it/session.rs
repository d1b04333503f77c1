//! Sessions from `authenticate` on the verified topic (docs/PROTOCOL.md): later requests may
//! omit the token; a token in a request wins; the session is re-checked every time.

use std::time::Duration;

use dh_mqtt_plugin::auth::jwt::{now_ms, TokenType};
use dh_mqtt_plugin::model::{Role, UserStatus};
use serde_json::json;

use crate::both_backends;
use crate::support::db::Tokens;
use crate::support::Stack;

both_backends! {
    fn authenticate_binds_a_session_to_the_client_id(backend) {
        let stack = Stack::start(backend);
        let alice_id = stack.db.add_user("alice", "secret1", Role::Client);
        let bob_id = stack.db.add_user("bob", "secret1", Role::Client);
        let alice = stack.client("alice");
        let answer = alice.request(json!({"action": "authenticate", "requestId": 1,
                                          "token": stack.tokens.access(alice_id, Role::Client)}));
        assert_eq!(answer, json!({"action": "authenticate", "requestId": 1, "status": "success"}));
        let me = alice.request(json!({"action": "user/getCurrent"}));
        assert_eq!(me["current"]["login"], "alice");
        assert!(me["current"]["lastLogin"].is_string(), "authenticate records the login: {me}");
        let updated = alice.request(json!({"action": "user/updateCurrent", "user": {"data": [1]}}));
        assert_eq!(updated["status"], "success");
        // A token in the request wins over the session, for that request only.
        let as_bob = alice.request(json!({"action": "user/getCurrent",
                                          "token": stack.tokens.access(bob_id, Role::Client)}));
        assert_eq!(as_bob["current"]["login"], "bob");
        assert_eq!(alice.request(json!({"action": "user/getCurrent"}))["current"]["login"], "alice");
        // The session belongs to alice's client id only.
        let bob = stack.client("bob");
        assert_eq!(bob.request(json!({"action": "user/getCurrent"}))["code"], 401);
        Ok(())
    }

    fn authenticate_refuses_bad_tokens_with_invalid_credentials(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let alice = stack.client("alice");
        let auth = |token: Option<String>| {
            let mut body = json!({"action": "authenticate"});
            if let Some(t) = token {
                body["token"] = json!(t);
            }
            let a = alice.request(body);
            (a["code"].as_i64().unwrap_or_default(), a["error"].as_str().unwrap_or_default().to_string())
        };
        assert_eq!(auth(None), (401, "Unauthorized".into()));
        let invalid = (401, "Invalid credentials".to_string());
        assert_eq!(auth(Some("invalidToken".into())), invalid);
        let refresh = stack.tokens.mint(&Tokens::claims(id, Role::Client, TokenType::Refresh, now_ms() + 60_000));
        assert_eq!(auth(Some(refresh)), invalid);
        stack.db.set_status(id, UserStatus::Disabled);
        assert_eq!(auth(Some(stack.tokens.access(id, Role::Client))), invalid);
        assert_eq!(stack.db.user(id).last_login, None, "a refused authenticate records nothing");
        Ok(())
    }

    fn sessions_are_rechecked_on_every_request(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let alice = stack.client("alice");
        let short = stack.tokens.mint(&Tokens::claims(id, Role::Client, TokenType::Access, now_ms() + 1_500));
        assert_eq!(alice.request(json!({"action": "authenticate", "token": short}))["status"], "success");
        assert_eq!(alice.request(json!({"action": "user/getCurrent"}))["status"], "success");
        std::thread::sleep(Duration::from_millis(1_600));
        let expired = alice.request(json!({"action": "user/getCurrent"}));
        assert_eq!((&expired["code"], &expired["error"]), (&json!(401), &json!("Token expired")));

        let token = stack.tokens.access(id, Role::Client);
        assert_eq!(alice.request(json!({"action": "authenticate", "token": token}))["status"], "success");
        stack.db.set_status(id, UserStatus::Disabled);
        let refused = alice.request(json!({"action": "user/updateCurrent", "user": {"data": 1}}));
        assert_eq!((&refused["code"], &refused["error"]), (&json!(401), &json!("Unauthorized")));
        assert_eq!(stack.db.user(id).data, None);
        Ok(())
    }
}

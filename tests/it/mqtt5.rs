//! The MQTT 5 topic `dh/request` (docs/PROTOCOL.md): answered on the Response Topic with the
//! Correlation Data echoed; anything else is dropped; no session applies.

use std::time::Duration;

use dh_mqtt_plugin::model::Role;
use serde_json::json;

use crate::both_backends;
use crate::support::Stack;

both_backends! {
    fn answers_on_the_response_topic_with_correlation_data(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let alice = stack.client("alice");
        let correlation = [0u8, 159, 255, 7, 42];
        let body = json!({"action": "user/getCurrent", "requestId": "v5",
                          "token": stack.tokens.access(id, Role::Client)});
        alice.publish_v5(&body, Some("dh/response/user/getCurrent@alice"), Some(&correlation));
        let got = alice.next(Duration::from_secs(10)).unwrap_or_else(|| panic!("no answer"));
        assert_eq!(got.topic, "dh/response/user/getCurrent@alice");
        assert_eq!(got.correlation.as_deref(), Some(&correlation[..]));
        assert_eq!((&got.json["requestId"], &got.json["current"]["login"]), (&json!("v5"), &json!("alice")));
        Ok(())
    }

    fn no_session_applies_on_the_open_topic(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let alice = stack.client("alice");
        let token = stack.tokens.access(id, Role::Client);
        // authenticate on dh/request only checks the token...
        alice.publish_v5(&json!({"action": "authenticate", "token": token}),
                         Some("dh/response/authenticate@alice"), None);
        let got = alice.next(Duration::from_secs(10)).unwrap_or_else(|| panic!("no answer"));
        assert_eq!(got.json["status"], "success");
        // ...and binds nothing: neither the open topic nor the verified one has a session.
        alice.publish_v5(&json!({"action": "user/getCurrent"}),
                         Some("dh/response/user/getCurrent@alice"), None);
        let got = alice.next(Duration::from_secs(10)).unwrap_or_else(|| panic!("no answer"));
        assert_eq!(got.json["code"], 401);
        assert_eq!(alice.request(json!({"action": "user/getCurrent"}))["code"], 401);
        Ok(())
    }

    fn requests_without_a_valid_response_topic_are_dropped(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let alice = stack.client("alice");
        let body = json!({"action": "user/updateCurrent", "token": stack.tokens.access(id, Role::Client),
                          "user": {"data": "should not be written"}});
        // (Without a Response Topic the plugin hands the request over as alice's own: it is
        // answered on the seed topic, see plugin::plain_requests_are_answered_on_the_seed_topic.)
        alice.publish_v5(&body, Some("elsewhere/inbox"), None);
        alice.publish_v5(&body, Some("dh/response/user/getCurrent@alice"), None);
        alice.publish_v5(&json!({"action": "user/updateCurrent"}), Some("dh/response/user/updateCurrent@a/b"), None);
        alice.expect_silence(Duration::from_millis(800));
        assert_eq!(stack.db.user(id).data, None);
        Ok(())
    }
}

//! Isolation on the real broker, with the shipped rules: the project's plugin (what ships) and
//! the plain ACL file (the fallback for Mosquitto 2.0 without the plugin). Under both, a client
//! can neither read another client's answers nor act through another client's request topic.
//! The ACL file must be exactly what `dh-mqtt-plugin acl` prints; on a broker that stops
//! substituting `%c` inside a level (Mosquitto 2.1) its `reads_own_answers` fails loudly.

use std::process::Command;
use std::time::Duration;

use dh_mqtt_plugin::model::Role;
use serde_json::json;

use crate::support::broker::CLIENT_PASSWORD;
use crate::support::service::binary;
use crate::support::{Backend, Stack, TestBroker, TestClient};

#[test]
fn shipped_acl_is_the_acl_command_output() -> crate::support::TestResult {
    let out = Command::new(binary()).arg("acl").output()?;
    assert!(out.status.success());
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/mosquitto/acl"))?;
    assert_eq!(
        String::from_utf8(out.stdout)?,
        shipped,
        "regenerate with `dh-mqtt-plugin acl > deploy/mosquitto/acl`"
    );
    Ok(())
}

/// Each isolation check, once per rule set.
macro_rules! under_both_rules {
    ($($name:ident),* $(,)?) => {
        mod with_plugin {
            $(#[test] fn $name() { super::$name(crate::support::TestBroker::start()) })*
        }
        mod with_acl_file {
            $(#[test] fn $name() { super::$name(crate::support::TestBroker::start_with_acl_file()) })*
        }
    };
}

under_both_rules!(
    reads_own_answers,
    cannot_read_another_clients_answers,
    cannot_act_on_another_clients_topic,
);

fn reads_own_answers(broker: TestBroker) {
    let stack = Stack::start_on(broker, Backend::Sqlite, &[]);
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let answer = stack
        .client("alice")
        .request(json!({"action": "user/getCurrent",
        "token": stack.tokens.access(id, Role::Client)}));
    assert_eq!(
        answer["status"], "success",
        "with the ACL file, the installed Mosquitto must substitute %c inside a topic level (2.0.x)"
    );
}

fn cannot_read_another_clients_answers(broker: TestBroker) {
    let stack = Stack::start_on(broker, Backend::Sqlite, &[]);
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let mallory = TestClient::connect(&stack.broker, "mallory");
    // The plugin refuses these in the SUBACK; the ACL file grants them and filters delivery.
    mallory.subscribe_unchecked(&[
        "dh/response/#".into(),
        "dh/response/user/getCurrent@alice".into(),
        "dh/request/#".into(),
        "#".into(),
    ]);
    let alice = stack.client("alice");
    let answer = alice.request(
        json!({"action": "user/getCurrent", "token": stack.tokens.access(id, Role::Client)}),
    );
    assert_eq!(answer["status"], "success");
    mallory.expect_silence(Duration::from_millis(800));
}

fn cannot_act_on_another_clients_topic(broker: TestBroker) {
    let stack = Stack::start_on(broker, Backend::Sqlite, &[]);
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let alice = stack.client("alice");
    assert_eq!(
        alice.request(
            json!({"action": "authenticate", "token": stack.tokens.access(id, Role::Client)})
        )["status"],
        "success"
    );
    // mallory tries to ride alice's session by publishing on alice's verified topic...
    let mallory = TestClient::connect(&stack.broker, "mallory");
    let evil = br#"{"action":"user/updateCurrent","requestId":"evil","user":{"data":"owned"}}"#;
    let refused = mallory.try_publish("dh/request/alice", evil);
    assert!(refused.is_err(), "the broker must refuse the publish");
    // ...and by claiming alice's client id, which the broker replaces with the login.
    let spoof = TestClient::connect_raw(&stack.broker, "mallory", "alice", CLIENT_PASSWORD);
    assert!(
        spoof.try_publish("dh/request/alice", evil).is_err(),
        "use_username_as_clientid must apply"
    );
    alice.expect_silence(Duration::from_millis(800));
    drop(spoof);
    assert_eq!(stack.db.user(id).data, None);
    assert_eq!(
        alice.request(json!({"action": "user/getCurrent"}))["current"]["data"],
        json!(null)
    );
}

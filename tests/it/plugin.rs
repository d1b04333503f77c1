//! The project's broker plugin on the real Mosquitto, as a device meets it: a DeviceHive
//! client publishing on plain `dh/request` gets its answers where the seed pages say, every
//! answer of a client's own is readable (unknown actions and malformed requests included),
//! another client's are refused at SUBSCRIBE, unsafe client ids at CONNECT; and a user made
//! with one command connects with its own login and password until it is disabled.

use std::time::{Duration, Instant};

use dh_mqtt_plugin::model::Role;
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::broker::CLIENT_PASSWORD;
use crate::support::{
    error_of, wait_for, Backend, Stack, TestBroker, TestClient, TestDb, TEST_JWT_SECRET,
};

fn received(client: &TestClient) -> (String, Value) {
    let got = client
        .next(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no answer"));
    (got.topic, got.json)
}

#[test]
fn plain_requests_are_answered_on_the_seed_topic() -> crate::support::TestResult {
    let stack = Stack::start(Backend::Sqlite);
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let token = stack.tokens.access(id, Role::Client);
    // An MQTT 3.1.1 client that knows only the seed pages: publish on dh/request, read
    // dh/response/{action}@{clientId}.
    let alice = TestClient::connect_v311(&stack.broker, "alice", CLIENT_PASSWORD);
    alice.subscribe(&[
        "dh/response/user/getCurrent@alice".into(),
        "dh/response/user/gett@alice".into(),
        "dh/response/@alice".into(),
    ]);
    let request = json!({"action": "user/getCurrent", "requestId": 1, "token": token});
    alice.publish("dh/request", request.to_string().as_bytes(), 1);
    let (topic, answer) = received(&alice);
    assert_eq!(topic, "dh/response/user/getCurrent@alice");
    assert_eq!(answer["status"], "success", "{answer}");
    assert_eq!(answer["current"]["login"], "alice");
    // A misspelt action's error reaches the sender on that action's topic...
    alice.publish("dh/request", br#"{"action":"user/gett","requestId":2}"#, 1);
    let (topic, answer) = received(&alice);
    assert_eq!(topic, "dh/response/user/gett@alice");
    assert_eq!(
        error_of(&answer),
        (400, "Illegal argument: user/gett".into())
    );
    // ...and a malformed request's on the error topic.
    alice.publish("dh/request", b"{not json", 1);
    let (topic, answer) = received(&alice);
    assert_eq!(topic, "dh/response/@alice");
    assert_eq!(answer["code"], 400, "{answer}");
    // MQTT 5 without a Response Topic is handed over the same way.
    let v5 = stack.client("alice");
    v5.publish_v5(
        &json!({"action": "user/getCurrent", "requestId": 3, "token": token}),
        None,
        None,
    );
    let (topic, answer) = received(&v5);
    assert_eq!(topic, "dh/response/user/getCurrent@alice");
    assert_eq!(answer["requestId"], 3);
    Ok(())
}

#[test]
fn subscriptions_to_other_clients_answers_are_refused_in_the_suback() {
    let broker = TestBroker::start();
    let mallory = TestClient::connect(&broker, "mallory");
    for filter in [
        "dh/response/user/getCurrent@alice",
        "dh/response/#",
        "dh/response/+",
        "dh/response/+/getCurrent@mallory",
        "dh/request/#",
        "dh/request/alice",
        "#",
        "+/response/user/getCurrent@mallory",
        "$share/g/dh/request/#",
    ] {
        assert!(mallory.subscription_refused(filter), "{filter} was granted");
    }
    for filter in [
        "dh/response/user/getCurrent@mallory",
        "dh/response/anything/new@mallory",
    ] {
        assert!(
            !mallory.subscription_refused(filter),
            "{filter} was refused"
        );
    }
}

#[test]
fn unsafe_client_ids_are_refused_at_connect() {
    let broker = TestBroker::start();
    // The broker's password file knows these logins; with use_username_as_clientid the login
    // is the client id, and the plugin refuses it before anything else.
    for login in ["vic@atk", "a+b", "a#b", "a/b"] {
        assert!(
            TestClient::try_connect(&broker, login).is_err(),
            "{login} was let in"
        );
        assert!(
            broker
                .log()
                .contains(&format!("refusing client \"{login}\"")),
            "no refusal logged for {login}:\n{}",
            broker.log()
        );
    }
    assert!(TestClient::try_connect(&broker, "alice").is_ok());
}

/// Runs the operator CLI against the test's database, with the service's JWT secret (the
/// broker-login key is derived from it).
fn cli(db: &TestDb, args: &[&str], stdin: &str) {
    let out = crate::cli::run(db, args, stdin, Some(TEST_JWT_SECRET));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until `login` can connect with `password` (the sync polls every 250 ms).
fn connects(stack: &Stack, login: &str, password: &str) -> TestClient {
    wait_for(
        &format!("{login} to connect"),
        Duration::from_secs(10),
        || TestClient::try_connect_as(&stack.broker, login, password).ok(),
    )
}

both_backends! {
    fn a_user_made_with_one_command_connects_until_disabled(backend) {
        let mut stack = Stack::start(backend);
        // Not in the broker's password file: the plugin knows it from the service alone.
        cli(&stack.db, &["user", "add", "--login", "sensor-7", "--role", "client"], "s7-password\n");
        let device = connects(&stack, "sensor-7", "s7-password");
        device.subscribe(&["dh/response/token@sensor-7".into()]);
        let answer = device.request(json!({"action": "token", "login": "sensor-7", "password": "s7-password"}));
        assert_eq!(answer["status"], "success", "{answer}");
        assert!(TestClient::try_connect_as(&stack.broker, "sensor-7", "wrong").is_err());

        // Disabled: the live connection is closed, and a new one refused.
        let started = Instant::now();
        cli(&stack.db, &["user", "set-status", "--login", "sensor-7", "disabled"], "");
        wait_for("the disabled device to be disconnected", Duration::from_secs(10), || {
            (!device.is_connected()).then_some(())
        });
        eprintln!("disconnected {:?} after set-status", started.elapsed());
        assert!(TestClient::try_connect_as(&stack.broker, "sensor-7", "s7-password").is_err());

        // Active again, then a new password: only the new one connects.
        cli(&stack.db, &["user", "set-status", "--login", "sensor-7", "active"], "");
        drop(connects(&stack, "sensor-7", "s7-password"));
        cli(&stack.db, &["user", "passwd", "--login", "sensor-7"], "s7-new\n");
        drop(connects(&stack, "sensor-7", "s7-new"));
        assert!(TestClient::try_connect_as(&stack.broker, "sensor-7", "s7-password").is_err());

        // A broker restart loses the plugin's table; the service sends it again.
        stack.broker.stop();
        stack.broker.start_again();
        drop(connects(&stack, "sensor-7", "s7-new"));
        Ok(())
    }

    fn users_made_over_mqtt_connect_and_deleted_ones_cannot(backend) {
        let stack = Stack::start(backend);
        let admin = stack.db.add_user("carol", "secret1", Role::Admin);
        let token = stack.tokens.access(admin, Role::Admin);
        let carol = stack.client("carol");
        let made = carol.request(json!({"action": "user/insert", "token": token,
            "user": {"login": "sensor-8", "password": "s8-password", "role": 1, "status": 0}}));
        assert_eq!(made["status"], "success", "{made}");
        let id = made["user"]["id"].clone();
        let device = connects(&stack, "sensor-8", "s8-password");
        let deleted = carol.request(json!({"action": "user/delete", "token": token, "userId": id}));
        assert_eq!(deleted["status"], "success", "{deleted}");
        wait_for("the deleted device to be disconnected", Duration::from_secs(10), || {
            (!device.is_connected()).then_some(())
        });
        assert!(TestClient::try_connect_as(&stack.broker, "sensor-8", "s8-password").is_err());
        Ok(())
    }
}

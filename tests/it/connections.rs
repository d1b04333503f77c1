//! Several broker connections (`DH_BROKER_CONNECTIONS`): the requests are shared between them,
//! each is answered once, and changing the count on the same broker neither repeats a request
//! (a stale subscription form left in the persistent session) nor strands one (in the session
//! of a connection that is gone).

use std::collections::HashMap;
use std::time::Duration;

use dh_mqtt_plugin::model::Role;
use serde_json::{json, Value};

use crate::support::{Backend, Stack, TestBroker, TestClient, TestDb, TestService};

/// Waits for the answer to each of `ids`, then checks that none of them comes a second time.
fn each_answered_once(client: &TestClient, ids: &[Value]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in ids {
        let answer = client.answer_to(id);
        assert_eq!(answer["status"], json!("success"), "{answer}");
        *seen.entry(id.to_string()).or_default() += 1;
    }
    client.expect_silence(Duration::from_millis(700));
    assert_eq!(seen.len(), ids.len());
}

fn send_gets(client: &TestClient, token: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| client.send_request(json!({"action": "user/getCurrent", "token": token})))
        .collect()
}

#[test]
fn two_connections_share_the_requests_and_answer_each_once() -> crate::support::TestResult {
    let stack = Stack::start_with(Backend::Sqlite, &[("DH_BROKER_CONNECTIONS", "2")]);
    let log = stack.service.log();
    for id in ["dh-mqtt-plugin", "dh-mqtt-plugin-2"] {
        assert!(
            log.contains(&format!(
                "$share/dh-mqtt-plugin/dh/request/+, $share/dh-mqtt-plugin/dh/request as {id}\n"
            )),
            "{log}"
        );
    }
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let token = stack.tokens.access(id, Role::Client);
    let clients: Vec<_> = ["alice", "bob", "carol"]
        .iter()
        .map(|login| stack.client(login))
        .collect();
    let sent: Vec<_> = clients.iter().map(|c| send_gets(c, &token, 60)).collect();
    for (client, ids) in clients.iter().zip(&sent) {
        each_answered_once(client, ids);
    }
    Ok(())
}

#[test]
fn changing_the_count_neither_repeats_nor_strands_requests() -> crate::support::TestResult {
    let broker = TestBroker::start();
    let db = TestDb::new(Backend::Sqlite);
    let tokens = crate::support::db::Tokens::new();
    let id = db.add_user("alice", "secret1", Role::Client);
    let token = tokens.access(id, Role::Client);
    let alice = TestClient::connect(&broker, "alice");

    // One connection: plain subscriptions in a persistent session.
    let mut one = TestService::start(&broker, &db);
    each_answered_once(&alice, &send_gets(&alice, &token, 5));
    assert!(one.terminate().success());

    // Two: the first session's plain forms must go, or each request would arrive twice.
    let mut two = TestService::start_with(&broker, &db, &[("DH_BROKER_CONNECTIONS", "2")]);
    each_answered_once(&alice, &send_gets(&alice, &token, 40));
    assert!(two.terminate().success());

    // Down: requests queue in the first connection's session (the second keeps none).
    let queued = send_gets(&alice, &token, 10);
    // Back to one: the queued ones are answered, and the shared form is dropped.
    let _back = TestService::start(&broker, &db);
    each_answered_once(&alice, &queued);
    each_answered_once(&alice, &send_gets(&alice, &token, 40));
    Ok(())
}

//! Secrets never reach the log, at any level: JWT secret, broker password, tokens, user
//! passwords and their hashes.

use dh_mqtt_plugin::model::Role;
use serde_json::json;

use crate::support::broker::SERVICE_PASSWORD;
use crate::support::{Backend, TestBroker, TestClient, TestDb, TestService, TEST_JWT_SECRET};

#[test]
fn trace_logs_hold_no_secrets() -> crate::support::TestResult {
    let broker = TestBroker::start();
    let db = TestDb::new(Backend::Sqlite);
    let id = db.add_user("alice", "first-password", Role::Client);
    let mut service = TestService::start_with(&broker, &db, &[("RUST_LOG", "trace")]);
    let token = crate::support::db::Tokens::new().access(id, Role::Client);
    let alice = TestClient::connect(&broker, "alice");
    alice.request(json!({"action": "authenticate", "token": token}));
    alice.request(json!({"action": "user/updateCurrent", "user": {"password": "second-password"}}));
    alice.request(json!({"action": "user/getCurrent", "token": format!("{token}x")}));
    alice.request(json!({"action": "user/updateCurrent", "user": {"password": "short"}}));
    alice.publish(
        "dh/request/alice",
        br#"{"action":"user/updateCurrent","token":"not-json"#,
        1,
    );
    alice.request(json!({"action": "user/getCurrent"}));
    assert_eq!(service.terminate().code(), Some(0));
    let log = service.log();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "ran at trace level:\n{log}"
    );
    let hash = db.user(id).password_hash.unwrap_or_default();
    let signature = token.rsplit('.').next().unwrap_or_default();
    // Paho's Debug of its connect options prints the password as a byte list.
    let password_bytes = format!("{:?}", SERVICE_PASSWORD.as_bytes());
    assert!(
        !log.contains(&password_bytes),
        "the broker password (as bytes) is in the log:\n{log}"
    );
    for secret in [
        TEST_JWT_SECRET,
        SERVICE_PASSWORD,
        &token,
        signature,
        "first-password",
        "second-password",
        "short",
        &hash,
    ] {
        assert!(
            !log.contains(secret),
            "the log contains a secret ({} chars):\n{log}",
            secret.len()
        );
    }
    Ok(())
}

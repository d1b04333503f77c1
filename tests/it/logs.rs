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

/// `migrate`'s log line with standard error on a file, `JOURNAL_STREAM` naming that file or
/// not (the variable alone is inherited by children whose output goes elsewhere).
fn migrate_log(journal: bool) -> String {
    use std::os::unix::fs::MetadataExt;
    let db = TestDb::new(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let path = dir.path().join("stderr");
    let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{e}"));
    let meta = file.metadata().unwrap_or_else(|e| panic!("{e}"));
    let stream = match journal {
        true => format!("{}:{}", meta.dev(), meta.ino()),
        false => "1:2".to_string(),
    };
    let status = std::process::Command::new(crate::support::service::binary())
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .env("JOURNAL_STREAM", stream)
        .env("RUST_LOG", "info")
        .stderr(file)
        .status()
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    assert!(status.success());
    std::fs::read_to_string(&path).unwrap_or_default()
}

#[test]
fn under_journald_lines_carry_a_priority_and_no_timestamp() {
    let journal = migrate_log(true);
    let line = journal
        .lines()
        .find(|l| l.contains("is up to date"))
        .unwrap_or_default();
    assert!(line.starts_with("<6>dh::migrate: database "), "{journal}");
    let terminal = migrate_log(false);
    let line = terminal
        .lines()
        .find(|l| l.contains("is up to date"))
        .unwrap_or_default();
    assert!(
        line.starts_with("[20") && line.contains("INFO"),
        "{terminal}"
    );
}

//! Every request is answered within 2 s whatever the database does, and a request answered
//! 503 changes nothing. Faults are staged on a TCP proxy the test owns in front of PostgreSQL
//! (stalled: connections open, nothing forwarded; cut: every connection closed) and on a
//! SQLite write lock the test holds.

use std::time::{Duration, Instant};

use dh_mqtt_plugin::model::Role;
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use serde_json::{json, Value};

use crate::support::db::Tokens;
use crate::support::{wait_for, Backend, Stack, TestBroker, TestClient, TestDb, TestService};
use dh_mqtt_plugin::bench::proxy::{Mode, TcpProxy};

/// The contract's bound on an answer whatever the database does.
const ANSWER_BOUND: Duration = Duration::from_secs(2);

/// A PostgreSQL stack whose service reaches its database through a proxy.
fn proxied() -> (Stack, TcpProxy) {
    proxied_with(&[])
}

/// [`proxied`], with extra service environment.
pub fn proxied_with(extra: &[(&str, &str)]) -> (Stack, TcpProxy) {
    let broker = TestBroker::start();
    let db = TestDb::new(Backend::Postgres);
    let (credentials, rest) = db
        .url
        .split_once('@')
        .unwrap_or_else(|| panic!("{}", db.url));
    let (server, name) = rest.split_once('/').unwrap_or_else(|| panic!("{}", db.url));
    let proxy = TcpProxy::start(0, server).unwrap_or_else(|e| panic!("proxy: {e}"));
    let url = format!("{credentials}@127.0.0.1:{}/{name}", proxy.port());
    let mut env = vec![("DATABASE_URL", url.as_str())];
    env.extend_from_slice(extra);
    let service = TestService::start_with(&broker, &db, &env);
    let stack = Stack {
        service,
        db,
        broker,
        tokens: Tokens::new(),
    };
    (stack, proxy)
}

/// Publishes every request at once; each must be answered 503 `Service unavailable` within
/// [`ANSWER_BOUND`] of its publish.
fn all_unavailable_in_time(client: &TestClient, requests: &[Value]) {
    let sent = Instant::now();
    let ids: Vec<Value> = requests
        .iter()
        .map(|r| client.send_request(r.clone()))
        .collect();
    for id in ids {
        let left = ANSWER_BOUND.saturating_sub(sent.elapsed());
        let answer = client
            .wait_answer(|r| r.json["requestId"] == id, left)
            .unwrap_or_else(|| panic!("request {id} not answered within {ANSWER_BOUND:?}"));
        assert_eq!(
            (&answer.json["code"], &answer.json["error"]),
            (&json!(503), &json!("Service unavailable")),
            "{}",
            answer.json
        );
    }
}

/// Waits until getCurrent succeeds again, at most 5 s.
fn recovers(client: &TestClient, token: &str) {
    wait_for(
        "100 % success after the database is back",
        Duration::from_secs(5),
        || {
            let ok = (0..5).all(|_| {
                let a = client.try_request(
                    json!({"action": "user/getCurrent", "token": token}),
                    ANSWER_BOUND,
                );
                a.is_some_and(|a| a["status"] == "success")
            });
            ok.then_some(())
        },
    );
}

fn requests(token: &str) -> Vec<Value> {
    let mut list: Vec<Value> = (0..10)
        .map(|_| json!({"action": "user/getCurrent", "token": token}))
        .collect();
    list.push(json!({"action": "user/updateCurrent", "token": token, "user": {"data": "late"}}));
    list
}

/// With the proxy in `mode` for the whole stretch, every request gets 503 in time (twice, so
/// they keep coming while the fault lasts); after it, the service recovers, and the update
/// answered 503 never landed.
fn answered_in_time_through(mode: Mode) -> crate::support::TestResult {
    let (stack, proxy) = proxied();
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let token = stack.tokens.access(id, Role::Client);
    let alice = stack.client("alice");
    recovers(&alice, &token);
    proxy.set(mode);
    all_unavailable_in_time(&alice, &requests(&token));
    all_unavailable_in_time(&alice, &requests(&token));
    proxy.set(Mode::Forward);
    recovers(&alice, &token);
    assert_eq!(
        stack.db.user(id).data,
        None,
        "an update answered 503 landed later"
    );
    Ok(())
}

#[test]
fn a_stalled_database_is_answered_503_in_time_and_changes_nothing() -> crate::support::TestResult {
    answered_in_time_through(Mode::Stall)
}

#[test]
fn a_cut_database_is_answered_503_in_time_then_recovers() -> crate::support::TestResult {
    answered_in_time_through(Mode::Cut)
}

#[test]
fn a_held_sqlite_write_lock_is_answered_503_in_time() -> crate::support::TestResult {
    let stack = Stack::start(Backend::Sqlite);
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let token = stack.tokens.access(id, Role::Client);
    let alice = stack.client("alice");
    let path = stack.db.url.trim_start_matches("sqlite://").to_string();
    let mut locker = SqliteConnection::establish(&path)?;
    locker.batch_execute("BEGIN IMMEDIATE")?;
    let update = json!({"action": "user/updateCurrent", "token": token, "user": {"data": "x"}});
    all_unavailable_in_time(&alice, &[update.clone(), update.clone()]);
    // Readers are not blocked by the writer (WAL).
    let read = alice.try_request(
        json!({"action": "user/getCurrent", "token": token}),
        ANSWER_BOUND,
    );
    assert_eq!(read.map(|a| a["status"].clone()), Some(json!("success")));
    locker.batch_execute("ROLLBACK")?;
    let answer = alice.request(update);
    assert_eq!(answer["status"], "success", "{answer}");
    assert_eq!(stack.db.user(id).data.as_deref(), Some("\"x\""));
    Ok(())
}

//! How the service fails and recovers: broker restarts, SIGKILL with requests queued at the
//! broker, SIGTERM draining, a broker that is down at start-up, a database outage, overload.
//! Every QoS 1 request gets an answer.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use dh_mqtt_plugin::model::Role;
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::db::admin_sql;
use crate::support::{Backend, Stack, TestBroker, TestClient, TestDb, TestService};

/// Publishes `n` requests built by `body(i)` and returns their request ids.
fn publish_many(client: &TestClient, n: usize, body: impl Fn(usize) -> Value) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let id = json!(format!("req-{i}"));
            let mut b = body(i);
            b["requestId"] = id.clone();
            client.publish(
                &format!("dh/request/{}", client.id),
                b.to_string().as_bytes(),
                1,
            );
            id
        })
        .collect()
}

/// Collects one answer per id; fails naming the missing ones.
fn collect_answers(client: &TestClient, ids: &[Value]) -> Vec<Value> {
    let mut want: HashSet<String> = ids.iter().map(ToString::to_string).collect();
    let mut answers = Vec::new();
    while !want.is_empty() {
        let Some(got) = client.next(Duration::from_secs(15)) else {
            panic!("{} requests never answered: {want:?}", want.len());
        };
        assert!(
            want.remove(&got.json["requestId"].to_string()),
            "unexpected or duplicate answer {}",
            got.json
        );
        answers.push(got.json);
    }
    answers
}

both_backends! {
    fn survives_a_broker_restart(backend) {
        let mut stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let token = stack.tokens.access(id, Role::Client);
        assert_eq!(stack.client("alice").request(json!({"action": "user/getCurrent", "token": token}))["status"], "success");
        stack.broker.stop();
        stack.broker.start_again();
        stack.service.wait_ready_count(2);
        let answer = stack.client("alice").request(json!({"action": "user/getCurrent", "token": token}));
        assert_eq!(answer["status"], "success", "served again without restarting the service");
        Ok(())
    }

    fn answers_requests_queued_while_killed(backend) {
        let mut stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let token = stack.tokens.access(id, Role::Client);
        let alice = stack.client("alice");
        stack.service.kill();
        let ids = publish_many(&alice, 20, |i| json!({"action": "user/updateCurrent", "token": token,
                                                       "user": {"data": {"seq": i}}}));
        stack.service.restart();
        stack.service.wait_ready_count(2);
        let answers = collect_answers(&alice, &ids);
        assert!(answers.iter().all(|a| a["status"] == "success"), "{answers:?}");
        Ok(())
    }

    fn sigterm_answers_in_flight_requests_then_disconnects(backend) {
        let mut stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let token = stack.tokens.access(id, Role::Client);
        let alice = stack.client("alice");
        // Password changes take an Argon2 hash each, so many are in flight at once.
        let ids = publish_many(&alice, 30, |i| json!({"action": "user/updateCurrent", "token": token,
                                                       "user": {"password": format!("secret-{i:03}")}}));
        let first = alice.next(Duration::from_secs(15)).unwrap_or_else(|| panic!("no answer"));
        let status = stack.service.terminate();
        let rest: Vec<Value> = ids.into_iter().filter(|i| *i != first.json["requestId"]).collect();
        let answers = collect_answers(&alice, &rest);
        assert!(answers.iter().all(|a| a["status"] == "success"), "{answers:?}");
        assert!(status.success(), "exit status {status}");
        // Draining ends when the broker has acknowledged every answer, not at the timeout.
        assert!(stack.service.log().contains("drained in"), "{}", stack.service.log());
        assert!(stack.service.log().contains("disconnected cleanly"), "{}", stack.service.log());
        assert!(stack.service.stray_files().is_empty(), "no Paho persistence files: {:?}", stack.service.stray_files());
        Ok(())
    }

    fn overload_is_shed_with_503_never_dropped(backend) {
        let stack = Stack::start_with(backend, &[("DH_MAX_IN_FLIGHT", "1")]);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let token = stack.tokens.access(id, Role::Client);
        let alice = stack.client("alice");
        let ids = publish_many(&alice, 30, |i| json!({"action": "user/updateCurrent", "token": token,
                                                       "user": {"password": format!("secret-{i:03}")}}));
        let answers = collect_answers(&alice, &ids);
        let busy = answers.iter().filter(|a| a["code"] == 503 && a["error"] == "Server is busy").count();
        let ok = answers.iter().filter(|a| a["status"] == "success").count();
        assert_eq!(busy + ok, 30, "{answers:?}");
        assert!(busy > 0 && ok > 0, "expected both successes and 503s, got {ok} / {busy}");
        Ok(())
    }

    fn a_login_flood_beyond_the_password_queue_is_refused_and_counts_nothing(backend) {
        let stack = Stack::start_with(backend, &[("DH_PASSWORD_QUEUE", "2"), ("DH_MAX_LOGIN_ATTEMPTS", "1000")]);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let token = stack.tokens.access(id, Role::Client);
        let mallory = stack.client("mallory");
        let ids = publish_many(&mallory, 20, |_| json!({"action": "token", "login": "alice", "password": "guess-1"}));
        // getCurrent does not wait behind the password queue.
        let alice = stack.client("alice");
        assert_eq!(alice.request(json!({"action": "user/getCurrent", "token": token}))["status"], "success");
        let answers = collect_answers(&mallory, &ids);
        let busy = answers.iter().filter(|a| a["code"] == 503 && a["error"] == "Server is busy").count();
        let denied = answers.iter().filter(|a| a["code"] == 401 && a["error"] == "Invalid credentials").count();
        assert_eq!(busy + denied, 20, "{answers:?}");
        assert!(busy > 0 && denied > 0, "expected both 401s and 503s, got {denied} / {busy}");
        // A refused login never reached the password check: only the 401s count as attempts.
        assert_eq!(stack.db.user(id).login_attempts, i32::try_from(denied)?);
        Ok(())
    }
}

#[test]
fn starts_while_the_broker_is_down() -> crate::support::TestResult {
    let mut broker = TestBroker::start();
    let db = TestDb::new(Backend::Sqlite);
    let id = db.add_user("alice", "secret1", Role::Client);
    broker.stop();
    let mut service = TestService::spawn_with(&broker.url(), &db, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    broker.start_again();
    service.wait_ready();
    let token = crate::support::db::Tokens::new().access(id, Role::Client);
    let answer = TestClient::connect(&broker, "alice")
        .request(json!({"action": "user/getCurrent", "token": token}));
    assert_eq!(answer["status"], "success");
    assert!(
        service.log().contains("cannot connect to broker"),
        "{}",
        service.log()
    );
    Ok(())
}

/// A service on its own PostgreSQL database with alice in it: the stack and her access token.
fn alice_on_postgres() -> (Stack, String) {
    let stack = Stack::start(Backend::Postgres);
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let token = stack.tokens.access(id, Role::Client);
    (stack, token)
}

#[test]
fn database_outage_is_answered_with_503_then_recovers() -> crate::support::TestResult {
    let (stack, token) = alice_on_postgres();
    let name = stack.db.pg_name();
    let alice = stack.client("alice");
    let ask = || alice.request(json!({"action": "user/getCurrent", "token": token}));
    assert_eq!(ask()["status"], "success");
    admin_sql(&format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
    ));
    let started = Instant::now();
    let answer = ask();
    eprintln!("outage answered after {:?}", started.elapsed());
    assert_eq!(
        (&answer["code"], &answer["error"]),
        (&json!(503), &json!("Service unavailable"))
    );
    admin_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"));
    let recovered =
        crate::support::wait_for("the service to recover", Duration::from_secs(15), || {
            let a = ask();
            (a["status"] == "success").then_some(a)
        });
    assert_eq!(recovered["current"]["login"], "alice");
    Ok(())
}

/// Connections the server ended while idle are never handed to a request: they are dropped
/// (by the health check, or found dead by the idle ping of `db::liveness`) and replaced.
#[test]
fn a_connection_ended_while_idle_is_replaced_without_an_error() -> crate::support::TestResult {
    let (stack, token) = alice_on_postgres();
    let name = stack.db.pg_name();
    let alice = stack.client("alice");
    let ask = || alice.request(json!({"action": "user/getCurrent", "token": token}));
    assert_eq!(ask()["status"], "success");
    admin_sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ));
    std::thread::sleep(Duration::from_millis(1500));
    for _ in 0..3 {
        let answer = ask();
        assert_eq!(answer["status"], "success", "{answer}");
    }
    Ok(())
}

#[test]
fn a_second_instance_on_one_sqlite_file_refuses_to_start() -> crate::support::TestResult {
    let stack = Stack::start(Backend::Sqlite);
    let mut second = TestService::spawn_with(
        &stack.broker.url(),
        &stack.db,
        &[("DH_CLIENT_ID", "second")],
    );
    let status = second.wait_exit();
    assert!(!status.success(), "the second instance kept running");
    let log = second.log();
    assert!(
        log.contains("another dh-mqtt-plugin serves the SQLite database"),
        "{log}"
    );
    // The first one still serves.
    let id = stack.db.add_user("alice", "secret1", Role::Client);
    let answer = stack.client("alice").request(
        json!({"action": "user/getCurrent", "token": stack.tokens.access(id, Role::Client)}),
    );
    assert_eq!(answer["status"], "success");
    Ok(())
}

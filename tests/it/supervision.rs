//! Supervision: a panic while handling one request answers that request with a
//! 500, restarts only the actor that panicked, and the next request succeeds. Faults are
//! injected through the library's test-only fault plan, so the service runs in-process here.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use dh_mqtt_plugin::actors::supervise::{FaultSite, Faults};
use dh_mqtt_plugin::config::{Config, SettingsArgs};
use dh_mqtt_plugin::model::Role;
use dh_mqtt_plugin::service;
use serde_json::{json, Value};

use crate::support::broker::SERVICE_PASSWORD;
use crate::support::db::Tokens;
use crate::support::{wait_for, Backend, TestBroker, TestClient, TestDb, TEST_JWT_SECRET};

struct InProcess {
    stop: Option<futures::channel::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<anyhow::Result<()>>>,
}

impl InProcess {
    fn start(broker: &TestBroker, db: &TestDb, faults: Arc<Faults>) -> InProcess {
        // The service's log goes to the test's captured output (shown when a test fails).
        let _ = env_logger::builder()
            .is_test(true)
            .filter_level(log::LevelFilter::Info)
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(
            &file,
            format!(
                "database_url = \"{}\"\nbroker_url = \"{}\"\nbroker_username = \"dhplugin\"\n\
             broker_password = \"{SERVICE_PASSWORD}\"\njwt_secret = \"{TEST_JWT_SECRET}\"\n\
             db_pool_size = 2\n",
                db.url,
                broker.url()
            ),
        )
        .unwrap();
        let config = Config::resolve(&SettingsArgs::default(), Some(&file)).unwrap();
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            actix::System::new().block_on(service::run(
                Arc::new(config),
                Some(faults),
                async move {
                    let _ = rx.await;
                },
            ))
        });
        InProcess {
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    /// Why the service stopped, if it has (it only stops on its own when it fails).
    fn exited(&mut self) -> Option<String> {
        if !self.thread.as_ref()?.is_finished() {
            return None;
        }
        let outcome = self.thread.take()?.join();
        Some(match outcome {
            Ok(Ok(())) => "it returned without being stopped".to_string(),
            Ok(Err(e)) => format!("{e:#}"),
            Err(_) => "its thread panicked".to_string(),
        })
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn internal_error(answer: &Value) -> bool {
    answer["code"] == 500 && answer["error"] == "Internal server error"
}

/// A broker, a SQLite database with user `alice`, the in-process service with a fault plan,
/// and alice's client once the service answers.
struct Harness {
    client: TestClient,
    faults: Arc<Faults>,
    token: String,
    user_id: i64,
    _service: InProcess,
    db: TestDb,
    _broker: TestBroker,
}

impl Harness {
    fn start() -> Harness {
        let broker = TestBroker::start();
        let db = TestDb::new(Backend::Sqlite);
        let user_id = db.add_user("alice", "secret1", Role::Client);
        let faults = Arc::new(Faults::default());
        let mut service = InProcess::start(&broker, &db, Arc::clone(&faults));
        let client = TestClient::connect(&broker, "alice");
        let token = Tokens::new().access(user_id, Role::Client);
        wait_for("the in-process service", Duration::from_secs(20), || {
            if let Some(why) = service.exited() {
                panic!("the in-process service stopped: {why}");
            }
            let probe = json!({"action": "user/getCurrent", "token": token});
            let answer = client.try_request(probe, Duration::from_millis(300));
            answer.filter(|a| a["status"] == "success").map(|_| ())
        });
        Harness {
            client,
            faults,
            token,
            user_id,
            _service: service,
            db,
            _broker: broker,
        }
    }
}

#[test]
fn each_actor_restarts_alone_after_a_panic() -> crate::support::TestResult {
    let h = Harness::start();
    let auth = h
        .client
        .request(json!({"action": "authenticate", "token": h.token}));
    assert_eq!(auth["status"], "success");
    // From here on requests rely on the session in the database (the auth actor verifies
    // tokens only: its case sends one), so a restart that lost it would show as a 401.
    let get = json!({"action": "user/getCurrent"});
    let get_with_token = json!({"action": "user/getCurrent", "token": h.token});
    let set_data = json!({"action": "user/updateCurrent", "user": {"data": {"v": 1}}});
    let set_password = json!({"action": "user/updateCurrent", "user": {"password": "changed-pw"}});
    let cases = [
        (FaultSite::Ingest, get.clone(), 1),
        (FaultSite::Auth, get_with_token, 1),
        // Panics in a row on one repository lane: its actor must be restarted each time.
        (FaultSite::Repo, set_data.clone(), 3),
        (FaultSite::Repo, get.clone(), 2),
        (FaultSite::Hasher, set_password, 1),
        (FaultSite::Updates, set_data.clone(), 1),
        (FaultSite::Reads, get.clone(), 1),
        (FaultSite::Publisher, get.clone(), 1),
    ];
    let hash_before = h.db.user(h.user_id).password_hash;
    for (site, request, times) in cases {
        h.faults.arm(site, times);
        for _ in 0..times {
            let failed = h.client.request(request.clone());
            assert!(internal_error(&failed), "{site:?}: {failed}");
        }
        let next = h.client.request(request.clone());
        assert_eq!(next["status"], "success", "{site:?}: next request {next}");
        let me = h.client.request(get.clone());
        assert_eq!(
            me["current"]["login"], "alice",
            "{site:?}: session survived"
        );
        if site == FaultSite::Repo {
            assert_eq!(me["current"]["data"], json!({"v": 1}));
        }
        if site == FaultSite::Hasher {
            assert_ne!(
                h.db.user(h.user_id).password_hash,
                hash_before,
                "the retry changed it"
            );
        }
    }
    Ok(())
}

#[test]
fn failed_requests_change_nothing() -> crate::support::TestResult {
    let h = Harness::start();
    let hash_before = h.db.user(h.user_id).password_hash;
    for site in [FaultSite::Repo, FaultSite::Hasher, FaultSite::Updates] {
        h.faults.arm(site, 1);
        let failed = h
            .client
            .request(json!({"action": "user/updateCurrent", "token": h.token,
                                             "user": {"password": "changed-pw", "data": "x"}}));
        assert!(internal_error(&failed), "{site:?}: {failed}");
        let row = h.db.user(h.user_id);
        assert_eq!(
            (row.data, row.password_hash),
            (None, hash_before.clone()),
            "{site:?}"
        );
    }
    Ok(())
}

#[test]
fn a_publish_the_broker_refuses_cannot_wedge_the_service() -> crate::support::TestResult {
    let h = Harness::start();
    h.faults.arm(FaultSite::RefusedTopic, 1);
    let get = json!({"action": "user/getCurrent", "token": h.token});
    let refused = h.client.send_request(get.clone());
    // Mosquitto drops the service's connection for that publish; Paho resends it on every
    // reconnect until the service gives the answer up with a clean session. The first answer
    // may be one the service held from before it went clean, released right after CONNACK and
    // before it has subscribed again (a request sent then goes nowhere): recovered means two
    // answers in a row.
    let answered = || {
        h.client
            .try_request(get.clone(), Duration::from_millis(300))
            .is_some_and(|a| a["status"] == "success")
    };
    wait_for(
        "two answers in a row after the refused publish",
        Duration::from_secs(10),
        || (answered() && answered()).then_some(()),
    );
    for _ in 0..20 {
        let answer = h.client.request(get.clone());
        assert_eq!(answer["status"], "success", "{answer}");
    }
    let late = h.client.wait_answer(
        |r| r.json["requestId"] == refused,
        Duration::from_millis(300),
    );
    assert!(
        late.is_none(),
        "the refused answer was dropped, not delivered"
    );
    Ok(())
}

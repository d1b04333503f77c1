//! Several instances on one broker and one database (docs/OPERATIONS.md, "Several
//! instances"): sessions are rows every instance reads, so a device authenticated through one
//! instance is known to all of them and across restarts; one instance at a time holds the
//! keeper session, where requests queue while no instance runs.

use std::time::Duration;

use dh_mqtt_plugin::auth::jwt::{now_ms, TokenType};
use dh_mqtt_plugin::model::{Role, UserStatus};
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::broker::INSTANCES;
use crate::support::db::Tokens;
use crate::support::{wait_for, Backend, TestBroker, TestClient, TestDb, TestService};

/// A broker, a database and `count` named instances in one share group (one on SQLite, which
/// serves a file from one process).
struct Deployment {
    instances: Vec<TestService>,
    db: TestDb,
    broker: TestBroker,
    tokens: Tokens,
}

impl Deployment {
    fn start(backend: Backend) -> Deployment {
        let count = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => INSTANCES.len(),
        };
        let broker = TestBroker::start();
        let db = TestDb::new(backend);
        let instances = INSTANCES[..count]
            .iter()
            .map(|name| TestService::start_with(&broker, &db, &[("DH_INSTANCE", name)]))
            .collect();
        let deployment = Deployment {
            instances,
            db,
            broker,
            tokens: Tokens::new(),
        };
        deployment.wait_for_keeper();
        deployment
    }

    /// Waits until some running instance holds the keeper session and has subscribed on it.
    fn wait_for_keeper(&self) {
        wait_for(
            "an instance to hold the keeper session",
            Duration::from_secs(10),
            || {
                let keeper_ready = |s: &TestService| s.log().contains(" as dh-mqtt-plugin\n");
                self.instances.iter().any(keeper_ready).then_some(())
            },
        );
    }

    /// SIGTERM then start again, one instance after the other.
    fn restart_all(&mut self) {
        for service in &mut self.instances {
            service.terminate();
            service.restart();
            service.wait_ready();
        }
        self.wait_for_keeper();
    }

    fn sessions_of(&self, client_id: &str) -> i64 {
        let mut conn = self.db.conn();
        dh_mqtt_plugin::db::sessions::count_of(&mut conn, client_id).unwrap_or(-1)
    }
}

/// The logins `n` token-less getCurrent requests of `client` were answered as.
fn logins(client: &TestClient, n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| {
            let answer = client.request(json!({"action": "user/getCurrent"}));
            match answer["status"].as_str() {
                Some("success") => answer["current"]["login"].clone(),
                _ => answer["code"].clone(),
            }
        })
        .collect()
}

both_backends! {
    fn a_session_holds_on_every_instance_and_across_restarts(backend) {
        let mut deployment = Deployment::start(backend);
        let alice_id = deployment.db.add_user("alice", "secret1", Role::Client);
        let bob_id = deployment.db.add_user("bob", "secret1", Role::Client);
        let device = TestClient::connect(&deployment.broker, "alice");
        let token = deployment.tokens.access(alice_id, Role::Client);
        let bound = device.request(json!({"action": "authenticate", "token": token}));
        assert_eq!(bound["status"], "success", "{bound}");
        // Mosquitto hands the share group's members requests in turn: 30 reach every one.
        assert_eq!(logins(&device, 30), vec![json!("alice"); 30]);

        deployment.restart_all();
        assert_eq!(logins(&device, 6), vec![json!("alice"); 6], "after restarting every instance");

        // Authenticating as another user is what every instance answers with next.
        let as_bob = deployment.tokens.access(bob_id, Role::Client);
        assert_eq!(device.request(json!({"action": "authenticate", "token": as_bob}))["status"], "success");
        assert_eq!(logins(&device, 12), vec![json!("bob"); 12]);

        deployment.db.set_status(bob_id, UserStatus::Disabled);
        assert_eq!(logins(&device, 12), vec![json!(401); 12], "a disabled user's session, everywhere");
        Ok(())
    }

    fn expired_sessions_are_deleted(backend) {
        let mut deployment = Deployment::start(backend);
        let carol_id = deployment.db.add_user("carol", "secret1", Role::Client);
        let carol = TestClient::connect(&deployment.broker, "carol");
        let short = deployment.tokens.mint(&Tokens::claims(carol_id, Role::Client, TokenType::Access, now_ms() + 1_000));
        assert_eq!(carol.request(json!({"action": "authenticate", "token": short}))["status"], "success");
        assert_eq!(deployment.sessions_of("carol"), 1);
        std::thread::sleep(Duration::from_millis(1_100));
        // Every instance deletes expired sessions when it starts, then every minute.
        let first = deployment.instances.first_mut().unwrap_or_else(|| panic!("no instance"));
        first.terminate();
        first.restart();
        first.wait_ready();
        wait_for("the expired session to be deleted", Duration::from_secs(10), || {
            (deployment.sessions_of("carol") == 0).then_some(())
        });
        let expired = carol.request(json!({"action": "user/getCurrent"}));
        assert_eq!(expired["code"], 401, "{expired}");
        Ok(())
    }
}

mod postgres_only {
    use super::*;

    #[test]
    fn requests_sent_while_every_instance_is_down_are_answered_by_the_first_one_back() {
        let mut deployment = Deployment::start(Backend::Postgres);
        let id = deployment.db.add_user("dave", "secret1", Role::Client);
        let token = deployment.tokens.access(id, Role::Client);
        let dave = TestClient::connect(&deployment.broker, "dave");
        assert_eq!(
            dave.request(json!({"action": "user/getCurrent", "token": token}))["status"],
            "success"
        );
        for service in &mut deployment.instances {
            service.terminate();
        }
        let sent: Vec<Value> = (0..5)
            .map(|_| dave.send_request(json!({"action": "user/getCurrent", "token": token})))
            .collect();
        let last = deployment
            .instances
            .last_mut()
            .unwrap_or_else(|| panic!("no instance"));
        last.restart();
        for id in &sent {
            assert_eq!(dave.answer_to(id)["status"], "success");
        }
    }

    #[test]
    fn the_keeper_moves_to_another_instance_when_its_holder_is_killed() {
        let mut deployment = Deployment::start(Backend::Postgres);
        let holder = deployment
            .instances
            .iter()
            .position(|s| s.log().contains("now holds the keeper session"))
            .unwrap_or_else(|| panic!("no holder"));
        deployment.instances[holder].kill();
        wait_for(
            "another instance to take the keeper over",
            Duration::from_secs(10),
            || {
                deployment
                    .instances
                    .iter()
                    .enumerate()
                    .any(|(i, s)| i != holder && s.log().contains("now holds the keeper session"))
                    .then_some(())
            },
        );
    }

    #[test]
    fn an_unnamed_second_instance_refuses_to_start() {
        let broker = TestBroker::start();
        let db = TestDb::new(Backend::Postgres);
        let _first = TestService::start(&broker, &db);
        let mut second = TestService::spawn_with(&broker.url(), &db, &[]);
        let status = second.wait_exit();
        assert!(!status.success());
        assert!(
            second
                .log()
                .contains("give every instance its own DH_INSTANCE"),
            "{}",
            second.log()
        );
    }
}

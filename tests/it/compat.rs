//! Sharing PostgreSQL with a DeviceHive server: our migrations leave its schema alone, its
//! seeded admin is readable and its legacy password verifies, and `last_login` (timestamptz)
//! is stored in UTC whatever the server's time zone.

use chrono::{NaiveDateTime, Utc};
use dh_mqtt_plugin::auth::password;
use dh_mqtt_plugin::db::user_repo;
use dh_mqtt_plugin::model::Role;
use serde_json::json;
use std::process::Command;

use crate::support::service::{binary, service_env};
use crate::support::{Backend, TestBroker, TestDb, TestService};

#[test]
fn serves_an_existing_devicehive_database() -> crate::support::TestResult {
    let db = TestDb::empty(Backend::Postgres);
    db.sql(include_str!("../fixtures/devicehive-schema.sql"));
    let broker = TestBroker::start();
    let out = Command::new(binary())
        .arg("migrate")
        .env_clear()
        .envs(service_env(&broker.url(), &db))
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = user_repo::find_by_login(&mut db.conn(), "dhadmin")?.ok_or("dhadmin is gone")?;
    assert_eq!((admin.id, admin.role, admin.status), (1, 0, 0));
    let hash = admin.password_hash.clone().unwrap_or_default();
    assert!(password::verify(
        "dhadmin_#911",
        &hash,
        admin.password_salt.as_deref()
    ));
    assert!(!password::verify(
        "dhadmin_#912",
        &hash,
        admin.password_salt.as_deref()
    ));

    let _service = TestService::start(&broker, &db);
    let token = crate::support::db::Tokens::new().access(1, Role::Admin);
    let me = crate::support::TestClient::connect(&broker, "alice")
        .request(json!({"action": "user/getCurrent", "token": token}));
    assert_eq!(me["current"]["login"], "dhadmin");
    assert_eq!(
        me["current"]["networks"],
        json!([
            {"id": 1, "name": "Sample Network", "description": "A DeviceHive Sample Network"}
        ])
    );
    // Flyway's history is untouched; ours is kept apart.
    let id = db.add_user("second", "secret1", Role::Client);
    assert_eq!(id, 2, "the shared user_id_seq keeps counting");
    Ok(())
}

/// The user family reads and writes DeviceHive's own rows: its seeded admin, network, device
/// types and link, its sequences.
#[test]
fn the_user_family_works_on_devicehive_rows() -> crate::support::TestResult {
    let db = TestDb::empty(Backend::Postgres);
    db.sql(include_str!("../fixtures/devicehive-schema.sql"));
    dh_mqtt_plugin::db::migrate::run(&db.db_url())?;
    let broker = TestBroker::start();
    let _service = TestService::start(&broker, &db);
    let token = crate::support::db::Tokens::new().access(1, Role::Admin);
    let client = crate::support::TestClient::connect(&broker, "alice");
    let ask = |mut body: serde_json::Value| {
        body["token"] = json!(token);
        let answer = client.request(body.clone());
        assert_eq!(answer["status"], "success", "{body} -> {answer}");
        answer
    };
    let listed = ask(json!({"action": "user/list"}));
    assert_eq!(listed["users"][0]["login"], "dhadmin");
    assert_eq!(listed["users"][0]["allDeviceTypesAvailable"], true);
    let got = ask(json!({"action": "user/get", "userId": 1}));
    assert_eq!(got["user"]["networks"][0]["name"], "Sample Network");
    let all = ask(json!({"action": "user/getDeviceTypes", "userId": 1}));
    assert_eq!(all["deviceTypes"].as_array().map(Vec::len), Some(3));
    let linked = ask(json!({"action": "user/getDeviceType", "userId": 1, "deviceTypeId": 1}));
    assert_eq!(
        linked["deviceType"]["deviceType"],
        json!({"id": 1, "name": "Default Device Type", "description": "Default DeviceHive device type"})
    );
    ask(json!({"action": "user/disallowAllDeviceTypes", "userId": 1}));
    let own = ask(json!({"action": "user/getDeviceTypes", "userId": 1}));
    assert_eq!(
        own["deviceTypes"][0]["id"], 1,
        "DeviceHive's link row counts"
    );

    let made = ask(
        json!({"action": "user/insert", "user": {"login": "device-1", "role": 1, "password": "secret1"}}),
    );
    assert_eq!(made["user"]["id"], 2, "DeviceHive's user_id_seq");
    ask(json!({"action": "user/assignNetwork", "userId": 2, "networkId": 1}));
    ask(json!({"action": "user/disallowAllDeviceTypes", "userId": 2}));
    ask(json!({"action": "user/assignDeviceType", "userId": 2, "deviceTypeId": 2}));
    let links = ask(json!({"action": "user/getDeviceTypes", "userId": 2}));
    assert_eq!(links["deviceTypes"][0]["name"], "Cameras");
    ask(json!({"action": "user/delete", "userId": 2}));
    let dump = db.dump();
    assert!(dump.contains("user_network [(1, 1, 1)]"), "{dump}");
    assert!(dump.contains("user_device_type [(1, 1, 1)]"), "{dump}");
    assert!(
        dump.contains("(1, \"Sample Network\", Some(\"A DeviceHive Sample Network\"), 1)"),
        "assigning bumped the network's entity_version, as DeviceHive's ORM does: {dump}"
    );
    Ok(())
}

#[test]
fn last_login_is_utc_on_a_server_in_another_time_zone() -> crate::support::TestResult {
    let db = TestDb::new(Backend::Postgres);
    let name = db.pg_name();
    crate::support::db::admin_sql(&format!(
        "ALTER DATABASE {name} SET timezone TO 'America/New_York'"
    ));
    let id = db.add_user("alice", "secret1", Role::Client);
    let broker = TestBroker::start();
    let _service = TestService::start(&broker, &db);
    let alice = crate::support::TestClient::connect(&broker, "alice");
    let token = crate::support::db::Tokens::new().access(id, Role::Client);
    assert_eq!(
        alice.request(json!({"action": "authenticate", "token": token}))["status"],
        "success"
    );
    let me = alice.request(json!({"action": "user/getCurrent"}));
    let text = me["current"]["lastLogin"].as_str().unwrap_or_default();
    let last = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f")?;
    let skew = (Utc::now().naive_utc() - last).num_seconds().abs();
    assert!(skew < 60, "lastLogin {text} is {skew} s away from UTC now");
    Ok(())
}

//! The login sync's watcher (`db::data_version::Watch`) on real databases: its marker moves
//! with every committed change the broker plugin is told of, made on another connection, and
//! stays put while nothing is written.

use std::time::Duration;

use dh_mqtt_plugin::db::data_version::Watch;
use dh_mqtt_plugin::db::DbPool;
use dh_mqtt_plugin::model::Role;

use crate::support::{Backend, TestDb};

fn moves_with_each_change(backend: Backend) {
    let db = TestDb::new(backend);
    let id = db.add_user("sensor-1", "secret1", Role::Client);
    db.sql(&format!(
        "INSERT INTO dh_mqtt_broker_login (user_id, login, salt, verifier) \
         VALUES ({id}, 'sensor-1', 'aa', 'bb')"
    ));
    // The watcher's pool is its own; every change below is made on the test's connections.
    let pool = DbPool::open(&db.db_url(), 1, Duration::from_secs(5)).unwrap();
    let mut watch = Watch::for_url(&db.db_url());
    let mut last = watch.read(&pool);
    assert!(last.is_some(), "the marker is readable on {backend:?}");
    assert_eq!(watch.read(&pool), last, "nothing was written");
    for (what, sql) in [
        (
            "a status change",
            format!("UPDATE dh_user SET status = 1 WHERE id = {id}"),
        ),
        (
            "a login change",
            format!("UPDATE dh_user SET login = 'sensor-2' WHERE id = {id}"),
        ),
        (
            "a new password",
            format!("UPDATE dh_mqtt_broker_login SET salt = 'cc' WHERE user_id = {id}"),
        ),
        (
            "a deleted user",
            format!("DELETE FROM dh_user WHERE id = {id}"),
        ),
        (
            "a deleted login",
            format!("DELETE FROM dh_mqtt_broker_login WHERE user_id = {id}"),
        ),
    ] {
        db.sql(&sql);
        let now = watch.read(&pool);
        assert!(
            now.is_some() && now != last,
            "{what} moves the marker on {backend:?}"
        );
        assert_eq!(watch.read(&pool), now, "and it stays after {what}");
        last = now;
    }
}

#[test]
fn sqlite_marker_moves_with_each_change() {
    moves_with_each_change(Backend::Sqlite);
}

#[test]
fn postgres_marker_moves_with_each_change() {
    moves_with_each_change(Backend::Postgres);
}

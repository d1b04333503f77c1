//! PostgreSQL: an update batch that is one bulk statement commits without a transaction, and
//! a statement that would start on the server after its batch's commit deadline writes nothing.

use std::time::{Duration, Instant};

use dh_mqtt_plugin::db::bulk_update;
use dh_mqtt_plugin::db::combine::combine;
use dh_mqtt_plugin::db::model::UserChanges;
use dh_mqtt_plugin::db::server_clock::ServerClock;
use dh_mqtt_plugin::db::user_repo::{self, UpdateJob, UpdateRejection};
use dh_mqtt_plugin::db::DbConn;
use dh_mqtt_plugin::model::{Role, UserStatus};

use crate::support::{Backend, TestDb, TestResult};

fn data_update(user_id: i64, data: &str) -> UpdateJob {
    UpdateJob {
        user_id,
        changes: UserChanges {
            data: Some(Some(data.into())),
            ..UserChanges::default()
        },
        needs_admin: false,
        deadline: Instant::now() + Duration::from_secs(60),
    }
}

fn users(db: &TestDb, logins: &[&str]) -> Vec<i64> {
    logins
        .iter()
        .map(|login| db.add_user(login, "secret1", Role::Client))
        .collect()
}

fn data_of(db: &TestDb, ids: &[i64]) -> Vec<Option<String>> {
    ids.iter().map(|&id| db.user(id).data).collect()
}

#[test]
fn a_one_statement_batch_answers_as_the_checks_would() -> TestResult {
    let db = TestDb::new(Backend::Postgres);
    let ids = users(&db, &["a1", "a2", "a3"]);
    db.sql(&format!(
        "UPDATE dh_user SET status = {} WHERE id = {}",
        UserStatus::Disabled.ordinal(),
        ids[2]
    ));
    let mut conn = db.conn();
    let mut clock = ServerClock::default();
    // The first batch reads the server's clock (inside a transaction); the second runs alone.
    for round in ["1", "2"] {
        let jobs: Vec<UpdateJob> = ids.iter().map(|&id| data_update(id, round)).collect();
        assert_eq!(
            user_repo::update_current_batch(&mut conn, &jobs, &mut clock)?,
            vec![Ok(()), Ok(()), Err(UpdateRejection::NotActive)],
            "round {round}"
        );
        assert_eq!(
            data_of(&db, &ids),
            vec![Some(round.to_string()), Some(round.to_string()), None]
        );
    }
    assert!(
        clock
            .server_time_of(Instant::now(), Instant::now())
            .is_some(),
        "the statements' start times were read"
    );
    Ok(())
}

#[test]
fn a_bulk_statement_that_starts_too_late_writes_nothing() -> TestResult {
    let db = TestDb::new(Backend::Postgres);
    let ids = users(&db, &["b1", "b2"]);
    let jobs: Vec<UpdateJob> = ids.iter().map(|&id| data_update(id, "x")).collect();
    let writes = combine(&jobs);
    let groups = bulk_update::groups(&writes);
    let [(shape, members)] = &groups[..] else {
        return Err("the two updates are one bulk group".into());
    };
    let DbConn::Postgres(mut c) = db.conn() else {
        return Err("a PostgreSQL connection".into());
    };
    // A bound long past (the epoch): the statement starts later than that.
    let mut clock = ServerClock::default();
    let late = bulk_update::write(&mut *c, *shape, &writes, members, 0, &mut clock)?;
    assert!(late.too_late(0), "started at {:?}", late.started_us);
    assert!(late.written.is_empty());
    assert_eq!(data_of(&db, &ids), vec![None, None], "nothing was written");
    let in_time = bulk_update::write(&mut *c, *shape, &writes, members, i64::MAX, &mut clock)?;
    assert!(!in_time.too_late(i64::MAX));
    assert_eq!(in_time.written, vec![0, 1]);
    assert_eq!(data_of(&db, &ids), vec![Some("x".into()), Some("x".into())]);
    Ok(())
}

// A reading that makes every deadline look past (a server clock stepped forward, say) sends
// the batch through the transaction instead of losing it, and is replaced by a new reading.
#[test]
fn a_batch_refused_as_late_commits_through_a_transaction() -> TestResult {
    let db = TestDb::new(Backend::Postgres);
    let ids = users(&db, &["c1", "c2"]);
    let mut clock = ServerClock::default();
    clock.observe(Instant::now(), 0);
    let jobs: Vec<UpdateJob> = ids.iter().map(|&id| data_update(id, "y")).collect();
    assert_eq!(
        user_repo::update_current_batch(&mut db.conn(), &jobs, &mut clock)?,
        vec![Ok(()), Ok(())]
    );
    assert_eq!(data_of(&db, &ids), vec![Some("y".into()), Some("y".into())]);
    let now = Instant::now();
    let server_now = clock.server_time_of(now, now).unwrap_or(0);
    assert!(
        server_now > 1_600_000_000_000_000,
        "a new reading replaced the wrong one: {server_now} µs"
    );
    Ok(())
}

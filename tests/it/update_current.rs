//! `user/updateCurrent`: each field for client and admin roles, partial updates, refusals that
//! change nothing, and concurrent updates of different fields losing nothing.

use std::thread;
use std::time::Duration;

use dh_mqtt_plugin::auth::password;
use dh_mqtt_plugin::db::model::UserChanges;
use dh_mqtt_plugin::db::server_clock::ServerClock;
use dh_mqtt_plugin::db::user_repo::{self, UpdateJob, UpdateRejection};
use dh_mqtt_plugin::model::{Role, UserStatus};
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::{Stack, TestClient};

fn update(stack: &Stack, login: &str, token: &str, user: Value) -> Value {
    stack.client(login).request(json!({
        "action": "user/updateCurrent", "token": token, "user": user
    }))
}

fn current(stack: &Stack, login: &str, token: &str) -> Value {
    let answer = stack
        .client(login)
        .request(json!({"action": "user/getCurrent", "token": token}));
    answer["current"].clone()
}

/// A deadline far enough away for any batch in these tests.
fn later() -> std::time::Instant {
    std::time::Instant::now() + std::time::Duration::from_secs(60)
}

both_backends! {
    fn a_refused_update_in_a_batch_leaves_the_others_committed(backend) {
        let db = crate::support::TestDb::new(backend);
        let a = db.add_user("alice", "secret1", Role::Admin);
        let b = db.add_user("bob", "secret1", Role::Admin);
        let job = |user_id, changes| UpdateJob { user_id, changes, needs_admin: true, deadline: later() };
        let jobs = [
            job(a, UserChanges { data: Some(Some("1".into())), ..UserChanges::default() }),
            job(b, UserChanges { login: Some("alice".into()), data: Some(Some("2".into())), ..UserChanges::default() }),
            job(b, UserChanges { intro_reviewed: Some(true), ..UserChanges::default() }),
        ];
        let outcomes = user_repo::update_current_batch(&mut db.conn(), &jobs, &mut ServerClock::default())?;
        assert_eq!(outcomes, vec![Ok(()), Err(UpdateRejection::LoginTaken), Ok(())]);
        let (ra, rb) = (db.user(a), db.user(b));
        assert_eq!((ra.data.as_deref(), rb.login.as_str(), rb.data, rb.intro_reviewed),
                   (Some("1"), "bob", None, Some(true)));
        Ok(())
    }

    fn a_batch_keeps_request_order_when_combining_one_users_updates(backend) {
        let db = crate::support::TestDb::new(backend);
        let admin = db.add_user("alice", "secret1", Role::Admin);
        let client = db.add_user("carol", "secret1", Role::Client);
        let plain = |user_id, data: &str| UpdateJob {
            user_id,
            changes: UserChanges { data: Some(Some(data.into())), ..UserChanges::default() },
            needs_admin: false,
            deadline: later(),
        };
        let disable = |user_id| UpdateJob {
            user_id,
            changes: UserChanges { status: Some(UserStatus::Disabled.ordinal()), ..UserChanges::default() },
            needs_admin: true,
            deadline: later(),
        };
        let jobs = [
            plain(admin, "1"),
            plain(client, "a"),
            disable(client),
            disable(admin),
            plain(admin, "2"),
            plain(client, "b"),
        ];
        let outcomes = user_repo::update_current_batch(&mut db.conn(), &jobs, &mut ServerClock::default())?;
        assert_eq!(outcomes, vec![
            Ok(()),
            Ok(()),
            Err(UpdateRejection::AdminRequired),
            Ok(()),
            Err(UpdateRejection::NotActive),
            Ok(()),
        ]);
        let (a, c) = (db.user(admin), db.user(client));
        assert_eq!((a.data.as_deref(), a.status), (Some("1"), UserStatus::Disabled.ordinal()));
        assert_eq!((c.data.as_deref(), c.status), (Some("b"), UserStatus::Active.ordinal()));
        Ok(())
    }

    // A request already too close to its deadline is refused without a write, and does not
    // take its batch with it: the others commit (before, the whole batch rolled back, so a
    // queue half a second long left nothing committing until it had timed out).
    fn a_late_update_is_refused_alone_and_the_rest_of_its_batch_commits(backend) {
        let db = crate::support::TestDb::new(backend);
        let a = db.add_user("alice", "secret1", Role::Client);
        let b = db.add_user("bob", "secret1", Role::Client);
        let job = |user_id, data: &str, deadline| UpdateJob {
            user_id,
            changes: UserChanges { data: Some(Some(data.into())), ..UserChanges::default() },
            needs_admin: false,
            deadline,
        };
        // Less than the commit margin left: a commit could land after the request's 503.
        let late = std::time::Instant::now() + user_repo::COMMIT_MARGIN / 2;
        let jobs = [job(a, "1", later()), job(b, "2", late), job(a, "3", later())];
        let outcomes = user_repo::update_current_batch(&mut db.conn(), &jobs, &mut ServerClock::default())?;
        assert_eq!(outcomes, vec![Ok(()), Err(UpdateRejection::TooLate), Ok(())]);
        assert_eq!((db.user(a).data.as_deref(), db.user(b).data), (Some("3"), None));
        Ok(())
    }

    // Plain updates of distinct users go into one statement per set of columns; each row must
    // come out as if written alone, and a user who is not active is still refused alone.
    fn many_users_plain_updates_are_written_as_one_by_one(backend) {
        let db = crate::support::TestDb::new(backend);
        let ids: Vec<i64> = ["a", "b", "c", "d", "e", "f", "g", "h"].iter()
            .map(|login| db.add_user(login, "secret1", if *login == "d" { Role::Admin } else { Role::Client }))
            .collect();
        let [a, b, c, d, e, f, g, h] = ids[..] else { unreachable!() };
        let job = |user_id, changes, needs_admin| UpdateJob { user_id, changes, needs_admin, deadline: later() };
        let data = |text: Option<&str>| UserChanges { data: Some(text.map(Into::into)), ..UserChanges::default() };
        let intro = |on| UserChanges { intro_reviewed: Some(on), ..UserChanges::default() };
        let password = |hash: &str| UserChanges {
            password_hash: Some(hash.into()), password_salt: Some(None), ..UserChanges::default()
        };
        let disable = UserChanges { status: Some(UserStatus::Disabled.ordinal()), ..UserChanges::default() };
        let before = [job(f, data(Some("old")), false), job(d, disable, true)];
        assert_eq!(user_repo::update_current_batch(&mut db.conn(), &before, &mut ServerClock::default())?, vec![Ok(()), Ok(())]);

        let tricky = r#"{"k":"ü \" \\u0000 ' ; --","n":[1,2.5,null]}"#;
        let jobs = [
            job(a, data(Some("x1")), false),
            job(b, data(Some(tricky)), false),
            job(c, intro(true), false),
            job(d, data(Some("nope")), false),
            job(e, intro(true), false),
            job(b, intro(true), false),
            job(f, UserChanges { intro_reviewed: Some(false), ..data(None) }, false),
            job(g, password("hash-g"), false),
            job(h, password("hash-h"), false),
        ];
        let outcomes = user_repo::update_current_batch(&mut db.conn(), &jobs, &mut ServerClock::default())?;
        let mut expected = vec![Ok(()); jobs.len()];
        expected[3] = Err(UpdateRejection::NotActive);
        assert_eq!(outcomes, expected);
        let row = |id| { let r = db.user(id); (r.data, r.intro_reviewed) };
        assert_eq!(row(a), (Some("x1".into()), Some(false)));
        assert_eq!(row(b), (Some(tricky.into()), Some(true)));
        assert_eq!((row(c), row(e)), ((None, Some(true)), (None, Some(true))));
        assert_eq!(row(d), (None, Some(false)));
        assert_eq!(row(f), (None, Some(false)));
        for (id, hash) in [(g, "hash-g"), (h, "hash-h")] {
            let r = db.user(id);
            assert_eq!((r.password_hash.as_deref(), r.password_salt), (Some(hash), None));
        }
        Ok(())
    }

    fn client_changes_password_data_and_intro(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let token = stack.tokens.access(id, Role::Client);
        let answer = update(&stack, "alice", &token, json!({
            "password": "n3w-secret", "data": {"room": 7}, "introReviewed": true
        }));
        assert_eq!(answer, json!({
            "action": "user/updateCurrent", "requestId": answer["requestId"], "status": "success"
        }));
        // The new password is now also alice's broker password: the plugin's device login
        // replaces her password-file entry.
        crate::support::wait_for("alice to connect with her new password", Duration::from_secs(10), || {
            TestClient::try_connect_as(&stack.broker, "alice", "n3w-secret").ok()
        });
        let now = TestClient::connect_as(&stack.broker, "alice", "n3w-secret")
            .request(json!({"action": "user/getCurrent", "token": token}))["current"].clone();
        assert_eq!((&now["data"], &now["introReviewed"]), (&json!({"room": 7}), &json!(true)));
        assert!(TestClient::try_connect_as(&stack.broker, "alice", "pw").is_err(), "the old broker password still works");
        let row = stack.db.user(id);
        let hash = row.password_hash.clone().unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"), "new hashes are Argon2id");
        assert!(password::verify("n3w-secret", &hash, row.password_salt.as_deref()));
        assert!(!password::verify("secret1", &hash, None));
        Ok(())
    }

    fn omitted_fields_are_kept_and_null_data_clears(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let token = stack.tokens.access(id, Role::Client);
        update(&stack, "alice", &token, json!({"data": {"a": 1}, "introReviewed": true}));
        let hash_before = stack.db.user(id).password_hash;
        let answer = update(&stack, "alice", &token, json!({"introReviewed": false}));
        assert_eq!(answer["status"], "success");
        let now = current(&stack, "alice", &token);
        assert_eq!(now["data"], json!({"a": 1}), "leaving data out keeps it");
        assert_eq!(now["introReviewed"], json!(false));
        assert_eq!(stack.db.user(id).password_hash, hash_before);
        update(&stack, "alice", &token, json!({"data": null}));
        assert_eq!(current(&stack, "alice", &token)["data"], Value::Null);
        let answer = update(&stack, "alice", &token, json!({}));
        assert_eq!(answer["status"], "success", "an empty update changes nothing and succeeds");
        Ok(())
    }

    fn client_cannot_change_login_role_or_status(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let token = stack.tokens.access(id, Role::Client);
        for field in [json!({"login": "alice2"}), json!({"role": 0}), json!({"status": 1}),
                      json!({"role": 1, "data": {"x": 1}})] {
            let answer = update(&stack, "alice", &token, field.clone());
            assert_eq!(
                (&answer["code"], &answer["error"]),
                (&json!(403), &json!("Admin permissions required for this action")),
                "{field}"
            );
        }
        let now = current(&stack, "alice", &token);
        assert_eq!((&now["login"], &now["role"], &now["status"], &now["data"]),
                   (&json!("alice"), &json!(1), &json!(0), &Value::Null));
        Ok(())
    }

    fn admin_changes_login_role_and_status(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("bob", "secret1", Role::Admin);
        let token = stack.tokens.access(id, Role::Admin);
        let answer = update(&stack, "bob", &token, json!({"login": "  bob.renamed  ", "role": 1}));
        assert_eq!(answer["status"], "success");
        let now = current(&stack, "bob", &token);
        assert_eq!((&now["login"], &now["role"]), (&json!("bob.renamed"), &json!(1)));
        // Now a client: the role is read from the database on every request.
        let answer = update(&stack, "bob", &token, json!({"status": 2}));
        assert_eq!(answer["code"], 403);
        let admin = stack.db.add_user("carol", "secret1", Role::Admin);
        let admin_token = stack.tokens.access(admin, Role::Admin);
        let answer = update(&stack, "carol", &admin_token, json!({"status": 2}));
        assert_eq!(answer["status"], "success");
        assert_eq!(stack.db.user(admin).status, 2);
        Ok(())
    }

    fn refuses_duplicate_logins_and_bad_fields_without_changes(backend) {
        let stack = Stack::start(backend);
        stack.db.add_user("taken", "secret1", Role::Client);
        let id = stack.db.add_user("bob", "secret1", Role::Admin);
        let token = stack.tokens.access(id, Role::Admin);
        let cases = [
            (json!({"login": "taken", "data": {"lost": true}}), 403,
             "User with such login already exists. Please, select another one"),
            (json!({"password": "12345", "data": {"lost": true}}), 400,
             "Password can contain only from 6 to 128 symbols!"),
            (json!({"role": "x", "data": {"lost": true}}), 400, ""),
            (json!({"status": 7}), 400, ""),
            (json!({"introReviewed": "yes"}), 400, ""),
            (json!({"login": "no spaces allowed"}), 400, ""),
        ];
        for (user, code, text) in cases {
            let answer = update(&stack, "bob", &token, user.clone());
            assert_eq!(answer["code"], code, "{user}: {answer}");
            if !text.is_empty() {
                assert_eq!(answer["error"], text);
            }
        }
        let answer = update(&stack, "bob", &token, json!({"role": "x"}));
        assert!(answer["error"].as_str().unwrap_or_default().contains("user.role"), "{answer}");
        let answer = stack.client("bob").request(json!({"action": "user/updateCurrent", "token": token}));
        assert_eq!((&answer["code"], &answer["error"]), (&json!(400), &json!("User is required")));
        let row = stack.db.user(id);
        assert_eq!((row.login.as_str(), row.role, row.status, row.data), ("bob", 0, 0, None));
        Ok(())
    }

    fn concurrent_updates_of_different_fields_lose_nothing(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let token = stack.tokens.access(id, Role::Client);
        const ROUNDS: usize = 40;
        thread::scope(|s| {
            // Two devices of the same user: one keeps writing data, the other introReviewed.
            s.spawn(|| {
                let c = stack.client("alice");
                for i in 0..ROUNDS {
                    let a = c.request(json!({"action": "user/updateCurrent", "token": token,
                                             "user": {"data": {"i": i}}}));
                    assert_eq!(a["status"], "success", "{a}");
                }
            });
            s.spawn(|| {
                let c = stack.client("bob");
                for i in 0..ROUNDS {
                    let a = c.request(json!({"action": "user/updateCurrent", "token": token,
                                             "user": {"introReviewed": i % 2 == 0}}));
                    assert_eq!(a["status"], "success", "{a}");
                }
            });
        });
        let now = current(&stack, "alice", &token);
        assert_eq!(now["data"], json!({"i": ROUNDS - 1}));
        assert_eq!(now["introReviewed"], json!((ROUNDS - 1).is_multiple_of(2)));
        Ok(())
    }
}

/// The bulk UPDATE is a prepared statement PostgreSQL plans once per connection and reuses,
/// not a new statement planned for every batch.
#[test]
fn postgres_prepares_the_bulk_update_once_per_connection() -> crate::support::TestResult {
    let db = crate::support::TestDb::new(crate::support::Backend::Postgres);
    let ids: Vec<i64> = ["p1", "p2", "p3"]
        .iter()
        .map(|l| db.add_user(l, "secret1", Role::Client))
        .collect();
    let mut conn = db.conn();
    let mut clock = ServerClock::default();
    for round in 0..3 {
        let jobs: Vec<UpdateJob> = ids
            .iter()
            .map(|&user_id| UpdateJob {
                user_id,
                changes: UserChanges {
                    data: Some(Some(format!("{{\"round\":{round}}}"))),
                    ..UserChanges::default()
                },
                needs_admin: false,
                deadline: later(),
            })
            .collect();
        assert_eq!(
            user_repo::update_current_batch(&mut conn, &jobs, &mut clock)?,
            vec![Ok(()); 3]
        );
    }
    let prepared = prepared_updates(&mut conn, "WITH g AS %UPDATE dh_user AS u %");
    assert_eq!(
        prepared, 1,
        "one prepared statement for the three batches' bulk updates, in a transaction or not"
    );
    assert_eq!(db.user(ids[2]).data.as_deref(), Some(r#"{"round":2}"#));
    Ok(())
}

/// How many statements like `pattern` (SQL LIKE) the connection holds prepared.
fn prepared_updates(conn: &mut dh_mqtt_plugin::db::DbConn, pattern: &str) -> i64 {
    use dh_mqtt_plugin::db::DbConn;
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let pattern = pattern.to_string();
    let counted: QueryResult<Count> = match conn {
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1",
        )
        .bind::<diesel::sql_types::Text, _>(pattern)
        .get_result(&mut **c),
        DbConn::Sqlite(c) => {
            diesel::sql_query("SELECT count(*) AS n FROM sqlite_stmt WHERE sql LIKE ?")
                .bind::<diesel::sql_types::Text, _>(pattern)
                .get_result(&mut **c)
        }
    };
    counted.expect("count the prepared statements").n
}

/// One user's updates of the same columns, batch after batch, reuse one prepared UPDATE.
fn one_users_updates_reuse_one_prepared_statement(
    backend: crate::support::Backend,
) -> crate::support::TestResult {
    let db = crate::support::TestDb::new(backend);
    let id = db.add_user("prep", "secret1", Role::Client);
    let mut conn = db.conn();
    let mut clock = ServerClock::default();
    for round in 0..3 {
        let changes = UserChanges {
            data: Some(Some(format!("{{\"round\":{round}}}"))),
            ..UserChanges::default()
        };
        let job = UpdateJob {
            user_id: id,
            changes,
            needs_admin: false,
            deadline: later(),
        };
        assert_eq!(
            user_repo::update_current_batch(&mut conn, &[job], &mut clock)?,
            vec![Ok(())]
        );
    }
    assert_eq!(
        prepared_updates(&mut conn, "UPDATE %dh_user% SET %data%"),
        1
    );
    assert_eq!(db.user(id).data.as_deref(), Some(r#"{"round":2}"#));
    Ok(())
}

#[test]
fn sqlite_one_users_updates_reuse_one_prepared_statement() -> crate::support::TestResult {
    one_users_updates_reuse_one_prepared_statement(crate::support::Backend::Sqlite)
}

#[test]
fn postgres_one_users_updates_reuse_one_prepared_statement() -> crate::support::TestResult {
    one_users_updates_reuse_one_prepared_statement(crate::support::Backend::Postgres)
}

//! The command line as an operator uses it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use dh_mqtt_plugin::auth::jwt::{now_ms, JwtKeys, TokenType};
use dh_mqtt_plugin::auth::password;
use serde_json::Value;

use crate::support::service::binary;
use crate::support::{Backend, TestDb, TEST_JWT_SECRET};

/// Runs the CLI against `db` with nothing but `DATABASE_URL` (and `JWT_SECRET` if given).
pub(crate) fn run(db: &TestDb, args: &[&str], stdin: &str, secret: Option<&str>) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args).env_clear().env("DATABASE_URL", &db.url);
    if let Some(s) = secret {
        cmd.env("JWT_SECRET", s);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts that a command failed and said `text` on standard error.
fn assert_fails(out: &Output, text: &str) {
    let err = stderr(out);
    assert!(
        !out.status.success() && err.contains(text),
        "expected a failure saying '{text}': {err}"
    );
}

#[test]
fn every_command_has_help() {
    for args in [
        vec![],
        vec!["serve"],
        vec!["migrate"],
        vec!["user"],
        vec!["user", "add"],
        vec!["user", "list"],
        vec!["user", "assign-device-type"],
        vec!["device-type", "add"],
        vec!["token"],
        vec!["acl"],
    ] {
        let out = Command::new(binary())
            .args(&args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?} --help");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn user_add_then_token_mints_a_working_pair() -> crate::support::TestResult {
    let db = TestDb::new(Backend::Sqlite);
    let out = run(
        &db,
        &["user", "add", "--login", "dev-1", "--role", "client"],
        "secret-pw\n",
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let id: i64 = String::from_utf8(out.stdout)?.trim().parse()?;
    let row = db.user(id);
    assert!(password::verify(
        "secret-pw",
        &row.password_hash.unwrap_or_default(),
        None
    ));

    let again = run(
        &db,
        &["user", "add", "--login", "dev-1", "--role", "admin"],
        "secret-pw\n",
        None,
    );
    assert_fails(&again, "already exists");
    let bad = run(
        &db,
        &["user", "add", "--login", "a b", "--role", "admin"],
        "secret-pw\n",
        None,
    );
    assert_fails(&bad, "Login can contain only");
    let short = run(
        &db,
        &["user", "add", "--login", "dev-2", "--role", "admin"],
        "abc\n",
        None,
    );
    assert_fails(&short, "6 to 128");

    let out = run(
        &db,
        &["token", "--login", "dev-1"],
        "",
        Some(TEST_JWT_SECRET),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let pair: Value = serde_json::from_slice(&out.stdout)?;
    let keys = JwtKeys::new(TEST_JWT_SECRET.as_bytes());
    let now = now_ms();
    let access = keys.verify(
        pair["accessToken"].as_str().unwrap_or_default(),
        TokenType::Access,
        now,
    );
    let refresh = keys.verify(
        pair["refreshToken"].as_str().unwrap_or_default(),
        TokenType::Refresh,
        now,
    );
    let access = access.map_err(|e| format!("{e:?}"))?;
    assert_eq!(access.u, Some(id));
    assert!(
        (access.e - now - 1_800_000).abs() < 60_000,
        "30-minute access token"
    );
    assert!(refresh.is_ok());
    let missing = run(
        &db,
        &["token", "--login", "nobody"],
        "",
        Some(TEST_JWT_SECRET),
    );
    assert_fails(&missing, "no user");
    Ok(())
}

#[test]
fn refuses_missing_or_weak_secrets() {
    let db = TestDb::new(Backend::Sqlite);
    let out = run(&db, &["token", "--login", "x"], "", None);
    assert_fails(&out, "JWT_SECRET is required");
    let out = run(&db, &["serve"], "", Some("too-short"));
    assert_fails(&out, "--allow-weak-secret");
    let out = run(
        &db,
        &["serve", "--jwt-secret-encoding", "devicehive"],
        "",
        Some("devicehive"),
    );
    assert_fails(&out, "6-byte key");
}

#[test]
fn migrate_creates_the_sqlite_schema_and_is_idempotent() {
    let db = TestDb::empty(Backend::Sqlite);
    for _ in 0..2 {
        let out = run(&db, &["migrate"], "", None);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(
        db.add_user("first", "secret1", dh_mqtt_plugin::model::Role::Admin),
        1
    );
}

#[test]
fn operator_manages_users_and_networks() -> crate::support::TestResult {
    let db = TestDb::new(Backend::Sqlite);
    let ok = |args: &[&str], stdin: &str| {
        let out = run(&db, args, stdin, None);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(
        &["user", "add", "--login", "dev-1", "--role", "client"],
        "first-pw\n",
    );
    let net: i64 = ok(
        &[
            "network",
            "add",
            "--name",
            "Plant A",
            "--description",
            "line 1",
        ],
        "",
    )
    .trim()
    .parse()?;
    let dup = run(&db, &["network", "add", "--name", "Plant A"], "", None);
    assert_fails(&dup, "already exists");
    ok(
        &[
            "user",
            "assign-network",
            "--login",
            "dev-1",
            "--network",
            "Plant A",
        ],
        "",
    );
    ok(
        &[
            "user",
            "assign-network",
            "--login",
            "dev-1",
            "--network",
            &net.to_string(),
        ],
        "",
    );
    let nets = dh_mqtt_plugin::db::user_repo::networks_of(&mut db.conn(), 1)?;
    assert_eq!(
        nets.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![net],
        "linked once"
    );

    ok(&["user", "passwd", "--login", "dev-1"], "second-pw\n");
    let row = db.user(1);
    assert!(password::verify(
        "second-pw",
        &row.password_hash.unwrap_or_default(),
        None
    ));

    ok(&["user", "set-status", "--login", "dev-1", "locked"], "");
    assert!(ok(&["user", "list"], "").contains("dev-1") && db.user(1).status == 1);
    db.sql("UPDATE dh_user SET login_attempts = 4 WHERE id = 1");
    ok(&["user", "set-status", "--login", "dev-1", "active"], "");
    let row = db.user(1);
    assert_eq!(
        (row.status, row.login_attempts),
        (0, 0),
        "unlocked, counter cleared"
    );
    let missing = run(
        &db,
        &["user", "set-status", "--login", "nobody", "active"],
        "",
        None,
    );
    assert_fails(&missing, "no user");

    // The commands of the user family give the MQTT actions' results and refusals.
    let cameras = ok(&["device-type", "add", "--name", "Cameras"], "");
    let all_allowed = run(
        &db,
        &[
            "user",
            "assign-device-type",
            "--login",
            "dev-1",
            "--device-type",
            "Cameras",
        ],
        "",
        None,
    );
    assert_fails(
        &all_allowed,
        "403 Cannot assign device type to user with all device types allowed",
    );
    ok(
        &["user", "disallow-all-device-types", "--login", "dev-1"],
        "",
    );
    ok(
        &[
            "user",
            "assign-device-type",
            "--login",
            "dev-1",
            "--device-type",
            cameras.trim(),
        ],
        "",
    );
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&["user", "get", "--login", "dev-1"], ""))?;
    assert_eq!(
        (
            &shown["login"],
            &shown["networks"][0]["id"],
            &shown["allDeviceTypesAvailable"]
        ),
        (
            &serde_json::json!("dev-1"),
            &serde_json::json!(net),
            &serde_json::json!(false)
        )
    );
    let listed = ok(
        &[
            "user",
            "list",
            "--login-pattern",
            "dev%",
            "--role",
            "client",
        ],
        "",
    );
    assert!(listed.contains("dev-1"), "{listed}");
    assert!(!ok(&["user", "list", "--login-pattern", "DEV%"], "").contains("dev-1"));
    ok(
        &[
            "user",
            "unassign-network",
            "--login",
            "dev-1",
            "--network",
            "Plant A",
        ],
        "",
    );
    ok(&["user", "delete", "--login", "dev-1"], "");
    assert_fails(
        &run(&db, &["user", "get", "--login", "dev-1"], "", None),
        "no user",
    );
    let dump = db.dump();
    assert!(
        dump.contains("user_network []") && dump.contains("user_device_type []"),
        "{dump}"
    );
    Ok(())
}

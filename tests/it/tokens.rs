//! `token`, `token/refresh`, `token/create` and lockout, through the real broker
//! (as the DeviceHive server does, with this service's departures: one answer for unknown login and
//! wrong password, and `token/create` scoped to the caller).

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dh_mqtt_plugin::auth::jwt::{now_ms, Claims, JwtKeys, TokenType};
use dh_mqtt_plugin::auth::password::{hash, HashScheme};
use dh_mqtt_plugin::db::model::NewUser;
use dh_mqtt_plugin::db::user_repo;
use dh_mqtt_plugin::model::{Role, UserStatus};
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::db::Tokens;
use crate::support::error_of;
use crate::support::{Stack, TestClient, TEST_JWT_SECRET};

fn login(client: &TestClient, login: &str, password: &str) -> Value {
    client.request(json!({"action": "token", "login": login, "password": password}))
}

fn claims_of(token: &str) -> Claims {
    JwtKeys::new(TEST_JWT_SECRET.as_bytes())
        .verify(token, TokenType::Access, now_ms())
        .or_else(|_| {
            JwtKeys::new(TEST_JWT_SECRET.as_bytes()).verify(token, TokenType::Refresh, now_ms())
        })
        .unwrap_or_else(|e| panic!("token does not verify: {e:?}"))
}

both_backends! {
    fn a_device_goes_from_password_to_get_current_over_mqtt_alone(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "alice-pw-1", Role::Client);
        let net = user_repo::insert_network(&mut stack.db.conn(), "Plant", None)?;
        stack.db.assign_network(id, net);
        let alice = stack.client("alice");
        let pair = login(&alice, "alice", "alice-pw-1");
        assert_eq!(pair["status"], "success", "{pair}");
        let access = pair["accessToken"].as_str().unwrap_or_default();
        let claims = claims_of(access);
        assert_eq!(claims.u, Some(id));
        assert_eq!(claims.a, Some(vec![2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17]), "the CLIENT set");
        assert_eq!(claims.n, Some(vec![net.to_string()]));
        assert_eq!(claims.dt, Some(vec!["*".to_string()]));
        assert_eq!(claims_of(pair["refreshToken"].as_str().unwrap_or_default()).t, 0);
        let auth = alice.request(json!({"action": "authenticate", "token": access}));
        assert_eq!(auth["status"], "success");
        let me = alice.request(json!({"action": "user/getCurrent"}));
        assert_eq!(me["current"]["login"], "alice");
        assert!(me["current"]["lastLogin"].is_string());
        Ok(())
    }

    fn login_errors_and_lockout(backend) {
        let stack = Stack::start_with(backend, &[("DH_MAX_LOGIN_ATTEMPTS", "3")]);
        let id = stack.db.add_user("alice", "alice-pw-1", Role::Client);
        let alice = stack.client("alice");
        let blank = (400, "Invalid or empty authorization request parameters".to_string());
        assert_eq!(error_of(&login(&alice, " ", "x")), blank);
        assert_eq!(error_of(&login(&alice, "alice", "")), blank);
        let invalid = (401, "Invalid credentials".to_string());
        assert_eq!(error_of(&login(&alice, "nobody", "alice-pw-1")), invalid, "unknown login");
        // A success resets the counter.
        assert_eq!(error_of(&login(&alice, "alice", "wrong-1")), invalid);
        assert_eq!(stack.db.user(id).login_attempts, 1);
        let pair = login(&alice, "alice", "alice-pw-1");
        assert_eq!(stack.db.user(id).login_attempts, 0);
        let access = pair["accessToken"].as_str().unwrap_or_default().to_string();
        assert_eq!(alice.request(json!({"action": "authenticate", "token": access}))["status"], "success");
        // Three wrong passwords lock the account; the third still says Invalid credentials.
        for _ in 0..3 {
            assert_eq!(error_of(&login(&alice, "alice", "wrong")), invalid);
        }
        let row = stack.db.user(id);
        assert_eq!((row.status, row.login_attempts), (1, 0), "locked, counter reset");
        let locked = (401, "User is locked or disabled".to_string());
        assert_eq!(error_of(&login(&alice, "alice", "alice-pw-1")), locked, "checked before the password");
        assert_eq!(stack.db.user(id).login_attempts, 0, "no attempt counted while locked");
        // Existing tokens and sessions stop working at once.
        assert_eq!(error_of(&alice.request(json!({"action": "user/getCurrent"}))).0, 401);
        assert_eq!(error_of(&alice.request(json!({"action": "user/getCurrent", "token": access}))).0, 401);
        // The operator unlocks.
        stack.db.set_status(id, UserStatus::Active);
        assert_eq!(login(&alice, "alice", "alice-pw-1")["status"], "success");
        Ok(())
    }

    fn refresh_replaces_an_expired_access_token(backend) {
        let stack = Stack::start_with(backend, &[("DH_ACCESS_TOKEN_LIFETIME_SECS", "1")]);
        let id = stack.db.add_user("alice", "alice-pw-1", Role::Client);
        let alice = stack.client("alice");
        let pair = login(&alice, "alice", "alice-pw-1");
        let (access, refresh) = (pair["accessToken"].clone(), pair["refreshToken"].clone());
        std::thread::sleep(Duration::from_millis(1_100));
        let expired = alice.request(json!({"action": "user/getCurrent", "token": access}));
        assert_eq!(error_of(&expired), (401, "Token expired".to_string()));
        let renewed = alice.request(json!({"action": "token/refresh", "refreshToken": refresh}));
        assert_eq!(renewed["status"], "success", "{renewed}");
        assert!(renewed.get("refreshToken").is_none());
        let me = alice.request(json!({"action": "user/getCurrent", "token": renewed["accessToken"]}));
        assert_eq!(me["current"]["id"], id);

        let refresh_err = |body: Value| error_of(&alice.request(body));
        assert_eq!(refresh_err(json!({"action": "token/refresh", "refreshToken": access})),
                   (401, "Invalid token type".to_string()));
        let old = stack.tokens.mint(&Tokens::claims(id, Role::Client, TokenType::Refresh, now_ms() - 1));
        assert_eq!(refresh_err(json!({"action": "token/refresh", "refreshToken": old})),
                   (401, "Token has expired".to_string()));
        assert_eq!(refresh_err(json!({"action": "token/refresh", "refreshToken": "x.y.z"})),
                   (401, "Unauthorized".to_string()));
        assert_eq!(refresh_err(json!({"action": "token/refresh"})),
                   (400, "Missing or invalid payload in request".to_string()));
        stack.db.set_status(id, UserStatus::Disabled);
        assert_eq!(refresh_err(json!({"action": "token/refresh", "refreshToken": refresh})).0, 401);
        Ok(())
    }

    fn token_create_follows_the_scope_rules(backend) {
        let stack = Stack::start(backend);
        let admin = stack.db.add_user("admin1", "admin-pw-1", Role::Admin);
        let alice = stack.db.add_user("alice", "alice-pw-1", Role::Client);
        let bob = stack.db.add_user("bob", "bob-pw-123", Role::Client);
        let client = stack.client("carol");
        let create = |token: &str, payload: Value| {
            client.request(json!({"action": "token/create", "token": token, "payload": payload}))
        };
        let admin_token = stack.tokens.access(admin, Role::Admin);
        let made = create(&admin_token, json!({"userId": bob, "actions": ["GetCurrentUser"],
                                              "networkIds": ["7"], "expiration": 4_102_444_800_000_i64}));
        let claims = claims_of(made["accessToken"].as_str().unwrap_or_default());
        assert_eq!((claims.u, claims.a, claims.n, claims.e),
                   (Some(bob), Some(vec![10]), Some(vec!["7".to_string()]), 4_102_444_800_000));
        let refresh = claims_of(made["refreshToken"].as_str().unwrap_or_default());
        assert_eq!((refresh.t, refresh.e), (0, 4_102_444_800_000), "refresh inherits expiration");

        let alice_token = stack.tokens.access(alice, Role::Client);
        let denied = (403, "Access is denied".to_string());
        assert_eq!(error_of(&create(&alice_token, json!({"userId": bob}))), denied, "another user");
        assert_eq!(error_of(&create(&alice_token, json!({"userId": alice, "actions": ["ManageUser"]}))),
                   denied, "beyond its own actions");
        assert_eq!(error_of(&create(&alice_token, json!({"userId": alice, "networkIds": ["*"]}))),
                   denied, "beyond its own networks");
        let own = create(&alice_token, json!({"userId": alice, "actions": ["GetCurrentUser"]}));
        assert_eq!(own["status"], "success", "{own}");
        let no_manage = stack.tokens.with_actions(alice, &[10]);
        assert_eq!(error_of(&create(&no_manage, json!({"userId": alice}))), denied);
        assert_eq!(error_of(&create(&admin_token, json!({"userId": 999_999}))),
                   (404, "User with id = 999999 not found".to_string()));
        stack.db.set_status(bob, UserStatus::LockedOut);
        assert_eq!(error_of(&create(&admin_token, json!({"userId": bob}))),
                   (403, "User is locked or disabled".to_string()));
        let anonymous = client.request(json!({"action": "token/create", "payload": {"userId": alice}}));
        assert_eq!(error_of(&anonymous), (401, "Unauthorized".to_string()));
        Ok(())
    }

    fn legacy_hashes_are_upgraded_on_login(backend) {
        let stack = Stack::start(backend);
        let legacy = hash("legacy-pw-1", HashScheme::DeviceHive)?;
        let id = user_repo::insert_user(&mut stack.db.conn(), &NewUser::active("old", legacy.clone(), Role::Client))?;
        let client = stack.client("carol");
        assert_eq!(login(&client, "old", "legacy-pw-1")["status"], "success");
        let row = stack.db.user(id);
        assert!(row.password_hash.as_deref().unwrap_or_default().starts_with("$argon2id$"));
        assert_eq!(row.password_salt, None);
        assert_eq!(login(&client, "old", "legacy-pw-1")["status"], "success", "still verifies");
        assert_eq!(error_of(&login(&client, "old", "legacy-pw-2")).0, 401);
        Ok(())
    }
}

#[test]
fn devicehive_hashes_are_kept_when_configured() -> crate::support::TestResult {
    let stack = Stack::start_with(
        crate::support::Backend::Sqlite,
        &[("DH_PASSWORD_HASH", "devicehive")],
    );
    let legacy = hash("legacy-pw-1", HashScheme::DeviceHive)?;
    let id = user_repo::insert_user(
        &mut stack.db.conn(),
        &NewUser::active("old", legacy.clone(), Role::Client),
    )?;
    let client = stack.client("carol");
    let pair = login(&client, "old", "legacy-pw-1");
    assert_eq!(
        stack.db.user(id).password_hash,
        Some(legacy.hash),
        "not upgraded"
    );
    let changed = client.request(
        json!({"action": "user/updateCurrent", "token": pair["accessToken"],
                                        "user": {"password": "new-legacy-pw"}}),
    );
    assert_eq!(changed["status"], "success");
    let row = stack.db.user(id);
    assert!(row.password_salt.is_some(), "a DeviceHive salt is written");
    assert_eq!(login(&client, "old", "new-legacy-pw")["status"], "success");
    Ok(())
}

/// HMAC-SHA256 with the key the DeviceHive server derives for JWT_SECRET=devicehive, written out
/// here rather than derived by the code under test.
fn devicehive_sign(signing_input: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&[0x75, 0xeb, 0xe2, 0x71, 0xe8, 0x62])
        .unwrap_or_else(|e| panic!("{e}"));
    mac.update(signing_input.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[test]
fn tokens_are_interchangeable_with_a_devicehive_server() -> crate::support::TestResult {
    let stack = Stack::start_with(
        crate::support::Backend::Sqlite,
        &[
            ("JWT_SECRET", "devicehive"),
            ("DH_JWT_SECRET_ENCODING", "devicehive"),
            ("DH_ALLOW_WEAK_SECRET", "true"),
        ],
    );
    let id = stack.db.add_user("dhadmin", "dhadmin_#911", Role::Admin);
    // The test suite's admin token, re-signed the way the Java server signs, with a future `e`.
    let body = format!(
        r#"{{"payload":{{"u":{id},"a":[0],"n":["*"],"dt":["*"],"e":{},"t":1}}}}"#,
        now_ms() + 600_000
    );
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
        URL_SAFE_NO_PAD.encode(body)
    );
    let server_token = format!("{input}.{}", devicehive_sign(&input));
    let client = stack.client("carol");
    let me = client.request(json!({"action": "user/getCurrent", "token": server_token}));
    assert_eq!(me["current"]["login"], "dhadmin", "{me}");

    // What we mint is what the server would: same header, same claim layout, same key.
    let pair = login(&client, "dhadmin", "dhadmin_#911");
    let token = pair["accessToken"].as_str().unwrap_or_default();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        URL_SAFE_NO_PAD.decode(parts[0])?,
        br#"{"alg":"HS256"}"#.to_vec()
    );
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1])?)?;
    let p = &payload["payload"];
    let keys: Vec<&str> = p
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(keys, ["u", "a", "n", "dt", "e", "t"]);
    assert_eq!(
        (&p["u"], &p["a"], &p["n"], &p["dt"], &p["t"]),
        (
            &json!(id),
            &json!([0]),
            &json!(["*"]),
            &json!(["*"]),
            &json!(1)
        )
    );
    let e = p["e"].as_i64().unwrap_or_default();
    assert!(
        e > now_ms() && e < now_ms() + 1_900_000,
        "e is epoch milliseconds: {e}"
    );
    assert_eq!(
        parts[2],
        devicehive_sign(&format!("{}.{}", parts[0], parts[1]))
    );
    Ok(())
}

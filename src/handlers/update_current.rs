//! `user/updateCurrent`: validate the `user` object, hash a new password, submit the write.
//! Whether the admin-only fields are allowed is decided by the write itself, from the row (so
//! a demotion takes effect at once).

use serde_json::{Map, Value};

use super::{user_of, Directory, Services};
use crate::auth::broker_login::NewBrokerLogin;
use crate::auth::jwt::Claims;
use crate::db::broker_logins::SetBrokerLogin;
use crate::db::model::UserChanges;
use crate::error::ServiceError;
use crate::model::UserStatus;
use crate::protocol::update::{self, UserUpdate};
use crate::protocol::Body;

/// Validates and applies the claims' user's update.
pub async fn handle<S: Services>(
    services: &S,
    claims: Claims,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let user_id = user_of(&claims)?;
    let update = update::parse(body)?;
    let needs_admin = update.needs_admin();
    let (changes, broker) = changes_for(services, update).await?;
    let touches_logins = changes.touches_device_logins();
    services
        .submit_update(user_id, changes, needs_admin)
        .await?;
    set_broker_login(services, user_id, broker, touches_logins).await?;
    Ok(Body::empty())
}

/// The columns to write, a new password hashed first (within the hasher's budget), and the
/// new password's broker login.
pub(super) async fn changes_for<D: Directory>(
    services: &D,
    update: UserUpdate,
) -> Result<(UserChanges, Option<NewBrokerLogin>), ServiceError> {
    let mut changes = UserChanges {
        login: update.login,
        role: update.role.map(|r| r.ordinal()),
        status: update.status.map(|s| s.ordinal()),
        data: update.data.map(|d| d.map(|v| v.to_string())),
        intro_reviewed: update.intro_reviewed,
        login_attempts: (update.status == Some(UserStatus::Active)).then_some(0),
        ..UserChanges::default()
    };
    let mut broker = None;
    if let Some(password) = update.password {
        broker = services.broker_login(&password);
        let stored = services.hash_password(password).await?;
        changes.password_hash = Some(stored.hash);
        changes.password_salt = Some(stored.salt);
    }
    Ok((changes, broker))
}

/// Writes the broker login of a password just written, and wakes the login sync if the write
/// `touches_logins` (a `data`-only update does not: under an update load each wake-up read the
/// whole login table, docs/PERFORMANCE.md item 24).
pub(super) async fn set_broker_login<D: Directory>(
    directory: &D,
    user_id: i64,
    login: Option<NewBrokerLogin>,
    touches_logins: bool,
) -> Result<(), ServiceError> {
    if let Some(login) = login {
        directory.run(SetBrokerLogin { user_id, login }).await?;
    }
    if touches_logins {
        directory.logins_changed();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::fake::{block_on, claims_of, user, Call, Fake};
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn hashes_a_new_password_and_marks_admin_fields() {
        let fake = Fake::with_users(vec![user(1, "alice", 1)]);
        let request = body(json!({"user": {"password": "secret-2", "role": 0, "data": {"a": 1}}}));
        assert!(block_on(handle(&fake, claims_of(1), &request)).is_ok());
        let calls = fake.calls();
        assert!(calls.contains(&Call::Hash), "{calls:?}");
        let update = calls.iter().find_map(|c| match c {
            Call::Update {
                user_id,
                needs_admin,
                password_hashed,
                data,
            } => Some((*user_id, *needs_admin, *password_hashed, data.clone())),
            _ => None,
        });
        assert_eq!(
            update,
            Some((1, true, true, Some(Some(r#"{"a":1}"#.to_string()))))
        );
    }

    #[test]
    fn only_a_login_status_or_password_change_wakes_the_login_sync() {
        let woken = |fields: Value| {
            let fake = Fake::with_users(vec![user(1, "alice", 1)]);
            let request = body(json!({ "user": fields }));
            assert!(block_on(handle(&fake, claims_of(1), &request)).is_ok());
            fake.calls().contains(&Call::LoginsChanged)
        };
        assert!(!woken(json!({"data": {"a": 1}, "introReviewed": true})));
        assert!(woken(json!({"password": "secret-2"})));
        assert!(woken(json!({"login": "alice2"})));
        assert!(woken(json!({"status": 1})));
    }

    #[test]
    fn refuses_bad_fields_before_any_work() {
        let fake = Fake::with_users(vec![user(1, "alice", 1)]);
        let short = body(json!({"user": {"password": "abc"}}));
        let refused = block_on(handle(&fake, claims_of(1), &short));
        assert_eq!(refused.err(), Some(ServiceError::PasswordPolicy));
        assert!(fake.calls().is_empty(), "{:?}", fake.calls());
    }

    #[test]
    fn a_full_hasher_refuses_a_password_change_with_nothing_written() {
        let fake = Fake::with_users(vec![user(1, "alice", 1)]).hasher_full();
        let change = body(json!({"user": {"password": "secret-2"}}));
        let refused = block_on(handle(&fake, claims_of(1), &change));
        assert_eq!(refused.err(), Some(ServiceError::ServerBusy));
        assert!(fake.calls().is_empty(), "{:?}", fake.calls());
    }
}

//! `token`: login and password → an access and a refresh token. The rules, in order:
//! a blank login or password is refused before any work; a place in the hasher's budget is
//! taken before the lookup (a refused login costs no query); a locked or disabled user is
//! refused before the password is checked, with no attempt counted; an unknown login and a
//! wrong password get the same answer after the same work (one Argon2 verification); a wrong
//! password counts towards the lockout; a legacy DeviceHive hash is replaced by Argon2id at a
//! successful login (unless the service keeps writing DeviceHive hashes).

use serde_json::{Map, Value};

use super::claims::{is_active, login_claims, pair};
use super::{PasswordSlot, PasswordUpgrade, Services};
use crate::auth::jwt::{now_ms, TokenType};
use crate::error::ServiceError;
use crate::protocol::login::parse_login;
use crate::protocol::Body;

/// Logs in with `{login, password}`.
pub async fn handle<S: Services>(
    services: &S,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let request = parse_login(body)?;
    let slot = services.reserve_password_work()?;
    let found = services.find_login(request.login).await?;
    if found.as_ref().is_some_and(|u| !is_active(u)) {
        return Err(ServiceError::UserLocked);
    }
    let stored_hash = found.as_ref().and_then(|u| u.user.password_hash.clone());
    let salt = found.as_ref().and_then(|u| u.user.password_salt.clone());
    let verification = slot
        .verify(request.password.clone(), stored_hash.clone(), salt)
        .await?;
    let Some(user) = found else {
        return Err(ServiceError::InvalidCredentials);
    };
    let user_id = user.user.id;
    if !verification.matches {
        services.record_login_failure(user_id).await?;
        return Err(ServiceError::InvalidCredentials);
    }
    let upgrade = match (
        verification.legacy && services.policy().upgrade_legacy_hashes,
        stored_hash,
    ) {
        (true, Some(old_hash)) => {
            let new = slot.hash(request.password).await?;
            Some(PasswordUpgrade { old_hash, new })
        }
        _ => None,
    };
    if !services.record_login_success(user_id, upgrade).await? {
        return Err(ServiceError::UserLocked);
    }
    let now = now_ms();
    let policy = services.policy();
    let access = login_claims(&user, TokenType::Access, now + policy.access_lifetime_ms);
    let refresh = login_claims(&user, TokenType::Refresh, now + policy.refresh_lifetime_ms);
    Ok(Body::from(pair(
        services.mint(vec![access, refresh]).await?,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::fake::{block_on, user, Call, Fake, LEGACY_HASH, PASSWORD};
    use crate::model::UserStatus;
    use serde_json::json;

    fn login(fake: &Fake, login: &str, password: &str) -> Result<Body, ServiceError> {
        let body = json!({"login": login, "password": password});
        block_on(handle(fake, body.as_object().unwrap_or(&Map::new())))
    }

    fn verifies(fake: &Fake) -> usize {
        fake.calls()
            .iter()
            .filter(|c| matches!(c, Call::Verify { .. }))
            .count()
    }

    #[test]
    fn a_right_password_mints_a_pair_and_records_the_login() {
        let fake = Fake::with_users(vec![user(1, "alice", 1)]);
        let answer = login(&fake, "alice", PASSWORD);
        assert!(
            matches!(&answer, Ok(Body::Fields(f)) if f.contains_key("accessToken") && f.contains_key("refreshToken")),
            "{answer:?}"
        );
        assert!(fake.calls().contains(&Call::LoginSuccess {
            user_id: 1,
            upgraded: false
        }));
    }

    #[test]
    fn unknown_login_and_wrong_password_cost_the_same_and_answer_the_same() {
        let fake = Fake::with_users(vec![user(1, "alice", 1)]);
        let unknown = login(&fake, "nobody", PASSWORD);
        let wrong = login(&fake, "alice", "wrong-password");
        assert_eq!(unknown.err(), Some(ServiceError::InvalidCredentials));
        assert_eq!(wrong.err(), Some(ServiceError::InvalidCredentials));
        assert_eq!(
            verifies(&fake),
            2,
            "one verification each: {:?}",
            fake.calls()
        );
        assert!(
            fake.calls().contains(&Call::Verify { had_hash: false }),
            "the unknown login is verified against no hash"
        );
        assert!(
            fake.calls().contains(&Call::LoginFailure(1)),
            "only the wrong password counts"
        );
    }

    #[test]
    fn a_locked_user_is_refused_before_the_password_and_counts_nothing() {
        let mut locked = user(1, "alice", 1);
        locked.user.status = UserStatus::Disabled.ordinal();
        let fake = Fake::with_users(vec![locked]);
        assert_eq!(
            login(&fake, "alice", PASSWORD).err(),
            Some(ServiceError::UserLocked)
        );
        assert_eq!(verifies(&fake), 0);
        assert!(!fake
            .calls()
            .iter()
            .any(|c| matches!(c, Call::LoginFailure(_))));
    }

    #[test]
    fn a_blank_login_or_a_full_hasher_costs_no_lookup() {
        let fake = Fake::with_users(vec![user(1, "alice", 1)]);
        assert_eq!(
            login(&fake, "  ", PASSWORD).err(),
            Some(ServiceError::InvalidLoginRequest)
        );
        let full = Fake::with_users(vec![user(1, "alice", 1)]).hasher_full();
        assert_eq!(
            login(&full, "alice", PASSWORD).err(),
            Some(ServiceError::ServerBusy)
        );
        assert!(fake.calls().is_empty() && full.calls().is_empty());
    }

    #[test]
    fn a_legacy_hash_is_upgraded_unless_the_policy_keeps_them() {
        let mut legacy = user(1, "alice", 1);
        legacy.user.password_hash = Some(LEGACY_HASH.into());
        let fake = Fake::with_users(vec![legacy.clone()]);
        assert!(login(&fake, "alice", PASSWORD).is_ok());
        assert!(fake.calls().contains(&Call::LoginSuccess {
            user_id: 1,
            upgraded: true
        }));
        let keeping = Fake::with_users(vec![legacy]).keeping_legacy_hashes();
        assert!(login(&keeping, "alice", PASSWORD).is_ok());
        assert!(keeping.calls().contains(&Call::LoginSuccess {
            user_id: 1,
            upgraded: false
        }));
    }
}

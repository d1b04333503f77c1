//! `token/create` (ManageToken): a scoped pair for `payload.userId`. Unlike the DeviceHive
//! server, a caller whose role is not admin may mint only for itself and within its own
//! token's actions, networks and device types.

use serde_json::{Map, Value};

use super::claims::{is_active, pair, role_of};
use super::{user_of, Services, TokenPolicy};
use crate::auth::jwt::{now_ms, Claims, TokenType};
use crate::auth::permission::{actions_within, scope_within};
use crate::error::ServiceError;
use crate::model::Role;
use crate::protocol::login::{parse_create, CreateRequest};
use crate::protocol::Body;

/// Mints the pair the payload asks for, if the caller may.
pub async fn handle<S: Services>(
    services: &S,
    caller_claims: Claims,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let request = parse_create(body)?;
    let caller_id = user_of(&caller_claims)?;
    let caller = services
        .load_user(caller_id)
        .await?
        .filter(is_active)
        .ok_or(ServiceError::Unauthorized)?;
    let target = services
        .load_user(request.user_id)
        .await?
        .ok_or(ServiceError::UserNotFound(request.user_id))?;
    if !is_active(&target) {
        return Err(ServiceError::TargetUserLocked);
    }
    let (access, refresh) = requested_claims(&request, services.policy());
    if role_of(&caller) != Role::Admin && !within_caller(&caller_claims, caller_id, &access) {
        return Err(ServiceError::AccessDenied);
    }
    Ok(Body::from(pair(
        services.mint(vec![access, refresh]).await?,
    )?))
}

/// The claims asked for; the refresh expiry inherits `expiration` when only that is given.
fn requested_claims(request: &CreateRequest, policy: TokenPolicy) -> (Claims, Claims) {
    let now = now_ms();
    let access = Claims {
        u: Some(request.user_id),
        a: request.actions.clone(),
        n: request.networks.clone(),
        dt: request.device_types.clone(),
        e: request
            .expiration_ms
            .unwrap_or(now + policy.access_lifetime_ms),
        t: TokenType::Access as i64,
    };
    let refresh = Claims {
        e: request
            .refresh_expiration_ms
            .or(request.expiration_ms)
            .unwrap_or(now + policy.refresh_lifetime_ms),
        t: TokenType::Refresh as i64,
        ..access.clone()
    };
    (access, refresh)
}

/// Whether `wanted` stays within what the caller's own token holds, for the caller itself.
fn within_caller(caller: &Claims, caller_id: i64, wanted: &Claims) -> bool {
    wanted.u == Some(caller_id)
        && actions_within(caller.a.as_deref(), wanted.a.as_deref())
        && scope_within(caller.n.as_deref(), wanted.n.as_deref())
        && scope_within(caller.dt.as_deref(), wanted.dt.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::fake::{block_on, claims_of, user, Fake};
    use crate::model::UserStatus;
    use serde_json::json;

    fn create(fake: &Fake, caller: Claims, payload: Value) -> Result<Body, ServiceError> {
        let body = json!({ "payload": payload });
        block_on(handle(
            fake,
            caller,
            body.as_object().unwrap_or(&Map::new()),
        ))
    }

    fn users() -> Fake {
        let mut locked = user(3, "carol", 1);
        locked.user.status = UserStatus::LockedOut.ordinal();
        Fake::with_users(vec![user(1, "admin", 0), user(2, "bob", 1), locked])
    }

    #[test]
    fn a_client_mints_only_for_itself_within_its_own_token() {
        let fake = users();
        let bob = || claims_of(2);
        assert!(create(
            &fake,
            bob(),
            json!({"userId": 2, "actions": ["GetCurrentUser"]})
        )
        .is_ok());
        assert_eq!(
            create(&fake, bob(), json!({"userId": 1})).err(),
            Some(ServiceError::AccessDenied)
        );
        let mut narrow = bob();
        narrow.a = Some(vec![10]);
        let wider = json!({"userId": 2, "actions": ["GetCurrentUser", "ManageUser"]});
        assert_eq!(
            create(&fake, narrow, wider).err(),
            Some(ServiceError::AccessDenied)
        );
    }

    #[test]
    fn an_admin_mints_for_anyone_active() {
        let fake = users();
        assert!(create(
            &fake,
            claims_of(1),
            json!({"userId": 2, "actions": ["ManageUser"]})
        )
        .is_ok());
        assert_eq!(
            create(&fake, claims_of(1), json!({"userId": 3})).err(),
            Some(ServiceError::TargetUserLocked)
        );
        assert_eq!(
            create(&fake, claims_of(1), json!({"userId": 99})).err(),
            Some(ServiceError::UserNotFound(99))
        );
    }

    #[test]
    fn the_refresh_expiry_inherits_the_access_expiry() {
        let request = CreateRequest {
            user_id: 2,
            actions: None,
            networks: None,
            device_types: None,
            expiration_ms: Some(5_000),
            refresh_expiration_ms: None,
        };
        let policy = TokenPolicy {
            access_lifetime_ms: 1,
            refresh_lifetime_ms: 2,
            upgrade_legacy_hashes: true,
        };
        let (access, refresh) = requested_claims(&request, policy);
        assert_eq!((access.e, refresh.e), (5_000, 5_000));
    }
}

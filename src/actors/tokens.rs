//! The token actions' way through the actors (as the DeviceHive server does): `token` (login with
//! lockout and legacy-hash upgrade), `token/refresh`, and `token/create` with this service's
//! scope rule (a non-admin may mint only for itself, within its own token's rights).

use serde_json::{Map, Value};

use super::messages::{
    FindLogin, HashPassword, LoadUser, Mint, PasswordUpgrade, RecordAuthentication,
    RecordLoginFailure, RecordLoginSuccess, VerifyPassword, VerifyRefresh,
};
use super::pipeline::{ask, Peers};
use crate::auth::jwt::{now_ms, Claims, TokenType};
use crate::auth::permission::{actions_within, scope_within};
use crate::db::user_repo::CurrentUser;
use crate::error::ServiceError;
use crate::model::Role;
use crate::protocol::login::{parse_create, parse_login, parse_refresh, CreateRequest};

/// Token lifetimes and hash policy, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct TokenPolicy {
    /// Access token lifetime in ms.
    pub access_lifetime_ms: i64,
    /// Refresh token lifetime in ms.
    pub refresh_lifetime_ms: i64,
    /// Re-hash legacy DeviceHive passwords with Argon2id on login.
    pub upgrade_legacy_hashes: bool,
}

fn is_active(user: &CurrentUser) -> bool {
    user.user.is_active()
}

fn role_of(user: &CurrentUser) -> Role {
    Role::from_ordinal(user.user.role.into()).unwrap_or(Role::Client)
}

/// The DeviceHive server's login claims for `user`.
fn login_claims(user: &CurrentUser, token_type: TokenType, expires_ms: i64) -> Claims {
    let networks: Vec<i64> = user.networks.iter().map(|n| n.id).collect();
    let all_types = user.user.all_device_types_available.unwrap_or(true);
    Claims::for_login(
        user.user.id,
        role_of(user),
        &networks,
        all_types,
        token_type,
        expires_ms,
    )
}

async fn mint(peers: &Peers, claims: Vec<Claims>) -> Result<Vec<String>, ServiceError> {
    ask(&peers.auth, Mint(claims)).await
}

fn pair(tokens: Vec<String>) -> Result<Map<String, Value>, ServiceError> {
    let [access, refresh]: [String; 2] = tokens.try_into().map_err(|_| ServiceError::Internal)?;
    let mut fields = Map::new();
    fields.insert("accessToken".into(), access.into());
    fields.insert("refreshToken".into(), refresh.into());
    Ok(fields)
}

/// `token`: login and password → access and refresh tokens.
pub async fn login(
    peers: &Peers,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, ServiceError> {
    let request = parse_login(body)?;
    // Taken before the lookup: a login the hasher has no room for costs no query either.
    let slot = peers.hasher.reserve()?;
    let found = peers
        .repo
        .ask(FindLogin {
            login: request.login,
        })
        .await?;
    // Locked or disabled is checked before the password and costs no attempt (DeviceHive).
    if found.as_ref().is_some_and(|u| !is_active(u)) {
        return Err(ServiceError::UserLocked);
    }
    let stored_hash = found.as_ref().and_then(|u| u.user.password_hash.clone());
    let verification = slot
        .verify(VerifyPassword {
            password: request.password.clone(),
            hash: stored_hash.clone(),
            salt: found.as_ref().and_then(|u| u.user.password_salt.clone()),
        })
        .await?;
    // An unknown login and a wrong password get the same answer after the same work.
    let Some(user) = found else {
        return Err(ServiceError::InvalidCredentials);
    };
    let user_id = user.user.id;
    if !verification.matches {
        peers.repo.ask(RecordLoginFailure { user_id }).await?;
        return Err(ServiceError::InvalidCredentials);
    }
    let upgrade = match (
        verification.legacy && peers.policy.upgrade_legacy_hashes,
        stored_hash,
    ) {
        (true, Some(old_hash)) => {
            let password = request.password;
            let new = slot.hash(HashPassword { password }).await?;
            Some(PasswordUpgrade { old_hash, new })
        }
        _ => None,
    };
    if !peers
        .repo
        .ask(RecordLoginSuccess { user_id, upgrade })
        .await?
    {
        return Err(ServiceError::UserLocked);
    }
    let now = now_ms();
    let access = login_claims(
        &user,
        TokenType::Access,
        now + peers.policy.access_lifetime_ms,
    );
    let refresh = login_claims(
        &user,
        TokenType::Refresh,
        now + peers.policy.refresh_lifetime_ms,
    );
    pair(mint(peers, vec![access, refresh]).await?)
}

/// `token/refresh`: a refresh token → a new access token with the refresh token's claims.
pub async fn refresh(
    peers: &Peers,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, ServiceError> {
    let token = parse_refresh(body)?;
    let claims = ask(&peers.auth, VerifyRefresh { token }).await?;
    let user_id = claims.u.ok_or(ServiceError::Unauthorized)?;
    if !peers.repo.ask(RecordAuthentication { user_id }).await? {
        return Err(ServiceError::Unauthorized);
    }
    let access = Claims {
        t: TokenType::Access as i64,
        e: now_ms() + peers.policy.access_lifetime_ms,
        ..claims
    };
    let [token]: [String; 1] = mint(peers, vec![access])
        .await?
        .try_into()
        .map_err(|_| ServiceError::Internal)?;
    let mut fields = Map::new();
    fields.insert("accessToken".into(), token.into());
    Ok(fields)
}

/// `token/create`: a scoped pair for `payload.userId`, for a caller holding ManageToken.
pub async fn create(
    peers: &Peers,
    caller_claims: Claims,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, ServiceError> {
    let request = parse_create(body)?;
    let caller_id = caller_claims.u.ok_or(ServiceError::Unauthorized)?;
    let caller = peers
        .repo
        .ask(LoadUser { user_id: caller_id })
        .await?
        .filter(is_active)
        .ok_or(ServiceError::Unauthorized)?;
    let target = peers
        .repo
        .ask(LoadUser {
            user_id: request.user_id,
        })
        .await?
        .ok_or(ServiceError::UserNotFound(request.user_id))?;
    if !is_active(&target) {
        return Err(ServiceError::TargetUserLocked);
    }
    let (access, refresh) = requested_claims(&request, peers.policy);
    if role_of(&caller) != Role::Admin && !within_caller(&caller_claims, caller_id, &access) {
        return Err(ServiceError::AccessDenied);
    }
    pair(mint(peers, vec![access, refresh]).await?)
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

/// Unlike the DeviceHive server, a non-admin may mint only for itself and within its token.
fn within_caller(caller: &Claims, caller_id: i64, wanted: &Claims) -> bool {
    wanted.u == Some(caller_id)
        && actions_within(caller.a.as_deref(), wanted.a.as_deref())
        && scope_within(caller.n.as_deref(), wanted.n.as_deref())
        && scope_within(caller.dt.as_deref(), wanted.dt.as_deref())
}

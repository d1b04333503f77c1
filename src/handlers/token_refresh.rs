//! `token/refresh`: a refresh token → a new access token with the refresh token's claims
//! (as the DeviceHive server does), for a user still active.

use serde_json::{Map, Value};

use super::{user_of, Services};
use crate::auth::jwt::{now_ms, Claims, TokenType};
use crate::error::ServiceError;
use crate::protocol::login::parse_refresh;
use crate::protocol::Body;

/// Exchanges `{refreshToken}` for `{accessToken}`.
pub async fn handle<S: Services>(
    services: &S,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let token = parse_refresh(body)?;
    let claims = services.verify_refresh(token).await?;
    let user_id = user_of(&claims)?;
    if !services.record_authentication(user_id).await? {
        return Err(ServiceError::Unauthorized);
    }
    let access = Claims {
        t: TokenType::Access as i64,
        e: now_ms() + services.policy().access_lifetime_ms,
        ..claims
    };
    let [token]: [String; 1] = services
        .mint(vec![access])
        .await?
        .try_into()
        .map_err(|_| ServiceError::Internal)?;
    let mut fields = Map::new();
    fields.insert("accessToken".into(), token.into());
    Ok(Body::from(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::fake::{block_on, claims_of, user, Call, Fake};
    use crate::model::UserStatus;
    use serde_json::json;

    fn refresh(fake: &Fake) -> Result<Body, ServiceError> {
        let body = json!({"refreshToken": "r"});
        block_on(handle(fake, body.as_object().unwrap_or(&Map::new())))
    }

    #[test]
    fn the_new_access_token_copies_the_refresh_claims() {
        let mut claims = claims_of(1);
        claims.n = Some(vec!["7".into()]);
        let fake = Fake::with_users(vec![user(1, "alice", 1)]).refreshing(claims);
        assert!(refresh(&fake).is_ok());
        let minted = fake.calls().into_iter().find_map(|c| match c {
            Call::Mint(claims) => Some(claims),
            _ => None,
        });
        let first = minted.and_then(|m| m.into_iter().next());
        assert_eq!(
            first.as_ref().and_then(|c| c.n.clone()),
            Some(vec!["7".to_string()])
        );
        assert_eq!(first.map(|c| c.t), Some(TokenType::Access as i64));
    }

    #[test]
    fn an_inactive_user_cannot_refresh() {
        let mut locked = user(1, "alice", 1);
        locked.user.status = UserStatus::Disabled.ordinal();
        let fake = Fake::with_users(vec![locked]).refreshing(claims_of(1));
        assert_eq!(refresh(&fake).err(), Some(ServiceError::Unauthorized));
        assert!(!fake.calls().iter().any(|c| matches!(c, Call::Mint(_))));
    }
}

//! `authenticate`: records the login and binds the token's claims to the verified client id.
//! On the MQTT 5 topic the publisher is unverified: the token is checked, no session is kept.

use super::{user_of, Services};
use crate::auth::jwt::Claims;
use crate::error::ServiceError;
use crate::protocol::{Body, Origin};

/// Binds `claims` to the origin's client id, if it is verified and the user is active.
pub async fn handle<S: Services>(
    services: &S,
    origin: &Origin,
    claims: Claims,
) -> Result<Body, ServiceError> {
    let user_id = user_of(&claims)?;
    if !services.record_authentication(user_id).await? {
        return Err(ServiceError::InvalidCredentials);
    }
    if let Some(client_id) = origin.session_key() {
        services.bind_session(client_id, claims).await?;
    }
    Ok(Body::empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::fake::{block_on, claims_of, open_origin, user, verified, Call, Fake};
    use crate::model::UserStatus;

    #[test]
    fn binds_a_session_only_on_the_verified_topic() {
        let fake = Fake::with_users(vec![user(1, "alice", 1)]);
        assert!(block_on(handle(&fake, &verified("dev-1"), claims_of(1))).is_ok());
        assert!(block_on(handle(&fake, &open_origin(), claims_of(1))).is_ok());
        let binds: Vec<Call> = fake
            .calls()
            .into_iter()
            .filter(|c| matches!(c, Call::Bind(_)))
            .collect();
        assert_eq!(binds, [Call::Bind("dev-1".into())]);
    }

    #[test]
    fn an_inactive_user_gets_invalid_credentials_and_no_session() {
        let mut locked = user(1, "alice", 1);
        locked.user.status = UserStatus::LockedOut.ordinal();
        let fake = Fake::with_users(vec![locked]);
        let refused = block_on(handle(&fake, &verified("dev-1"), claims_of(1)));
        assert_eq!(refused.err(), Some(ServiceError::InvalidCredentials));
        assert!(!fake.calls().iter().any(|c| matches!(c, Call::Bind(_))));
    }
}

//! `user/getCurrent`: the caller's own user with its networks.

use super::{user_of, Services};
use crate::auth::jwt::Claims;
use crate::db::user_repo::CurrentUser;
use crate::error::ServiceError;
use crate::protocol::Body;

/// The `current` object of the claims' user (401 when gone or not active); `read` is the user
/// a session read brought with it, already checked.
pub async fn handle<S: Services>(
    services: &S,
    claims: Claims,
    read: Option<CurrentUser>,
) -> Result<Body, ServiceError> {
    let user_id = user_of(&claims)?;
    // Not kept across the read.
    drop(claims);
    let current = match read {
        Some(current) => current,
        None => services.load_current(user_id).await?,
    };
    Ok(Body::Current(Box::new(current.into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::fake::{block_on, claims_of, user, Fake};

    #[test]
    fn answers_the_claims_user_and_refuses_claims_without_one() {
        let fake = Fake::with_users(vec![user(3, "carol", 1)]);
        let body = block_on(handle(&fake, claims_of(3), None));
        assert!(matches!(body, Ok(Body::Current(view)) if view.login == "carol"));
        let mut anonymous = claims_of(3);
        anonymous.u = None;
        let refused = block_on(handle(&fake, anonymous, None));
        assert_eq!(refused.err(), Some(ServiceError::Unauthorized));
    }
}

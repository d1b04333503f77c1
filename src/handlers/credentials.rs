//! Who a request speaks for: the claims of its own token, else the session its verified
//! client id holds (read from the database with its user, see `db::sessions`).

use super::Services;
use crate::auth::jwt::{now_ms, Claims};
use crate::auth::permission::allows;
use crate::db::user_repo::CurrentUser;
use crate::error::ServiceError;
use crate::protocol::Action;
use crate::secret::Secret;

/// A request's verified claims and, when they came from a session, the user read with them.
#[derive(Debug)]
pub struct Credentials {
    /// What the token or the session grants.
    pub claims: Claims,
    /// The session's user, active (a session read re-checks it); `None` for a token.
    pub user: Option<CurrentUser>,
}

/// Refuses `action` (403 `Access is denied`) unless the claims' actions grant its permission.
pub fn permit(action: Action, claims: &Claims) -> Result<(), ServiceError> {
    match action.permission() {
        Some(needed) if !allows(claims.a.as_deref(), needed) => Err(ServiceError::AccessDenied),
        _ => Ok(()),
    }
}

/// The credentials of a request for `action`: its token if it has one, else the session of
/// `session_key` (verified topics only). `authenticate` always needs a token.
pub async fn credentials<S: Services>(
    services: &S,
    action: Action,
    token: Option<Secret>,
    session_key: Option<&str>,
) -> Result<Credentials, ServiceError> {
    let session_key = match (token, session_key) {
        (Some(token), _) => {
            let claims = services.authorize(action, token).await?;
            return Ok(Credentials { claims, user: None });
        }
        (None, Some(key)) if action != Action::Authenticate => key,
        (None, _) => return Err(ServiceError::Unauthorized),
    };
    let session = services.session(session_key).await?;
    if session.claims.e < now_ms() {
        return Err(ServiceError::TokenExpired);
    }
    permit(action, &session.claims)?;
    let user = session
        .user
        .filter(|u| u.user.is_active())
        .ok_or(ServiceError::Unauthorized)?;
    Ok(Credentials {
        claims: session.claims,
        user: Some(user),
    })
}

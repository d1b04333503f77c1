//! Typed messages between the actors. Each answers `Result<_, ServiceError>` so a failure
//! anywhere becomes a protocol error answer.

use actix::Message;

use crate::auth::jwt::Claims;
use crate::auth::password::StoredPassword;
use crate::db::model::UserChanges;
use crate::db::user_repo::CurrentUser;
use crate::error::ServiceError;
use crate::protocol::{Action, Outgoing};
use crate::secret::Secret;

/// Auth: check credentials for `action`. Uses `token` if given, else the session of
/// `session_key` (verified topics only).
#[derive(Debug, Message)]
#[rtype(result = "Result<Claims, ServiceError>")]
pub struct Authorize {
    /// The action asked for.
    pub action: Action,
    /// The request's own token.
    pub token: Option<Secret>,
    /// The verified client id, if any.
    pub session_key: Option<String>,
}

/// Auth: bind verified claims to a verified client id.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), ServiceError>")]
pub struct BindSession {
    /// The verified client id.
    pub client_id: String,
    /// The claims of the token presented to `authenticate`.
    pub claims: Claims,
}

/// Repository: the active user `user_id` with its networks.
#[derive(Debug, Message)]
#[rtype(result = "Result<CurrentUser, ServiceError>")]
pub struct GetCurrent {
    /// From the verified claims.
    pub user_id: i64,
}

/// Repository: apply a partial update to the active user `user_id`.
#[derive(Message)]
#[rtype(result = "Result<(), ServiceError>")]
pub struct UpdateCurrent {
    /// From the verified claims.
    pub user_id: i64,
    /// Only the provided columns.
    pub changes: UserChanges,
    /// Whether login, role or status are among them.
    pub needs_admin: bool,
}

/// Repository: record a successful `authenticate` (checks the user is active).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), ServiceError>")]
pub struct RecordAuthentication {
    /// From the verified claims.
    pub user_id: i64,
}

/// Hasher: hash a new password with the configured scheme.
#[derive(Debug, Message)]
#[rtype(result = "Result<StoredPassword, ServiceError>")]
pub struct HashPassword {
    /// The new password.
    pub password: Secret,
}

/// Publisher: hand an answer to Paho; the delivery token is awaited by the caller, so a
/// publisher restart never loses a delivery already started.
#[derive(Debug, Message)]
#[rtype(result = "Result<paho_mqtt::DeliveryToken, ServiceError>")]
pub struct Publish(pub Outgoing);

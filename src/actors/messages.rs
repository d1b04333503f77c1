//! Typed messages between the actors. Each answers `Result<_, ServiceError>` so a failure
//! anywhere becomes a protocol error answer.

use actix::Message;

use crate::auth::jwt::Claims;
use crate::auth::password::StoredPassword;
use crate::db::directory::DirectoryOp;
use crate::db::sessions::StoredSession;
use crate::db::user_repo::{CurrentUser, UpdateJob};
use crate::error::ServiceError;
use crate::handlers::{PasswordUpgrade, Verification};
use crate::protocol::{Action, Outgoing};
use crate::secret::Secret;

/// Auth: check the request's own token for `action`.
#[derive(Debug, Message)]
#[rtype(result = "Result<Claims, ServiceError>")]
pub struct Authorize {
    /// The action asked for.
    pub action: Action,
    /// The request's token.
    pub token: Secret,
}

/// Repository: bind verified claims to a verified client id (`dh_mqtt_session`).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), ServiceError>")]
pub struct BindSession {
    /// The verified client id.
    pub client_id: String,
    /// The claims of the token presented to `authenticate`.
    pub claims: Claims,
}

/// Repository: the users of `getCurrent` requests that waited together, with their networks;
/// one outcome per id (401 for a user that is gone or not active).
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<Result<CurrentUser, ServiceError>>, ServiceError>")]
pub struct LoadBatch(pub Vec<i64>);

/// Repository: the sessions of requests without a token that waited together, each with its
/// user; one outcome per client id (401 for a client without a session).
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<Result<StoredSession, ServiceError>>, ServiceError>")]
pub struct SessionBatch(pub Vec<String>);

/// Repository: the health check, `SELECT 1` on a pooled connection.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), ServiceError>")]
pub struct Ping;

/// Repository: how many sessions the table holds.
#[derive(Debug, Message)]
#[rtype(result = "Result<i64, ServiceError>")]
pub struct CountSessions;

/// Repository: forget the sessions that expired; answers how many.
#[derive(Debug, Message)]
#[rtype(result = "Result<usize, ServiceError>")]
pub struct PruneSessions;

/// Repository: apply the updates that waited together in one transaction; one outcome each.
#[derive(Message)]
#[rtype(result = "Result<Vec<Result<(), ServiceError>>, ServiceError>")]
pub struct UpdateBatch(pub Vec<UpdateJob>);

/// Repository: record a successful `authenticate` or `token/refresh`; answers whether the
/// user is active (an inactive user is left untouched).
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, ServiceError>")]
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

/// Publisher: hand an answer to Paho; the reply tells when the broker has taken it.
#[derive(Debug, Message)]
#[rtype(result = "Result<Delivery, ServiceError>")]
pub struct Publish(pub Outgoing);

/// The outcome of a publish, once the broker has acknowledged it (or Paho gave up on it).
#[derive(Debug)]
pub struct Delivery(pub tokio::sync::oneshot::Receiver<Result<(), paho_mqtt::Error>>);

impl Delivery {
    /// Waits for the outcome. A publisher gone before it was known counts as a failure.
    pub async fn outcome(self) -> Result<(), paho_mqtt::Error> {
        self.0
            .await
            .unwrap_or(Err(paho_mqtt::Error::General("the publisher stopped")))
    }
}

/// Repository: a user with its networks by login (for `token`), whatever its status.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<CurrentUser>, ServiceError>")]
pub struct FindLogin {
    /// Exact login.
    pub login: String,
}

/// Repository: a user with its networks by id, whatever its status.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<CurrentUser>, ServiceError>")]
pub struct LoadUser {
    /// The user.
    pub user_id: i64,
}

/// Repository: count a wrong password, locking the user at the configured maximum.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), ServiceError>")]
pub struct RecordLoginFailure {
    /// The user.
    pub user_id: i64,
}

/// Repository: record a successful login; answers whether the user is (still) active.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, ServiceError>")]
pub struct RecordLoginSuccess {
    /// The user.
    pub user_id: i64,
    /// A legacy hash upgrade, if any.
    pub upgrade: Option<PasswordUpgrade>,
}

/// Hasher: check a password. Always costs one Argon2 verification, also for unknown users and
/// legacy hashes, so timing tells nothing about which logins exist.
#[derive(Debug, Message)]
#[rtype(result = "Result<Verification, ServiceError>")]
pub struct VerifyPassword {
    /// The password given.
    pub password: Secret,
    /// The stored hash; `None` for an unknown login.
    pub hash: Option<String>,
    /// The stored DeviceHive salt.
    pub salt: Option<String>,
}

/// Auth: verify a refresh token.
#[derive(Debug, Message)]
#[rtype(result = "Result<Claims, ServiceError>")]
pub struct VerifyRefresh {
    /// The refresh token.
    pub token: Secret,
}

/// Auth: sign tokens.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<String>, ServiceError>")]
pub struct Mint(pub Vec<Claims>);

/// Repository: run one user-management operation (its own transaction).
pub struct RunOp<Op>(pub Op);

impl<Op: DirectoryOp> Message for RunOp<Op> {
    type Result = Result<Op::Output, ServiceError>;
}

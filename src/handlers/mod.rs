//! What each action decides, one file per action, as async functions over [`Services`]: the
//! narrow interface to the actors (authorize, load a user, submit an update, hash, verify,
//! mint). The actors implement it for real (`actors::services`); the unit tests here implement
//! it with in-memory fakes (`fake`), so every rule of an action is tested without a broker, a
//! database or an actor system. The CLI uses the same rules (`claims::login_claims`).
//!
//! The user-management family runs over the narrower [`Directory`] (database operations and
//! password hashing), which the operator CLI implements too (`manage`).
//!
//! Adding an action: its file here and one line in [`handle`] (or in `manage::handle`).

pub mod authenticate;
pub mod claims;
pub mod credentials;
pub mod get_current;
pub mod manage;
pub mod server_info;
pub mod token;
pub mod token_create;
pub mod token_refresh;
pub mod update_current;
pub mod user_delete;
pub mod user_device_types;
pub mod user_get;
pub mod user_insert;
pub mod user_list;
pub mod user_networks;
pub mod user_update;

#[cfg(test)]
mod fake;

use crate::auth::broker_login::NewBrokerLogin;
use crate::auth::jwt::Claims;
use crate::auth::password::StoredPassword;
use crate::db::directory::{Caller, DirectoryOp};
use crate::db::model::UserChanges;
use crate::db::sessions::StoredSession;
use crate::db::user_repo::CurrentUser;
use crate::error::ServiceError;
use crate::protocol::{Action, Body, Origin, Request};
use crate::secret::Secret;

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

/// What a password check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// The password matches.
    pub matches: bool,
    /// The stored hash is DeviceHive's salted SHA-256.
    pub legacy: bool,
}

/// A legacy hash to replace after a successful login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordUpgrade {
    /// The hash the password verified against.
    pub old_hash: String,
    /// Its Argon2id replacement.
    pub new: StoredPassword,
}

/// A place in the password hasher's budget, taken before any database work so that a login
/// the hasher has no room for costs no query either.
#[expect(
    async_fn_in_trait,
    reason = "requests run on actix's local task set: no Send bound"
)]
pub trait PasswordSlot {
    /// Checks `password` against a stored hash; always one Argon2 verification, also for an
    /// unknown login (`hash` `None`), so timing tells nothing about which logins exist.
    async fn verify(
        &self,
        password: Secret,
        hash: Option<String>,
        salt: Option<String>,
    ) -> Result<Verification, ServiceError>;
    /// Hashes a new password with the configured scheme.
    async fn hash(&self, password: Secret) -> Result<StoredPassword, ServiceError>;
}

/// What the user-management actions need: database operations and password hashing.
#[expect(
    async_fn_in_trait,
    reason = "requests run on actix's local task set: no Send bound"
)]
pub trait Directory {
    /// Runs one directory operation within the database deadline.
    async fn run<Op: DirectoryOp>(&self, op: Op) -> Result<Op::Output, ServiceError>;
    /// Hashes a new password with the configured scheme, within the hasher's budget.
    async fn hash_password(&self, password: Secret) -> Result<StoredPassword, ServiceError>;
    /// The device login at the broker for a new password, when the broker plugin is in use
    /// (docs/OPERATIONS.md, "Device logins"). Cheap: one HMAC.
    fn broker_login(&self, _password: &Secret) -> Option<NewBrokerLogin> {
        None
    }
    /// A user (password, status, login, existence) was written: device logins may differ.
    fn logins_changed(&self) {}
}

/// What the actions need from the rest of the service.
#[expect(
    async_fn_in_trait,
    reason = "requests run on actix's local task set: no Send bound"
)]
pub trait Services: Directory {
    /// The password hasher's slot.
    type Slot: PasswordSlot;
    /// Token lifetimes and hash policy.
    fn policy(&self) -> TokenPolicy;
    /// Claims for `action` from the request's token.
    async fn authorize(&self, action: Action, token: Secret) -> Result<Claims, ServiceError>;
    /// The session bound to a verified client id, with its user (401 when there is none).
    async fn session(&self, client_id: &str) -> Result<StoredSession, ServiceError>;
    /// Binds verified claims to a verified client id, replacing its earlier session.
    async fn bind_session(&self, client_id: &str, claims: Claims) -> Result<(), ServiceError>;
    /// An active user with its networks (401 when gone or not active).
    async fn load_current(&self, user_id: i64) -> Result<CurrentUser, ServiceError>;
    /// Applies an update to `user_id` (refused when inactive, or admin fields by a client).
    async fn submit_update(
        &self,
        user_id: i64,
        changes: UserChanges,
        needs_admin: bool,
    ) -> Result<(), ServiceError>;
    /// A user with its networks by exact login, whatever its status.
    async fn find_login(&self, login: String) -> Result<Option<CurrentUser>, ServiceError>;
    /// A user with its networks by id, whatever its status.
    async fn load_user(&self, user_id: i64) -> Result<Option<CurrentUser>, ServiceError>;
    /// Counts a wrong password (locking the user at the configured maximum).
    async fn record_login_failure(&self, user_id: i64) -> Result<(), ServiceError>;
    /// Records a successful login; whether the user is (still) active.
    async fn record_login_success(
        &self,
        user_id: i64,
        upgrade: Option<PasswordUpgrade>,
    ) -> Result<bool, ServiceError>;
    /// Records a successful `authenticate` or `token/refresh`; whether the user is active.
    async fn record_authentication(&self, user_id: i64) -> Result<bool, ServiceError>;
    /// A place in the password budget, or 503 `Server is busy`.
    fn reserve_password_work(&self) -> Result<Self::Slot, ServiceError>;
    /// The claims of a valid refresh token.
    async fn verify_refresh(&self, token: Secret) -> Result<Claims, ServiceError>;
    /// Signed tokens for `claims`, in order.
    async fn mint(&self, claims: Vec<Claims>) -> Result<Vec<String>, ServiceError>;
}

/// Serves one decoded request: the action's credentials, then its handler. Every action but
/// getCurrent runs in a boxed future of its own, so the hot path's future stays small (each
/// request's task carries it, and it is copied when the task is spawned).
pub async fn handle<S: Services>(
    services: &S,
    origin: &Origin,
    request: Request,
) -> Result<Body, ServiceError> {
    let Request {
        action,
        token,
        body,
        ..
    } = request;
    if action.needs_no_token() {
        return match action {
            Action::Token => Box::pin(token::handle(services, &body)).await,
            Action::TokenRefresh => Box::pin(token_refresh::handle(services, &body)).await,
            Action::ServerInfo => server_info::server(),
            Action::ClusterInfo => server_info::cluster(),
            _ => Err(ServiceError::Internal),
        };
    }
    let credentials::Credentials { claims, user } =
        credentials::credentials(services, action, token, origin.session_key()).await?;
    match action {
        Action::GetCurrentUser => get_current::handle(services, claims, user).await,
        Action::UpdateCurrentUser => {
            Box::pin(update_current::handle(services, claims, &body)).await
        }
        Action::Authenticate => Box::pin(authenticate::handle(services, origin, claims)).await,
        Action::TokenCreate => Box::pin(token_create::handle(services, claims, &body)).await,
        // Served above: they need no token.
        Action::Token | Action::TokenRefresh | Action::ServerInfo | Action::ClusterInfo => {
            Err(ServiceError::Internal)
        }
        managed => {
            let caller = caller_of(&claims);
            drop(claims);
            Box::pin(manage::handle(services, managed, caller, &body)).await
        }
    }
}

/// Runs an operation that answers nothing: a bare success.
async fn done<D: Directory, Op: DirectoryOp<Output = ()>>(
    directory: &D,
    op: Op,
) -> Result<Body, ServiceError> {
    directory.run(op).await?;
    directory.logins_changed();
    Ok(Body::empty())
}

/// Who the claims speak for.
fn caller_of(claims: &Claims) -> Caller {
    claims.u.map_or(Caller::NoUser, Caller::User)
}

/// The user id of verified claims (a token without one authorizes nothing).
fn user_of(claims: &Claims) -> Result<i64, ServiceError> {
    claims.u.ok_or(ServiceError::Unauthorized)
}

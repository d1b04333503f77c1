//! Rows and changesets of the DeviceHive tables. Password fields never reach `Debug`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{device_type, dh_user, network};
use crate::auth::password::StoredPassword;
use crate::model::{Role, UserStatus};
use crate::protocol::user_view::{NetworkView, UserView};

/// A `dh_user` row.
#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = dh_user)]
pub struct UserRow {
    /// `id`
    pub id: i64,
    /// `login`
    pub login: String,
    /// `password_hash`: a PHC string (Argon2id) or DeviceHive's Base64 SHA-256.
    pub password_hash: Option<String>,
    /// `password_salt`: only for DeviceHive hashes.
    pub password_salt: Option<String>,
    /// `role` ordinal.
    pub role: i32,
    /// `status` ordinal.
    pub status: i32,
    /// `login_attempts`
    pub login_attempts: i32,
    /// `last_login`, UTC.
    pub last_login: Option<NaiveDateTime>,
    /// `data`: JSON text.
    pub data: Option<String>,
    /// `intro_reviewed`
    pub intro_reviewed: Option<bool>,
    /// `all_device_types_available`
    pub all_device_types_available: Option<bool>,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("role", &self.role)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl UserRow {
    /// Whether the user may use the API (status ACTIVE).
    pub fn is_active(&self) -> bool {
        UserStatus::from_ordinal(self.status.into()) == Some(UserStatus::Active)
    }
}

/// The public part of a `network` row.
#[derive(Debug, Queryable, Selectable, Clone, PartialEq, Eq)]
#[diesel(table_name = network)]
pub struct NetworkRow {
    /// `id`
    pub id: i64,
    /// `name`
    pub name: String,
    /// `description`
    pub description: Option<String>,
}

/// The public part of a `device_type` row.
#[derive(Debug, Queryable, Selectable, Clone, PartialEq, Eq)]
#[diesel(table_name = device_type)]
pub struct DeviceTypeRow {
    /// `id`
    pub id: i64,
    /// `name`
    pub name: String,
    /// `description`
    pub description: Option<String>,
}

/// The columns a `user/updateCurrent` or `user/update` writes; `None` leaves a column untouched, so the UPDATE
/// names only the provided columns and concurrent updates of other fields are not lost.
#[derive(AsChangeset, Default, Clone)]
#[diesel(table_name = dh_user)]
pub struct UserChanges {
    /// New login.
    pub login: Option<String>,
    /// New role ordinal.
    pub role: Option<i32>,
    /// New status ordinal.
    pub status: Option<i32>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// New salt (`Some(None)` clears it when an Argon2id hash replaces a DeviceHive one).
    pub password_salt: Option<Option<String>>,
    /// New data (`Some(None)` clears it).
    pub data: Option<Option<String>>,
    /// New introReviewed.
    pub intro_reviewed: Option<bool>,
    /// Reset to 0 when a user is made ACTIVE again (an unlock starts a fresh count).
    pub login_attempts: Option<i32>,
}

impl UserChanges {
    /// Whether the write can change a device login at the broker (its login, status or
    /// password); the login sync reads the whole table, so only these wake it.
    pub fn touches_device_logins(&self) -> bool {
        self.login.is_some() || self.status.is_some() || self.password_hash.is_some()
    }

    /// Whether nothing would be written.
    pub fn is_empty(&self) -> bool {
        self.login.is_none()
            && self.role.is_none()
            && self.status.is_none()
            && self.password_hash.is_none()
            && self.password_salt.is_none()
            && self.data.is_none()
            && self.intro_reviewed.is_none()
            && self.login_attempts.is_none()
    }
}

/// A user to create.
#[derive(Insertable)]
#[diesel(table_name = dh_user)]
pub struct NewUser {
    /// `login`
    pub login: String,
    /// `password_hash`
    pub password_hash: Option<String>,
    /// `password_salt`
    pub password_salt: Option<String>,
    /// `role` ordinal.
    pub role: i32,
    /// `status` ordinal.
    pub status: i32,
    /// Always 0: the column has no default in DeviceHive's schema.
    pub login_attempts: i32,
    /// `data` as JSON text; `None` writes NULL.
    pub data: Option<String>,
    /// `None` takes the column default (false).
    pub intro_reviewed: Option<bool>,
    /// `None` takes the column default (true).
    pub all_device_types_available: Option<bool>,
}

impl NewUser {
    /// An active user with a freshly hashed password and no failed logins.
    pub fn active(login: &str, password: StoredPassword, role: Role) -> NewUser {
        NewUser {
            login: login.to_string(),
            password_hash: Some(password.hash),
            password_salt: password.salt,
            role: role.ordinal(),
            status: UserStatus::Active.ordinal(),
            login_attempts: 0,
            data: None,
            intro_reviewed: None,
            all_device_types_available: None,
        }
    }
}

/// A network to create.
#[derive(Insertable)]
#[diesel(table_name = network)]
pub struct NewNetwork {
    /// `name`
    pub name: String,
    /// `description`
    pub description: Option<String>,
}

/// One `user/updateCurrent` to apply.
#[derive(Clone)]
pub struct UpdateJob {
    /// The user, from the verified claims.
    pub user_id: i64,
    /// Only the provided columns.
    pub changes: UserChanges,
    /// Whether login, role or status are among them.
    pub needs_admin: bool,
    /// When the request gets its 503 if not answered; its write must not land after that.
    pub deadline: std::time::Instant,
}

/// A user with the networks linked to it.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user row.
    pub user: UserRow,
    /// Networks from `user_network`, ordered by id.
    pub networks: Vec<NetworkRow>,
}

impl From<UserRow> for UserView {
    /// A user without its networks (`user/list`, `user/insert`).
    fn from(user: UserRow) -> UserView {
        CurrentUser {
            user,
            networks: Vec::new(),
        }
        .into()
    }
}

impl From<NetworkRow> for NetworkView {
    fn from(n: NetworkRow) -> NetworkView {
        NetworkView {
            id: n.id,
            name: n.name,
            description: n.description,
        }
    }
}

impl From<DeviceTypeRow> for NetworkView {
    /// A device type has the same public shape as a network: `{id, name, description}`.
    fn from(t: DeviceTypeRow) -> NetworkView {
        NetworkView {
            id: t.id,
            name: t.name,
            description: t.description,
        }
    }
}

impl From<CurrentUser> for UserView {
    /// The wire view of a loaded user (moves, no copies).
    fn from(current: CurrentUser) -> UserView {
        let CurrentUser { user, networks } = current;
        UserView {
            id: user.id,
            login: user.login,
            role: user.role,
            status: user.status,
            last_login: user.last_login,
            data: user.data,
            intro_reviewed: user.intro_reviewed,
            all_device_types_available: user.all_device_types_available,
            networks: networks.into_iter().map(NetworkView::from).collect(),
        }
    }
}

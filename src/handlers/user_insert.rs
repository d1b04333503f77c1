//! `user/insert`: validate the `user` object, hash the password (within the hasher's
//! budget, never logged), then create the row.

use serde_json::{Map, Value};

use super::Directory;
use crate::db::broker_logins::SetBrokerLogin;
use crate::db::directory::Caller;
use crate::db::model::NewUser;
use crate::db::user_admin::InsertUser;
use crate::error::ServiceError;
use crate::protocol::update;
use crate::protocol::user_view::{Policy, PolicyView, UserView};
use crate::protocol::Body;

/// `user`: the new user under DeviceHive's submitted policy (no login, role or status).
pub async fn handle<D: Directory>(
    directory: &D,
    caller: Caller,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let new = update::parse_new(body)?;
    let broker = directory.broker_login(&new.password);
    let stored = directory.hash_password(new.password).await?;
    let user = NewUser {
        login: new.login,
        password_hash: Some(stored.hash),
        password_salt: stored.salt,
        role: new.role.ordinal(),
        status: new.status.ordinal(),
        login_attempts: 0,
        data: new.data.map(|d| d.to_string()),
        intro_reviewed: new.intro_reviewed,
        all_device_types_available: new.all_device_types_available,
    };
    let row = directory.run(InsertUser { caller, user }).await?;
    if let Some(login) = broker {
        let user_id = row.id;
        directory.run(SetBrokerLogin { user_id, login }).await?;
        directory.logins_changed();
    }
    let view = UserView::from(row);
    Body::field("user", &PolicyView(&view, Policy::Submitted))
}

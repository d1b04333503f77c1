//! `user/update`: the `user` object (checked before `userId`, as DeviceHive does), a new
//! password hashed, then only the given columns written. Leaving `data` out keeps it.

use serde_json::{Map, Value};

use super::update_current::{changes_for, set_broker_login};
use super::Directory;
use crate::db::directory::Caller;
use crate::db::user_admin::UpdateUser;
use crate::error::{IdKind, ServiceError};
use crate::protocol::{fields, update, Body};

/// No fields on success.
pub async fn handle<D: Directory>(
    directory: &D,
    caller: Caller,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let update = update::parse(body)?;
    let user_id = fields::id(body, IdKind::User)?;
    let admin_fields = update.needs_admin();
    let (changes, broker) = changes_for(directory, update).await?;
    let touches_logins = changes.touches_device_logins();
    let op = UpdateUser {
        caller,
        user_id,
        changes,
        admin_fields,
    };
    directory.run(op).await?;
    set_broker_login(directory, user_id, broker, touches_logins).await?;
    Ok(Body::empty())
}

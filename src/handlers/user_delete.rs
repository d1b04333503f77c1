//! `user/delete`: the user and its links, in one transaction; never the caller's own user.

use serde_json::{Map, Value};

use super::{done, Directory};
use crate::db::directory::Caller;
use crate::db::user_admin::DeleteUser;
use crate::error::{IdKind, ServiceError};
use crate::protocol::{fields, Body};

/// No fields on success.
pub async fn handle<D: Directory>(
    directory: &D,
    caller: Caller,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let user_id = fields::id(body, IdKind::User)?;
    done(directory, DeleteUser { caller, user_id }).await
}

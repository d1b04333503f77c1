//! `user/get`: a user with its networks (administrators: anyone; others: themselves).

use serde_json::{Map, Value};

use super::Directory;
use crate::db::directory::Caller;
use crate::db::user_admin::GetUser;
use crate::error::{IdKind, ServiceError};
use crate::protocol::fields;
use crate::protocol::user_view::{Policy, PolicyView, UserView};
use crate::protocol::Body;

/// `user`: the user under DeviceHive's published policy.
pub async fn handle<D: Directory>(
    directory: &D,
    caller: Caller,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let user_id = fields::id(body, IdKind::User)?;
    let user = directory.run(GetUser { caller, user_id }).await?;
    let view = UserView::from(user);
    Body::field("user", &PolicyView(&view, Policy::Published))
}

//! The user-management family (`user/list` … `user/disallowAllDeviceTypes`): one dispatch
//! over the [`Directory`], used by the MQTT actions (with the token's caller) and by the
//! operator CLI (as [`Caller::Operator`]), so both give the same results and errors.

use serde_json::{Map, Value};

use super::{user_delete, user_device_types, user_get, user_insert, user_list, user_networks};
use super::{user_update, Directory};
use crate::db::directory::Caller;
use crate::error::ServiceError;
use crate::protocol::{Action, Body};

/// Serves one user-management action for `caller`.
pub async fn handle<D: Directory>(
    directory: &D,
    action: Action,
    caller: Caller,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    match action {
        Action::ListUsers => user_list::list(directory, body).await,
        Action::CountUsers => user_list::count(directory, body).await,
        Action::GetUser => user_get::handle(directory, caller, body).await,
        Action::InsertUser => user_insert::handle(directory, caller, body).await,
        Action::UpdateUser => user_update::handle(directory, caller, body).await,
        Action::DeleteUser => user_delete::handle(directory, caller, body).await,
        Action::GetUserNetwork => user_networks::get(directory, caller, body).await,
        Action::AssignNetwork => user_networks::assign(directory, body).await,
        Action::UnassignNetwork => user_networks::unassign(directory, body).await,
        Action::GetUserDeviceType => user_device_types::get(directory, caller, body).await,
        Action::GetUserDeviceTypes => user_device_types::list(directory, body).await,
        Action::AssignDeviceType => user_device_types::assign(directory, body).await,
        Action::UnassignDeviceType => user_device_types::unassign(directory, body).await,
        Action::AllowAllDeviceTypes => user_device_types::allow_all(directory, body, true).await,
        Action::DisallowAllDeviceTypes => {
            user_device_types::allow_all(directory, body, false).await
        }
        _ => Err(ServiceError::IllegalAction(action.name().to_string())),
    }
}

//! The six device-type actions: `userId` (then `deviceTypeId`) required.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::user_networks::link;
use super::{done, Directory};
use crate::db::directory::Caller;
use crate::db::user_links::{
    AssignDeviceType, GetUserDeviceType, GetUserDeviceTypes, Link, SetAllDeviceTypes,
    UnassignDeviceType,
};
use crate::error::{IdKind, ServiceError};
use crate::protocol::user_view::NetworkView;
use crate::protocol::{fields, Body};

fn type_link(body: &Map<String, Value>) -> Result<Link, ServiceError> {
    link(body, IdKind::DeviceType)
}

/// `deviceType: {deviceType: {id, name, description}}`, wrapped twice as DeviceHive does.
pub async fn get<D: Directory>(
    directory: &D,
    caller: Caller,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let link = type_link(body)?;
    let found = directory.run(GetUserDeviceType { caller, link }).await?;
    let inner = BTreeMap::from([("deviceType", NetworkView::from(found))]);
    Body::field("deviceType", &inner)
}

/// `deviceTypes`: every device type for a user who may use all, else the linked ones.
pub async fn list<D: Directory>(
    directory: &D,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let user_id = fields::id(body, IdKind::User)?;
    let rows = directory.run(GetUserDeviceTypes { user_id }).await?;
    let views: Vec<NetworkView> = rows.into_iter().map(NetworkView::from).collect();
    Body::field("deviceTypes", &views)
}

/// No fields on success.
pub async fn assign<D: Directory>(
    directory: &D,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    done(directory, AssignDeviceType(type_link(body)?)).await
}

/// No fields on success.
pub async fn unassign<D: Directory>(
    directory: &D,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    done(directory, UnassignDeviceType(type_link(body)?)).await
}

/// `allow`: `user/allowAllDeviceTypes`; else `user/disallowAllDeviceTypes`.
pub async fn allow_all<D: Directory>(
    directory: &D,
    body: &Map<String, Value>,
    allow: bool,
) -> Result<Body, ServiceError> {
    let user_id = fields::id(body, IdKind::User)?;
    done(directory, SetAllDeviceTypes { user_id, allow }).await
}

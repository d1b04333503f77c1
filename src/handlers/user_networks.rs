//! `user/getNetwork`, `user/assignNetwork`, `user/unassignNetwork`: `userId` then
//! `networkId`, both required.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{done, Directory};
use crate::db::directory::Caller;
use crate::db::user_links::{AssignNetwork, GetUserNetwork, Link, UnassignNetwork};
use crate::error::{IdKind, ServiceError};
use crate::protocol::user_view::NetworkView;
use crate::protocol::{fields, Body};

/// `userId`, then the other id, both required (DeviceHive checks them in this order).
pub fn link(body: &Map<String, Value>, other: IdKind) -> Result<Link, ServiceError> {
    let user_id = fields::id(body, IdKind::User)?;
    let other_id = fields::id(body, other)?;
    Ok(Link { user_id, other_id })
}

fn network_link(body: &Map<String, Value>) -> Result<Link, ServiceError> {
    link(body, IdKind::Network)
}

/// `network: {network: {id, name, description}}`: DeviceHive's double wrapping, kept
/// because clients read `network.network`.
pub async fn get<D: Directory>(
    directory: &D,
    caller: Caller,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let link = network_link(body)?;
    let network = directory.run(GetUserNetwork { caller, link }).await?;
    let inner = BTreeMap::from([("network", NetworkView::from(network))]);
    Body::field("network", &inner)
}

/// No fields on success; assigning twice links once.
pub async fn assign<D: Directory>(
    directory: &D,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    done(directory, AssignNetwork(network_link(body)?)).await
}

/// No fields on success; a network that was not linked is a success too.
pub async fn unassign<D: Directory>(
    directory: &D,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    done(directory, UnassignNetwork(network_link(body)?)).await
}

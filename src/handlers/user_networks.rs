//! `user/getNetwork`, `user/assignNetwork`, `user/unassignNetwork`: `userId` then
//! `networkId`, both required.

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
    Body::field(
        "network",
        &Wrapped::new("network", NetworkView::from(network)),
    )
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

/// `{key: value}`: the inner object of DeviceHive's doubly wrapped answers.
pub struct Wrapped<T> {
    key: &'static str,
    value: T,
}

impl<T> Wrapped<T> {
    /// Wraps `value` under `key`.
    pub fn new(key: &'static str, value: T) -> Wrapped<T> {
        Wrapped { key, value }
    }
}

impl<T: serde::Serialize> serde::Serialize for Wrapped<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut out = serializer.serialize_map(Some(1))?;
        out.serialize_entry(self.key, &self.value)?;
        out.end()
    }
}

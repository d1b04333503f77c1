//! `server/info` and `cluster/info`: public, no token needed (as DeviceHive).

use serde_json::{json, Value};

use crate::error::ServiceError;
use crate::protocol::user_view::format_timestamp;
use crate::protocol::Body;

/// The DeviceHive API version whose user family this service implements.
pub const API_VERSION: &str = "4.1.0";

/// `info: {apiVersion, serverTimestamp, restServerUrl}`: exactly DeviceHive's keys. There is
/// no REST API next to this service, so `restServerUrl` is `null`.
pub fn server() -> Result<Body, ServiceError> {
    let now = chrono::Utc::now().naive_utc();
    let info = json!({
        "apiVersion": API_VERSION,
        "serverTimestamp": format_timestamp(now),
        "restServerUrl": Value::Null,
    });
    Body::field("info", &info)
}

/// `clusterInfo` with DeviceHive's two keys, both `null`: there is no Kafka or ZooKeeper
/// behind this service, and nothing internal is published.
pub fn cluster() -> Result<Body, ServiceError> {
    let info = json!({"bootstrap.servers": Value::Null, "zookeeper.connect": Value::Null});
    Body::field("clusterInfo", &info)
}

//! The topic rules of dh-mqtt-plugin (docs/PROTOCOL.md, section 1): pure functions shared by
//! the service, which builds and classifies topics with them, and the broker plugin, which
//! decides access with them. No I/O, no allocation on the decision path.

mod decide;
mod text;
mod update;

pub use decide::{decide, Access, Account, Decision};
pub use text::{
    is_safe_text, is_topic_action, is_valid_client_id, MAX_CLIENT_ID_BYTES, MAX_TOPIC_ACTION_BYTES,
};
pub use update::{from_hex, parse_update, to_hex, verifier, Change, UpdateError};

/// Every topic the rules govern starts with this level.
pub const NAMESPACE: &str = "dh";
/// The request topic: `dh/request` (publisher unknown unless the plugin rewrites it) and
/// `dh/request/{clientId}` (verified).
pub const REQUEST_TOPIC: &str = "dh/request";
/// Prefix of every response topic `dh/response/{action}@{clientId}`.
pub const RESPONSE_PREFIX: &str = "dh/response/";
/// Topics of the plugin itself (credential updates from the service accounts).
pub const PLUGIN_PREFIX: &str = "dh/plugin/";
/// Where the service publishes device credentials for the plugin.
pub const CREDENTIALS_TOPIC: &str = "dh/plugin/credentials";

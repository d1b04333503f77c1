//! The Mosquitto plugin of dh-mqtt-plugin (docs/OPERATIONS.md, "The broker plugin").
//!
//! It decides access to the `dh/` namespace with the rules of `dh-mqtt-rules`, refuses client
//! ids that cannot form a safe topic, hands requests on plain `dh/request` to the service as
//! verified (`dh/request/{clientId}`), and logs devices in from the credential table the
//! service keeps it up to date with. Everything here is safe Rust except `ffi`, the one module
//! that talks to the broker.

mod accounts;
mod credentials;
#[cfg(not(test))]
mod ffi;
mod plugin;

pub use accounts::ServiceAccounts;
pub use credentials::Credentials;
pub use plugin::{Login, Plugin, Rewrite};

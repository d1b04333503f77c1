//! dh-mqtt-plugin: the DeviceHive user API over MQTT, next to a Mosquitto broker.
//!
//! Layout, one layer per kind of decision: `protocol` (the wire contract as plain functions),
//! `handlers` (what each action decides, over a narrow interface), `auth` (tokens, keys,
//! passwords), `db` (pools, schema, migrations, queries), `actors` (only actors and their
//! plumbing: ingest, auth, batchers, repository lanes, hasher, publisher), `service` (wiring
//! and lifecycle), `config` and `cli` for the binary. docs/ARCHITECTURE.md walks one request
//! through them.

pub mod actors;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod handlers;
#[cfg(test)]
mod layering;
pub mod logging;
pub mod memory;
pub mod model;
pub mod mqtt;
pub mod ops;
pub mod protocol;
pub mod scheduling;
pub mod secret;
pub mod service;

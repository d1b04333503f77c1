//! dh-mqtt-plugin: the DeviceHive user API over MQTT, next to a Mosquitto broker.
//!
//! Layout: `protocol` (the wire contract as pure functions), `auth` (tokens, keys, passwords),
//! `db` (pools, schema, migrations, queries), `actors` (ingest, auth, repository, hasher,
//! publisher and the request pipeline between them), `service` (wiring and lifecycle),
//! `config` and `cli` for the binary.

pub mod actors;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod logging;
pub mod memory;
pub mod model;
pub mod mqtt;
pub mod protocol;
pub mod scheduling;
pub mod secret;
pub mod service;

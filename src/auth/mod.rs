//! Credentials: DeviceHive JWTs, their signing key, permissions, and password hashes.

pub mod broker_login;
pub mod jwt;
pub mod key;
pub mod password;
pub mod permission;
pub mod verified;

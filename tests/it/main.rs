//! Integration tests: the real binary, a real Mosquitto started per test from the shipped
//! configuration and ACL, real SQLite files and PostgreSQL databases, real JWTs.
//!
//! Needs `mosquitto`, `mosquitto_passwd` and a PostgreSQL server where the current user may
//! create databases (`DH_TEST_POSTGRES_URL`, default postgres://dh_test:dh_test@127.0.0.1:5432/postgres);
//! `deploy/test.sh` installs and starts them, then runs the suite. A missing one fails with that hint.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a failing test is a panic with a message"
)]

mod support;

mod acl;
mod bench;
mod broker_cuts;
mod cli;
mod compat;
mod connections;
mod corpus;
mod database_faults;
mod errors;
mod get_current;
mod instances;
mod login_watch;
mod logs;
mod manage;
mod mqtt5;
mod operations;
mod pg_tls;
mod plugin;
mod poison;
mod reads;
mod resilience;
mod session;
mod supervision;
mod tokens;
mod update_alone;
mod update_current;

//! `dh-bench`: authenticated request → response load against the service (or a bare echo
//! responder) through a real broker. `load` runs one scenario, `echo` is the ceiling any plugin
//! on this broker can reach, `compare` alternates the two on the same load and prints ratios.

pub mod compare;
pub mod connection;
pub mod cpu;
pub mod echo;
pub mod faults;
pub mod ledger;
pub mod load;
pub mod proxy;
pub mod report;
pub mod scenario;
pub mod seed;
pub mod storm;
pub mod timeline;
pub mod transport;

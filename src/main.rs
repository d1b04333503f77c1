//! The `dh-mqtt-plugin` binary: parse the command line, run, map errors to an exit code.

use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: per-thread free lists without arena growth. Measured
/// with `dh-bench` (README, performance): less CPU per request and a flat RSS in the soak.
/// Its 2.x line (feature `v2`): 3.x kept the pages of a burst of request tasks and, in the
/// soak, stepped from 40 to 50 MiB about 11 minutes in; 2.x reaches the same plateau in the
/// first minute. The service collects its heap on a timer so a later burst's pages go back
/// to the OS even when no later allocation touches them (`dh_mqtt_plugin::memory`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    dh_mqtt_plugin::logging::init();
    match dh_mqtt_plugin::cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dh-mqtt-plugin: {err:#}");
            ExitCode::FAILURE
        }
    }
}

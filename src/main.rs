//! The `dh-mqtt-plugin` binary: parse the command line, run, map errors to an exit code.

use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: per-thread free lists without arena growth. Measured
/// with `dh-bench` (docs/PERFORMANCE.md): less CPU per request. Its 2.x line (feature `v2`):
/// 3.x kept the pages of a burst of request tasks for good. Feature `no_thp` (with
/// `memory::disable_transparent_huge_pages` at `serve`): with huge pages its arena was backed
/// in 2 MiB pages, RSS ~48 instead of ~20 MiB, growing in 2 MiB steps. Feature `override`:
/// mimalloc also stands in for `malloc`/`free` of the C code in the process (Paho C, SQLite,
/// libpq), whose ~26 `malloc`/`free` pairs per getCurrent through glibc had been ~8 % of its
/// instructions (callgrind); with it, ~5 % fewer instructions per request.
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

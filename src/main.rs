//! The `dh-mqtt-plugin` binary: parse the command line, run, map errors to an exit code.

use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: per-thread free lists without arena growth, less CPU per
/// request. Its 2.x line (feature `v2`): 3.x kept the pages of a burst of request tasks for
/// good. Feature `no_thp` (with `memory::disable_transparent_huge_pages` at `serve`): huge
/// pages more than doubled the RSS. Feature `override`: mimalloc also serves the C code in the
/// process (Paho C, SQLite, libpq). Figures: docs/PERFORMANCE.md, items 4, 10 and 12.
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

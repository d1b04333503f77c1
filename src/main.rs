//! The `dh-mqtt-plugin` binary: parse the command line, run, map errors to an exit code.

use std::process::ExitCode;

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

//! Logging set-up: `RUST_LOG` (default `info`), one target per actor (`dh::ingest`,
//! `dh::auth`, …). Paho's own log lines are capped at `info` whatever `RUST_LOG` says: at
//! `debug` it prints its connect options, which hold the broker password.

use log::LevelFilter;

/// Initialises `env_logger` once; later calls are ignored.
pub fn init() {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    builder.filter_module("paho_mqtt", LevelFilter::Info);
    builder.filter_module("paho_mqtt_sys", LevelFilter::Info);
    builder.format_timestamp_millis();
    let _ = builder.try_init();
}

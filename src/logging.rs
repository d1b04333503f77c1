//! Logging set-up: `RUST_LOG` (default `info`), one target per actor (`dh::ingest`,
//! `dh::auth`, …). Paho's own log lines are capped at `info` whatever `RUST_LOG` says: at
//! `debug` it prints its connect options, which hold the broker password. Paho C's trace is
//! capped at `warn`: the crate sets the C trace level from whether its `paho_mqtt_c` target is
//! enabled, and at `info` the C library formats a trace line for every packet (with a
//! `localtime` call each) only for the crate to drop it as `debug`; that cost a third of the
//! service's throughput.

use log::LevelFilter;

/// Initialises `env_logger` once; later calls are ignored.
pub fn init() {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    builder.filter_module("paho_mqtt", LevelFilter::Info);
    builder.filter_module("paho_mqtt_sys", LevelFilter::Info);
    // Paho C's errors come through as `warn`; nothing it says maps to `info`.
    builder.filter_module("paho_mqtt_c", LevelFilter::Warn);
    builder.format_timestamp_millis();
    let _ = builder.try_init();
}

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

/// The longest excerpt of client-supplied text (a topic, an action) a log line carries.
const EXCERPT_CHARS: usize = 48;

/// A short, printable excerpt of client-supplied text for a log line: at most
/// [`EXCERPT_CHARS`] characters, control and other unprintable characters escaped, and a
/// note of how many bytes were left out. A request's payload never goes to the log whole.
pub fn excerpt(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    let shown: usize = text.chars().take(EXCERPT_CHARS).map(char::len_utf8).sum();
    if shown < text.len() {
        out.push_str(&format!("… (+{} bytes)", text.len() - shown));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt("dh/request/a"), "dh/request/a");
        assert_eq!(excerpt("x\u{1}\ny"), "x\\u{1}\\ny");
        let long = "a".repeat(65_000);
        assert_eq!(
            excerpt(&long),
            format!("{}… (+64952 bytes)", "a".repeat(48))
        );
    }
}

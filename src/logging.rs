//! Logging set-up: `RUST_LOG` (default `info`), one target per actor (`dh::ingest`,
//! `dh::auth`, …). Paho's own log lines are capped at `info` whatever `RUST_LOG` says: at
//! `debug` it prints its connect options, which hold the broker password. Paho C's trace is
//! capped at `warn`: the crate sets the C trace level from whether its `paho_mqtt_c` target is
//! enabled, and at `info` the C library formats a trace line for every packet (with a
//! `localtime` call each) only for the crate to drop it as `debug`; that cost a third of the
//! service's throughput.

//!
//! Under systemd (standard error is the journal's stream, `JOURNAL_STREAM`) lines carry no
//! timestamp, which the journal adds, and start with a syslog priority (`<3>` error, `<4>`
//! warning, `<6>` info, `<7>` debug) that the journal files them under; on a terminal they are
//! unchanged.

use std::io::Write;

use log::{Level, LevelFilter};

/// Initialises `env_logger` once; later calls are ignored.
pub fn init() {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    builder.filter_module("paho_mqtt", LevelFilter::Info);
    builder.filter_module("paho_mqtt_sys", LevelFilter::Info);
    // Paho C's errors come through as `warn`; nothing it says maps to `info`.
    builder.filter_module("paho_mqtt_c", LevelFilter::Warn);
    if stderr_is_journal() {
        builder.format(|out, record| {
            let priority = syslog_priority(record.level());
            writeln!(out, "<{priority}>{}: {}", record.target(), record.args())
        });
    } else {
        builder.format_timestamp_millis();
    }
    let _ = builder.try_init();
}

/// The syslog priority the journal files a line of `level` under.
fn syslog_priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

/// Whether standard error is the stream systemd named in `JOURNAL_STREAM` (`device:inode`):
/// the variable alone is inherited by children whose output goes elsewhere.
fn stderr_is_journal() -> bool {
    let Ok(stream) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    // fstat of a duplicate of descriptor 2.
    let stat = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .and_then(|fd| std::fs::File::from(fd).metadata());
    stat.is_ok_and(|m| stream == format!("{}:{}", m.dev(), m.ino()))
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
    use super::{excerpt, syslog_priority};
    use log::Level;

    #[test]
    fn levels_map_to_syslog_priorities() {
        let got: Vec<u8> = [
            Level::Error,
            Level::Warn,
            Level::Info,
            Level::Debug,
            Level::Trace,
        ]
        .into_iter()
        .map(syslog_priority)
        .collect();
        assert_eq!(got, [3, 4, 6, 7, 7]);
    }

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

//! CPU time per request of each party of a run, from `/proc`: the responder under test (the
//! service or echo), the broker, the load tool (this process) and the database server. A
//! change that only moves cost from one to another shows here even when throughput does not.

use std::fs;

use serde::Serialize;

/// Microseconds of CPU (user + system) per answered request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CpuPerRequest {
    pub responder_us: f64,
    pub broker_us: f64,
    pub tool_us: f64,
    pub database_us: f64,
}

/// CPU seconds consumed so far by each party.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    responder: f64,
    broker: f64,
    tool: f64,
    database: f64,
}

impl Snapshot {
    /// Now, with `responder` the pid of the service or echo. The broker is every `mosquitto`
    /// process and the database every `postgres` process (server-wide, so other work on the
    /// same server counts too; SQLite runs inside the service and shows there).
    pub fn take(responder: u32) -> Snapshot {
        let (mut broker, mut database) = (0.0, 0.0);
        for (pid, comm) in processes() {
            match comm.as_str() {
                "mosquitto" => broker += cpu_seconds(pid).unwrap_or(0.0),
                "postgres" => database += cpu_seconds(pid).unwrap_or(0.0),
                _ => {}
            }
        }
        Snapshot {
            responder: cpu_seconds(responder).unwrap_or(0.0),
            broker,
            tool: cpu_seconds(std::process::id()).unwrap_or(0.0),
            database,
        }
    }

    /// What each party spent between `self` and `later`, per request of `answered`.
    pub fn per_request(&self, later: &Snapshot, answered: u64) -> CpuPerRequest {
        let per = |a: f64, b: f64| {
            if answered == 0 {
                0.0
            } else {
                (b - a).max(0.0) * 1e6 / answered as f64
            }
        };
        CpuPerRequest {
            responder_us: per(self.responder, later.responder),
            broker_us: per(self.broker, later.broker),
            tool_us: per(self.tool, later.tool),
            database_us: per(self.database, later.database),
        }
    }
}

/// The line `compare` prints: medians of each party's CPU per C2 getCurrent, with echo and
/// with the service as the responder, and the responders' ratio.
pub fn summary(echo: &[CpuPerRequest], service: &[CpuPerRequest]) -> String {
    let median = |runs: &[CpuPerRequest], f: fn(&CpuPerRequest) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let of = |name: &str, runs: &[CpuPerRequest]| {
        format!(
            "{name} {:.1} µs, broker {:.1} µs, load tool {:.1} µs, database {:.1} µs",
            median(runs, |c| c.responder_us),
            median(runs, |c| c.broker_us),
            median(runs, |c| c.tool_us),
            median(runs, |c| c.database_us)
        )
    };
    let ratio = median(service, |c| c.responder_us) / median(echo, |c| c.responder_us);
    format!(
        "CPU per C2 getCurrent (medians, /proc): with echo: {}; with the service: {}. \
         Service / echo CPU per request: {ratio:.2}.",
        of("echo", echo),
        of("service", service)
    )
}

fn processes() -> Vec<(u32, String)> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            Some((pid, comm.trim_end().to_string()))
        })
        .collect()
}

/// utime + stime of a process (its threads included), in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(ticks_of(&stat)? as f64 / USER_HZ)
}

/// Fields 14 and 15 of `/proc/PID/stat`, counted after the command name (which may itself
/// hold spaces and parentheses, so the split is at the last `)`).
fn ticks_of(stat: &str) -> Option<u64> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// `/proc/PID/stat` counts in USER_HZ, which the kernel fixes at 100 for user space.
const USER_HZ: f64 = 100.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_compares_the_responders() {
        let run = |responder_us| CpuPerRequest {
            responder_us,
            broker_us: 20.0,
            tool_us: 15.0,
            database_us: 0.0,
        };
        let line = summary(&[run(40.0), run(50.0), run(45.0)], &[run(54.0)]);
        assert!(line.contains("echo 45.0 µs, broker 20.0 µs"), "{line}");
        assert!(line.contains("service 54.0 µs"), "{line}");
        assert!(
            line.ends_with("Service / echo CPU per request: 1.20."),
            "{line}"
        );
    }

    #[test]
    fn reads_utime_and_stime_after_the_command_name() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 1 0 5 0 0";
        assert_eq!(ticks_of(stat), Some(280));
        assert_eq!(ticks_of("42 (x"), None);
    }

    #[test]
    fn this_process_has_spent_some_cpu_and_a_snapshot_counts_it() {
        let before = Snapshot::take(std::process::id());
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(50) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        let after = Snapshot::take(std::process::id());
        let per = before.per_request(&after, 1);
        assert!(x > 0);
        assert!(per.tool_us > 0.0 && per.responder_us > 0.0, "{per:?}");
        assert_eq!(before.per_request(&after, 0), CpuPerRequest::default());
    }
}

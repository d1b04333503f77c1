//! The fault matrix's helpers (`deploy/faults.sh`): a proxy whose mode a script switches by
//! writing a word into a file, and a SQLite write lock held for a while.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use super::proxy::{Mode, TcpProxy};

/// Runs a [`TcpProxy`] on `listen`, forwarding to `to`, in the mode named in `mode_file`
/// (re-read every 20 ms; a missing file means forward). Never returns but on error.
pub async fn run_proxy(listen: u16, to: &str, mode_file: &Path) -> anyhow::Result<()> {
    let proxy = TcpProxy::start(listen, to).with_context(|| format!("listening on {listen}"))?;
    let mut current = Mode::Forward;
    loop {
        let wanted = match std::fs::read_to_string(mode_file) {
            Ok(text) => text.parse::<Mode>().map_err(anyhow::Error::msg)?,
            Err(_) => Mode::Forward,
        };
        if wanted != current {
            proxy.set(wanted);
            current = wanted;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Takes the write lock of the SQLite database at `path` and holds it for `how_long`.
pub fn hold_sqlite_lock(path: &Path, how_long: Duration) -> anyhow::Result<()> {
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())
        .with_context(|| format!("opening {}", path.display()))?;
    conn.batch_execute("BEGIN IMMEDIATE")?;
    std::thread::sleep(how_long);
    conn.batch_execute("ROLLBACK")?;
    Ok(())
}

//! One serving instance per SQLite file. Several processes writing one SQLite file take turns
//! for its single write lock and answer 503 whenever they wait past `busy_timeout`, and the
//! instances' batchers would fight over it; several instances are supported on PostgreSQL
//! only (docs/OPERATIONS.md). A second `serve` on the same file refuses to start instead.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::PathBuf;

use super::DbUrl;

/// Held while the service runs: the lock on `{file}.serve-lock` (none for PostgreSQL).
#[derive(Debug)]
pub struct InstanceLock {
    /// Dropped (and so unlocked) when the service stops.
    _held: Option<File>,
}

/// Why the service cannot take the SQLite file.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// Another process serves it.
    #[error(
        "another dh-mqtt-plugin serves the SQLite database {path} (its lock file {lock} is held); \
         run one instance per SQLite file, or use PostgreSQL to run several"
    )]
    Taken { path: String, lock: String },
    /// The lock file could not be opened.
    #[error("cannot open the lock file {lock}: {source}")]
    Io {
        lock: String,
        #[source]
        source: std::io::Error,
    },
}

/// Takes the serving lock of a SQLite database; PostgreSQL needs none.
pub fn instance_lock(url: &DbUrl) -> Result<InstanceLock, InstanceError> {
    let DbUrl::Sqlite(path) = url else {
        return Ok(InstanceLock { _held: None });
    };
    let mut lock_path = PathBuf::from(path);
    lock_path.as_mut_os_string().push(".serve-lock");
    let lock = lock_path.display().to_string();
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| InstanceError::Io {
            lock: lock.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => {
            // For a person looking at the file; the lock itself is what counts.
            let _ = file.set_len(0);
            let _ = writeln!(file, "{}", std::process::id());
            Ok(InstanceLock { _held: Some(file) })
        }
        Err(TryLockError::WouldBlock) => Err(InstanceError::Taken {
            path: path.display().to_string(),
            lock,
        }),
        Err(TryLockError::Error(source)) => Err(InstanceError::Io { lock, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_file_is_refused_until_the_first_is_gone() {
        let dir = std::env::temp_dir().join(format!("dh-lock-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let url = DbUrl::Sqlite(dir.join("a.sqlite"));
        let first = instance_lock(&url);
        assert!(first.is_ok(), "{first:?}");
        let second = instance_lock(&url);
        assert!(
            matches!(second, Err(InstanceError::Taken { .. })),
            "{second:?}"
        );
        drop(first);
        assert!(instance_lock(&url).is_ok());
        let pg = DbUrl::Postgres("postgres://x/y".into());
        assert!(instance_lock(&pg).is_ok() && instance_lock(&pg).is_ok());
    }
}

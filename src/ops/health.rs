//! What `/healthz`, systemd's `READY=1` and `STATUS=` are decided from: whether every broker
//! connection is subscribed and whether the database answered the last health check.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A health check older than this no longer says the database answers (checks run every
/// second: `probe::INTERVAL`).
const STALE: Duration = Duration::from_secs(3);

/// One broker connection's state.
#[derive(Debug)]
pub struct Link {
    /// The connection's client id.
    pub name: String,
    /// Subscribed since its last connect.
    pub subscribed: AtomicBool,
    /// How many times it has subscribed: a change means the broker may have restarted (the
    /// broker-login sync then sends its whole table again).
    pub sessions: AtomicU64,
}

/// The service's health, shared by the ingest actors, the probe and the HTTP listener.
#[derive(Debug, Default)]
pub struct Health {
    links: Mutex<Vec<Arc<Link>>>,
    /// When the database last answered or failed a check, and how.
    database: Mutex<Option<(Instant, Result<(), String>)>>,
    /// Sessions in the table at the last count (-1 before the first).
    sessions: AtomicI64,
}

impl Health {
    /// Nothing connected, the database not checked yet.
    pub fn new() -> Arc<Health> {
        let health = Health::default();
        health.sessions.store(-1, Ordering::Relaxed);
        Arc::new(health)
    }

    /// Registers a broker connection (not subscribed yet).
    pub fn link(&self, name: &str) -> Arc<Link> {
        let link = Arc::new(Link {
            name: name.to_string(),
            subscribed: AtomicBool::new(false),
            sessions: AtomicU64::new(0),
        });
        self.lock_links().push(Arc::clone(&link));
        link
    }

    /// Forgets a connection closed for good (a keeper given up).
    pub fn unlink(&self, name: &str) {
        self.lock_links().retain(|l| l.name != name);
    }

    /// Records a health check of the database.
    pub fn database_checked(&self, outcome: Result<(), String>) {
        *self.database.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), outcome));
    }

    /// Records the number of sessions.
    pub fn set_sessions(&self, count: i64) {
        self.sessions.store(count, Ordering::Relaxed);
    }

    /// Sessions at the last count, if counted.
    pub fn sessions(&self) -> Option<i64> {
        Some(self.sessions.load(Ordering::Relaxed)).filter(|n| *n >= 0)
    }

    /// (subscribed, all) broker connections.
    pub fn subscribed(&self) -> (usize, usize) {
        let links = self.lock_links();
        let up = links
            .iter()
            .filter(|l| l.subscribed.load(Ordering::Relaxed))
            .count();
        (up, links.len())
    }

    /// Healthy: every broker connection subscribed and the database answered the last check,
    /// which is recent. Otherwise why not, for a person.
    pub fn verdict(&self) -> Result<String, String> {
        let down: Vec<String> = self
            .lock_links()
            .iter()
            .filter(|l| !l.subscribed.load(Ordering::Relaxed))
            .map(|l| l.name.clone())
            .collect();
        if !down.is_empty() {
            return Err(format!(
                "broker connection not subscribed: {}",
                down.join(", ")
            ));
        }
        let database = self
            .database
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match database {
            None => Err("database not checked yet".into()),
            Some((_, Err(why))) => Err(format!("database not answering: {why}")),
            Some((at, Ok(()))) if at.elapsed() > STALE => Err(format!(
                "database did not answer a check for {:.1} s",
                at.elapsed().as_secs_f64()
            )),
            Some((_, Ok(()))) => {
                let (up, _) = self.subscribed();
                Ok(format!(
                    "ok: {up} broker connections subscribed, database answering"
                ))
            }
        }
    }

    fn lock_links(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Link>>> {
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_only_with_every_connection_subscribed_and_the_database_answering() {
        let health = Health::new();
        let first = health.link("svc");
        assert!(health.verdict().is_err_and(|w| w.contains("svc")));
        first.subscribed.store(true, Ordering::Relaxed);
        assert_eq!(health.verdict(), Err("database not checked yet".into()));
        health.database_checked(Ok(()));
        assert!(health.verdict().is_ok());
        health.database_checked(Err("refused".into()));
        assert_eq!(
            health.verdict(),
            Err("database not answering: refused".into())
        );
        health.database_checked(Ok(()));
        let second = health.link("svc-2");
        assert!(health.verdict().is_err());
        health.unlink(&second.name);
        assert!(health.verdict().is_ok());
    }
}

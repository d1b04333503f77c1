//! systemd's notify protocol (`Type=notify`, sd-notify): `READY=1` once the database answers
//! and every broker connection is subscribed, `WATCHDOG=1` after each self-check the actors
//! passed (`probe`), `STATUS=` for `systemctl status`, `STOPPING=1` when the drain starts.
//! Without `NOTIFY_SOCKET` every call is a no-op.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sd_notify::NotifyState;

use super::health::Health;
use super::probe::{Probe, INTERVAL};
use crate::actors::admission::Admission;
use crate::actors::lanes::RepoLanes;
use crate::actors::messages::CountSessions;

/// How often `STATUS=` is refreshed and sessions are counted.
const STATUS_INTERVAL: Duration = Duration::from_secs(5);

/// Runs the checks until the task is aborted at shutdown.
pub async fn run(probe: Probe, repo: RepoLanes, admission: Arc<Admission>) {
    let watchdog = sd_notify::watchdog_enabled();
    if let Some(every) = watchdog {
        log::info!(target: "dh::service", "systemd watchdog: {every:?}; the self-check runs every {INTERVAL:?}");
    }
    let health = Arc::clone(&probe.health);
    let mut ready = false;
    let mut status_at = Instant::now();
    let mut first_status = true;
    let mut answered_before = admission.answered.load(Ordering::Relaxed);
    loop {
        let alive = probe.check().await;
        if alive && watchdog.is_some() {
            send(&[NotifyState::Watchdog]);
        } else if !alive {
            log::warn!(target: "dh::service", "self-check: an actor did not answer within its time; {}", health.verdict().err().unwrap_or_default());
        }
        if !ready && health.verdict().is_ok() {
            ready = true;
            log::info!(target: "dh::service", "ready: database answering, every broker connection subscribed");
            send(&[NotifyState::Ready]);
        }
        if first_status || status_at.elapsed() >= STATUS_INTERVAL {
            first_status = false;
            if let Ok(count) = repo.ask(CountSessions).await {
                health.set_sessions(count);
            }
            let answered = admission.answered.load(Ordering::Relaxed);
            let seconds = status_at.elapsed().as_secs_f64().max(0.001);
            let rate = answered.saturating_sub(answered_before) as f64 / seconds;
            answered_before = answered;
            status_at = Instant::now();
            send(&[NotifyState::Status(&status_line(&health, rate))]);
        }
        actix_rt::time::sleep(INTERVAL).await;
    }
}

/// `STATUS=` text: connections, request rate, sessions, or what is wrong.
fn status_line(health: &Health, rate: f64) -> String {
    let (up, all) = health.subscribed();
    let sessions = health
        .sessions()
        .map_or("sessions not counted yet".to_string(), |n| {
            format!("{n} sessions")
        });
    let state = match health.verdict() {
        Ok(_) => String::new(),
        Err(why) => format!("; unhealthy: {why}"),
    };
    format!("{up}/{all} broker connections subscribed, {rate:.0} requests/s, {sessions}{state}")
}

/// Tells systemd the drain has started.
pub fn stopping(in_flight: usize) {
    let status = format!("stopping: answering {in_flight} requests in flight");
    send(&[NotifyState::Stopping, NotifyState::Status(&status)]);
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        log::warn!(target: "dh::service", "cannot notify systemd: {e}");
    }
}

//! Prometheus metrics (the `metrics` facade, `metrics-exporter-prometheus` rendering the text
//! exposition). Counters on the request path are recorded where things happen; what the
//! service already counts (admission, pool, password queue) is copied in at each scrape.

use std::sync::atomic::Ordering;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::health::Health;
use crate::actors::admission::Admission;
use crate::actors::password_budget::PasswordBudget;
use crate::db::DbPool;

/// Request latency buckets, seconds: sub-millisecond to the 1.5 s database deadline and past.
const LATENCY_BUCKETS: [f64; 14] = [
    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 3.0,
];
/// Batch size buckets (a batch holds at most 256 jobs).
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Installs the global recorder; metrics recorded before this are lost, after it kept.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("dh_mqtt_request_duration_seconds".into()),
            &LATENCY_BUCKETS,
        )?
        .set_buckets_for_metric(Matcher::Full("dh_mqtt_batch_size".into()), &BATCH_BUCKETS)?
        .install_recorder()?;
    describe();
    gauge!("dh_mqtt_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "dh_mqtt_requests_total",
        "Requests answered, by action and result code (200 for success)."
    );
    describe_histogram!(
        "dh_mqtt_request_duration_seconds",
        Unit::Seconds,
        "Time from a decoded request to its answer taken by the broker, by action."
    );
    describe_gauge!("dh_mqtt_in_flight", "Requests being handled now.");
    describe_counter!(
        "dh_mqtt_busy_total",
        "Requests answered 503 Server is busy (over DH_MAX_IN_FLIGHT)."
    );
    describe_counter!(
        "dh_mqtt_deadline_exceeded_total",
        "Requests answered 503 because a database step passed its deadline."
    );
    describe_counter!(
        "dh_mqtt_retained_requests_ignored_total",
        "Retained publishes on request topics, ignored."
    );
    describe_counter!(
        "dh_mqtt_unanswerable_total",
        "dh/request publishes without a usable Response Topic, dropped."
    );
    describe_counter!(
        "dh_mqtt_refused_response_topics_total",
        "MQTT 5 requests with a Response Topic outside the contract, refused."
    );
    describe_counter!(
        "dh_mqtt_undelivered_answers_total",
        "Answers the broker did not take, dropped."
    );
    describe_histogram!(
        "dh_mqtt_batch_size",
        "Jobs per batch sent to the database, by batcher."
    );
    describe_gauge!(
        "dh_mqtt_db_pool_connections",
        "Pooled database connections, by state (idle, in_use)."
    );
    describe_counter!(
        "dh_mqtt_db_errors_total",
        "Database steps that failed, by kind (unavailable, query)."
    );
    describe_gauge!(
        "dh_mqtt_broker_connected",
        "1 while a broker connection is subscribed, by connection."
    );
    describe_counter!(
        "dh_mqtt_broker_reconnects_total",
        "Broker connections lost and made again, by connection."
    );
    describe_gauge!(
        "dh_mqtt_sessions",
        "Sessions in the table (counted every 5 s)."
    );
    describe_gauge!(
        "dh_mqtt_password_queue",
        "Password operations admitted and not finished."
    );
    describe_gauge!("dh_mqtt_build_info", "The running version.");
}

/// One answered request.
pub fn request(action: &'static str, code: u16, took: Duration) {
    counter!("dh_mqtt_requests_total", "action" => action, "code" => code_label(code)).increment(1);
    histogram!("dh_mqtt_request_duration_seconds", "action" => action).record(took.as_secs_f64());
}

/// A batch of `size` jobs left `batcher` for the database.
pub fn batch(batcher: &'static str, size: usize) {
    histogram!("dh_mqtt_batch_size", "batcher" => batcher).record(size as f64);
}

/// A database step failed (`unavailable` or `query`).
pub fn database_error(kind: &'static str) {
    counter!("dh_mqtt_db_errors_total", "kind" => kind).increment(1);
}

/// A broker connection is subscribed (`true`) or lost (`false`).
pub fn broker_connection(name: &str, up: bool) {
    gauge!("dh_mqtt_broker_connected", "connection" => name.to_string())
        .set(f64::from(u8::from(up)));
}

/// A broker connection was lost (it will be made again).
pub fn broker_reconnect(name: &str) {
    counter!("dh_mqtt_broker_reconnects_total", "connection" => name.to_string()).increment(1);
}

/// What the service counts itself, copied in before a scrape.
pub struct Sources {
    /// Requests in flight and refusals.
    pub admission: std::sync::Arc<Admission>,
    /// The pool.
    pub pool: DbPool,
    /// The password queue.
    pub passwords: std::sync::Arc<PasswordBudget>,
    /// Sessions.
    pub health: std::sync::Arc<Health>,
}

impl Sources {
    /// Copies the counts into the recorder.
    pub fn collect(&self) {
        let a = &self.admission;
        gauge!("dh_mqtt_in_flight").set(a.in_flight() as f64);
        let absolute = |name: &'static str, value: &std::sync::atomic::AtomicU64| {
            counter!(name).absolute(value.load(Ordering::Relaxed));
        };
        absolute("dh_mqtt_busy_total", &a.shed);
        absolute("dh_mqtt_deadline_exceeded_total", &a.timed_out);
        absolute(
            "dh_mqtt_retained_requests_ignored_total",
            &a.retained_ignored,
        );
        absolute("dh_mqtt_unanswerable_total", &a.unanswerable);
        absolute(
            "dh_mqtt_refused_response_topics_total",
            &a.refused_response_topic,
        );
        absolute("dh_mqtt_undelivered_answers_total", &a.undelivered);
        let (connections, idle) = self.pool.state();
        gauge!("dh_mqtt_db_pool_connections", "state" => "idle").set(f64::from(idle));
        gauge!("dh_mqtt_db_pool_connections", "state" => "in_use")
            .set(f64::from(connections.saturating_sub(idle)));
        gauge!("dh_mqtt_password_queue").set(self.passwords.queued() as f64);
        if let Some(n) = self.health.sessions() {
            gauge!("dh_mqtt_sessions").set(n as f64);
        }
    }
}

/// The `code` label: a static string for the codes the service answers.
fn code_label(code: u16) -> &'static str {
    match code {
        200 => "200",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        409 => "409",
        500 => "500",
        503 => "503",
        _ => "other",
    }
}

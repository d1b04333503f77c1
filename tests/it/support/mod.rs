//! Fixtures: a real Mosquitto per test, a real database per test (SQLite file or a PostgreSQL
//! database created and dropped), the real service binary, and MQTT clients.

pub mod broker;
pub mod client;
pub mod db;
pub mod service;

pub use broker::TestBroker;
pub use client::TestClient;
pub use db::{Backend, TestDb};
pub use service::TestService;

use std::ffi::OsStr;
use std::process::Command;
use std::time::{Duration, Instant};

/// What every test returns.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The JWT secret the tests' services use (32 bytes).
pub const TEST_JWT_SECRET: &str = "dh-mqtt-plugin-test-secret-0123456789";

/// A command for a broker or service the test starts, which gets SIGTERM when the thread that
/// starts it ends (util-linux's `setpriv --pdeathsig`, which then runs it in its place): a test
/// process that aborts would otherwise leave it running, holding its port and counted by any
/// later measurement of "every mosquitto process".
pub fn child_of_the_test(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new("setpriv");
    command.args(["--pdeathsig", "TERM", "--"]).arg(program);
    command
}

/// Polls `check` until it returns `Some`, or fails after `timeout` with `what`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `(code, error)` of an error answer.
pub fn error_of(answer: &serde_json::Value) -> (i64, String) {
    (
        answer["code"].as_i64().unwrap_or_default(),
        answer["error"].as_str().unwrap_or_default().to_string(),
    )
}

/// A name unique in this test run, for databases and client ids.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// Instantiates each test for SQLite and for PostgreSQL (ripgrep's `rgtest!` idea).
#[macro_export]
macro_rules! both_backends {
    ($(fn $name:ident($backend:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(#[test]
            fn $name() -> $crate::support::TestResult {
                let $backend = $crate::support::Backend::Sqlite;
                $body
            })*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(#[test]
            fn $name() -> $crate::support::TestResult {
                let $backend = $crate::support::Backend::Postgres;
                $body
            })*
        }
    };
}

/// A broker, a database and the service, started for one test.
pub struct Stack {
    /// Dropped last: the service must stop before its broker.
    pub service: TestService,
    /// The test's database.
    pub db: TestDb,
    /// The test's broker.
    pub broker: TestBroker,
    /// Token minting with the service's secret.
    pub tokens: db::Tokens,
}

impl Stack {
    /// Starts everything with the default settings.
    pub fn start(backend: Backend) -> Stack {
        Self::start_with(backend, &[])
    }

    /// Starts everything with extra service environment.
    pub fn start_with(backend: Backend, env: &[(&str, &str)]) -> Stack {
        Self::start_on(TestBroker::start(), backend, env)
    }

    /// Starts the database and the service next to `broker`.
    pub fn start_on(broker: TestBroker, backend: Backend, env: &[(&str, &str)]) -> Stack {
        let db = TestDb::new(backend);
        let service = TestService::start_with(&broker, &db, env);
        Stack {
            service,
            db,
            broker,
            tokens: db::Tokens::new(),
        }
    }

    /// A connected client for `login`.
    pub fn client(&self, login: &str) -> TestClient {
        TestClient::connect(&self.broker, login)
    }
}

//! The real `dh-mqtt-plugin serve`, as a child process with its log in a file.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::broker::{signal, SERVICE_PASSWORD};
use super::{wait_for, TestBroker, TestDb, TEST_JWT_SECRET};

/// A running service.
pub struct TestService {
    child: Option<Child>,
    dir: TempDir,
    env: Vec<(String, String)>,
    starts: usize,
}

/// The service binary built by cargo for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dh-mqtt-plugin"))
}

/// The environment a test service runs with.
pub fn service_env(broker_url: &str, db: &TestDb) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", db.url.as_str()),
        ("JWT_SECRET", TEST_JWT_SECRET),
        ("DH_BROKER_URL", broker_url),
        ("DH_BROKER_USERNAME", "dhplugin"),
        ("DH_BROKER_PASSWORD", SERVICE_PASSWORD),
        ("RUST_LOG", "info"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl TestService {
    /// Starts the service and waits until it has subscribed.
    pub fn start(broker: &TestBroker, db: &TestDb) -> TestService {
        Self::start_with(broker, db, &[])
    }

    /// Starts the service with extra environment variables (overriding the defaults).
    pub fn start_with(broker: &TestBroker, db: &TestDb, extra: &[(&str, &str)]) -> TestService {
        let mut service = Self::spawn_with(&broker.url(), db, extra);
        service.wait_ready();
        service
    }

    /// Starts the service without waiting for it to be ready.
    pub fn spawn_with(broker_url: &str, db: &TestDb, extra: &[(&str, &str)]) -> TestService {
        let mut env = service_env(broker_url, db);
        for (k, v) in extra {
            env.retain(|(key, _)| key != k);
            env.push((k.to_string(), v.to_string()));
        }
        let dir = TempDir::new().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let mut service = TestService {
            child: None,
            dir,
            env,
            starts: 0,
        };
        service.launch();
        service
    }

    fn launch(&mut self) {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap_or_else(|e| panic!("service log: {e}"));
        let child = super::child_of_the_test(binary())
            .arg("serve")
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            // Working directory: where a stray Paho persistence directory would appear.
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the service: {e}"));
        self.child = Some(child);
        self.starts += 1;
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("service.log")
    }

    /// Everything the service logged so far (all runs).
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Waits until the service has (re)subscribed as often as it was started plus `extra`.
    pub fn wait_ready_count(&mut self, count: usize) {
        wait_for(
            &format!("the service to subscribe ({count} times)"),
            Duration::from_secs(20),
            || {
                let log = self.log();
                if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                    panic!("the service exited ({status}) before it was ready:\n{log}");
                }
                (log.matches("ready: subscribed").count() >= count).then_some(())
            },
        );
    }

    /// Waits for the first "ready" of the current run (of every connection).
    pub fn wait_ready(&mut self) {
        let connections = self
            .env
            .iter()
            .find(|(k, _)| k == "DH_BROKER_CONNECTIONS")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        let count = self.starts * connections;
        self.wait_ready_count(count);
    }

    /// Kills the service with SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child, "KILL");
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap_or_else(|| panic!("not running"));
        signal(&child, "TERM");
        wait_for("the service to exit", Duration::from_secs(20), || {
            child.try_wait().ok().flatten()
        })
    }

    /// Waits for the service to exit by itself.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap_or_else(|| panic!("not running"));
        wait_for("the service to exit", Duration::from_secs(20), || {
            child.try_wait().ok().flatten()
        })
    }

    /// Starts the service again with the same settings and log, without waiting.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "still running");
        self.launch();
    }

    /// Files the service left in its working directory (besides its log).
    pub fn stray_files(&self) -> Vec<String> {
        fs::read_dir(self.dir.path())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n != "service.log")
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("---- service log ----\n{}", self.log());
        }
    }
}

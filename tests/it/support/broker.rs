//! A private Mosquitto started from the shipped `deploy/mosquitto/dh-mqtt-plugin.conf`, with
//! the project's broker plugin as built for this test run, on a free port, with a generated
//! password file; or, for the fallback, with the plugin lines swapped for the shipped
//! `deploy/mosquitto/acl`.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::wait_for;

/// Password of the service's broker account in tests.
pub const SERVICE_PASSWORD: &str = "svc-broker-pw";
/// Password of every client account in tests.
pub const CLIENT_PASSWORD: &str = "pw";
/// Client accounts the test brokers know (login = client id).
pub const CLIENTS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "mallory", "bench01", "bench02", "bench03",
    "bench04", "bench05", "bench06", "bench07", "bench08", "bench09", "bench10", "bench11",
    "bench12", "bench13", "bench14", "bench15", "bench16", "atk", "vic@atk", "a+b", "a#b", "a/b",
];
/// The service's account for its second broker connection (`DH_BROKER_CONNECTIONS=2`).
pub const SECOND_CONNECTION: &str = "dhplugin-2";
/// Instance names (`DH_INSTANCE`) the test brokers have service accounts for: `dhplugin-a` …
pub const INSTANCES: &[&str] = &["a", "b", "c"];
const SETUP_HINT: &str = "`deploy/test.sh` installs it (see README)";

/// A running test broker.
pub struct TestBroker {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
    rules: Rules,
}

/// Which topic rules the broker runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rules {
    /// The shipped configuration: the project's plugin.
    Plugin,
    /// The fallback: the plain ACL file instead of the plugin.
    AclFile,
}

/// The plugin this test binary was built with: cargo builds the dev-dependency's cdylib into
/// the same `deps` directory as the test executable.
fn plugin_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current exe: {e}"));
    let lib = exe
        .parent()
        .map(|deps| deps.join("libdh_mqtt_plugin_broker.so"))
        .unwrap_or_default();
    assert!(
        lib.exists(),
        "{} is missing: build the workspace with `cargo test` ({SETUP_HINT})",
        lib.display()
    );
    lib
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

impl TestBroker {
    /// Starts a broker with the shipped configuration: the project's plugin.
    pub fn start() -> TestBroker {
        Self::start_ruled(Rules::Plugin)
    }

    /// Starts a broker with the fallback: the shipped ACL file instead of the plugin.
    pub fn start_with_acl_file() -> TestBroker {
        Self::start_ruled(Rules::AclFile)
    }

    fn start_ruled(rules: Rules) -> TestBroker {
        let dir = tempfile::Builder::new()
            .prefix("dh-broker")
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir: {e}"));
        // Mosquitto started as root drops to the `mosquitto` user before reading its files.
        set_mode(dir.path(), 0o755);
        write_password_file(dir.path());
        let acl = fs::read_to_string(repo_file("deploy/mosquitto/acl"))
            .unwrap_or_else(|e| panic!("deploy/mosquitto/acl: {e}"));
        // The second service account is what `dh-mqtt-plugin acl --connections 2` adds, the
        // instances' what `--instances a,b,c` adds.
        let mut acl = format!(
            "{acl}\nuser {SECOND_CONNECTION}\ntopic read dh/request/#\ntopic read dh/request\n\
             topic write dh/response/#\n"
        );
        for name in INSTANCES {
            acl.push_str(&format!(
                "user dhplugin-{name}\ntopic read dh/request/#\ntopic read dh/request\n\
                 topic write dh/response/#\n"
            ));
        }
        write(dir.path(), "acl", &acl);
        let mut broker = TestBroker {
            dir,
            port: 0,
            child: None,
            rules,
        };
        // Another process may take the port between choosing and binding it: retry.
        for _ in 0..5 {
            broker.port = free_port();
            broker.write_config();
            if broker.launch() {
                return broker;
            }
        }
        panic!("mosquitto did not start; log:\n{}", broker.log());
    }

    fn write_config(&self) {
        let shipped = fs::read_to_string(repo_file("deploy/mosquitto/dh-mqtt-plugin.conf"))
            .unwrap_or_else(|e| panic!("deploy/mosquitto/dh-mqtt-plugin.conf: {e}"));
        let d = self.dir.path().display();
        let plugin = match self.rules {
            Rules::Plugin => format!("plugin {}", plugin_library().display()),
            Rules::AclFile => format!("acl_file {d}/acl"),
        };
        let mut conf = String::new();
        for line in shipped.lines() {
            let key = line.split_whitespace().next().unwrap_or_default();
            let line = match key {
                "listener" => format!("listener {} 127.0.0.1", self.port),
                "password_file" => format!("password_file {d}/passwd"),
                "plugin" => plugin.clone(),
                "plugin_opt_service_accounts" if self.rules == Rules::AclFile => String::new(),
                _ => line.to_string(),
            };
            conf.push_str(&line);
            conf.push('\n');
        }
        conf.push_str(&format!(
            "persistence_location {d}/\nlog_dest stderr\nuser root\n"
        ));
        write(self.dir.path(), "mosquitto.conf", &conf);
    }

    fn launch(&mut self) -> bool {
        let log = fs::File::create(self.dir.path().join("broker.log"))
            .unwrap_or_else(|e| panic!("broker log: {e}"));
        let child = super::child_of_the_test("mosquitto")
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run mosquitto ({e}): {SETUP_HINT}"));
        self.child = Some(child);
        for _ in 0..250 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// `tcp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("broker.log")).unwrap_or_default()
    }

    /// Stops the broker (SIGTERM, so it saves its persistence file) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child, "TERM");
            let _ = child.wait();
        }
        wait_for("the broker port to close", Duration::from_secs(5), || {
            TcpStream::connect(("127.0.0.1", self.port))
                .is_err()
                .then_some(())
        });
    }

    /// Starts the stopped broker again on the same port.
    pub fn start_again(&mut self) {
        assert!(self.launch(), "broker restart failed:\n{}", self.log());
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends a signal (`TERM`, `KILL`, …) to a child process.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args(["-s", name, &child.id().to_string()])
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "kill -s {name} failed"
    );
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    set_mode(&path, 0o644);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode));
}

fn write_password_file(dir: &Path) {
    let mut text = format!("dhplugin:{SERVICE_PASSWORD}\n{SECOND_CONNECTION}:{SERVICE_PASSWORD}\n");
    for name in INSTANCES {
        text.push_str(&format!("dhplugin-{name}:{SERVICE_PASSWORD}\n"));
    }
    for client in CLIENTS {
        text.push_str(&format!("{client}:{CLIENT_PASSWORD}\n"));
    }
    write(dir, "passwd", &text);
    let status = Command::new("mosquitto_passwd")
        .arg("-U")
        .arg(dir.join("passwd"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run mosquitto_passwd ({e}): {SETUP_HINT}"));
    assert!(status.success(), "mosquitto_passwd -U failed");
    set_mode(&dir.join("passwd"), 0o644);
}

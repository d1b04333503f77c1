//! What the plugin decides, in safe Rust: the broker glue (`ffi`) turns each event into one
//! call here and the answer into a return code.

use std::sync::{Mutex, MutexGuard};

use dh_mqtt_rules::{
    decide, is_valid_client_id, parse_update, Access, Account, Change, Decision, UpdateError,
    REQUEST_TOPIC,
};

use crate::{Credentials, ServiceAccounts};

/// The answer to a CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    Allow,
    /// Refused; the text is for the broker's log.
    Deny(&'static str),
    /// Not a device login the plugin knows: the broker's other rules (password file) decide.
    Defer,
}

/// What to do with an incoming message's topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrite {
    Keep,
    Topic(String),
}

/// The plugin's state: one per broker, used from the broker's thread only (the mutex is
/// never contended; it is there so the state can be shared safely).
#[derive(Debug, Default)]
pub struct Plugin {
    accounts: ServiceAccounts,
    credentials: Mutex<Credentials>,
}

impl Plugin {
    pub fn new(accounts: ServiceAccounts) -> Plugin {
        Plugin {
            accounts,
            credentials: Mutex::default(),
        }
    }

    /// The service accounts it was configured with.
    pub fn accounts(&self) -> &ServiceAccounts {
        &self.accounts
    }

    fn credentials(&self) -> MutexGuard<'_, Credentials> {
        // A poisoned lock only means an earlier callback panicked (and was caught); the
        // table itself is always consistent between statements.
        self.credentials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// CONNECT: the client id must form a safe topic and be the login, so that "its own
    /// topic" in every later decision is the account's own.
    pub fn login(
        &self,
        client_id: Option<&str>,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Login {
        let Some(id) = client_id.filter(|id| is_valid_client_id(id)) else {
            return Login::Deny("client id cannot form a dh/ topic (empty, + # / @, too long)");
        };
        let Some(username) = username else {
            return Login::Defer;
        };
        if username != id {
            return Login::Deny("client id is not the login");
        }
        if self.accounts.contains(username) {
            return Login::Defer;
        }
        match self
            .credentials()
            .check(username, password.unwrap_or_default())
        {
            Some(true) => Login::Allow,
            Some(false) => Login::Deny("wrong password, or the user is not active"),
            None => Login::Defer,
        }
    }

    /// An ACL check.
    pub fn acl(
        &self,
        client_id: Option<&str>,
        username: Option<&str>,
        access: Access,
        topic: &str,
    ) -> Decision {
        let account = match username {
            Some(name) if self.accounts.contains(name) => Account::Service,
            _ => Account::Device,
        };
        // Without a login the id proves nothing; an empty id is refused by the rules.
        let id = match (account, username, client_id) {
            (Account::Device, Some(name), Some(id)) if name == id => id,
            (Account::Service, _, Some(id)) => id,
            _ => "",
        };
        decide(account, id, access, topic)
    }

    /// A plain `dh/request` without an MQTT 5 Response Topic becomes the publisher's verified
    /// topic `dh/request/{clientId}`, so it is answered on `dh/response/{action}@{clientId}`.
    pub fn rewrite(
        &self,
        client_id: Option<&str>,
        topic: &str,
        has_response_topic: bool,
    ) -> Rewrite {
        match client_id {
            Some(id) if topic == REQUEST_TOPIC && !has_response_topic && is_valid_client_id(id) => {
                Rewrite::Topic(format!("{REQUEST_TOPIC}/{id}"))
            }
            _ => Rewrite::Keep,
        }
    }

    /// Applies a credential update from a service account; returns the logins to disconnect.
    pub fn apply(&self, payload: &[u8]) -> Result<Vec<String>, UpdateError> {
        let changes = parse_update(payload)?;
        let mut credentials = self.credentials();
        let mut kick = Vec::new();
        for change in changes {
            match change {
                Change::Key(key) => credentials.set_key(key),
                Change::Grant {
                    user_id,
                    login,
                    salt,
                    verifier,
                } => kick.extend(credentials.upsert(user_id, &login, salt, verifier)),
                Change::Revoke { user_id, login } => {
                    kick.extend(credentials.revoke(user_id, &login))
                }
            }
        }
        Ok(kick)
    }

    /// How many device logins may connect (for the log).
    pub fn granted(&self) -> usize {
        self.credentials().granted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dh_mqtt_rules::verifier;

    fn plugin() -> Plugin {
        let p = Plugin::new(ServiceAccounts::parse("dhplugin"));
        let v = verifier(b"k", b"s", b"pw");
        let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
        let update = format!("key\t6b\n+\t1\talice\t73\t{hex}\n");
        assert_eq!(p.apply(update.as_bytes()), Ok(vec![]));
        p
    }

    #[test]
    fn connect_needs_a_safe_id_that_is_the_login() {
        let p = plugin();
        assert_eq!(
            p.login(Some("alice"), Some("alice"), Some(b"pw")),
            Login::Allow
        );
        assert!(matches!(
            p.login(Some("alice"), Some("alice"), Some(b"no")),
            Login::Deny(_)
        ));
        for bad in ["a@b", "a+b", "a#", "a/b", ""] {
            assert!(
                matches!(p.login(Some(bad), Some(bad), Some(b"pw")), Login::Deny(_)),
                "{bad}"
            );
        }
        assert!(matches!(
            p.login(Some("bob"), Some("alice"), Some(b"pw")),
            Login::Deny(_)
        ));
        assert_eq!(p.login(Some("carol"), Some("carol"), None), Login::Defer);
        assert_eq!(
            p.login(Some("dhplugin-a"), Some("dhplugin-a"), None),
            Login::Defer
        );
    }

    #[test]
    fn revoking_disconnects_and_refuses() {
        let p = plugin();
        assert_eq!(p.apply(b"-\t1\talice\n"), Ok(vec!["alice".to_string()]));
        assert!(matches!(
            p.login(Some("alice"), Some("alice"), Some(b"pw")),
            Login::Deny(_)
        ));
    }

    #[test]
    fn a_malformed_update_changes_nothing() {
        let p = plugin();
        assert!(p.apply(b"-\t1\talice\nbogus\n").is_err());
        assert_eq!(
            p.login(Some("alice"), Some("alice"), Some(b"pw")),
            Login::Allow
        );
    }

    #[test]
    fn acl_uses_the_id_only_when_it_is_the_login() {
        let p = plugin();
        let topic = "dh/response/user/getCurrent@alice";
        assert_eq!(
            p.acl(Some("alice"), Some("alice"), Access::Read, topic),
            Decision::Allow
        );
        assert_eq!(
            p.acl(Some("alice"), None, Access::Read, topic),
            Decision::Deny
        );
        assert_eq!(
            p.acl(Some("alice"), Some("bob"), Access::Read, topic),
            Decision::Deny
        );
        assert_eq!(
            p.acl(
                Some("dhplugin"),
                Some("dhplugin"),
                Access::Read,
                "dh/request/alice"
            ),
            Decision::Allow
        );
    }

    #[test]
    fn plain_requests_become_verified() {
        let p = plugin();
        assert_eq!(
            p.rewrite(Some("alice"), "dh/request", false),
            Rewrite::Topic("dh/request/alice".into())
        );
        assert_eq!(p.rewrite(Some("alice"), "dh/request", true), Rewrite::Keep);
        assert_eq!(
            p.rewrite(Some("alice"), "dh/request/alice", false),
            Rewrite::Keep
        );
        assert_eq!(p.rewrite(Some("a@b"), "dh/request", false), Rewrite::Keep);
    }
}

/// The cost of one decision, for docs/PERFORMANCE.md ("The broker plugin"): run with
/// `cargo test --release -p dh-mqtt-plugin-broker -- --ignored --nocapture cost`, or under
/// `valgrind --tool=callgrind --toggle-collect='*cost::checks*'` for instructions per check.
#[cfg(test)]
mod cost {
    use std::time::Instant;

    use super::*;

    /// What the broker asks most: delivery of an answer, a request publish, a subscribe.
    #[inline(never)]
    fn checks(plugin: &Plugin, n: usize) -> usize {
        let mut allowed = 0;
        for i in 0..n {
            let (access, topic) = match i % 4 {
                0 | 1 => (Access::Read, "dh/response/user/getCurrent@sensor-0001"),
                2 => (Access::Publish, "dh/request/sensor-0001"),
                _ => (
                    Access::Subscribe,
                    "dh/response/user/updateCurrent@sensor-0001",
                ),
            };
            let id = std::hint::black_box("sensor-0001");
            if plugin.acl(Some(id), Some(id), access, topic) == Decision::Allow {
                allowed += 1;
            }
        }
        allowed
    }

    #[inline(never)]
    fn logins(plugin: &Plugin, n: usize) -> usize {
        (0..n)
            .filter(|_| {
                let id = std::hint::black_box("sensor-0001");
                plugin.login(Some(id), Some(id), Some(b"s1-password")) == Login::Allow
            })
            .count()
    }

    #[test]
    #[ignore = "a measurement, not a check"]
    fn cost() {
        let plugin = Plugin::new(ServiceAccounts::parse("dhplugin"));
        let mut update = format!("key\t{}\n", dh_mqtt_rules::to_hex(&[7; 32]));
        for k in 0..10_000 {
            let login = format!("sensor-{k:04}");
            let v = dh_mqtt_rules::verifier(&[7; 32], b"salt", format!("s{k}-password").as_bytes());
            let change = Change::Grant {
                user_id: k,
                login,
                salt: b"salt".to_vec(),
                verifier: v,
            };
            update.push_str(&change.line());
            update.push('\n');
        }
        let parse = Instant::now();
        assert_eq!(plugin.apply(update.as_bytes()).map(|k| k.len()), Ok(0));
        println!("apply 10,000 logins: {:?}", parse.elapsed());
        let n = 4_000_000;
        let start = Instant::now();
        assert_eq!(checks(&plugin, n), n);
        println!(
            "ACL check: {:.0} ns",
            start.elapsed().as_nanos() as f64 / n as f64
        );
        let n = 1_000_000;
        let start = Instant::now();
        assert_eq!(logins(&plugin, n), n);
        println!(
            "login check: {:.0} ns",
            start.elapsed().as_nanos() as f64 / n as f64
        );
    }
}

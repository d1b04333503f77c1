//! Device logins the broker can check in about a microsecond: login → salt and verifier
//! (`dh_mqtt_rules::verifier`), kept up to date by the service.

use std::collections::HashMap;

use dh_mqtt_rules::verifier;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone)]
struct Entry {
    /// Salt and verifier; `None` for a revoked login, which stays refused even when the
    /// broker's other rules (a password file) know the name.
    secret: Option<(Vec<u8>, [u8; 32])>,
}

/// The logins the plugin knows, with the key they were made with.
#[derive(Debug, Default)]
pub struct Credentials {
    key: Option<Vec<u8>>,
    by_login: HashMap<String, Entry>,
    login_of: HashMap<i64, String>,
}

impl Credentials {
    /// Sets the key the verifiers are made with.
    pub fn set_key(&mut self, key: Vec<u8>) {
        self.key = Some(key);
    }

    /// Adds or replaces the login of `user_id`; returns a former login of the same user that
    /// no longer exists (renamed), whose connections must go.
    pub fn upsert(
        &mut self,
        user_id: i64,
        login: &str,
        salt: Vec<u8>,
        verifier: [u8; 32],
    ) -> Option<String> {
        let former = self
            .login_of
            .insert(user_id, login.to_string())
            .filter(|old| old != login);
        if let Some(old) = &former {
            self.by_login.remove(old);
        }
        self.by_login.insert(
            login.to_string(),
            Entry {
                secret: Some((salt, verifier)),
            },
        );
        former
    }

    /// Refuses `login` from now on (disabled, locked, deleted); returns the logins whose live
    /// connections must go.
    pub fn revoke(&mut self, user_id: i64, login: &str) -> Vec<String> {
        let mut gone = vec![login.to_string()];
        if let Some(old) = self.login_of.insert(user_id, login.to_string()) {
            if old != login {
                self.by_login.remove(&old);
                gone.push(old);
            }
        }
        self.by_login
            .insert(login.to_string(), Entry { secret: None });
        gone
    }

    /// `Some(true)` when the login is known and the password right, `Some(false)` when it is
    /// known and the password wrong, `None` when the login is not in the table.
    pub fn check(&self, login: &str, password: &[u8]) -> Option<bool> {
        let entry = self.by_login.get(login)?;
        let (Some(key), Some((salt, expected))) = (&self.key, &entry.secret) else {
            return Some(false);
        };
        let presented = verifier(key, salt, password);
        Some(bool::from(presented.ct_eq(expected)))
    }

    /// How many logins may connect.
    pub fn granted(&self) -> usize {
        self.by_login
            .values()
            .filter(|e| e.secret.is_some())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Credentials {
        let mut c = Credentials::default();
        c.set_key(b"k".to_vec());
        c.upsert(7, "alice", b"salt".to_vec(), verifier(b"k", b"salt", b"pw"));
        c
    }

    #[test]
    fn checks_passwords_of_known_logins_only() {
        let c = table();
        assert_eq!(c.check("alice", b"pw"), Some(true));
        assert_eq!(c.check("alice", b"pW"), Some(false));
        assert_eq!(c.check("bob", b"pw"), None);
    }

    #[test]
    fn a_rename_drops_the_old_login() {
        let mut c = table();
        let old = c.upsert(7, "alice2", b"s".to_vec(), verifier(b"k", b"s", b"pw"));
        assert_eq!(old.as_deref(), Some("alice"));
        assert_eq!(c.check("alice", b"pw"), None);
        assert_eq!(c.check("alice2", b"pw"), Some(true));
    }

    #[test]
    fn revoked_logins_stay_refused() {
        let mut c = table();
        assert_eq!(c.revoke(7, "alice"), vec!["alice".to_string()]);
        assert_eq!(c.check("alice", b"pw"), Some(false));
        assert_eq!(c.granted(), 0);
        c.upsert(7, "alice", b"s".to_vec(), verifier(b"k", b"s", b"new"));
        assert_eq!(c.check("alice", b"new"), Some(true));
    }

    #[test]
    fn without_a_key_nothing_passes() {
        let mut c = Credentials::default();
        c.upsert(1, "a", vec![], [0; 32]);
        assert_eq!(c.check("a", b""), Some(false));
    }
}

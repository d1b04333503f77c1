//! The key and verifiers of device logins at the broker (docs/OPERATIONS.md, "Device
//! logins"): verifier = HMAC-SHA256(key, salt ‖ password), the key derived from the JWT
//! secret so that it is never stored, and the broker never waits on Argon2.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;

use super::key::{derive, SecretEncoding};

/// Derived from the JWT secret with a label of its own: a leaked broker key signs no token.
const LABEL: &[u8] = b"dh-mqtt-plugin broker login v1";

/// The key verifiers are made with.
#[derive(Clone)]
pub struct BrokerKey([u8; 32]);

impl std::fmt::Debug for BrokerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrokerKey(***)")
    }
}

impl BrokerKey {
    /// From the JWT signing key's bytes.
    pub fn derive(jwt_key: &[u8]) -> BrokerKey {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(jwt_key) else {
            return BrokerKey([0; 32]);
        };
        mac.update(LABEL);
        BrokerKey(mac.finalize().into_bytes().into())
    }

    /// From `JWT_SECRET` as the service reads it (`DH_JWT_SECRET_ENCODING`).
    pub fn from_secret(secret: &str, encoding: SecretEncoding) -> BrokerKey {
        BrokerKey::derive(&derive(secret, encoding))
    }

    /// The key's bytes, for the plugin's snapshot.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// A fresh salt and the verifier of `password` under it.
    pub fn login(&self, password: &str) -> NewBrokerLogin {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        NewBrokerLogin {
            salt,
            verifier: dh_mqtt_rules::verifier(&self.0, &salt, password.as_bytes()),
        }
    }
}

/// Tells the login sync that logins may have changed, so that it reads the table at once
/// instead of at its next poll (a device provisioned over MQTT may connect a moment later).
#[derive(Clone, Default)]
pub struct LoginsChanged(Arc<(Mutex<bool>, Condvar)>);

impl LoginsChanged {
    /// Something changed.
    pub fn notify(&self) {
        let (changed, wake) = &*self.0;
        *changed.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_one();
    }

    /// Waits until notified or `timeout` passes, and clears the notice.
    pub fn wait(&self, timeout: Duration) {
        let (changed, wake) = &*self.0;
        let guard = changed.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut guard, _) = wake
            .wait_timeout_while(guard, timeout, |changed| !*changed)
            .unwrap_or_else(PoisonError::into_inner);
        *guard = false;
    }
}

/// What `dh_mqtt_broker_login` gets for a new password.
#[derive(Clone, PartialEq, Eq)]
pub struct NewBrokerLogin {
    salt: [u8; 16],
    verifier: [u8; 32],
}

impl std::fmt::Debug for NewBrokerLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewBrokerLogin(***)")
    }
}

impl NewBrokerLogin {
    pub fn salt_hex(&self) -> String {
        dh_mqtt_rules::to_hex(&self.salt)
    }

    pub fn verifier_hex(&self) -> String {
        dh_mqtt_rules::to_hex(&self.verifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_check_with_the_rules_crate() {
        let key = BrokerKey::derive(b"a JWT key of some length");
        let login = key.login("pw");
        let salt = dh_mqtt_rules::from_hex(&login.salt_hex()).unwrap_or_default();
        assert_eq!(
            dh_mqtt_rules::to_hex(&dh_mqtt_rules::verifier(key.bytes(), &salt, b"pw")),
            login.verifier_hex()
        );
        assert_ne!(
            key.login("pw").salt_hex(),
            login.salt_hex(),
            "salts are fresh"
        );
        assert_ne!(
            BrokerKey::derive(b"another key").bytes(),
            key.bytes(),
            "the key depends on the JWT key"
        );
    }
}

//! Password hashes: Argon2id for new hashes; DeviceHive's salted SHA-256 (the DeviceHive server's
//! scheme: `base64(sha256(salt_text + password))`, salt = base64 of 18 random bytes) still verifies,
//! and `--password-hash devicehive` keeps writing it for a database shared with DeviceHive.

use std::str::FromStr;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Which hash new passwords get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashScheme {
    /// Argon2id with the crate's defaults (19 MiB, t=2, p=1).
    #[default]
    Argon2id,
    /// DeviceHive's salted SHA-256, readable by a DeviceHive server.
    DeviceHive,
}

impl FromStr for HashScheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "argon2id" => Ok(Self::Argon2id),
            "devicehive" => Ok(Self::DeviceHive),
            other => Err(format!(
                "unknown password hash '{other}' (argon2id|devicehive)"
            )),
        }
    }
}

/// What goes into `dh_user.password_hash` and `password_salt`.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPassword {
    /// A PHC string for Argon2id, Base64 SHA-256 for DeviceHive.
    pub hash: String,
    /// The DeviceHive salt text; `None` for Argon2id (the PHC string holds its salt).
    pub salt: Option<String>,
}

impl std::fmt::Debug for StoredPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredPassword(***)")
    }
}

/// Hashing failed (only possible with an invalid Argon2 configuration).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a new password.
pub fn hash(password: &str, scheme: HashScheme) -> Result<StoredPassword, HashError> {
    match scheme {
        HashScheme::Argon2id => {
            let salt = SaltString::generate(&mut OsRng);
            let phc = Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map_err(|e| HashError(e.to_string()))?;
            Ok(StoredPassword {
                hash: phc.to_string(),
                salt: None,
            })
        }
        HashScheme::DeviceHive => {
            let mut raw = [0u8; 18];
            OsRng.fill_bytes(&mut raw);
            let salt = STANDARD.encode(raw);
            Ok(StoredPassword {
                hash: devicehive_hash(&salt, password),
                salt: Some(salt),
            })
        }
    }
}

/// Checks a password against a stored hash of either scheme, in constant time for the
/// comparison itself.
pub fn verify(password: &str, hash: &str, salt: Option<&str>) -> bool {
    if hash.starts_with("$argon2") {
        return PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
    }
    match salt {
        Some(salt) => devicehive_hash(salt, password)
            .as_bytes()
            .ct_eq(hash.as_bytes())
            .into(),
        None => false,
    }
}

/// Checks a login password with exactly one Argon2 verification whatever is stored (an
/// Argon2id hash, a legacy DeviceHive hash, or nothing for an unknown login), so response time
/// does not tell which logins exist. Returns (matches, stored hash is legacy).
pub fn verify_uniform(password: &str, hash: Option<&str>, salt: Option<&str>) -> (bool, bool) {
    match hash {
        Some(h) if !is_legacy(h) => (verify(password, h, None), false),
        Some(h) => {
            let _ = verify(password, dummy_hash(), None);
            (verify(password, h, salt), true)
        }
        None => {
            let _ = verify(password, dummy_hash(), None);
            (false, false)
        }
    }
}

/// An Argon2id hash of a random password, made once, to spend the same time on a login that
/// has no Argon2 hash to check. An empty one would make those logins answer at once and
/// tell which logins exist, so failing to make it is fatal, not a fallback.
#[expect(
    clippy::expect_used,
    reason = "Argon2id with its default parameters hashes any input; the uniform-timing rule must not silently lapse"
)]
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 16];
        OsRng.fill_bytes(&mut secret);
        hash(&STANDARD.encode(secret), HashScheme::Argon2id)
            .map(|s| s.hash)
            .expect("an Argon2id hash of random bytes")
    })
}

/// Whether a stored hash is in the legacy DeviceHive scheme.
pub fn is_legacy(hash: &str) -> bool {
    !hash.starts_with("$argon2")
}

fn devicehive_hash(salt: &str, password: &str) -> String {
    let digest = Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update(password.as_bytes())
        .finalize();
    STANDARD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devicehive_vectors_verify() {
        // As the DeviceHive server hashes.
        let vectors = [
            (
                "dhadmin_#911",
                "sjQbZgcCmFxqTV4CCmGwpIHO",
                "DFXFrZ8VQIkOYECScBbBwsYinj+o8IlaLsRQ81wO+l8=",
            ),
            (
                "admin_pass",
                "9KynX3ShWnFym4y8Dla039py",
                "+IC4w+NeByiymEWlI5H1xbtNe4YKmPlLRZ7j3xaireg=",
            ),
        ];
        for (password, salt, hash) in vectors {
            assert!(verify(password, hash, Some(salt)));
            assert!(!verify("wrong", hash, Some(salt)));
            assert!(is_legacy(hash));
        }
    }

    #[test]
    fn uniform_verification_reports_legacy_hashes() -> Result<(), HashError> {
        let argon = hash("pw-123", HashScheme::Argon2id)?;
        assert_eq!(
            verify_uniform("pw-123", Some(&argon.hash), None),
            (true, false)
        );
        let legacy = hash("pw-123", HashScheme::DeviceHive)?;
        assert_eq!(
            verify_uniform("pw-123", Some(&legacy.hash), legacy.salt.as_deref()),
            (true, true)
        );
        assert_eq!(verify_uniform("pw-123", None, None), (false, false));
        Ok(())
    }

    #[test]
    fn both_schemes_round_trip() -> Result<(), HashError> {
        for scheme in [HashScheme::Argon2id, HashScheme::DeviceHive] {
            let stored = hash("s3cret!", scheme)?;
            assert!(verify("s3cret!", &stored.hash, stored.salt.as_deref()));
            assert!(!verify("s3cret?", &stored.hash, stored.salt.as_deref()));
            assert!(stored.hash.len() <= 128, "fits varchar(128)");
        }
        let argon = hash("x", HashScheme::Argon2id)?;
        assert!(argon.hash.starts_with("$argon2id$") && argon.salt.is_none());
        Ok(())
    }
}

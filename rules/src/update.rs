//! Device logins the broker checks without the database (docs/OPERATIONS.md, "Device
//! logins"), and the updates the service publishes for them on `dh/plugin/credentials`:
//! UTF-8 lines of tab-separated fields (a tab cannot occur in a login that forms a client id).
//!
//! verifier = HMAC-SHA256(key, salt ‖ password): the service computes it whenever it sets a
//! password (it knows the password then) and sends the key with every snapshot; the database
//! holds no key, so its verifiers alone do not let anyone test passwords quickly.
//!
//! ```text
//! key <TAB> {hex}                                          the key of the verifiers
//! + <TAB> {user id} <TAB> {login} <TAB> {salt hex} <TAB> {verifier hex}   may connect
//! - <TAB> {user id} <TAB> {login}                          may not (and is disconnected)
//! ```

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256(key, salt ‖ password).
pub fn verifier(key: &[u8], salt: &[u8], password: &[u8]) -> [u8; 32] {
    // A key of any length is valid for HMAC; the error arm cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(salt);
    mac.update(password);
    mac.finalize().into_bytes().into()
}

/// One line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Key(Vec<u8>),
    Grant {
        user_id: i64,
        login: String,
        salt: Vec<u8>,
        verifier: [u8; 32],
    },
    Revoke {
        user_id: i64,
        login: String,
    },
}

/// A line that is not one of the three forms; nothing of the message is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateError {
    pub line: usize,
}

impl std::fmt::Display for UpdateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "credential update: line {} is malformed", self.line)
    }
}

/// Parses a whole message; empty lines are skipped.
pub fn parse_update(payload: &[u8]) -> Result<Vec<Change>, UpdateError> {
    let text = std::str::from_utf8(payload).map_err(|_| UpdateError { line: 0 })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| parse_line(line).ok_or(UpdateError { line: i + 1 }))
        .collect()
}

fn parse_line(line: &str) -> Option<Change> {
    let fields: Vec<&str> = line.split('\t').collect();
    match fields.as_slice() {
        ["key", key] => Some(Change::Key(hex(key)?)),
        ["+", id, login, salt, verifier] => Some(Change::Grant {
            user_id: id.parse().ok()?,
            login: login_text(login)?,
            salt: hex(salt)?,
            verifier: hex(verifier)?.try_into().ok()?,
        }),
        ["-", id, login] => Some(Change::Revoke {
            user_id: id.parse().ok()?,
            login: login_text(login)?,
        }),
        _ => None,
    }
}

impl Change {
    /// The line, without its newline.
    pub fn line(&self) -> String {
        match self {
            Change::Key(key) => format!("key\t{}", to_hex(key)),
            Change::Grant {
                user_id,
                login,
                salt,
                verifier,
            } => format!(
                "+\t{user_id}\t{login}\t{}\t{}",
                to_hex(salt),
                to_hex(verifier)
            ),
            Change::Revoke { user_id, login } => format!("-\t{user_id}\t{login}"),
        }
    }
}

/// Lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of lower- or upper-case hex; `None` for anything else.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    hex(text)
}

fn login_text(login: &str) -> Option<String> {
    crate::is_valid_client_id(login).then(|| login.to_string())
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        let v = "ab".repeat(32);
        let text = format!("key\t00ff\n+\t7\talice\t0102\t{v}\n\n-\t8\tbob\n");
        assert_eq!(
            parse_update(text.as_bytes()),
            Ok(vec![
                Change::Key(vec![0, 255]),
                Change::Grant {
                    user_id: 7,
                    login: "alice".into(),
                    salt: vec![1, 2],
                    verifier: [0xab; 32],
                },
                Change::Revoke {
                    user_id: 8,
                    login: "bob".into()
                },
            ])
        );
    }

    #[test]
    fn lines_parse_back() {
        let changes = vec![
            Change::Key(vec![1, 2, 3]),
            Change::Grant {
                user_id: -4,
                login: "dev-1".into(),
                salt: vec![9; 16],
                verifier: verifier(b"k", b"s", b"p"),
            },
            Change::Revoke {
                user_id: 5,
                login: "Gerät".into(),
            },
        ];
        let text: String = changes.iter().map(|c| c.line() + "\n").collect();
        assert_eq!(parse_update(text.as_bytes()), Ok(changes));
    }

    #[test]
    fn refuses_malformed_lines() {
        for bad in [
            "key\tzz",
            "key\t0",
            "+\tx\talice\t00\t00",
            "+\t1\talice\t00\t00",
            "+\t1\ta/b\t00\t".to_string().as_str(),
            "-\t1",
            "*\t1\ta",
            "-\t1\tvic@atk",
        ] {
            assert!(parse_update(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert_eq!(parse_update(b"\xff"), Err(UpdateError { line: 0 }));
    }
}

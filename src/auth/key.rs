//! The HMAC key behind `JWT_SECRET` (docs/PROTOCOL.md).
//!
//! DeviceHive's jjwt 0.7 treats the secret text as Base64 and decodes it leniently: characters
//! outside the alphabet are ignored and a trailing incomplete group of four is dropped. The
//! `devicehive` encoding reproduces that so tokens are interchangeable; `raw` uses the bytes.

use std::str::FromStr;

/// Fewest key bytes accepted without `--allow-weak-secret` (the HS256 block-size guidance).
pub const MIN_KEY_BYTES: usize = 32;

/// How the secret text becomes key bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretEncoding {
    /// The secret's UTF-8 bytes.
    #[default]
    Raw,
    /// Lenient Base64 decoding, as the DeviceHive server does.
    DeviceHive,
}

impl FromStr for SecretEncoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "raw" => Ok(Self::Raw),
            "devicehive" => Ok(Self::DeviceHive),
            other => Err(format!(
                "unknown secret encoding '{other}' (raw|devicehive)"
            )),
        }
    }
}

/// Derives the key bytes from the secret text.
pub fn derive(secret: &str, encoding: SecretEncoding) -> Vec<u8> {
    match encoding {
        SecretEncoding::Raw => secret.as_bytes().to_vec(),
        SecretEncoding::DeviceHive => lenient_base64(secret),
    }
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// `DatatypeConverter.parseBase64Binary`: skip non-alphabet characters, decode whole groups of
/// four, honour `=` padding, drop an incomplete trailing group.
fn lenient_base64(text: &str) -> Vec<u8> {
    let symbols: Vec<Option<u8>> = text
        .bytes()
        .filter_map(|c| {
            if c == b'=' {
                Some(None)
            } else {
                sextet(c).map(Some)
            }
        })
        .collect();
    let mut out = Vec::with_capacity(symbols.len() / 4 * 3);
    for group in symbols.chunks_exact(4) {
        let [Some(a), Some(b), c, d] = *group else {
            break;
        };
        out.push((a << 2) | (b >> 4));
        let Some(c) = c else { break };
        out.push(((b & 0x0f) << 4) | (c >> 2));
        let Some(d) = d else { break };
        out.push(((c & 0x03) << 6) | d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_devicehive_key_vector() {
        // As the DeviceHive server derives it: JWT_SECRET=devicehive -> key 75 eb e2 71 e8 62.
        assert_eq!(
            derive("devicehive", SecretEncoding::DeviceHive),
            vec![0x75, 0xeb, 0xe2, 0x71, 0xe8, 0x62]
        );
    }

    #[test]
    fn lenient_decoding_matches_standard_base64_on_valid_input() {
        assert_eq!(lenient_base64("aGVsbG8="), b"hello".to_vec());
        assert_eq!(lenient_base64("aGk="), b"hi".to_vec());
        assert_eq!(lenient_base64("aG!V s*bG8="), b"hello".to_vec());
        assert_eq!(derive("abc", SecretEncoding::Raw), b"abc".to_vec());
    }
}

//! DeviceHive JWTs (docs/PROTOCOL.md): HS256 only, one `payload`
//! claim holding `{u, a, n, dt, e, t}` with `e` in epoch milliseconds and no standard `exp`.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::permission::{HiveAction, CLIENT_ACTIONS};
use crate::model::Role;

/// Access tokens live 30 minutes by default (DeviceHive's `jwt.access-token-max-age`).
pub const DEFAULT_ACCESS_LIFETIME_MS: i64 = 1_800_000;
/// Refresh tokens live 182 days by default (`jwt.refresh-token-max-age`).
pub const DEFAULT_REFRESH_LIFETIME_MS: i64 = 15_724_800_000;

/// The token kind in the `t` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    /// `t = 0`
    Refresh = 0,
    /// `t = 1`
    Access = 1,
}

/// The DeviceHive user payload. Field order is the one the DeviceHive server writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id; absent in plugin tokens, which this service refuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u: Option<i64>,
    /// HiveAction ids; 0 means all, an empty list the CLIENT set, absent none.
    #[serde(default)]
    pub a: Option<Vec<i64>>,
    /// Network ids as strings, `"*"` for all.
    #[serde(default)]
    pub n: Option<Vec<String>>,
    /// Device-type ids as strings, `"*"` for all.
    #[serde(default)]
    pub dt: Option<Vec<String>>,
    /// Expiry in epoch milliseconds.
    pub e: i64,
    /// 1 access, 0 refresh.
    pub t: i64,
}

impl Claims {
    /// The claims DeviceHive puts in a login token (as the DeviceHive server does): admins get every
    /// action and `"*"` scopes; clients the CLIENT set and their own networks.
    pub fn for_login(
        user_id: i64,
        role: Role,
        network_ids: &[i64],
        all_device_types: bool,
        token_type: TokenType,
        expires_ms: i64,
    ) -> Claims {
        let star = || Some(vec!["*".to_string()]);
        let (a, n, dt) = match role {
            Role::Admin => (vec![HiveAction::Any as i64], star(), star()),
            Role::Client => (
                CLIENT_ACTIONS.to_vec(),
                Some(network_ids.iter().map(i64::to_string).collect()),
                if all_device_types {
                    star()
                } else {
                    Some(Vec::new())
                },
            ),
        };
        Claims {
            u: Some(user_id),
            a: Some(a),
            n,
            dt,
            e: expires_ms,
            t: token_type as i64,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Body {
    payload: Claims,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Bad signature, malformed, another algorithm, a plugin token.
    Invalid,
    /// A token of the other type (a refresh token used as access, or the reverse).
    WrongType,
    /// Past its `e`.
    Expired,
}

/// Signs and verifies tokens with one HMAC key.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    /// Keys for the given HMAC key bytes (see [`super::key::derive`]).
    pub fn new(key: &[u8]) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        // DeviceHive tokens carry no `exp`: expiry is `payload.e`, checked below.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        JwtKeys {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
        }
    }

    /// Verifies a token of the expected type at time `now_ms`. The type is checked before the
    /// expiry, as the DeviceHive server does.
    pub fn verify(
        &self,
        token: &str,
        expected: TokenType,
        now_ms: i64,
    ) -> Result<Claims, TokenError> {
        let body = jsonwebtoken::decode::<Body>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        let claims = body.claims.payload;
        if claims.u.is_none() {
            return Err(TokenError::Invalid);
        }
        match claims.t {
            t if t == expected as i64 => {}
            0 | 1 => return Err(TokenError::WrongType),
            _ => return Err(TokenError::Invalid),
        }
        if claims.e < now_ms {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// Signs claims with the header DeviceHive writes: exactly `{"alg":"HS256"}`.
    pub fn mint(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = None;
        let body = Body {
            payload: claims.clone(),
        };
        jsonwebtoken::encode(&header, &body, &self.encoding)
    }
}

/// Milliseconds since the epoch, the unit of `e`.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::key::{derive, SecretEncoding};
    use base64::Engine;

    fn claims(t: TokenType, e: i64) -> Claims {
        Claims::for_login(7, Role::Client, &[3], true, t, e)
    }

    #[test]
    fn round_trips_and_checks_type_then_expiry() -> Result<(), jsonwebtoken::errors::Error> {
        let keys = JwtKeys::new(&[7u8; 32]);
        let now = 1_000_000;
        let access = keys.mint(&claims(TokenType::Access, now + 1))?;
        assert_eq!(
            keys.verify(&access, TokenType::Access, now).map(|c| c.u),
            Ok(Some(7))
        );
        assert_eq!(
            keys.verify(&access, TokenType::Access, now + 2),
            Err(TokenError::Expired)
        );
        let refresh = keys.mint(&claims(TokenType::Refresh, now - 1))?;
        assert_eq!(
            keys.verify(&refresh, TokenType::Access, now),
            Err(TokenError::WrongType)
        );
        let other = JwtKeys::new(&[8u8; 32]);
        assert_eq!(
            other.verify(&access, TokenType::Access, now),
            Err(TokenError::Invalid)
        );
        Ok(())
    }

    #[test]
    fn minted_tokens_have_the_devicehive_layout() -> Result<(), Box<dyn std::error::Error>> {
        let keys = JwtKeys::new(&[1u8; 32]);
        let token = keys.mint(&Claims::for_login(
            1,
            Role::Admin,
            &[],
            true,
            TokenType::Access,
            5,
        ))?;
        let mut parts = token.split('.');
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = engine.decode(parts.next().unwrap_or_default())?;
        let body = engine.decode(parts.next().unwrap_or_default())?;
        assert_eq!(String::from_utf8(header)?, r#"{"alg":"HS256"}"#);
        assert_eq!(
            String::from_utf8(body)?,
            r#"{"payload":{"u":1,"a":[0],"n":["*"],"dt":["*"],"e":5,"t":1}}"#
        );
        Ok(())
    }

    #[test]
    fn refuses_other_algorithms_and_unsigned_tokens() {
        let keys = JwtKeys::new(&[1u8; 32]);
        // {"alg":"none"} . {"payload":{"u":1,"a":[0],"e":9999999999999,"t":1}} . (empty)
        let none = "eyJhbGciOiJub25lIn0.eyJwYXlsb2FkIjp7InUiOjEsImEiOlswXSwiZSI6OTk5OTk5OTk5OTk5OSwidCI6MX19.";
        assert_eq!(
            keys.verify(none, TokenType::Access, 0),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            keys.verify("garbage", TokenType::Access, 0),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn verifies_a_devicehive_server_token() {
        // The test suite's `jwt.admin` (from the DeviceHive server's tests), signed by the Java server with
        // JWT_SECRET=devicehive; it expired in 2019, so verify at a time before that.
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJwYXlsb2FkIjp7InUiOjEsImEiOlswXSwibiI6WyIqIl0sImR0IjpbIioiXSwiZSI6MTU1OTM0NzIwMDAwMCwidCI6MX19.0i1MaUBtgfDPG4_cvSjEVO11FZy7o_L_6uRCR5NR3v4";
        let keys = JwtKeys::new(&derive("devicehive", SecretEncoding::DeviceHive));
        let claims = keys.verify(token, TokenType::Access, 1_500_000_000_000);
        assert_eq!(claims.map(|c| (c.u, c.a)), Ok((Some(1), Some(vec![0]))));
    }
}

//! A cache of access tokens whose signature and type were already checked. Devices send the
//! same token with every request, and verifying it (HMAC key set-up, SHA-256, two JSON
//! parses) was a quarter of the instructions a `getCurrent` cost. What verification decides
//! about a given token string never changes, except its expiry, which is checked again on
//! every hit; the signing key is fixed for the life of the process. So a hit answers exactly
//! as a fresh verification would.
//!
//! The map hashes with foldhash rather than SipHash: a key is a whole token, ~200 bytes hashed
//! on every request (docs/PERFORMANCE.md item 36). Flooding it with colliding keys is not
//! open to a client: only tokens whose signature checked out are ever inserted.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use super::jwt::{Claims, JwtKeys, TokenError, TokenType};

/// Tokens remembered at most; when full, expired ones are dropped, and if none were, all.
const CAPACITY: usize = 4_096;

/// Verified access tokens by their exact text.
#[derive(Default)]
pub struct VerifiedTokens {
    by_token: HashMap<String, Claims, RandomState>,
}

impl VerifiedTokens {
    /// Verifies an access token at `now_ms`, from the cache when this exact token was seen.
    pub fn verify(
        &mut self,
        keys: &JwtKeys,
        token: &str,
        now_ms: i64,
    ) -> Result<Claims, TokenError> {
        if let Some(claims) = self.by_token.get(token) {
            return match claims.e < now_ms {
                true => Err(TokenError::Expired),
                false => Ok(claims.clone()),
            };
        }
        let claims = keys.verify(token, TokenType::Access, now_ms)?;
        if self.by_token.len() >= CAPACITY {
            self.by_token.retain(|_, c| c.e >= now_ms);
            if self.by_token.len() >= CAPACITY {
                self.by_token.clear();
            }
        }
        self.by_token.insert(token.to_string(), claims.clone());
        Ok(claims)
    }

    /// Forgets tokens that expired before `now_ms`.
    pub fn prune(&mut self, now_ms: i64) {
        self.by_token.retain(|_, c| c.e >= now_ms);
    }

    /// How many tokens are remembered.
    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    /// Whether no token is remembered.
    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn access(keys: &JwtKeys, e: i64) -> String {
        let claims = Claims::for_login(7, Role::Client, &[], true, TokenType::Access, e);
        keys.mint(&claims).unwrap_or_default()
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let mut cache = VerifiedTokens::default();
        let token = access(&keys, 1_000);
        assert_eq!(cache.verify(&keys, &token, 500).map(|c| c.u), Ok(Some(7)));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.verify(&keys, &token, 999).map(|c| c.u), Ok(Some(7)));
        assert_eq!(cache.verify(&keys, &token, 1_001), Err(TokenError::Expired));
        cache.prune(1_001);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_token_differing_from_a_remembered_one_is_verified_afresh() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let mut cache = VerifiedTokens::default();
        let token = access(&keys, 1_000);
        assert!(cache.verify(&keys, &token, 0).is_ok());
        let mut forged = token.clone();
        forged.push('A');
        assert_eq!(cache.verify(&keys, &forged, 0), Err(TokenError::Invalid));
        let refresh = keys
            .mint(&Claims::for_login(
                7,
                Role::Client,
                &[],
                true,
                TokenType::Refresh,
                1_000,
            ))
            .unwrap_or_default();
        assert_eq!(cache.verify(&keys, &refresh, 0), Err(TokenError::WrongType));
        assert_eq!(cache.len(), 1, "only verified access tokens are remembered");
    }

    #[test]
    fn stays_bounded() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let mut cache = VerifiedTokens::default();
        for e in 0..(CAPACITY as i64 + 10) {
            assert!(cache.verify(&keys, &access(&keys, 10_000 + e), 0).is_ok());
        }
        assert!(cache.len() <= CAPACITY);
    }
}

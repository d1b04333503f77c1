//! The auth actor: verifies DeviceHive JWTs, keeps sessions per verified client id and checks
//! the action's permission (docs/PROTOCOL.md). The user's status is re-checked by
//! the repository inside the same transaction as the action itself, so a disabled user's
//! token or session stops working on its very next request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, AsyncContext, Context, Handler, Supervised};

use super::messages::{Authorize, BindSession, Mint, VerifyRefresh};
use super::supervise::{guarded, inject, FaultPlan, FaultSite};
use crate::auth::jwt::{now_ms, Claims, JwtKeys, TokenError, TokenType};
use crate::auth::permission::allows;
use crate::auth::verified::VerifiedTokens;
use crate::error::ServiceError;
use crate::protocol::Action;

/// How often sessions and remembered tokens that expired are forgotten.
const SESSION_PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Verifies tokens and holds sessions.
pub struct AuthActor {
    keys: Arc<JwtKeys>,
    sessions: HashMap<String, Claims>,
    tokens: VerifiedTokens,
    faults: FaultPlan,
}

impl AuthActor {
    /// An actor with no sessions.
    pub fn new(keys: Arc<JwtKeys>, faults: FaultPlan) -> AuthActor {
        AuthActor {
            keys,
            sessions: HashMap::new(),
            tokens: VerifiedTokens::default(),
            faults,
        }
    }

    fn authorize(&mut self, msg: &Authorize) -> Result<Claims, ServiceError> {
        inject(&self.faults, FaultSite::Auth);
        let now = now_ms();
        let authenticating = msg.action == Action::Authenticate;
        let claims = match (&msg.token, &msg.session_key) {
            (Some(token), _) => self
                .tokens
                .verify(&self.keys, token.expose(), now)
                .map_err(|e| token_error(e, authenticating))?,
            (None, _) if authenticating => return Err(ServiceError::Unauthorized),
            (None, Some(key)) => {
                let claims = self.sessions.get(key).ok_or(ServiceError::Unauthorized)?;
                if claims.e < now {
                    return Err(ServiceError::TokenExpired);
                }
                claims.clone()
            }
            (None, None) => return Err(ServiceError::Unauthorized),
        };
        match msg.action.permission() {
            Some(needed) if !allows(claims.a.as_deref(), needed) => Err(ServiceError::AccessDenied),
            _ => Ok(claims),
        }
    }
}

fn token_error(err: TokenError, authenticating: bool) -> ServiceError {
    match err {
        TokenError::Expired => ServiceError::TokenExpired,
        TokenError::Invalid | TokenError::WrongType if authenticating => {
            ServiceError::InvalidCredentials
        }
        TokenError::Invalid | TokenError::WrongType => ServiceError::Unauthorized,
    }
}

impl Actor for AuthActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
        ctx.run_interval(SESSION_PRUNE_INTERVAL, |act, _| {
            let now = now_ms();
            act.sessions.retain(|_, claims| claims.e >= now);
            act.tokens.prune(now);
        });
    }
}

impl Supervised for AuthActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        // Sessions are whole-value map entries, never left half-written by a panic, so they
        // are kept: a restart should not log every device out.
        log::warn!(target: "dh::auth", "auth actor restarting with {} sessions", self.sessions.len());
    }
}

impl Handler<Authorize> for AuthActor {
    type Result = Result<Claims, ServiceError>;

    fn handle(&mut self, msg: Authorize, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "auth", || self.authorize(&msg))
    }
}

impl Handler<VerifyRefresh> for AuthActor {
    type Result = Result<Claims, ServiceError>;

    fn handle(&mut self, msg: VerifyRefresh, ctx: &mut Self::Context) -> Self::Result {
        let result = guarded(ctx, "auth", || {
            inject(&self.faults, FaultSite::Auth);
            self.keys
                .verify(msg.token.expose(), TokenType::Refresh, now_ms())
                .map_err(|e| match e {
                    TokenError::Invalid => ServiceError::Unauthorized,
                    TokenError::WrongType => ServiceError::InvalidTokenType,
                    TokenError::Expired => ServiceError::RefreshExpired,
                })
        });
        result
    }
}

impl Handler<Mint> for AuthActor {
    type Result = Result<Vec<String>, ServiceError>;

    fn handle(&mut self, msg: Mint, _: &mut Self::Context) -> Self::Result {
        msg.0
            .iter()
            .map(|claims| {
                self.keys.mint(claims).map_err(|e| {
                    log::error!(target: "dh::auth", "cannot sign a token: {e}");
                    ServiceError::Internal
                })
            })
            .collect()
    }
}

impl Handler<BindSession> for AuthActor {
    type Result = Result<(), ServiceError>;

    fn handle(&mut self, msg: BindSession, _: &mut Self::Context) -> Self::Result {
        log::info!(target: "dh::auth", "client '{}' authenticated as user {}", msg.client_id, msg.claims.u.unwrap_or_default());
        self.sessions.insert(msg.client_id, msg.claims);
        Ok(())
    }
}

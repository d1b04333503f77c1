//! The auth actor: verifies DeviceHive JWTs and checks the action's permission
//! (docs/PROTOCOL.md). Sessions live in the database (`db::sessions`), shared by every
//! instance. The user's status is re-checked by the repository inside the same transaction
//! as the action itself, so a disabled user's token stops working on its very next request.

use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, AsyncContext, Context, Handler, Supervised};

use super::messages::{Authorize, Mint, VerifyRefresh};
use super::supervise::{guarded, inject, FaultPlan, FaultSite};
use crate::auth::jwt::{now_ms, Claims, JwtKeys, TokenError, TokenType};
use crate::auth::verified::VerifiedTokens;
use crate::error::ServiceError;
use crate::handlers::credentials::permit;
use crate::protocol::Action;

/// How often remembered tokens that expired are forgotten.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Verifies tokens.
pub struct AuthActor {
    keys: Arc<JwtKeys>,
    tokens: VerifiedTokens,
    faults: FaultPlan,
}

impl AuthActor {
    /// An actor that remembers no token yet.
    pub fn new(keys: Arc<JwtKeys>, faults: FaultPlan) -> AuthActor {
        AuthActor {
            keys,
            tokens: VerifiedTokens::default(),
            faults,
        }
    }

    fn authorize(&mut self, msg: &Authorize) -> Result<Claims, ServiceError> {
        inject(&self.faults, FaultSite::Auth);
        let now = now_ms();
        let authenticating = msg.action == Action::Authenticate;
        let claims = self
            .tokens
            .verify(&self.keys, msg.token.expose(), now)
            .map_err(|e| token_error(e, authenticating))?;
        permit(msg.action, &claims)?;
        Ok(claims)
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
        ctx.run_interval(PRUNE_INTERVAL, |act, _| act.tokens.prune(now_ms()));
    }
}

impl Supervised for AuthActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        // Remembered tokens are whole-value map entries, never left half-written by a panic.
        log::warn!(target: "dh::auth", "auth actor restarting");
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

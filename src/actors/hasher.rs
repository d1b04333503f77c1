//! The password hasher: Argon2id costs ~18 ms per hash, so it runs on its own
//! `SyncArbiter` threads, never on the threads that drive MQTT or the database. Its thread
//! count bounds password work, and each thread rests after a hash as its budget says
//! (password_budget.rs), so a login flood cannot take more than that.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, Handler, SyncContext};

use super::messages::{HashPassword, VerifyPassword};
use super::password_budget::PasswordBudget;
use super::supervise::{guarded, inject, FaultPlan, FaultSite};
use crate::auth::password::{hash, verify_uniform, HashScheme, StoredPassword};
use crate::error::ServiceError;
use crate::handlers::Verification;

/// Hashes new passwords with the configured scheme.
pub struct HasherActor {
    scheme: HashScheme,
    budget: Arc<PasswordBudget>,
    /// How long the last hash took and when it ended.
    last: Option<(Duration, Instant)>,
    faults: FaultPlan,
}

impl HasherActor {
    /// A hasher for `scheme` within `budget`.
    pub fn new(scheme: HashScheme, budget: Arc<PasswordBudget>, faults: FaultPlan) -> HasherActor {
        HasherActor {
            scheme,
            budget,
            last: None,
            faults,
        }
    }

    /// Runs one piece of password work, first taking the rest the last one left owing. The
    /// rest is taken before the next hash rather than after this one, so it never delays an
    /// answer: a SyncArbiter sends the result only when the handler returns.
    fn paced<T>(&mut self, work: impl FnOnce() -> T) -> T {
        if let Some((busy, ended)) = self.last {
            std::thread::sleep(self.budget.rest_after(busy).saturating_sub(ended.elapsed()));
        }
        let started = Instant::now();
        let result = work();
        self.last = Some((started.elapsed(), Instant::now()));
        result
    }
}

impl Actor for HasherActor {
    type Context = SyncContext<Self>;
}

impl Handler<VerifyPassword> for HasherActor {
    type Result = Result<Verification, ServiceError>;

    fn handle(&mut self, msg: VerifyPassword, ctx: &mut Self::Context) -> Self::Result {
        let result = guarded(ctx, "hasher", || {
            inject(&self.faults, FaultSite::Hasher);
            let (matches, legacy) = self.paced(|| {
                verify_uniform(
                    msg.password.expose(),
                    msg.hash.as_deref(),
                    msg.salt.as_deref(),
                )
            });
            Ok(Verification { matches, legacy })
        });
        result
    }
}

impl Handler<HashPassword> for HasherActor {
    type Result = Result<StoredPassword, ServiceError>;

    fn handle(&mut self, msg: HashPassword, ctx: &mut Self::Context) -> Self::Result {
        let result = guarded(ctx, "hasher", || {
            inject(&self.faults, FaultSite::Hasher);
            let scheme = self.scheme;
            self.paced(|| hash(msg.password.expose(), scheme))
                .map_err(|e| {
                    log::error!(target: "dh::hasher", "{e}");
                    ServiceError::Internal
                })
        });
        result
    }
}

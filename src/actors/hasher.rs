//! The password hasher: Argon2id costs ~18 ms per hash (FIELD-NOTES 0.7), so it runs on its own
//! `SyncArbiter` threads, never on the threads that drive MQTT or the database. Its thread
//! count bounds password work, so a login flood cannot take more than these threads.

use actix::{Actor, Handler, SyncContext};

use super::messages::{HashPassword, Verification, VerifyPassword};
use super::supervise::{guarded, inject, FaultPlan, FaultSite};
use crate::auth::password::{hash, verify_uniform, HashScheme, StoredPassword};
use crate::error::ServiceError;

/// Hashes new passwords with the configured scheme.
pub struct HasherActor {
    scheme: HashScheme,
    faults: FaultPlan,
}

impl HasherActor {
    /// A hasher for `scheme`.
    pub fn new(scheme: HashScheme, faults: FaultPlan) -> HasherActor {
        HasherActor { scheme, faults }
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
            let (matches, legacy) = verify_uniform(
                msg.password.expose(),
                msg.hash.as_deref(),
                msg.salt.as_deref(),
            );
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
            hash(msg.password.expose(), self.scheme).map_err(|e| {
                log::error!(target: "dh::hasher", "{e}");
                ServiceError::Internal
            })
        });
        result
    }
}

//! The hasher behind its budget (`password_budget`), as requests see it: a place in the queue
//! is taken before a login's database work and held until its end.

use std::sync::Arc;

use actix::Addr;

use super::ask::ask;
use super::hasher::HasherActor;
use super::messages::{HashPassword, VerifyPassword};
use super::password_budget::{PasswordBudget, Ticket};
use crate::auth::password::StoredPassword;
use crate::error::ServiceError;
use crate::handlers::Verification;

/// The hasher behind its budget, as requests see it.
#[derive(Clone)]
pub struct PasswordWork {
    hasher: Addr<HasherActor>,
    budget: Arc<PasswordBudget>,
}

/// A place in the password queue: hold it from the start of a login to its end, so a flood is
/// refused before it costs a database query.
pub struct HasherSlot {
    hasher: Addr<HasherActor>,
    _ticket: Ticket,
}

impl PasswordWork {
    /// Password work on `hasher`, within `budget`.
    pub fn new(hasher: Addr<HasherActor>, budget: Arc<PasswordBudget>) -> PasswordWork {
        PasswordWork { hasher, budget }
    }

    /// The budget, for its queue depth.
    pub fn budget(&self) -> Arc<PasswordBudget> {
        Arc::clone(&self.budget)
    }

    /// A place in the queue, or 503 `Server is busy` when it is full.
    pub fn reserve(&self) -> Result<HasherSlot, ServiceError> {
        let ticket = self.budget.try_reserve().ok_or(ServiceError::ServerBusy)?;
        Ok(HasherSlot {
            hasher: self.hasher.clone(),
            _ticket: ticket,
        })
    }
}

impl HasherSlot {
    /// Checks a password against a stored hash (uniform work for an unknown login).
    pub async fn verify(&self, msg: VerifyPassword) -> Result<Verification, ServiceError> {
        ask(&self.hasher, msg).await
    }

    /// Hashes a new password.
    pub async fn hash(&self, msg: HashPassword) -> Result<StoredPassword, ServiceError> {
        ask(&self.hasher, msg).await
    }
}

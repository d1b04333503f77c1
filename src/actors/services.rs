//! The actors as the handlers' [`Services`]: each call is one message to the actor that owns
//! the concern, database steps within their deadline (`deadline`).

use std::time::Instant;

use super::ask::ask;
use super::batcher::submit;
use super::deadline::DB_DEADLINE;
use super::messages::{
    Authorize, BindSession, FindLogin, HashPassword, LoadUser, Mint, RecordAuthentication,
    RecordLoginFailure, RecordLoginSuccess, RunOp, VerifyPassword, VerifyRefresh,
};
use super::password_work::HasherSlot;
use super::pipeline::Peers;
use crate::auth::broker_login::NewBrokerLogin;
use crate::auth::jwt::Claims;
use crate::auth::password::StoredPassword;
use crate::db::directory::DirectoryOp;
use crate::db::model::UserChanges;
use crate::db::sessions::StoredSession;
use crate::db::user_repo::{CurrentUser, UpdateJob};
use crate::error::ServiceError;
use crate::handlers::{
    Directory, PasswordSlot, PasswordUpgrade, Services, TokenPolicy, Verification,
};
use crate::protocol::Action;
use crate::secret::Secret;

impl PasswordSlot for HasherSlot {
    async fn verify(
        &self,
        password: Secret,
        hash: Option<String>,
        salt: Option<String>,
    ) -> Result<Verification, ServiceError> {
        HasherSlot::verify(
            self,
            VerifyPassword {
                password,
                hash,
                salt,
            },
        )
        .await
    }

    async fn hash(&self, password: Secret) -> Result<StoredPassword, ServiceError> {
        HasherSlot::hash(self, HashPassword { password }).await
    }
}

impl Directory for Peers {
    async fn run<Op: DirectoryOp>(&self, op: Op) -> Result<Op::Output, ServiceError> {
        self.repo.ask(RunOp(op)).await
    }

    async fn hash_password(&self, password: Secret) -> Result<StoredPassword, ServiceError> {
        PasswordSlot::hash(&self.reserve_password_work()?, password).await
    }

    fn broker_login(&self, password: &Secret) -> Option<NewBrokerLogin> {
        self.broker_key
            .as_ref()
            .map(|key| key.login(password.expose()))
    }

    fn logins_changed(&self) {
        self.logins_changed.notify();
    }
}

impl Services for Peers {
    type Slot = HasherSlot;

    fn policy(&self) -> TokenPolicy {
        self.policy
    }

    async fn authorize(&self, action: Action, token: Secret) -> Result<Claims, ServiceError> {
        ask(&self.auth, Authorize { action, token }).await
    }

    async fn session(&self, client_id: &str) -> Result<StoredSession, ServiceError> {
        submit(&self.sessions, &self.admission, client_id.to_string()).await
    }

    async fn bind_session(&self, client_id: &str, claims: Claims) -> Result<(), ServiceError> {
        let client_id = client_id.to_string();
        self.repo.ask(BindSession { client_id, claims }).await
    }

    async fn load_current(&self, user_id: i64) -> Result<CurrentUser, ServiceError> {
        submit(&self.reads, &self.admission, user_id).await
    }

    async fn submit_update(
        &self,
        user_id: i64,
        changes: UserChanges,
        needs_admin: bool,
    ) -> Result<(), ServiceError> {
        let job = UpdateJob {
            user_id,
            changes,
            needs_admin,
            deadline: Instant::now() + DB_DEADLINE,
        };
        submit(&self.updates, &self.admission, job).await
    }

    async fn find_login(&self, login: String) -> Result<Option<CurrentUser>, ServiceError> {
        self.repo.ask(FindLogin { login }).await
    }

    async fn load_user(&self, user_id: i64) -> Result<Option<CurrentUser>, ServiceError> {
        self.repo.ask(LoadUser { user_id }).await
    }

    async fn record_login_failure(&self, user_id: i64) -> Result<(), ServiceError> {
        self.repo.ask(RecordLoginFailure { user_id }).await
    }

    async fn record_login_success(
        &self,
        user_id: i64,
        upgrade: Option<PasswordUpgrade>,
    ) -> Result<bool, ServiceError> {
        self.repo.ask(RecordLoginSuccess { user_id, upgrade }).await
    }

    async fn record_authentication(&self, user_id: i64) -> Result<bool, ServiceError> {
        self.repo.ask(RecordAuthentication { user_id }).await
    }

    fn reserve_password_work(&self) -> Result<HasherSlot, ServiceError> {
        self.hasher.reserve()
    }

    async fn verify_refresh(&self, token: Secret) -> Result<Claims, ServiceError> {
        ask(&self.auth, VerifyRefresh { token }).await
    }

    async fn mint(&self, claims: Vec<Claims>) -> Result<Vec<String>, ServiceError> {
        ask(&self.auth, Mint(claims)).await
    }
}

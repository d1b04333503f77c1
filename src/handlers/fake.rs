//! In-memory [`Services`] for the handlers' unit tests: users in a list, every call recorded,
//! passwords "hashed" by name. A handler's rules are checked against what it asked for.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use super::{Directory, PasswordSlot, PasswordUpgrade, Services, TokenPolicy, Verification};
use crate::auth::jwt::{Claims, TokenType};
use crate::auth::password::StoredPassword;
use crate::db::directory::DirectoryOp;
use crate::db::model::{NetworkRow, UserChanges, UserRow};
use crate::db::sessions::StoredSession;
use crate::db::user_repo::CurrentUser;
use crate::error::ServiceError;
use crate::model::{Role, UserStatus};
use crate::protocol::topic::{parse_response_topic, ClientId};
use crate::protocol::{Action, Origin};
use crate::secret::Secret;

/// The password every fake user has.
pub const PASSWORD: &str = "secret-1";
/// A stored hash the fake treats as DeviceHive's legacy SHA-256.
pub const LEGACY_HASH: &str = "legacy-sha256";

/// What a handler asked of the services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Verify {
        had_hash: bool,
    },
    Hash,
    Update {
        user_id: i64,
        needs_admin: bool,
        password_hashed: bool,
        data: Option<Option<String>>,
    },
    Bind(String),
    LoginFailure(i64),
    LoginSuccess {
        user_id: i64,
        upgraded: bool,
    },
    Authentication(i64),
    Mint(Vec<Claims>),
    LoginsChanged,
}

type Log = Rc<RefCell<Vec<Call>>>;

/// The fake services.
pub struct Fake {
    users: Vec<CurrentUser>,
    calls: Log,
    hasher_full: bool,
    policy: TokenPolicy,
    refresh: Option<Claims>,
}

/// An active user with an Argon2id-looking hash and one network.
pub fn user(id: i64, login: &str, role: i32) -> CurrentUser {
    CurrentUser {
        user: UserRow {
            id,
            login: login.into(),
            password_hash: Some(format!("argon2:{PASSWORD}")),
            password_salt: None,
            role,
            status: UserStatus::Active.ordinal(),
            login_attempts: 0,
            last_login: None,
            data: None,
            intro_reviewed: Some(false),
            all_device_types_available: Some(true),
        },
        networks: vec![NetworkRow {
            id: 5,
            name: "n".into(),
            description: None,
        }],
    }
}

/// A client's login claims for `user_id`, valid for an hour.
pub fn claims_of(user_id: i64) -> Claims {
    let later = crate::auth::jwt::now_ms() + 3_600_000;
    Claims::for_login(user_id, Role::Client, &[], true, TokenType::Access, later)
}

/// The verified origin of client `id`.
pub fn verified(id: &str) -> Origin {
    match ClientId::parse(id) {
        Some(client_id) => Origin::Verified { client_id },
        None => unreachable!("a valid test client id"),
    }
}

/// An MQTT 5 origin.
pub fn open_origin() -> Origin {
    match parse_response_topic("dh/response/authenticate@x") {
        Some((response_topic, response_action)) => Origin::Open {
            response_topic,
            response_action,
            correlation: None,
        },
        None => unreachable!("a valid response topic"),
    }
}

/// Runs a handler's future to completion (the fake never waits on anything).
pub fn block_on<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

impl Fake {
    /// Services over `users`.
    pub fn with_users(users: Vec<CurrentUser>) -> Fake {
        Fake {
            users,
            calls: Rc::new(RefCell::new(Vec::new())),
            hasher_full: false,
            policy: TokenPolicy {
                access_lifetime_ms: 1_800_000,
                refresh_lifetime_ms: 3_600_000,
                upgrade_legacy_hashes: true,
            },
            refresh: None,
        }
    }

    /// The hasher has no room: every reservation is refused.
    pub fn hasher_full(mut self) -> Fake {
        self.hasher_full = true;
        self
    }

    /// The service keeps writing DeviceHive hashes (no upgrade at login).
    pub fn keeping_legacy_hashes(mut self) -> Fake {
        self.policy.upgrade_legacy_hashes = false;
        self
    }

    /// Refresh tokens verify to `claims`.
    pub fn refreshing(mut self, claims: Claims) -> Fake {
        self.refresh = Some(claims);
        self
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    fn record(&self, call: Call) {
        self.calls.borrow_mut().push(call);
    }

    fn by_id(&self, id: i64) -> Option<CurrentUser> {
        self.users.iter().find(|u| u.user.id == id).cloned()
    }

    fn active(&self, id: i64) -> bool {
        self.by_id(id).is_some_and(|u| u.user.is_active())
    }
}

/// A place in the fake hasher.
pub struct Slot(Log);

impl PasswordSlot for Slot {
    async fn verify(
        &self,
        password: Secret,
        hash: Option<String>,
        _salt: Option<String>,
    ) -> Result<Verification, ServiceError> {
        self.0.borrow_mut().push(Call::Verify {
            had_hash: hash.is_some(),
        });
        let legacy = hash.as_deref() == Some(LEGACY_HASH);
        let matches = hash.is_some() && password.expose() == PASSWORD;
        Ok(Verification { matches, legacy })
    }

    async fn hash(&self, password: Secret) -> Result<StoredPassword, ServiceError> {
        self.0.borrow_mut().push(Call::Hash);
        Ok(StoredPassword {
            hash: format!("argon2:{}", password.expose()),
            salt: None,
        })
    }
}

/// The user-management family is tested against real databases (tests/it/manage.rs); here
/// only password hashing is needed, by `updateCurrent`.
impl Directory for Fake {
    async fn run<Op: DirectoryOp>(&self, _op: Op) -> Result<Op::Output, ServiceError> {
        Err(ServiceError::Internal)
    }

    async fn hash_password(&self, password: Secret) -> Result<StoredPassword, ServiceError> {
        self.reserve_password_work()?.hash(password).await
    }

    fn logins_changed(&self) {
        self.record(Call::LoginsChanged);
    }
}

impl Services for Fake {
    type Slot = Slot;

    fn policy(&self) -> TokenPolicy {
        self.policy
    }

    async fn authorize(&self, _action: Action, _token: Secret) -> Result<Claims, ServiceError> {
        Err(ServiceError::Unauthorized)
    }

    async fn session(&self, _client_id: &str) -> Result<StoredSession, ServiceError> {
        Err(ServiceError::Unauthorized)
    }

    async fn bind_session(&self, client_id: &str, _claims: Claims) -> Result<(), ServiceError> {
        self.record(Call::Bind(client_id.to_string()));
        Ok(())
    }

    async fn load_current(&self, user_id: i64) -> Result<CurrentUser, ServiceError> {
        self.by_id(user_id)
            .filter(|u| u.user.is_active())
            .ok_or(ServiceError::Unauthorized)
    }

    async fn submit_update(
        &self,
        user_id: i64,
        changes: UserChanges,
        needs_admin: bool,
    ) -> Result<(), ServiceError> {
        let password_hashed = changes.password_hash.is_some();
        self.record(Call::Update {
            user_id,
            needs_admin,
            password_hashed,
            data: changes.data,
        });
        Ok(())
    }

    async fn find_login(&self, login: String) -> Result<Option<CurrentUser>, ServiceError> {
        Ok(self.users.iter().find(|u| u.user.login == login).cloned())
    }

    async fn load_user(&self, user_id: i64) -> Result<Option<CurrentUser>, ServiceError> {
        Ok(self.by_id(user_id))
    }

    async fn record_login_failure(&self, user_id: i64) -> Result<(), ServiceError> {
        self.record(Call::LoginFailure(user_id));
        Ok(())
    }

    async fn record_login_success(
        &self,
        user_id: i64,
        upgrade: Option<PasswordUpgrade>,
    ) -> Result<bool, ServiceError> {
        self.record(Call::LoginSuccess {
            user_id,
            upgraded: upgrade.is_some(),
        });
        Ok(self.active(user_id))
    }

    async fn record_authentication(&self, user_id: i64) -> Result<bool, ServiceError> {
        self.record(Call::Authentication(user_id));
        Ok(self.active(user_id))
    }

    fn reserve_password_work(&self) -> Result<Slot, ServiceError> {
        match self.hasher_full {
            true => Err(ServiceError::ServerBusy),
            false => Ok(Slot(Rc::clone(&self.calls))),
        }
    }

    async fn verify_refresh(&self, _token: Secret) -> Result<Claims, ServiceError> {
        self.refresh.clone().ok_or(ServiceError::Unauthorized)
    }

    async fn mint(&self, claims: Vec<Claims>) -> Result<Vec<String>, ServiceError> {
        let tokens = claims.iter().map(|c| format!("token-{}", c.t)).collect();
        self.record(Call::Mint(claims));
        Ok(tokens)
    }
}

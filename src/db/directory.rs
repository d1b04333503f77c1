//! The user-management actions' database work as one trait: each operation is a value that
//! runs on a pooled connection, its checks and writes in one transaction, and answers either
//! its result or the refusal a client sees. The service runs operations on a repository lane
//! (`actors::repo`), the operator CLI on its own connection: the same code for both.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::DbConn;
use crate::error::ServiceError;

/// Who asks: decides the rules that need an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A token's user; an administrator only while its row says so (role ADMIN, ACTIVE).
    User(i64),
    /// A token without a user (a plugin token): never an administrator.
    NoUser,
    /// The operator CLI on the service's host.
    Operator,
}

impl Caller {
    /// The caller's user id, if it has one.
    pub fn user_id(self) -> Option<i64> {
        match self {
            Caller::User(id) => Some(id),
            Caller::NoUser | Caller::Operator => None,
        }
    }
}

/// Why an operation did not complete: a refusal for the client (the transaction is rolled
/// back), or a database failure.
#[derive(Debug)]
pub enum OpError {
    /// The answer to give; nothing was changed.
    Refused(ServiceError),
    /// The database failed.
    Db(DieselError),
}

impl From<DieselError> for OpError {
    fn from(err: DieselError) -> OpError {
        OpError::Db(err)
    }
}

impl From<ServiceError> for OpError {
    fn from(err: ServiceError) -> OpError {
        OpError::Refused(err)
    }
}

/// Maps a unique violation (two inserts or renames racing for one login) to `refusal`.
pub fn unique_as(refusal: ServiceError) -> impl FnOnce(DieselError) -> OpError {
    move |err| match err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            OpError::Refused(refusal)
        }
        other => OpError::Db(other),
    }
}

/// One user-management operation.
pub trait DirectoryOp: Send + 'static {
    /// What a success answers.
    type Output: Send + 'static;
    /// Names the operation in log lines.
    const WHAT: &'static str;
    /// Runs the operation; a refusal leaves the database as it was.
    fn run(self, conn: &mut DbConn) -> Result<Self::Output, OpError>;
}

/// Another user's data is "not found" for a caller that is not an administrator now (what
/// DeviceHive answers for `user/get`; it shows anyone's links to any holder of GetNetwork or
/// GetDeviceType, which every client has).
pub fn require_self_or_admin(
    conn: &mut DbConn,
    caller: Caller,
    user_id: i64,
) -> Result<(), OpError> {
    if caller.user_id() == Some(user_id) {
        return Ok(());
    }
    if crate::with_conn!(conn, |c| crate::caller_is_admin!(c, caller))? {
        Ok(())
    } else {
        Err(ServiceError::UserNotFound(user_id).into())
    }
}

/// Whether the caller is an administrator now, read in the operation's own transaction.
#[macro_export]
macro_rules! caller_is_admin {
    ($c:expr, $caller:expr) => {{
        use diesel::prelude::*;
        use $crate::db::directory::Caller;
        use $crate::db::schema::dh_user;
        match $caller {
            Caller::Operator => Ok::<bool, diesel::result::Error>(true),
            Caller::NoUser => Ok(false),
            Caller::User(id) => dh_user::table
                .find(id)
                .filter(dh_user::role.eq($crate::model::Role::Admin.ordinal()))
                .filter(dh_user::status.eq($crate::model::UserStatus::Active.ordinal()))
                .select(dh_user::id)
                .first::<i64>($c)
                .optional()
                .map(|found| found.is_some()),
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unique_violations_become_the_refusal() {
        let unique = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new(String::from("duplicate key")),
        );
        assert!(matches!(
            unique_as(ServiceError::LoginTaken)(unique),
            OpError::Refused(ServiceError::LoginTaken)
        ));
        assert!(matches!(
            unique_as(ServiceError::LoginTaken)(DieselError::NotFound),
            OpError::Db(DieselError::NotFound)
        ));
        assert_eq!(Caller::User(3).user_id(), Some(3));
        assert_eq!(Caller::Operator.user_id(), None);
    }
}

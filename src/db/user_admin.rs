//! `user/list`, `user/count`, `user/get`, `user/insert`, `user/update` and `user/delete` as
//! directory operations (docs/PROTOCOL.md, section 4). Every rule that needs the database's
//! state (does the user exist, is the caller an administrator now, is the login free) is
//! checked inside the operation's transaction, before anything is written.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel::sqlite::Sqlite;

use super::directory::{require_self_or_admin, unique_as, Caller, DirectoryOp, OpError};
use super::like::like_to_glob;
use super::model::{CurrentUser, NewUser, UserChanges, UserRow};
use super::schema::{dh_user, user_device_type, user_network};
use super::{user_repo, DbConn};
use crate::error::ServiceError;
use crate::model::Role;
use crate::protocol::user_query::{Page, SortField, UserFilter};
use crate::{caller_is_admin, write_transaction};

/// The filter with role and status in the columns' range; `None` when no user can match.
struct Bounds<'a> {
    login: Option<&'a str>,
    pattern: Option<&'a str>,
    role: Option<i32>,
    status: Option<i32>,
}

impl Bounds<'_> {
    fn of(filter: &UserFilter) -> Option<Bounds<'_>> {
        let narrow = |v: Option<i64>| match v {
            None => Some(None),
            Some(v) => i32::try_from(v).ok().map(Some),
        };
        Some(Bounds {
            login: filter.login.as_deref(),
            pattern: filter.login_pattern.as_deref(),
            role: narrow(filter.role)?,
            status: narrow(filter.status)?,
        })
    }
}

/// Adds the filter's conditions to a boxed query over `dh_user`. `$pattern` builds the
/// backend's case-sensitive LIKE: PostgreSQL's own, SQLite's GLOB (its LIKE ignores ASCII case).
macro_rules! filtered {
    ($query:expr, $bounds:expr, $pattern:expr) => {{
        let mut query = $query;
        match ($bounds.pattern, $bounds.login) {
            (Some(pattern), _) => query = query.filter($pattern(pattern)),
            (None, Some(login)) => query = query.filter(dh_user::login.eq(login.to_string())),
            (None, None) => {}
        }
        if let Some(role) = $bounds.role {
            query = query.filter(dh_user::role.eq(role));
        }
        if let Some(status) = $bounds.status {
            query = query.filter(dh_user::status.eq(status));
        }
        query
    }};
}

/// PostgreSQL's LIKE: case-sensitive, `\` escapes.
fn pg_like(pattern: &str) -> diesel::dsl::Like<dh_user::login, String> {
    dh_user::login.like(pattern.to_string())
}

/// SQLite's GLOB: case-sensitive; the LIKE pattern translated.
fn sqlite_glob(
    pattern: &str,
) -> Box<dyn BoxableExpression<dh_user::table, Sqlite, SqlType = Bool>> {
    Box::new(diesel::dsl::sql::<Bool>("login GLOB ").bind::<Text, _>(like_to_glob(pattern)))
}

/// Orders a boxed query by the page's sort.
macro_rules! sorted {
    ($query:expr, $page:expr) => {
        match ($page.sort, $page.descending) {
            (SortField::Id, false) => $query.order(dh_user::id.asc()),
            (SortField::Id, true) => $query.order(dh_user::id.desc()),
            (SortField::Login, false) => $query.order(dh_user::login.asc()),
            (SortField::Login, true) => $query.order(dh_user::login.desc()),
        }
    };
}

/// `user/list`: one page of the filtered users.
pub struct ListUsers {
    /// Which users.
    pub filter: UserFilter,
    /// Which page.
    pub page: Page,
}

impl DirectoryOp for ListUsers {
    type Output = Vec<UserRow>;
    const WHAT: &'static str = "user/list";

    fn run(self, conn: &mut DbConn) -> Result<Vec<UserRow>, OpError> {
        let page = self.page;
        let Some(bounds) = Bounds::of(&self.filter).filter(|_| page.take > 0) else {
            return Ok(Vec::new());
        };
        let rows = match conn {
            DbConn::Postgres(c) => {
                let query = dh_user::table.select(UserRow::as_select()).into_boxed();
                let query = filtered!(query, bounds, pg_like);
                sorted!(query, page)
                    .limit(page.take)
                    .offset(page.skip)
                    .load(&mut **c)?
            }
            DbConn::Sqlite(c) => {
                let query = dh_user::table.select(UserRow::as_select()).into_boxed();
                let query = filtered!(query, bounds, sqlite_glob);
                sorted!(query, page)
                    .limit(page.take)
                    .offset(page.skip)
                    .load(&mut **c)?
            }
        };
        Ok(rows)
    }
}

/// `user/count`: how many users the filter covers.
pub struct CountUsers {
    /// Which users.
    pub filter: UserFilter,
}

impl DirectoryOp for CountUsers {
    type Output = i64;
    const WHAT: &'static str = "user/count";

    fn run(self, conn: &mut DbConn) -> Result<i64, OpError> {
        let Some(bounds) = Bounds::of(&self.filter) else {
            return Ok(0);
        };
        let count = match conn {
            DbConn::Postgres(c) => filtered!(dh_user::table.into_boxed(), bounds, pg_like)
                .count()
                .get_result(&mut **c)?,
            DbConn::Sqlite(c) => filtered!(dh_user::table.into_boxed(), bounds, sqlite_glob)
                .count()
                .get_result(&mut **c)?,
        };
        Ok(count)
    }
}

/// `user/get`: a user with its networks. Administrators read anyone; anyone else only itself
/// (another id is "not found", as DeviceHive answers).
pub struct GetUser {
    /// Who asks.
    pub caller: Caller,
    /// Whom.
    pub user_id: i64,
}

impl DirectoryOp for GetUser {
    type Output = CurrentUser;
    const WHAT: &'static str = "user/get";

    fn run(self, conn: &mut DbConn) -> Result<CurrentUser, OpError> {
        require_self_or_admin(conn, self.caller, self.user_id)?;
        user_repo::load_current(conn, self.user_id)?
            .ok_or(OpError::Refused(ServiceError::UserNotFound(self.user_id)))
    }
}

/// `user/insert`: a new user. Creating an administrator needs an administrator.
pub struct InsertUser {
    /// Who asks.
    pub caller: Caller,
    /// The row, its password already hashed.
    pub user: NewUser,
}

impl DirectoryOp for InsertUser {
    type Output = UserRow;
    const WHAT: &'static str = "user/insert";

    fn run(self, conn: &mut DbConn) -> Result<UserRow, OpError> {
        let InsertUser { caller, user } = self;
        write_transaction!(conn, |c| {
            if user.role == Role::Admin.ordinal() && !caller_is_admin!(c, caller)? {
                return Err(ServiceError::AdminRequired.into());
            }
            let taken = dh_user::table
                .filter(dh_user::login.eq(&user.login))
                .select(dh_user::id)
                .first::<i64>(c)
                .optional()?;
            if taken.is_some() {
                return Err(ServiceError::LoginTaken.into());
            }
            diesel::insert_into(dh_user::table)
                .values(&user)
                .returning(UserRow::as_returning())
                .get_result(c)
                .map_err(unique_as(ServiceError::LoginTaken))
        })
    }
}

/// `user/update`: only the given columns. Login, role and status, and any change to an
/// administrator, need an administrator.
pub struct UpdateUser {
    /// Who asks.
    pub caller: Caller,
    /// Whom.
    pub user_id: i64,
    /// The columns to write.
    pub changes: UserChanges,
    /// Whether login, role or status are among them.
    pub admin_fields: bool,
}

impl DirectoryOp for UpdateUser {
    type Output = ();
    const WHAT: &'static str = "user/update";

    fn run(self, conn: &mut DbConn) -> Result<(), OpError> {
        let UpdateUser {
            caller,
            user_id,
            changes,
            admin_fields,
        } = self;
        write_transaction!(conn, |c| {
            let role = dh_user::table
                .find(user_id)
                .select(dh_user::role)
                .first::<i32>(c)
                .optional()?
                .ok_or(ServiceError::UserNotFound(user_id))?;
            let needs_admin = admin_fields || role == Role::Admin.ordinal();
            if needs_admin && !caller_is_admin!(c, caller)? {
                return Err(ServiceError::AdminRequired.into());
            }
            if let Some(login) = &changes.login {
                let other = dh_user::table
                    .filter(dh_user::login.eq(login))
                    .filter(dh_user::id.ne(user_id))
                    .select(dh_user::id)
                    .first::<i64>(c)
                    .optional()?;
                if other.is_some() {
                    return Err(ServiceError::LoginTaken.into());
                }
            }
            if !changes.is_empty() {
                diesel::update(dh_user::table.find(user_id))
                    .set(&changes)
                    .execute(c)
                    .map_err(unique_as(ServiceError::LoginTaken))?;
            }
            Ok(())
        })
    }
}

/// `user/delete`: the user and its network and device-type links, in one transaction (the
/// DeviceHive schema has no ON DELETE CASCADE). Not oneself; an administrator only by one.
pub struct DeleteUser {
    /// Who asks.
    pub caller: Caller,
    /// Whom.
    pub user_id: i64,
}

impl DirectoryOp for DeleteUser {
    type Output = ();
    const WHAT: &'static str = "user/delete";

    fn run(self, conn: &mut DbConn) -> Result<(), OpError> {
        let DeleteUser { caller, user_id } = self;
        if caller.user_id() == Some(user_id) {
            return Err(ServiceError::SelfDelete.into());
        }
        write_transaction!(conn, |c| {
            let role = dh_user::table
                .find(user_id)
                .select(dh_user::role)
                .first::<i32>(c)
                .optional()?
                .ok_or(ServiceError::UserNotFound(user_id))?;
            if role == Role::Admin.ordinal() && !caller_is_admin!(c, caller)? {
                return Err(ServiceError::AdminRequired.into());
            }
            diesel::delete(user_network::table.filter(user_network::user_id.eq(user_id)))
                .execute(c)?;
            diesel::delete(user_device_type::table.filter(user_device_type::user_id.eq(user_id)))
                .execute(c)?;
            diesel::delete(dh_user::table.find(user_id)).execute(c)?;
            Ok(())
        })
    }
}

//! The user repository's queries: plain, synchronous, and honest about "not found" versus a
//! database error. Each takes a pooled connection and runs on a thread that may block.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{DeviceTypeRow, NetworkRow, NewNetwork, NewUser, UserRow};
use super::schema::{device_type, dh_user, network, user_network};
use super::DbConn;
use crate::auth::password::StoredPassword;
use crate::model::UserStatus;
use crate::{with_conn, write_transaction};

/// `last_login` is bumped only when older than this (DeviceHive's `user.login.lastTimeout`).
const LAST_LOGIN_GRANULARITY_MS: i64 = 1_000;

pub use super::model::{CurrentUser, UpdateJob};
pub use super::update_batch::{update_current_batch, UpdateRejection, COMMIT_MARGIN};

/// Loads a user by id.
pub fn find_by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<UserRow>> {
    with_conn!(conn, |c| dh_user::table
        .find(id)
        .select(UserRow::as_select())
        .first(c)
        .optional())
}

/// Loads a user by exact, case-sensitive login.
pub fn find_by_login(conn: &mut DbConn, login: &str) -> QueryResult<Option<UserRow>> {
    with_conn!(conn, |c| dh_user::table
        .filter(dh_user::login.eq(login))
        .select(UserRow::as_select())
        .first(c)
        .optional())
}

/// Loads a user and its networks, or `None` if there is no such user.
pub fn load_current(conn: &mut DbConn, id: i64) -> QueryResult<Option<CurrentUser>> {
    Ok(load_current_many(conn, &[id])?.remove(&id))
}

/// Loads several users and their networks, whatever the users' status; ids that match no user
/// are absent from the result. The read batcher serves many `getCurrent` requests with one
/// call, one joined query: PostgreSQL takes the whole set in one round trip (`= ANY($1)`, a
/// cached statement); SQLite, where a variable `IN (?, …)` list is prepared anew each time,
/// runs the cached one-user form per distinct id, all in one read transaction (one snapshot
/// and one WAL read lock for the batch instead of one per id).
pub fn load_current_many(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, CurrentUser>> {
    let mut distinct = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let mut found = HashMap::with_capacity(distinct.len());
    match conn {
        DbConn::Postgres(c) => {
            let rows = users_with_networks()
                .filter(dh_user::id.eq_any(&distinct))
                .select((UserRow::as_select(), network_columns().nullable()))
                .load(&mut **c)?;
            collect_users(&mut found, rows);
        }
        DbConn::Sqlite(pooled) => {
            let c: &mut SqliteConnection = pooled;
            let mut read_all = |c: &mut SqliteConnection| -> QueryResult<()> {
                for &id in &distinct {
                    collect_users(&mut found, sqlite_current(c, id)?);
                }
                Ok(())
            };
            // One id is one statement: no transaction around it.
            match distinct.len() {
                0 | 1 => read_all(c)?,
                _ => c.transaction(read_all)?,
            }
        }
    }
    Ok(found)
}

/// One user's rows of [`users_with_networks`] on SQLite.
fn sqlite_current(
    c: &mut SqliteConnection,
    id: i64,
) -> QueryResult<Vec<(UserRow, Option<NetworkRow>)>> {
    users_with_networks()
        .filter(dh_user::id.eq(id))
        .select((UserRow::as_select(), network_columns().nullable()))
        .load(c)
}

/// Users left-joined to their links, then to the links' networks, by user then network: one
/// row per link, one row with no network for a user without links. The joins are flat and
/// ordered by the link's column: nested (`user LEFT JOIN (link LEFT JOIN network)`), SQLite
/// materialised the whole link table for every query (docs/PERFORMANCE.md item 25).
#[diesel::dsl::auto_type]
fn users_with_networks() -> _ {
    dh_user::table
        .left_join(user_network::table)
        .left_join(network::table.on(network::id.eq(user_network::network_id)))
        .order((dh_user::id, user_network::network_id.nullable()))
}

/// The columns of [`NetworkRow`], to be made nullable on the outer side of a join.
fn network_columns() -> (network::id, network::name, network::description) {
    (network::id, network::name, network::description)
}

/// Folds joined rows into users with their (deduplicated) networks.
fn collect_users(found: &mut HashMap<i64, CurrentUser>, rows: Vec<(UserRow, Option<NetworkRow>)>) {
    for (user, net) in rows {
        let current = found.entry(user.id).or_insert_with(|| CurrentUser {
            user,
            networks: Vec::new(),
        });
        if let Some(net) = net {
            if current.networks.last().is_none_or(|last| last.id != net.id) {
                current.networks.push(net);
            }
        }
    }
}

/// The networks linked to a user, ordered by id, without duplicates (DeviceHive's link table
/// has no unique constraint).
pub fn networks_of(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<NetworkRow>> {
    with_conn!(conn, |c| network_query(user_id)
        .select(NetworkRow::as_select())
        .load(c)
        .map(dedup_networks))
}

/// The links of one user joined to their networks, by network id.
#[diesel::dsl::auto_type]
fn network_query(user_id: i64) -> _ {
    user_network::table
        .inner_join(network::table)
        .filter(user_network::user_id.eq(user_id))
        .order(network::id)
}

/// DeviceHive's link table has no unique constraint: one network may be linked twice.
fn dedup_networks(mut rows: Vec<NetworkRow>) -> Vec<NetworkRow> {
    rows.dedup_by_key(|n| n.id);
    rows
}

/// Records a successful authentication: resets the failure counter and bumps `last_login`
/// (as the DeviceHive server does). Returns the user as it was found; an inactive user is left
/// untouched and returned for the caller to refuse.
pub fn touch_login(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<Option<UserRow>> {
    write_transaction!(conn, |c| {
        let Some(user) = dh_user::table
            .find(id)
            .select(UserRow::as_select())
            .first(c)
            .optional()?
        else {
            return Ok(None);
        };
        if !user.is_active() {
            return Ok(Some(user));
        }
        let stale = user
            .last_login
            .is_none_or(|last| (now - last).num_milliseconds() >= LAST_LOGIN_GRANULARITY_MS);
        if stale || user.login_attempts != 0 {
            let last = if stale { Some(now) } else { user.last_login };
            diesel::update(dh_user::table.find(id))
                .set((dh_user::login_attempts.eq(0), dh_user::last_login.eq(last)))
                .execute(c)?;
        }
        Ok(Some(user))
    })
}

/// Counts a wrong password (as the DeviceHive server does): at `max_attempts` the user becomes LOCKED_OUT
/// and the counter starts again. Returns whether this failure locked the user. The increment
/// is done by the database, so concurrent failures are all counted.
pub fn record_login_failure(conn: &mut DbConn, id: i64, max_attempts: i32) -> QueryResult<bool> {
    write_transaction!(conn, |c| {
        let attempts: Option<i32> = diesel::update(
            dh_user::table
                .find(id)
                .filter(dh_user::status.eq(UserStatus::Active.ordinal())),
        )
        .set(dh_user::login_attempts.eq(dh_user::login_attempts + 1))
        .returning(dh_user::login_attempts)
        .get_result(c)
        .optional()?;
        match attempts {
            Some(n) if n >= max_attempts => {
                diesel::update(dh_user::table.find(id))
                    .set((
                        dh_user::status.eq(UserStatus::LockedOut.ordinal()),
                        dh_user::login_attempts.eq(0),
                    ))
                    .execute(c)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    })
}

/// Replaces a legacy password hash after a successful login, unless the password was changed
/// meanwhile (the old hash no longer matches).
pub fn upgrade_password(
    conn: &mut DbConn,
    id: i64,
    old_hash: &str,
    new: &StoredPassword,
) -> QueryResult<usize> {
    with_conn!(conn, |c| diesel::update(
        dh_user::table
            .find(id)
            .filter(dh_user::password_hash.eq(old_hash))
    )
    .set((
        dh_user::password_hash.eq(&new.hash),
        dh_user::password_salt.eq(&new.salt),
    ))
    .execute(c))
}

/// Every user, by id (for comparing a database before and after).
pub fn list_users(conn: &mut DbConn) -> QueryResult<Vec<UserRow>> {
    with_conn!(conn, |c| dh_user::table
        .select(UserRow::as_select())
        .order(dh_user::id)
        .load(c))
}

/// A network by id or by exact name.
pub fn find_network(conn: &mut DbConn, id_or_name: &str) -> QueryResult<Option<NetworkRow>> {
    let by_id = id_or_name.parse::<i64>().ok();
    with_conn!(conn, |c| network::table
        .filter(
            network::name
                .eq(id_or_name)
                .or(network::id.nullable().eq(by_id)),
        )
        .select(NetworkRow::as_select())
        .order(network::id)
        .first(c)
        .optional())
}

/// Creates a user and returns its id.
pub fn insert_user(conn: &mut DbConn, user: &NewUser) -> QueryResult<i64> {
    with_conn!(conn, |c| diesel::insert_into(dh_user::table)
        .values(user)
        .returning(dh_user::id)
        .get_result(c))
}

/// Creates a network and returns its id.
pub fn insert_network(
    conn: &mut DbConn,
    name: &str,
    description: Option<&str>,
) -> QueryResult<i64> {
    let row = NewNetwork {
        name: name.to_string(),
        description: description.map(str::to_string),
    };
    with_conn!(conn, |c| diesel::insert_into(network::table)
        .values(&row)
        .returning(network::id)
        .get_result(c))
}

/// A device type by id or by exact name.
pub fn find_device_type(conn: &mut DbConn, id_or_name: &str) -> QueryResult<Option<DeviceTypeRow>> {
    let by_id = id_or_name.parse::<i64>().ok();
    with_conn!(conn, |c| device_type::table
        .filter(
            device_type::name
                .eq(id_or_name)
                .or(device_type::id.nullable().eq(by_id)),
        )
        .select(DeviceTypeRow::as_select())
        .order(device_type::id)
        .first(c)
        .optional())
}

/// Creates a device type and returns its id.
pub fn insert_device_type(
    conn: &mut DbConn,
    name: &str,
    description: Option<&str>,
) -> QueryResult<i64> {
    with_conn!(conn, |c| diesel::insert_into(device_type::table)
        .values((
            device_type::name.eq(name),
            device_type::description.eq(description),
        ))
        .returning(device_type::id)
        .get_result(c))
}

/// Sets a user's status and clears the failed-login counter (how an operator unlocks a user).
pub fn set_status(conn: &mut DbConn, user_id: i64, status: UserStatus) -> QueryResult<usize> {
    with_conn!(conn, |c| diesel::update(dh_user::table.find(user_id))
        .set((
            dh_user::status.eq(status.ordinal()),
            dh_user::login_attempts.eq(0),
        ))
        .execute(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::model::UserChanges;
    use diesel::debug_query;
    use diesel::pg::Pg;

    #[test]
    fn update_names_only_the_provided_columns() {
        let changes = UserChanges {
            data: Some(Some("{}".into())),
            ..UserChanges::default()
        };
        let sql = debug_query::<Pg, _>(&diesel::update(dh_user::table.find(1_i64)).set(changes))
            .to_string();
        assert!(
            sql.starts_with(r#"UPDATE "dh_user" SET "data" = $1 WHERE"#),
            "{sql}"
        );
    }

    /// A getCurrent on SQLite finds its user's links through the index, whatever the size of
    /// the link table (a nested join made SQLite copy the whole table into a temporary one).
    #[test]
    fn sqlite_reads_a_users_links_through_the_index() -> anyhow::Result<()> {
        #[derive(QueryableByName)]
        struct Step {
            #[diesel(sql_type = diesel::sql_types::Text)]
            detail: String,
        }
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("plan.sqlite");
        crate::db::migrate::run(&crate::db::DbUrl::Sqlite(path.clone()))?;
        let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
        let query = users_with_networks()
            .filter(dh_user::id.eq(1_i64))
            .select((UserRow::as_select(), network_columns().nullable()));
        let shown = debug_query::<diesel::sqlite::Sqlite, _>(&query).to_string();
        let sql = shown.split(" -- binds").next().unwrap_or_default();
        let plan: Vec<String> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .bind::<diesel::sql_types::BigInt, _>(1_i64)
            .load::<Step>(&mut c)?
            .into_iter()
            .map(|s| s.detail)
            .collect();
        assert!(
            plan.iter()
                .all(|s| !s.starts_with("SCAN") && !s.starts_with("MATERIALIZE")),
            "{plan:?}"
        );
        let link_step =
            |s: &String| s.starts_with("SEARCH user_network USING") && s.contains("INDEX");
        assert!(plan.iter().any(link_step), "{plan:?}");
        Ok(())
    }
}

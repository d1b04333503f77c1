//! Sessions bound by `authenticate`, in the service's own table `dh_mqtt_session`: every
//! instance reads the same rows, so a device stays signed in whichever instance answers it
//! and across restarts. A row holds the token's claims, never the token: claims cannot be
//! turned back into a bearer token without the signing key.
//!
//! There is no cache in the process: every request without a token reads its row (batched,
//! like `getCurrent`), so a new `authenticate` on one instance is what every instance sees
//! on the very next request.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::dh_mqtt_session;
use super::user_repo::{load_current_many, CurrentUser};
use super::DbConn;
use crate::auth::jwt::Claims;
use crate::with_conn;

/// A bound session and, read with it, its user (absent when the user is gone).
#[derive(Debug, Clone)]
pub struct StoredSession {
    /// What `authenticate` verified.
    pub claims: Claims,
    /// The session's user with its networks, whatever its status.
    pub user: Option<CurrentUser>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = dh_mqtt_session)]
struct SessionRow<'a> {
    client_id: &'a str,
    user_id: i64,
    claims: &'a str,
    expires_at: i64,
    bound_at: i64,
}

/// Binds `claims` to `client_id`, replacing the client's earlier session.
pub fn bind(conn: &mut DbConn, client_id: &str, claims: &Claims, now_ms: i64) -> QueryResult<()> {
    let text = serde_json::to_string(claims)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let row = SessionRow {
        client_id,
        user_id: claims.u.unwrap_or_default(),
        claims: &text,
        expires_at: claims.e,
        bound_at: now_ms,
    };
    with_conn!(conn, |c| diesel::insert_into(dh_mqtt_session::table)
        .values(&row)
        .on_conflict(dh_mqtt_session::client_id)
        .do_update()
        .set(&row)
        .execute(c))?;
    Ok(())
}

/// The sessions of `client_ids` with their users; a client without a (readable) session is
/// absent. PostgreSQL reads the set in one round trip; SQLite runs the cached one-row form
/// per id (see `load_current_many`).
pub fn load_many(
    conn: &mut DbConn,
    client_ids: &[String],
) -> QueryResult<HashMap<String, StoredSession>> {
    // A client with several requests in the batch is read once.
    let mut client_ids = client_ids.to_vec();
    client_ids.sort_unstable();
    client_ids.dedup();
    let columns = (dh_mqtt_session::client_id, dh_mqtt_session::claims);
    let rows: Vec<(String, String)> = match conn {
        DbConn::Postgres(c) => dh_mqtt_session::table
            .filter(dh_mqtt_session::client_id.eq_any(&client_ids))
            .select(columns)
            .load(&mut **c)?,
        DbConn::Sqlite(c) => {
            let mut rows = Vec::with_capacity(client_ids.len());
            for id in &client_ids {
                let row = dh_mqtt_session::table
                    .find(id)
                    .select(columns)
                    .first(&mut **c)
                    .optional()?;
                rows.extend(row);
            }
            rows
        }
    };
    let sessions: Vec<(String, Claims)> = rows
        .into_iter()
        .filter_map(|(client_id, text)| match serde_json::from_str::<Claims>(&text) {
            Ok(claims) => Some((client_id, claims)),
            Err(e) => {
                log::error!(target: "dh::repo", "session of '{client_id}' is unreadable, ignored: {e}");
                None
            }
        })
        .collect();
    let user_ids: Vec<i64> = sessions.iter().filter_map(|(_, c)| c.u).collect();
    let users = load_current_many(conn, &user_ids)?;
    Ok(sessions
        .into_iter()
        .map(|(client_id, claims)| {
            let user = claims.u.and_then(|id| users.get(&id).cloned());
            (client_id, StoredSession { claims, user })
        })
        .collect())
}

/// Forgets sessions that expired before `now_ms`; how many.
pub fn prune(conn: &mut DbConn, now_ms: i64) -> QueryResult<usize> {
    with_conn!(conn, |c| diesel::delete(
        dh_mqtt_session::table.filter(dh_mqtt_session::expires_at.lt(now_ms))
    )
    .execute(c))
}

/// Sessions in the table, expired or not.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    with_conn!(conn, |c| dh_mqtt_session::table.count().get_result(c))
}

/// Sessions of one client in the table (0 or 1), expired or not.
pub fn count_of(conn: &mut DbConn, client_id: &str) -> QueryResult<i64> {
    with_conn!(conn, |c| dh_mqtt_session::table
        .filter(dh_mqtt_session::client_id.eq(client_id))
        .count()
        .get_result(c))
}

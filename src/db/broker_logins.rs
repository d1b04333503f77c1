//! `dh_mqtt_broker_login`: the device logins the broker plugin checks (docs/OPERATIONS.md,
//! "Device logins"). A row is written whenever this service sets a password; whether the
//! login may connect (its current login, active or not, deleted) is read from `dh_user`.

use diesel::prelude::*;

use super::directory::{DirectoryOp, OpError};
use super::schema::{dh_mqtt_broker_login, dh_user};
use super::DbConn;
use crate::auth::broker_login::NewBrokerLogin;
use crate::model::UserStatus;
use crate::{with_conn, write_transaction};

/// One row with its user as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerLogin {
    pub user_id: i64,
    /// The login now, or when the password was set if the user is gone.
    pub login: String,
    /// Whether the user exists and is active.
    pub active: bool,
    /// Hex.
    pub salt: String,
    /// Hex.
    pub verifier: String,
}

/// Every row, by user id.
pub fn load_all(conn: &mut DbConn) -> QueryResult<Vec<BrokerLogin>> {
    type Row = (i64, String, String, String, Option<String>, Option<i32>);
    let rows: Vec<Row> = with_conn!(conn, |c| {
        dh_mqtt_broker_login::table
            .left_join(dh_user::table)
            .select((
                dh_mqtt_broker_login::user_id,
                dh_mqtt_broker_login::login,
                dh_mqtt_broker_login::salt,
                dh_mqtt_broker_login::verifier,
                dh_user::login.nullable(),
                dh_user::status.nullable(),
            ))
            .order(dh_mqtt_broker_login::user_id)
            .load(c)
    })?;
    Ok(rows
        .into_iter()
        .map(
            |(user_id, set_as, salt, verifier, login, status)| BrokerLogin {
                user_id,
                login: login.unwrap_or(set_as),
                active: status == Some(UserStatus::Active.ordinal()),
                salt,
                verifier,
            },
        )
        .collect())
}

/// How many rows `dh_mqtt_broker_login` and `dh_user` hold and the sums of their row
/// versions (`xmin`): a committed insert, update or delete of either moves one of the four
/// (an update gives its row a newer transaction id), so equal values mean nothing the plugin
/// is told can have changed. PostgreSQL only; about half the server's work of [`load_all`]
/// and nothing to send (docs/PERFORMANCE.md, item 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct RowVersions {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    logins: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    login_versions: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    users: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    user_versions: i64,
}

/// The [`RowVersions`] now.
pub fn row_versions(conn: &mut PgConnection) -> QueryResult<RowVersions> {
    const SQL: &str = "SELECT (SELECT count(*) FROM dh_mqtt_broker_login) AS logins,
        (SELECT coalesce(sum(xmin::text::bigint), 0)::bigint FROM dh_mqtt_broker_login)
            AS login_versions,
        (SELECT count(*) FROM dh_user) AS users,
        (SELECT coalesce(sum(xmin::text::bigint), 0)::bigint FROM dh_user) AS user_versions";
    diesel::sql_query(SQL).get_result(conn)
}

/// Writes (or replaces) the broker login of a user whose password was just set.
pub struct SetBrokerLogin {
    pub user_id: i64,
    pub login: NewBrokerLogin,
}

impl DirectoryOp for SetBrokerLogin {
    type Output = ();
    const WHAT: &'static str = "broker login";

    fn run(self, conn: &mut DbConn) -> Result<(), OpError> {
        let user_id = self.user_id;
        let (salt, verifier) = (self.login.salt_hex(), self.login.verifier_hex());
        write_transaction!(conn, |c| {
            let login: String = dh_user::table
                .find(user_id)
                .select(dh_user::login)
                .first(c)?;
            let set = (
                dh_mqtt_broker_login::login.eq(&login),
                dh_mqtt_broker_login::salt.eq(&salt),
                dh_mqtt_broker_login::verifier.eq(&verifier),
            );
            diesel::insert_into(dh_mqtt_broker_login::table)
                .values((dh_mqtt_broker_login::user_id.eq(user_id), set))
                .on_conflict(dh_mqtt_broker_login::user_id)
                .do_update()
                .set(set)
                .execute(c)?;
            Ok(())
        })
    }
}

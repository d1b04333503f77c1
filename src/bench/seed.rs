//! `dh-bench seed-users` and `seed-sessions`: large tables for the listing and session
//! benchmarks (deploy/bench-list.sh, deploy/bench-sessions.sh).

use std::time::Duration;

use diesel::connection::SimpleConnection;

use crate::db::{DbPool, DbUrl};

/// Adds `count` live sessions for client ids `{prefix}{n}`, bound to the users with ids 1 to
/// `count` (wrapping at `users`), expiring in a day: what many devices that authenticated
/// leave in `dh_mqtt_session`.
pub fn seed_sessions(url: &str, prefix: &str, count: u64, users: u64) -> anyhow::Result<()> {
    check_prefix(prefix)?;
    let url = DbUrl::parse(url).map_err(anyhow::Error::msg)?;
    let pool = DbPool::open(&url, 1, Duration::from_secs(30))?;
    let mut conn = pool.get()?;
    let now = crate::auth::jwt::now_ms();
    let expires = now + 86_400_000;
    let users = users.max(1);
    // Session n's user, and the claims of a client login token of that user.
    let user = |n: &str| format!("(({n} - 1) % {users} + 1)");
    let claims = |n: &str| {
        format!(
            "'{{\"u\":' || {} || ',\"a\":[],\"n\":[],\"dt\":[\"*\"],\"e\":{expires},\"t\":1}}'",
            user(n)
        )
    };
    let sql = match &url {
        DbUrl::Postgres(_) => format!(
            "SET statement_timeout = 0; \
             INSERT INTO dh_mqtt_session (client_id, user_id, claims, expires_at, bound_at) \
             SELECT '{prefix}' || g, {}, {}, {expires}, {now} \
             FROM generate_series(1, {count}) AS g; ANALYZE dh_mqtt_session",
            user("g"),
            claims("g")
        ),
        DbUrl::Sqlite(_) => format!(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {count}) \
             INSERT INTO dh_mqtt_session (client_id, user_id, claims, expires_at, bound_at) \
             SELECT '{prefix}' || n, {}, {}, {expires}, {now} FROM g; ANALYZE",
            user("n"),
            claims("n")
        ),
    };
    crate::with_conn!(&mut conn, |c| c.batch_execute(&sql))?;
    Ok(())
}

/// Gives the users `{prefix}{n}` the broker login `password` (docs/OPERATIONS.md, "Device
/// logins"), with the key of `jwt_secret`, for reconnect-storm runs.
pub fn seed_broker_logins(
    url: &str,
    prefix: &str,
    password: &str,
    key: &crate::auth::broker_login::BrokerKey,
) -> anyhow::Result<usize> {
    use crate::db::broker_logins::SetBrokerLogin;
    use crate::db::directory::DirectoryOp;
    use crate::db::schema::dh_user;
    use diesel::prelude::*;
    check_prefix(prefix)?;
    let url = DbUrl::parse(url).map_err(anyhow::Error::msg)?;
    let pool = DbPool::open(&url, 1, Duration::from_secs(30))?;
    let mut conn = pool.get()?;
    let pattern = format!("{prefix}%");
    let ids: Vec<i64> = crate::with_conn!(&mut conn, |c| dh_user::table
        .filter(dh_user::login.like(&pattern))
        .select(dh_user::id)
        .load(c))?;
    for &user_id in &ids {
        let op = SetBrokerLogin {
            user_id,
            login: key.login(password),
        };
        op.run(&mut conn)
            .map_err(|e| anyhow::anyhow!("broker login of user {user_id}: {e:?}"))?;
    }
    Ok(ids.len())
}

fn check_prefix(prefix: &str) -> anyhow::Result<()> {
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        anyhow::bail!("the prefix may hold only letters, digits, - and _");
    }
    Ok(())
}

/// Adds `count` client users named `{prefix}{n}` (no password: they cannot log in), in one
/// statement, for listing benchmarks on a large table.
pub fn seed_users(url: &str, prefix: &str, count: u64) -> anyhow::Result<()> {
    check_prefix(prefix)?;
    let url = DbUrl::parse(url).map_err(anyhow::Error::msg)?;
    let pool = DbPool::open(&url, 1, Duration::from_secs(30))?;
    let mut conn = pool.get()?;
    let sql = match &url {
        DbUrl::Postgres(_) => format!(
            // The pool's connections stop statements after 1 s; seeding takes longer.
            "SET statement_timeout = 0; \
             INSERT INTO dh_user (login, role, status, login_attempts) \
             SELECT '{prefix}' || g, 1, 0, 0 FROM generate_series(1, {count}) AS g; \
             ANALYZE dh_user"
        ),
        DbUrl::Sqlite(_) => format!(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {count}) \
             INSERT INTO dh_user (login, role, status, login_attempts) \
             SELECT '{prefix}' || n, 1, 0, 0 FROM g; ANALYZE"
        ),
    };
    crate::with_conn!(&mut conn, |c| c.batch_execute(&sql))?;
    Ok(())
}

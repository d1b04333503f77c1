//! `dh-bench seed-users`: a large user table for the listing benchmark (deploy/bench-list.sh).

use std::time::Duration;

use diesel::connection::SimpleConnection;

use crate::db::{DbPool, DbUrl};

/// Adds `count` client users named `{prefix}{n}` (no password: they cannot log in), in one
/// statement, for listing benchmarks on a large table.
pub fn seed_users(url: &str, prefix: &str, count: u64) -> anyhow::Result<()> {
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        anyhow::bail!("the prefix may hold only letters, digits, - and _");
    }
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

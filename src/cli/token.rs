//! `token --login L`: an operator's way to mint a DeviceHive token pair for an existing user.

use anyhow::{bail, Context};
use serde_json::json;

use crate::auth::jwt::{now_ms, TokenType};
use crate::config::Config;
use crate::db::{user_repo, DbPool};
use crate::handlers::claims::{is_active, login_claims};

/// Prints `{"accessToken": …, "refreshToken": …}` for the user `login`, with the claims the
/// `token` action would give it (the same `login_claims`).
pub fn print_pair(config: &Config, login: &str) -> anyhow::Result<()> {
    let keys = config.jwt_keys()?;
    let pool = DbPool::open(&config.database, 1, config.db_timeout)?;
    let mut conn = pool.get()?;
    let found = user_repo::find_by_login(&mut conn, login)?
        .with_context(|| format!("no user with login '{login}'"))?;
    let user = user_repo::load_current(&mut conn, found.id)?
        .with_context(|| format!("no user with login '{login}'"))?;
    if !is_active(&user) {
        bail!("user '{login}' is locked or disabled");
    }
    let now = now_ms();
    let access = login_claims(&user, TokenType::Access, now + config.access_lifetime_ms);
    let refresh = login_claims(&user, TokenType::Refresh, now + config.refresh_lifetime_ms);
    println!(
        "{}",
        json!({"accessToken": keys.mint(&access)?, "refreshToken": keys.mint(&refresh)?})
    );
    Ok(())
}

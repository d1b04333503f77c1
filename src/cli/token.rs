//! `token --login L`: an operator's way to mint a DeviceHive token pair for an existing user.

use anyhow::{bail, Context};
use serde_json::json;

use crate::auth::jwt::{now_ms, Claims, TokenType};
use crate::config::Config;
use crate::db::{user_repo, DbPool};
use crate::model::Role;

/// Prints `{"accessToken": …, "refreshToken": …}` for the user `login`.
pub fn print_pair(config: &Config, login: &str) -> anyhow::Result<()> {
    let keys = config.jwt_keys()?;
    let pool = DbPool::open(&config.database, 1, config.db_timeout)?;
    let mut conn = pool.get()?;
    let user = user_repo::find_by_login(&mut conn, login)?
        .with_context(|| format!("no user with login '{login}'"))?;
    if !user.is_active() {
        bail!("user '{login}' is locked or disabled");
    }
    let role = Role::from_ordinal(user.role.into())
        .with_context(|| format!("user '{login}' has an unknown role {}", user.role))?;
    let networks: Vec<i64> = user_repo::networks_of(&mut conn, user.id)?
        .iter()
        .map(|n| n.id)
        .collect();
    let all_types = user.all_device_types_available.unwrap_or(true);
    let now = now_ms();
    let claims =
        |t, lifetime| Claims::for_login(user.id, role, &networks, all_types, t, now + lifetime);
    let access = keys.mint(&claims(TokenType::Access, config.access_lifetime_ms))?;
    let refresh = keys.mint(&claims(TokenType::Refresh, config.refresh_lifetime_ms))?;
    println!(
        "{}",
        json!({"accessToken": access, "refreshToken": refresh})
    );
    Ok(())
}

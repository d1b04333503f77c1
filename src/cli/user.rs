//! Operator commands on accounts and networks: `user add|list|passwd|set-status|assign-network`
//! and `network add`. Passwords come from a prompt or standard input, never from the logs.

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};

use crate::auth::password::{hash, StoredPassword};
use crate::config::Config;
use crate::db::model::{NewUser, UserRow};
use crate::db::{user_repo, DbConn, DbPool};
use crate::model::{check_login, check_password_policy, Role, UserStatus};

/// Reads a password from a prompt (terminal) or the first line of standard input.
pub fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password: ").context("cannot read the password");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn connect(config: &Config) -> anyhow::Result<DbConn> {
    let pool = DbPool::open(&config.database, 1, config.db_timeout)?;
    Ok(pool.get()?)
}

fn new_password(config: &Config, given: Option<String>) -> anyhow::Result<StoredPassword> {
    let password = match given {
        Some(p) => p,
        None => read_password()?,
    };
    if !check_password_policy(&password) {
        bail!("the password must have 6 to 128 symbols and no line breaks");
    }
    Ok(hash(&password, config.password_hash)?)
}

fn user_by_login(conn: &mut DbConn, login: &str) -> anyhow::Result<UserRow> {
    user_repo::find_by_login(conn, login)?.with_context(|| format!("no user with login '{login}'"))
}

/// Creates a user and prints its id.
pub fn add(
    config: &Config,
    login: &str,
    password: Option<String>,
    role: Role,
) -> anyhow::Result<()> {
    check_login(login).map_err(|e| anyhow::anyhow!("login '{login}': {e}"))?;
    let stored = new_password(config, password)?;
    let mut conn = connect(config)?;
    if user_repo::find_by_login(&mut conn, login)?.is_some() {
        bail!("a user with login '{login}' already exists");
    }
    let id = user_repo::insert_user(&mut conn, &NewUser::active(login, stored, role))?;
    println!("{id}");
    log::info!(target: "dh::cli", "created user '{login}' (id {id}, {role:?})");
    Ok(())
}

/// Prints every user.
pub fn list(config: &Config) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    println!(
        "{:>6}  {:<24} {:<6} {:<8} {:>6}  last login (UTC)",
        "id", "login", "role", "status", "failed"
    );
    for u in user_repo::list_users(&mut conn)? {
        let role = match Role::from_ordinal(u.role.into()) {
            Some(Role::Admin) => "admin",
            Some(Role::Client) => "client",
            None => "?",
        };
        let status = match UserStatus::from_ordinal(u.status.into()) {
            Some(UserStatus::Active) => "active",
            Some(UserStatus::LockedOut) => "locked",
            Some(UserStatus::Disabled) => "disabled",
            None => "?",
        };
        let last = u.last_login.map_or("-".to_string(), |t| {
            t.format("%Y-%m-%d %H:%M:%S").to_string()
        });
        println!(
            "{:>6}  {:<24} {:<6} {:<8} {:>6}  {last}",
            u.id, u.login, role, status, u.login_attempts
        );
    }
    Ok(())
}

/// Sets a user's password.
pub fn passwd(config: &Config, login: &str) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let user = user_by_login(&mut conn, login)?;
    let stored = new_password(config, None)?;
    user_repo::set_password(&mut conn, user.id, &stored)?;
    log::info!(target: "dh::cli", "password of '{login}' changed");
    Ok(())
}

/// Sets a user's status (and clears the failed-login counter).
pub fn set_status(config: &Config, login: &str, status: UserStatus) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let user = user_by_login(&mut conn, login)?;
    user_repo::set_status(&mut conn, user.id, status)?;
    log::info!(target: "dh::cli", "status of '{login}' set to {status:?}");
    Ok(())
}

/// Links a user to a network given by id or name.
pub fn assign_network(config: &Config, login: &str, network: &str) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let user = user_by_login(&mut conn, login)?;
    let net = user_repo::find_network(&mut conn, network)?
        .with_context(|| format!("no network with id or name '{network}'"))?;
    user_repo::assign_network(&mut conn, user.id, net.id)?;
    log::info!(target: "dh::cli", "'{login}' may now use network {} ('{}')", net.id, net.name);
    Ok(())
}

/// Creates a network and prints its id.
pub fn add_network(config: &Config, name: &str, description: Option<&str>) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    if user_repo::find_network(&mut conn, name)?.is_some_and(|n| n.name == name) {
        bail!("a network named '{name}' already exists");
    }
    let id = user_repo::insert_network(&mut conn, name, description)?;
    println!("{id}");
    Ok(())
}

//! `user add`: creates an account with a hashed password.

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};

use crate::auth::password::hash;
use crate::config::Config;
use crate::db::model::NewUser;
use crate::db::{user_repo, DbPool};
use crate::model::{check_login, check_password_policy, Role};

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

/// Creates a user and prints its id.
pub fn add(
    config: &Config,
    login: &str,
    password: Option<String>,
    role: Role,
) -> anyhow::Result<()> {
    check_login(login).map_err(|e| anyhow::anyhow!("login '{login}': {e}"))?;
    let password = match password {
        Some(p) => p,
        None => read_password()?,
    };
    if !check_password_policy(&password) {
        bail!("the password must have 6 to 128 symbols and no line breaks");
    }
    let stored = hash(&password, config.password_hash)?;
    let pool = DbPool::open(&config.database, 1, config.db_timeout)?;
    let mut conn = pool.get()?;
    if user_repo::find_by_login(&mut conn, login)?.is_some() {
        bail!("a user with login '{login}' already exists");
    }
    let id = user_repo::insert_user(&mut conn, &NewUser::active(login, stored, role))?;
    println!("{id}");
    log::info!(target: "dh::cli", "created user '{login}' (id {id}, {role:?})");
    Ok(())
}

//! Operator commands on accounts: each runs the MQTT action of the same name through
//! [`Direct`] (`user add` is `user/insert`, `user list` is `user/list`, …), so the results
//! and refusals are the ones a client gets. Users are named by login here and by id on the
//! wire. Passwords come from a prompt or standard input, never from the logs.

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};
use serde_json::{json, Map, Value};

use super::direct::Direct;
use crate::config::Config;
use crate::db::user_repo;
use crate::error::ServiceError;
use crate::model::{Role, UserStatus};
use crate::protocol::Action;

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

/// The id of the user `login` (`user/list` with an exact login).
fn id_of(direct: &Direct, login: &str) -> anyhow::Result<i64> {
    let found = direct.call(Action::ListUsers, json!({"login": login, "take": 1}))?;
    found
        .get("users")
        .and_then(|users| users.get(0))
        .and_then(|user| user.get("id"))
        .and_then(Value::as_i64)
        .with_context(|| format!("no user with login '{login}'"))
}

/// Creates a user and prints its id.
pub fn add(
    config: &Config,
    login: &str,
    password: Option<String>,
    role: Role,
) -> anyhow::Result<()> {
    let password = match password {
        Some(p) => p,
        None => read_password()?,
    };
    let direct = Direct::open(config)?;
    let user = json!({"login": login, "role": role.ordinal(), "password": password});
    let created = direct.call(Action::InsertUser, json!({ "user": user }))?;
    let id = created
        .get("user")
        .and_then(|u| u.get("id"))
        .and_then(Value::as_i64)
        .context("user/insert answered no id")?;
    println!("{id}");
    log::info!(target: "dh::cli", "created user '{login}' (id {id}, {role:?})");
    Ok(())
}

/// The filters and page of `user list`.
#[derive(Debug, Default)]
pub struct ListArgs {
    /// `loginPattern`
    pub login_pattern: Option<String>,
    /// `role`
    pub role: Option<Role>,
    /// `status`
    pub status: Option<UserStatus>,
    /// `take`
    pub take: Option<i64>,
    /// `skip`
    pub skip: Option<i64>,
}

/// Prints one page of users: id, login, role, status, last login.
pub fn list(config: &Config, args: &ListArgs) -> anyhow::Result<()> {
    let direct = Direct::open(config)?;
    let mut request = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            request.insert(key.to_string(), value);
        }
    };
    put("loginPattern", args.login_pattern.clone().map(Value::from));
    put("role", args.role.map(|r| r.ordinal().into()));
    put("status", args.status.map(|s| s.ordinal().into()));
    put("take", args.take.map(Value::from));
    put("skip", args.skip.map(Value::from));
    let page = direct.call(Action::ListUsers, Value::Object(request))?;
    println!(
        "{:>6}  {:<24} {:<6} {:<8}  last login (UTC)",
        "id", "login", "role", "status"
    );
    let users = page.get("users").and_then(Value::as_array);
    for u in users.into_iter().flatten() {
        let number = |key: &str| u.get(key).and_then(Value::as_i64);
        let role = match number("role").and_then(Role::from_ordinal) {
            Some(Role::Admin) => "admin",
            Some(Role::Client) => "client",
            None => "?",
        };
        let status = match number("status").and_then(UserStatus::from_ordinal) {
            Some(UserStatus::Active) => "active",
            Some(UserStatus::LockedOut) => "locked",
            Some(UserStatus::Disabled) => "disabled",
            None => "?",
        };
        let last = u.get("lastLogin").and_then(Value::as_str).unwrap_or("-");
        println!(
            "{:>6}  {:<24} {:<6} {:<8}  {last}",
            number("id").unwrap_or_default(),
            u.get("login").and_then(Value::as_str).unwrap_or_default(),
            role,
            status
        );
    }
    Ok(())
}

/// Prints a user with its networks as `user/get` answers it.
pub fn get(config: &Config, login: &str) -> anyhow::Result<()> {
    let direct = Direct::open(config)?;
    let id = id_of(&direct, login)?;
    let found = direct.call(Action::GetUser, json!({ "userId": id }))?;
    println!("{}", found.get("user").cloned().unwrap_or_default());
    Ok(())
}

/// Sets a user's password.
pub fn passwd(config: &Config, login: &str) -> anyhow::Result<()> {
    let direct = Direct::open(config)?;
    let id = id_of(&direct, login)?;
    let password = read_password()?;
    // The action ignores an empty password (as DeviceHive); a command asked to set one fails.
    if password.is_empty() {
        let refusal = ServiceError::PasswordPolicy;
        bail!("{} {refusal}", refusal.code());
    }
    let user = json!({ "password": password });
    direct.call(Action::UpdateUser, json!({"userId": id, "user": user}))?;
    log::info!(target: "dh::cli", "password of '{login}' changed");
    Ok(())
}

/// Sets a user's status; ACTIVE also clears the failed-login counter.
pub fn set_status(config: &Config, login: &str, status: UserStatus) -> anyhow::Result<()> {
    let direct = Direct::open(config)?;
    let id = id_of(&direct, login)?;
    let user = json!({ "status": status.ordinal() });
    direct.call(Action::UpdateUser, json!({"userId": id, "user": user}))?;
    log::info!(target: "dh::cli", "status of '{login}' set to {status:?}");
    Ok(())
}

/// Deletes a user and its network and device-type links.
pub fn delete(config: &Config, login: &str) -> anyhow::Result<()> {
    let direct = Direct::open(config)?;
    let id = id_of(&direct, login)?;
    direct.call(Action::DeleteUser, json!({ "userId": id }))?;
    log::info!(target: "dh::cli", "deleted user '{login}' (id {id})");
    Ok(())
}

/// What a link command changes.
#[derive(Debug, Clone, Copy)]
pub enum LinkAction {
    /// `user/assignNetwork`
    AssignNetwork,
    /// `user/unassignNetwork`
    UnassignNetwork,
    /// `user/assignDeviceType`
    AssignDeviceType,
    /// `user/unassignDeviceType`
    UnassignDeviceType,
}

/// Links or unlinks a user and a network or device type given by id or name.
pub fn link(config: &Config, what: LinkAction, login: &str, other: &str) -> anyhow::Result<()> {
    let direct = Direct::open(config)?;
    let id = id_of(&direct, login)?;
    let action = match what {
        LinkAction::AssignNetwork => Action::AssignNetwork,
        LinkAction::UnassignNetwork => Action::UnassignNetwork,
        LinkAction::AssignDeviceType => Action::AssignDeviceType,
        LinkAction::UnassignDeviceType => Action::UnassignDeviceType,
    };
    let network = matches!(action, Action::AssignNetwork | Action::UnassignNetwork);
    let (key, other_id) = match network {
        true => (
            "networkId",
            direct
                .query(|c| user_repo::find_network(c, other))?
                .map(|n| n.id),
        ),
        false => (
            "deviceTypeId",
            direct
                .query(|c| user_repo::find_device_type(c, other))?
                .map(|t| t.id),
        ),
    };
    let kind = if network { "network" } else { "device type" };
    let other_id = other_id.with_context(|| format!("no {kind} with id or name '{other}'"))?;
    direct.call(action, json!({"userId": id, key: other_id}))?;
    log::info!(target: "dh::cli", "{} '{login}' {key} {other_id}", action.name());
    Ok(())
}

/// `user/allowAllDeviceTypes` (`allow`) or `user/disallowAllDeviceTypes`.
pub fn all_device_types(config: &Config, login: &str, allow: bool) -> anyhow::Result<()> {
    let direct = Direct::open(config)?;
    let id = id_of(&direct, login)?;
    let action = match allow {
        true => Action::AllowAllDeviceTypes,
        false => Action::DisallowAllDeviceTypes,
    };
    direct.call(action, json!({ "userId": id }))?;
    log::info!(target: "dh::cli", "{} '{login}'", action.name());
    Ok(())
}

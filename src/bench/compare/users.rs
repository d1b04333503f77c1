//! The users of C3: updateCurrent spread over many distinct users, as many devices would
//! write, instead of every connection rewriting one row.

use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use serde_json::Value;

use super::CompareConfig;

/// Their logins: `{PREFIX}1` … `{PREFIX}n`.
pub const PREFIX: &str = "dhbench-user-";

/// A token for each of `count` users, adding the users (as `dh-bench seed-users` does) to
/// the service's database (`DATABASE_URL`) if the first is missing.
pub fn tokens(cfg: &CompareConfig, count: usize) -> anyhow::Result<Vec<String>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if token(cfg, 1).is_err() {
        let url = std::env::var("DATABASE_URL")
            .context("DATABASE_URL (the service's database) is needed to add the C3 users")?;
        crate::bench::seed::seed_users(&url, PREFIX, count as u64)?;
    }
    (1..=count).map(|n| token(cfg, n)).collect()
}

/// `dh-mqtt-plugin token --login {PREFIX}{n}`'s access token.
fn token(cfg: &CompareConfig, n: usize) -> anyhow::Result<String> {
    let login = format!("{PREFIX}{n}");
    let out = Command::new(&cfg.service_bin)
        .args(["token", "--login", &login])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", cfg.service_bin.display()))?;
    if !out.status.success() {
        bail!(
            "no token for {login}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let json: Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("the token command printed no JSON for {login}"))?;
    json.get("accessToken")
        .and_then(Value::as_str)
        .map(str::to_string)
        .with_context(|| format!("no accessToken for {login}: {json}"))
}

//! Configuration, resolved once at start-up and passed explicitly. Precedence: command-line
//! flag > environment variable > TOML file (`--config`) > the defaults below.
//!
//! | setting | flag | environment | default |
//! |---|---|---|---|
//! | database URL | `--database-url` | `DATABASE_URL` | `sqlite://dh-mqtt-plugin.sqlite` |
//! | JWT secret | (file `jwt_secret`) | `JWT_SECRET` | none: required by `serve` and `token` |
//! | secret encoding | `--jwt-secret-encoding` | `DH_JWT_SECRET_ENCODING` | `raw` |
//! | allow keys < 32 bytes | `--allow-weak-secret` | `DH_ALLOW_WEAK_SECRET` | false |
//! | new password hashes | `--password-hash` | `DH_PASSWORD_HASH` | `argon2id` |
//! | broker URL | `--broker-url` | `DH_BROKER_URL` | `tcp://127.0.0.1:1883` |
//! | broker user | `--broker-username` | `DH_BROKER_USERNAME` | none |
//! | broker password | (file `broker_password`) | `DH_BROKER_PASSWORD` | none |
//! | MQTT client id | `--client-id` | `DH_CLIENT_ID` | `dh-mqtt-plugin` |
//! | share group | `--share-group` | `DH_SHARE_GROUP` | none (`dh-mqtt-plugin` with 2+ connections) |
//! | broker connections | `--broker-connections` | `DH_BROKER_CONNECTIONS` | 1 |
//! | in-flight bound | `--max-in-flight` | `DH_MAX_IN_FLIGHT` | 1024 |
//! | request size limit | `--max-payload-bytes` | `DH_MAX_PAYLOAD_BYTES` | 65536 |
//! | pool size | `--db-pool-size` | `DH_DB_POOL_SIZE` | 8 (PostgreSQL), 4 (SQLite) |
//! | pool wait | `--db-timeout-ms` | `DH_DB_TIMEOUT_MS` | 1500 |
//! | broker session expiry | `--session-expiry-secs` | `DH_SESSION_EXPIRY_SECS` | 604800 |
//! | drain time on SIGTERM | `--drain-timeout-secs` | `DH_DRAIN_TIMEOUT_SECS` | 10 |
//! | access token lifetime | `--access-token-lifetime-secs` | `DH_ACCESS_TOKEN_LIFETIME_SECS` | 1800 |
//! | refresh token lifetime | `--refresh-token-lifetime-secs` | `DH_REFRESH_TOKEN_LIFETIME_SECS` | 15724800 |
//! | wrong passwords before lockout | `--max-login-attempts` | `DH_MAX_LOGIN_ATTEMPTS` | 10 |
//!
//! Secrets are read from the environment or the file only, never from flags (which `ps` shows).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use crate::auth::jwt::JwtKeys;
use crate::auth::key::{derive, SecretEncoding, MIN_KEY_BYTES};
use crate::auth::password::HashScheme;
use crate::db::DbUrl;
use crate::secret::Secret;

/// Default SQLite file, in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://dh-mqtt-plugin.sqlite";
/// Default broker.
pub const DEFAULT_BROKER_URL: &str = "tcp://127.0.0.1:1883";
/// Default MQTT client id; fixed so the broker keeps the session across restarts.
pub const DEFAULT_CLIENT_ID: &str = "dh-mqtt-plugin";
/// Most broker connections one service may hold.
pub const MAX_BROKER_CONNECTIONS: u16 = 8;
/// Default bound on requests being handled at once; past it requests get 503 `Server is busy`.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;
/// Logins and password changes waiting for the hasher before more get 503.
pub const DEFAULT_PASSWORD_QUEUE: usize = 64;
/// Share of a hasher thread's time spent hashing while other requests are in flight.
pub const DEFAULT_PASSWORD_CPU_PERCENT: u32 = 50;
/// Default request size limit (docs/PROTOCOL.md).
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Default wait for a pooled connection: a database outage is answered with 503 within 2 s.
pub const DEFAULT_DB_TIMEOUT_MS: u64 = 1_500;
/// Default broker session expiry: queued requests survive a week-long service outage.
pub const DEFAULT_SESSION_EXPIRY_SECS: u32 = 7 * 24 * 3600;
/// Default number of wrong passwords that lock a user (DeviceHive's `user.login.maxAttempts`).
pub const DEFAULT_MAX_LOGIN_ATTEMPTS: i32 = 10;
/// Default time SIGTERM waits for in-flight requests.
pub const DEFAULT_DRAIN_TIMEOUT_SECS: u64 = 10;

/// Settings given as flags or environment variables; all optional so the file and defaults
/// can fill what is missing.
#[derive(Debug, Default, Args)]
pub struct SettingsArgs {
    /// Database URL: postgres://… or sqlite://PATH.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// How JWT_SECRET becomes the HMAC key: raw bytes, or DeviceHive's Base64 decoding.
    #[arg(long, env = "DH_JWT_SECRET_ENCODING", global = true, value_parser = ["raw", "devicehive"])]
    pub jwt_secret_encoding: Option<String>,
    /// Accept an HMAC key shorter than 32 bytes (needed for DeviceHive's default secret).
    #[arg(long, env = "DH_ALLOW_WEAK_SECRET", global = true)]
    pub allow_weak_secret: bool,
    /// Hash for new passwords: argon2id, or devicehive for a database shared with DeviceHive.
    #[arg(long, env = "DH_PASSWORD_HASH", global = true, value_parser = ["argon2id", "devicehive"])]
    pub password_hash: Option<String>,
    /// Broker URL, e.g. tcp://127.0.0.1:1883 or ssl://host:8883.
    #[arg(long, env = "DH_BROKER_URL", global = true)]
    pub broker_url: Option<String>,
    /// Broker user name of the service.
    #[arg(long, env = "DH_BROKER_USERNAME", global = true)]
    pub broker_username: Option<String>,
    /// MQTT client id of the service (fixed, so the broker keeps its session).
    #[arg(long, env = "DH_CLIENT_ID", global = true)]
    pub client_id: Option<String>,
    /// Subscribe through this shared-subscription group to run several instances.
    #[arg(long, env = "DH_SHARE_GROUP", global = true)]
    pub share_group: Option<String>,
    /// Broker connections sharing the request subscriptions; connection k (from 2) logs in as
    /// USERNAME-k with client id CLIENT_ID-k.
    #[arg(long, env = "DH_BROKER_CONNECTIONS", global = true)]
    pub broker_connections: Option<u16>,
    /// Requests handled at once before new ones get 503 "Server is busy".
    #[arg(long, env = "DH_MAX_IN_FLIGHT", global = true)]
    pub max_in_flight: Option<usize>,
    /// Logins and password changes waiting for the hasher before more get 503.
    #[arg(long, env = "DH_PASSWORD_QUEUE", global = true)]
    pub password_queue: Option<usize>,
    /// Percent of the hasher's time spent hashing while other requests wait (1-100).
    #[arg(long, env = "DH_PASSWORD_CPU_PERCENT", global = true)]
    pub password_cpu_percent: Option<u32>,
    /// Largest request payload in bytes.
    #[arg(long, env = "DH_MAX_PAYLOAD_BYTES", global = true)]
    pub max_payload_bytes: Option<usize>,
    /// Database connections (and repository threads).
    #[arg(long, env = "DH_DB_POOL_SIZE", global = true)]
    pub db_pool_size: Option<u32>,
    /// Longest wait for a database connection before answering 503.
    #[arg(long, env = "DH_DB_TIMEOUT_MS", global = true)]
    pub db_timeout_ms: Option<u64>,
    /// How long the broker keeps the service's session (and queued requests) while it is away.
    #[arg(long, env = "DH_SESSION_EXPIRY_SECS", global = true)]
    pub session_expiry_secs: Option<u32>,
    /// How long SIGTERM waits for in-flight requests to be answered.
    #[arg(long, env = "DH_DRAIN_TIMEOUT_SECS", global = true)]
    pub drain_timeout_secs: Option<u64>,
    /// Lifetime of minted access tokens.
    #[arg(long, env = "DH_ACCESS_TOKEN_LIFETIME_SECS", global = true)]
    pub access_token_lifetime_secs: Option<u64>,
    /// Lifetime of minted refresh tokens.
    #[arg(long, env = "DH_REFRESH_TOKEN_LIFETIME_SECS", global = true)]
    pub refresh_token_lifetime_secs: Option<u64>,
    /// Wrong passwords in a row that lock a user out.
    #[arg(long, env = "DH_MAX_LOGIN_ATTEMPTS", global = true)]
    pub max_login_attempts: Option<i32>,
}

/// The TOML file: the same settings in snake_case, plus the secrets.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    database_url: Option<String>,
    jwt_secret: Option<String>,
    jwt_secret_encoding: Option<String>,
    allow_weak_secret: Option<bool>,
    password_hash: Option<String>,
    broker_url: Option<String>,
    broker_username: Option<String>,
    broker_password: Option<String>,
    client_id: Option<String>,
    share_group: Option<String>,
    broker_connections: Option<u16>,
    max_in_flight: Option<usize>,
    password_queue: Option<usize>,
    password_cpu_percent: Option<u32>,
    max_payload_bytes: Option<usize>,
    db_pool_size: Option<u32>,
    db_timeout_ms: Option<u64>,
    session_expiry_secs: Option<u32>,
    drain_timeout_secs: Option<u64>,
    access_token_lifetime_secs: Option<u64>,
    refresh_token_lifetime_secs: Option<u64>,
    max_login_attempts: Option<i32>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database to use.
    pub database: DbUrl,
    /// JWT secret text, if given.
    pub jwt_secret: Option<Secret>,
    /// How the secret becomes a key.
    pub jwt_secret_encoding: SecretEncoding,
    /// Whether short keys are accepted.
    pub allow_weak_secret: bool,
    /// Scheme for new password hashes.
    pub password_hash: HashScheme,
    /// Broker URL.
    pub broker_url: String,
    /// Broker user name.
    pub broker_username: Option<String>,
    /// Broker password.
    pub broker_password: Option<Secret>,
    /// MQTT client id.
    pub client_id: String,
    /// Shared-subscription group.
    pub share_group: Option<String>,
    /// Broker connections (sessions) sharing the request subscriptions.
    pub broker_connections: u16,
    /// In-flight bound.
    pub max_in_flight: usize,
    /// Password operations admitted at once.
    pub password_queue: usize,
    /// Hashing share of the hasher's time under other load.
    pub password_cpu_percent: u32,
    /// Request size limit.
    pub max_payload_bytes: usize,
    /// Pool size.
    pub db_pool_size: u32,
    /// Pool wait.
    pub db_timeout: Duration,
    /// Broker session expiry.
    pub session_expiry_secs: u32,
    /// SIGTERM drain time.
    pub drain_timeout: Duration,
    /// Access token lifetime in ms.
    pub access_lifetime_ms: i64,
    /// Refresh token lifetime in ms.
    pub refresh_lifetime_ms: i64,
    /// Wrong passwords that lock a user.
    pub max_login_attempts: i32,
}

/// A setting is missing or wrong; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
}

fn secs_to_ms(secs: u64, name: &str) -> Result<i64, ConfigError> {
    i64::try_from(secs)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .ok_or_else(|| ConfigError(format!("{name} is too large")))
}

impl Config {
    /// Resolves flags and environment (`args`), the optional file, and the defaults.
    pub fn resolve(args: &SettingsArgs, file: Option<&PathBuf>) -> Result<Config, ConfigError> {
        let f = match file {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let env_secret = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let url = args
            .database_url
            .clone()
            .or(f.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        let database = DbUrl::parse(&url).map_err(ConfigError)?;
        let encoding = args
            .jwt_secret_encoding
            .clone()
            .or(f.jwt_secret_encoding)
            .map(|s| s.parse().map_err(ConfigError))
            .transpose()?
            .unwrap_or_default();
        let password_hash = args
            .password_hash
            .clone()
            .or(f.password_hash)
            .map(|s| s.parse().map_err(ConfigError))
            .transpose()?
            .unwrap_or_default();
        let default_pool = match database {
            DbUrl::Postgres(_) => 8,
            DbUrl::Sqlite(_) => 4,
        };
        let config = Config {
            jwt_secret: env_secret("JWT_SECRET").or(f.jwt_secret).map(Secret::new),
            jwt_secret_encoding: encoding,
            allow_weak_secret: args.allow_weak_secret || f.allow_weak_secret.unwrap_or(false),
            password_hash,
            broker_url: args
                .broker_url
                .clone()
                .or(f.broker_url)
                .unwrap_or_else(|| DEFAULT_BROKER_URL.to_string()),
            broker_username: args.broker_username.clone().or(f.broker_username),
            broker_password: env_secret("DH_BROKER_PASSWORD")
                .or(f.broker_password)
                .map(Secret::new),
            client_id: args
                .client_id
                .clone()
                .or(f.client_id)
                .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_string()),
            share_group: args.share_group.clone().or(f.share_group),
            broker_connections: args
                .broker_connections
                .or(f.broker_connections)
                .unwrap_or(1),
            max_in_flight: args
                .max_in_flight
                .or(f.max_in_flight)
                .unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            password_queue: args
                .password_queue
                .or(f.password_queue)
                .unwrap_or(DEFAULT_PASSWORD_QUEUE),
            password_cpu_percent: args
                .password_cpu_percent
                .or(f.password_cpu_percent)
                .unwrap_or(DEFAULT_PASSWORD_CPU_PERCENT),
            max_payload_bytes: args
                .max_payload_bytes
                .or(f.max_payload_bytes)
                .unwrap_or(DEFAULT_MAX_PAYLOAD_BYTES),
            db_pool_size: args.db_pool_size.or(f.db_pool_size).unwrap_or(default_pool),
            db_timeout: Duration::from_millis(
                args.db_timeout_ms
                    .or(f.db_timeout_ms)
                    .unwrap_or(DEFAULT_DB_TIMEOUT_MS),
            ),
            session_expiry_secs: args
                .session_expiry_secs
                .or(f.session_expiry_secs)
                .unwrap_or(DEFAULT_SESSION_EXPIRY_SECS),
            drain_timeout: Duration::from_secs(
                args.drain_timeout_secs
                    .or(f.drain_timeout_secs)
                    .unwrap_or(DEFAULT_DRAIN_TIMEOUT_SECS),
            ),
            access_lifetime_ms: secs_to_ms(
                args.access_token_lifetime_secs
                    .or(f.access_token_lifetime_secs)
                    .unwrap_or(1_800),
                "access token lifetime",
            )?,
            database,
            refresh_lifetime_ms: secs_to_ms(
                args.refresh_token_lifetime_secs
                    .or(f.refresh_token_lifetime_secs)
                    .unwrap_or(15_724_800),
                "refresh token lifetime",
            )?,
            max_login_attempts: args
                .max_login_attempts
                .or(f.max_login_attempts)
                .unwrap_or(DEFAULT_MAX_LOGIN_ATTEMPTS),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.max_in_flight == 0 {
            return Err(ConfigError("max_in_flight must be at least 1".into()));
        }
        if self.password_queue == 0 {
            return Err(ConfigError("password_queue must be at least 1".into()));
        }
        if !(1..=100).contains(&self.password_cpu_percent) {
            return Err(ConfigError(
                "password_cpu_percent must be between 1 and 100".into(),
            ));
        }
        if self.max_login_attempts < 1 {
            return Err(ConfigError("max_login_attempts must be at least 1".into()));
        }
        if self.db_pool_size == 0 {
            return Err(ConfigError("db_pool_size must be at least 1".into()));
        }
        if !(1..=MAX_BROKER_CONNECTIONS).contains(&self.broker_connections) {
            return Err(ConfigError(format!(
                "broker_connections must be between 1 and {MAX_BROKER_CONNECTIONS}"
            )));
        }
        if let Some(group) = &self.share_group {
            if group.is_empty() || group.contains(['/', '+', '#']) {
                return Err(ConfigError(format!(
                    "DH_SHARE_GROUP '{group}' must be non-empty without '/', '+' or '#'"
                )));
            }
        }
        Ok(())
    }

    /// The JWT keys; fails when `JWT_SECRET` is missing, or too short without
    /// `--allow-weak-secret`.
    pub fn jwt_keys(&self) -> Result<JwtKeys, ConfigError> {
        let secret = self.jwt_secret.as_ref().ok_or_else(|| {
            ConfigError("JWT_SECRET is required (environment or `jwt_secret` in the file)".into())
        })?;
        let key = derive(secret.expose(), self.jwt_secret_encoding);
        if key.is_empty() {
            return Err(ConfigError("JWT_SECRET gives an empty key".into()));
        }
        if key.len() < MIN_KEY_BYTES && !self.allow_weak_secret {
            return Err(ConfigError(format!(
                "JWT_SECRET gives a {}-byte key; at least {MIN_KEY_BYTES} bytes are required \
                 (use --allow-weak-secret to accept it anyway)",
                key.len()
            )));
        }
        Ok(JwtKeys::new(&key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(args: SettingsArgs) -> Result<Config, ConfigError> {
        Config::resolve(&args, None)
    }

    #[test]
    fn password_budget_settings_are_checked() {
        let percent = |p| SettingsArgs {
            password_cpu_percent: Some(p),
            ..SettingsArgs::default()
        };
        for bad in [0, 101] {
            let err = resolve(percent(bad)).err().map(|e| e.to_string());
            assert_eq!(
                err.as_deref(),
                Some("configuration: password_cpu_percent must be between 1 and 100")
            );
        }
        assert!(resolve(percent(100)).is_ok());
        let queue = SettingsArgs {
            password_queue: Some(0),
            ..SettingsArgs::default()
        };
        assert!(resolve(queue).is_err());
        let defaults = resolve(SettingsArgs::default()).ok();
        assert_eq!(
            defaults.map(|c| (c.password_queue, c.password_cpu_percent)),
            Some((DEFAULT_PASSWORD_QUEUE, DEFAULT_PASSWORD_CPU_PERCENT))
        );
    }
}

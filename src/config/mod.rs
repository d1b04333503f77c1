//! Configuration, resolved once at start-up and passed explicitly. Precedence: command-line
//! flag > environment variable > TOML file (`--config`, the same names in snake_case) > the
//! defaults. Every setting is declared once, in the `settings!` list of `settings.rs`: that one entry
//! gives its flag, its environment variable, its TOML key, its default and its help text, and
//! the configuration table of the README is generated from the same list
//! ([`docs_table`]; a test fails when the two disagree). Secrets are read from the
//! environment or the file only, never from flags (which `ps` shows).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::auth::broker_login::BrokerKey;
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
/// Default access token lifetime (DeviceHive's `jwt.access-token.max-age`).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME_SECS: u64 = 1_800;
/// Default refresh token lifetime (DeviceHive's `jwt.refresh-token.max-age`).
pub const DEFAULT_REFRESH_TOKEN_LIFETIME_SECS: u64 = 15_724_800;
/// Default number of wrong passwords that lock a user (DeviceHive's `user.login.maxAttempts`).
pub const DEFAULT_MAX_LOGIN_ATTEMPTS: i32 = 10;
/// Default time SIGTERM waits for in-flight requests.
pub const DEFAULT_DRAIN_TIMEOUT_SECS: u64 = 10;

pub use settings::{docs_table, documented, SettingDoc, SettingsArgs};

mod settings;

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
    /// This instance's name among several on one broker.
    pub instance: Option<String>,
    /// Where `/metrics` and `/healthz` are served.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Broker connections (sessions) sharing the request subscriptions.
    pub broker_connections: u16,
    /// Whether the broker plugin's device logins are kept up to date.
    pub broker_plugin: bool,
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

fn read_file(path: &Path) -> Result<SettingsArgs, ConfigError> {
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

/// A setting that has a declared default, so it is always set after the merge.
fn set<T>(value: Option<T>, key: &str) -> Result<T, ConfigError> {
    value.ok_or_else(|| ConfigError(format!("{key} has no value and no default")))
}

impl Config {
    /// Resolves flags and environment (`args`), the optional file, and the defaults.
    pub fn resolve(args: &SettingsArgs, file: Option<&PathBuf>) -> Result<Config, ConfigError> {
        let from_file = match file {
            Some(path) => read_file(path)?,
            None => SettingsArgs::default(),
        };
        let s = args
            .clone()
            .or(SettingsArgs::secrets_from_env())
            .or(from_file)
            .or(SettingsArgs::defaults());
        let database = DbUrl::parse(&set(s.database_url, "database_url")?).map_err(ConfigError)?;
        let default_pool = match database {
            DbUrl::Postgres(_) => 8,
            DbUrl::Sqlite(_) => 4,
        };
        let parse = |text: String| text.parse().map_err(ConfigError);
        let config = Config {
            jwt_secret: s.jwt_secret,
            jwt_secret_encoding: parse(set(s.jwt_secret_encoding, "jwt_secret_encoding")?)?,
            allow_weak_secret: set(s.allow_weak_secret, "allow_weak_secret")?,
            password_hash: set(s.password_hash, "password_hash")?
                .parse()
                .map_err(ConfigError)?,
            broker_url: set(s.broker_url, "broker_url")?,
            broker_username: s.broker_username,
            broker_password: s.broker_password,
            client_id: set(s.client_id, "client_id")?,
            share_group: s.share_group,
            instance: s.instance,
            metrics_listen: s
                .metrics_listen
                .map(|a| {
                    a.parse().map_err(|e| {
                        ConfigError(format!("DH_METRICS_LISTEN '{a}' is not HOST:PORT: {e}"))
                    })
                })
                .transpose()?,
            broker_connections: set(s.broker_connections, "broker_connections")?,
            broker_plugin: set(s.broker_plugin, "broker_plugin")?,
            max_in_flight: set(s.max_in_flight, "max_in_flight")?,
            password_queue: set(s.password_queue, "password_queue")?,
            password_cpu_percent: set(s.password_cpu_percent, "password_cpu_percent")?,
            max_payload_bytes: set(s.max_payload_bytes, "max_payload_bytes")?,
            db_pool_size: s.db_pool_size.unwrap_or(default_pool),
            db_timeout: Duration::from_millis(set(s.db_timeout_ms, "db_timeout_ms")?),
            session_expiry_secs: set(s.session_expiry_secs, "session_expiry_secs")?,
            drain_timeout: Duration::from_secs(set(s.drain_timeout_secs, "drain_timeout_secs")?),
            access_lifetime_ms: secs_to_ms(
                set(s.access_token_lifetime_secs, "access_token_lifetime_secs")?,
                "access token lifetime",
            )?,
            refresh_lifetime_ms: secs_to_ms(
                set(s.refresh_token_lifetime_secs, "refresh_token_lifetime_secs")?,
                "refresh token lifetime",
            )?,
            max_login_attempts: set(s.max_login_attempts, "max_login_attempts")?,
            database,
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
        if let Some(name) = &self.instance {
            let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if name.is_empty() || name.len() > 32 || !valid {
                return Err(ConfigError(format!(
                    "DH_INSTANCE '{name}' must be 1 to 32 ASCII letters, digits or '_'"
                )));
            }
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

    /// The key of device logins at the broker (src/auth/broker_login.rs): `None` with
    /// `DH_BROKER_PLUGIN=off` or without a JWT secret (then `jwt_keys` refuses to start).
    pub fn broker_key(&self) -> Option<BrokerKey> {
        let secret = self.jwt_secret.as_ref().filter(|_| self.broker_plugin)?;
        Some(BrokerKey::from_secret(
            secret.expose(),
            self.jwt_secret_encoding,
        ))
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
    fn the_readme_table_is_the_declaration() {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("<!-- settings table: generated by config::docs_table -->\n")
            .nth(1)
            .and_then(|rest| rest.split("<!-- end of settings table -->").next())
            .unwrap_or_default();
        assert_eq!(
            table,
            docs_table(),
            "paste this table into the README:\n{}",
            docs_table()
        );
    }

    #[test]
    fn the_file_takes_the_same_keys_and_flags_win() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("dh-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("c.toml");
        std::fs::write(
            &file,
            "max_in_flight = 7\nshare_group = \"g\"\nallow_weak_secret = true\n",
        )?;
        let args = SettingsArgs {
            share_group: Some("flag".into()),
            ..SettingsArgs::default()
        };
        let config = Config::resolve(&args, Some(&file))?;
        assert_eq!(
            (
                config.max_in_flight,
                config.share_group.as_deref(),
                config.allow_weak_secret
            ),
            (7, Some("flag"), true)
        );
        std::fs::write(&file, "max_in_fligt = 7\n")?;
        assert!(
            Config::resolve(&SettingsArgs::default(), Some(&file)).is_err(),
            "a misspelt key is refused"
        );
        Ok(())
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

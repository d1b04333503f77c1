//! The declaration of every setting (see the module above): one `settings!` entry each.

use clap::Args;
use serde::Deserialize;

use super::{
    DEFAULT_ACCESS_TOKEN_LIFETIME_SECS, DEFAULT_BROKER_URL, DEFAULT_CLIENT_ID,
    DEFAULT_DATABASE_URL, DEFAULT_DB_TIMEOUT_MS, DEFAULT_DRAIN_TIMEOUT_SECS, DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MAX_LOGIN_ATTEMPTS, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_PASSWORD_CPU_PERCENT,
    DEFAULT_PASSWORD_QUEUE, DEFAULT_REFRESH_TOKEN_LIFETIME_SECS, DEFAULT_SESSION_EXPIRY_SECS,
};
use crate::secret::Secret;

/// One row of the configuration table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingDoc {
    /// TOML key (and, kebab-cased, the flag).
    pub key: &'static str,
    /// Whether it is a secret (no flag).
    pub secret: bool,
    /// Environment variable.
    pub env: &'static str,
    /// The default as the table shows it.
    pub default: String,
    /// The help text.
    pub help: String,
}

/// Declares the settings: for each its doc comment (the help text), its type, its
/// environment variable, its default (`None`: no default, or one that depends on another
/// setting, told by the note) and a note for the table. Secrets have no flag.
macro_rules! settings {
    (
        settings { $( $(#[doc = $doc:literal])* $(#[arg($($arg:tt)*)])? $name:ident : $ty:ty,
                      env $env:literal, default $default:expr, note $note:literal; )* }
        secrets { $( $(#[doc = $sdoc:literal])* $sname:ident, env $senv:literal, note $snote:literal; )* }
    ) => {
        /// Every setting, as flags and environment variables (clap) or as the TOML file's keys
        /// (serde); all optional, so that the next source fills what one leaves out.
        #[derive(Debug, Default, Clone, Args, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct SettingsArgs {
            $( $(#[doc = $doc])* #[arg(long, env = $env, global = true $(, $($arg)*)?)] pub $name: Option<$ty>, )*
            $( $(#[doc = $sdoc])* #[arg(skip)] pub $sname: Option<Secret>, )*
        }

        impl SettingsArgs {
            /// Each setting from `self`, else from `other`.
            pub fn or(self, other: SettingsArgs) -> SettingsArgs {
                SettingsArgs {
                    $( $name: self.$name.or(other.$name), )*
                    $( $sname: self.$sname.or(other.$sname), )*
                }
            }

            /// The declared defaults.
            pub(super) fn defaults() -> SettingsArgs {
                SettingsArgs { $( $name: $default, )* $( $sname: None, )* }
            }

            /// The secrets set in the environment (empty values count as unset).
            pub(super) fn secrets_from_env() -> SettingsArgs {
                SettingsArgs {
                    $( $sname: std::env::var($senv).ok().filter(|v| !v.is_empty()).map(Secret::new), )*
                    ..SettingsArgs::default()
                }
            }
        }

        /// The rows of the configuration table, in declaration order.
        pub fn documented() -> Vec<SettingDoc> {
            let shown = |value: Option<String>, note: &str| match (value, note) {
                (Some(v), "") => format!("`{v}`"),
                (Some(v), note) => format!("`{v}`; {note}"),
                (None, note) => note.to_string(),
            };
            let help = |lines: &[&str]| lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
            vec![
                $( SettingDoc {
                    key: stringify!($name),
                    secret: false,
                    env: $env,
                    default: shown({ let d: Option<$ty> = $default; d.map(|v| v.to_string()) }, $note),
                    help: help(&[$($doc),*]),
                }, )*
                $( SettingDoc {
                    key: stringify!($sname),
                    secret: true,
                    env: $senv,
                    default: $snote.to_string(),
                    help: help(&[$($sdoc),*]),
                }, )*
            ]
        }
    };
}

settings! {
    settings {
        /// Database URL: postgres://… or sqlite://PATH.
        #[arg(hide_env_values = true)]
        database_url: String, env "DATABASE_URL", default Some(DEFAULT_DATABASE_URL.to_string()),
            note "relative to the working directory; `postgres://…` for PostgreSQL";
        /// How JWT_SECRET becomes the HMAC key: raw bytes, or DeviceHive's Base64 decoding.
        #[arg(value_parser = ["raw", "devicehive"])]
        jwt_secret_encoding: String, env "DH_JWT_SECRET_ENCODING", default Some("raw".to_string()),
            note "`devicehive`: tokens interchangeable with a DeviceHive server";
        /// Accept an HMAC key shorter than 32 bytes (needed for DeviceHive's default secret).
        #[arg(num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
        allow_weak_secret: bool, env "DH_ALLOW_WEAK_SECRET", default Some(false), note "";
        /// Hash for new passwords: argon2id, or devicehive for a database shared with DeviceHive.
        #[arg(value_parser = ["argon2id", "devicehive"])]
        password_hash: String, env "DH_PASSWORD_HASH", default Some("argon2id".to_string()), note "";
        /// Broker URL, e.g. tcp://127.0.0.1:1883 or ssl://host:8883.
        broker_url: String, env "DH_BROKER_URL", default Some(DEFAULT_BROKER_URL.to_string()), note "";
        /// Broker user name of the service.
        broker_username: String, env "DH_BROKER_USERNAME", default None, note "none";
        /// MQTT client id of the service (fixed, so the broker keeps its session).
        client_id: String, env "DH_CLIENT_ID", default Some(DEFAULT_CLIENT_ID.to_string()),
            note "with `use_username_as_clientid` the broker uses the user name";
        /// Subscribe through this shared-subscription group to run several instances.
        share_group: String, env "DH_SHARE_GROUP", default None,
            note "none (`dh-mqtt-plugin` when the service holds several connections)";
        /// This instance's name when several run on one broker: its connections log in as USERNAME-NAME (CLIENT_ID-NAME), and one instance at a time also holds the broker session USERNAME.
        instance: String, env "DH_INSTANCE", default None,
            note "none: one instance, whose first connection is USERNAME";
        /// Keep the broker plugin's device logins up to date (on `dh/plugin/credentials`); off with the plain ACL file.
        #[arg(num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
        broker_plugin: bool, env "DH_BROKER_PLUGIN", default Some(true),
            note "on: the shipped broker config loads the plugin";
        /// Broker connections sharing the request subscriptions; connection k (from 2) logs in as USERNAME-k with client id CLIENT_ID-k.
        broker_connections: u16, env "DH_BROKER_CONNECTIONS", default Some(1), note "up to 8";
        /// Serve Prometheus metrics on http://ADDR/metrics and a health check on /healthz.
        metrics_listen: String, env "DH_METRICS_LISTEN", default None,
            note "off; the package's env file sets `127.0.0.1:9464`";
        /// Requests handled at once before new ones get 503 "Server is busy".
        max_in_flight: usize, env "DH_MAX_IN_FLIGHT", default Some(DEFAULT_MAX_IN_FLIGHT), note "";
        /// Logins and password changes waiting for the hasher before more get 503 "Server is busy".
        password_queue: usize, env "DH_PASSWORD_QUEUE", default Some(DEFAULT_PASSWORD_QUEUE), note "";
        /// Percent of a hasher thread's time spent hashing while other requests are in flight (1-100).
        password_cpu_percent: u32, env "DH_PASSWORD_CPU_PERCENT", default Some(DEFAULT_PASSWORD_CPU_PERCENT), note "";
        /// Largest request payload in bytes.
        max_payload_bytes: usize, env "DH_MAX_PAYLOAD_BYTES", default Some(DEFAULT_MAX_PAYLOAD_BYTES), note "";
        /// Database connections (and repository threads: one for reads, one for writes, the rest for logins).
        db_pool_size: u32, env "DH_DB_POOL_SIZE", default None, note "8 on PostgreSQL, 4 on SQLite";
        /// Longest wait for a pooled connection (every database step is answered within 1.5 s anyway).
        db_timeout_ms: u64, env "DH_DB_TIMEOUT_MS", default Some(DEFAULT_DB_TIMEOUT_MS), note "";
        /// How long the broker keeps the service's session (and queued requests) while it is away.
        session_expiry_secs: u32, env "DH_SESSION_EXPIRY_SECS", default Some(DEFAULT_SESSION_EXPIRY_SECS), note "a week";
        /// How long SIGTERM waits for in-flight requests to be answered.
        drain_timeout_secs: u64, env "DH_DRAIN_TIMEOUT_SECS", default Some(DEFAULT_DRAIN_TIMEOUT_SECS), note "";
        /// Lifetime of minted access tokens.
        access_token_lifetime_secs: u64, env "DH_ACCESS_TOKEN_LIFETIME_SECS", default Some(DEFAULT_ACCESS_TOKEN_LIFETIME_SECS), note "30 minutes";
        /// Lifetime of minted refresh tokens.
        refresh_token_lifetime_secs: u64, env "DH_REFRESH_TOKEN_LIFETIME_SECS", default Some(DEFAULT_REFRESH_TOKEN_LIFETIME_SECS), note "182 days";
        /// Wrong passwords in a row that lock a user out.
        max_login_attempts: i32, env "DH_MAX_LOGIN_ATTEMPTS", default Some(DEFAULT_MAX_LOGIN_ATTEMPTS), note "";
    }
    secrets {
        /// The secret tokens are signed with (the DeviceHive server's variable).
        jwt_secret, env "JWT_SECRET", note "none: required by `serve` and `token`";
        /// The service's broker password.
        broker_password, env "DH_BROKER_PASSWORD", note "none";
    }
}

/// The configuration table (markdown) the README shows, made from the declaration.
pub fn docs_table() -> String {
    let mut out = String::from(
        "| TOML key | flag | environment | default | what it does |\n|---|---|---|---|---|\n",
    );
    for row in documented() {
        let flag = match row.secret {
            true => "—".to_string(),
            false => format!("`--{}`", row.key.replace('_', "-")),
        };
        out.push_str(&format!(
            "| `{}` | {flag} | `{}` | {} | {} |\n",
            row.key, row.env, row.default, row.help
        ));
    }
    out
}

//! The command line: `serve`, `migrate`, `user …`, `network add`, `token`, `acl`.

pub mod acl;
pub mod token;
pub mod user;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, SettingsArgs};
use crate::db::migrate;
use crate::model::{Role, UserStatus};
use crate::service;

/// Serves the DeviceHive user API over MQTT next to a Mosquitto broker.
#[derive(Debug, Parser)]
#[command(name = "dh-mqtt-plugin", version, about, propagate_version = true)]
pub struct Cli {
    /// A TOML file with settings (flags and environment variables override it).
    #[arg(long, env = "DH_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply migrations, connect to the broker and serve requests until SIGTERM.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage networks.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Mint an access and refresh token pair for an existing user; prints JSON.
    Token {
        /// The user's login.
        #[arg(long)]
        login: String,
    },
    /// Print the Mosquitto ACL lines for the served actions.
    Acl {
        /// The broker account the service connects as.
        #[arg(long, default_value = "dhplugin")]
        service_user: String,
        /// The service's broker connections (DH_BROKER_CONNECTIONS): one account each.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=crate::config::MAX_BROKER_CONNECTIONS as i64))]
        connections: u16,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from standard input (or a prompt) unless given.
    Add {
        /// Login: 3 to 64 letters, digits and _ @ . -
        #[arg(long)]
        login: String,
        /// The password (visible to `ps`; prefer standard input).
        #[arg(long)]
        password: Option<String>,
        /// The user's role.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// List users: id, login, role, status, failed logins, last login.
    List,
    /// Set a user's password, read from standard input (or a prompt).
    Passwd {
        /// The user's login.
        #[arg(long)]
        login: String,
    },
    /// Set a user's status; `active` also clears the failed-login counter (unlocks).
    SetStatus {
        /// The user's login.
        #[arg(long)]
        login: String,
        /// The new status.
        #[arg(value_enum)]
        status: StatusArg,
    },
    /// Give a user access to a network.
    AssignNetwork {
        /// The user's login.
        #[arg(long)]
        login: String,
        /// The network's id or name.
        #[arg(long)]
        network: String,
    },
}

#[derive(Debug, Subcommand)]
enum NetworkCommand {
    /// Create a network and print its id.
    Add {
        /// Unique name.
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StatusArg {
    Active,
    Locked,
    Disabled,
}

impl From<StatusArg> for UserStatus {
    fn from(s: StatusArg) -> UserStatus {
        match s {
            StatusArg::Active => UserStatus::Active,
            StatusArg::Locked => UserStatus::LockedOut,
            StatusArg::Disabled => UserStatus::Disabled,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Client,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Client => Role::Client,
        }
    }
}

/// Parses the command line and runs the command.
pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Acl {
        service_user,
        connections,
    } = &cli.command
    {
        print!("{}", acl::acl_text(service_user, *connections));
        return Ok(());
    }
    let config = Arc::new(Config::resolve(&cli.settings, cli.config.as_ref())?);
    match cli.command {
        Command::Serve => serve(config),
        Command::Migrate => apply_migrations(&config),
        Command::User(UserCommand::Add {
            login,
            password,
            role,
        }) => user::add(&config, &login, password, role.into()),
        Command::User(UserCommand::List) => user::list(&config),
        Command::User(UserCommand::Passwd { login }) => user::passwd(&config, &login),
        Command::User(UserCommand::SetStatus { login, status }) => {
            user::set_status(&config, &login, status.into())
        }
        Command::User(UserCommand::AssignNetwork { login, network }) => {
            user::assign_network(&config, &login, &network)
        }
        Command::Network(NetworkCommand::Add { name, description }) => {
            user::add_network(&config, &name, description.as_deref())
        }
        Command::Token { login } => token::print_pair(&config, &login),
        Command::Acl { .. } => Ok(()),
    }
}

fn apply_migrations(config: &Config) -> anyhow::Result<()> {
    let applied = migrate::run(&config.database)?;
    for name in &applied {
        log::info!(target: "dh::migrate", "applied migration {name}");
    }
    log::info!(target: "dh::migrate", "database {} is up to date ({} applied now)", config.database.redacted(), applied.len());
    Ok(())
}

fn serve(config: Arc<Config>) -> anyhow::Result<()> {
    crate::memory::disable_transparent_huge_pages();
    if !crate::scheduling::batch_scheduling() {
        log::info!(target: "dh::service", "threads keep their scheduling policy (not SCHED_BATCH)");
    }
    // Fail fast on a missing secret before touching the database or the broker.
    config.jwt_keys()?;
    apply_migrations(&config)?;
    log::info!(target: "dh::service", "starting: database {}, broker {} as '{}'", config.database.redacted(), config.broker_url, config.client_id);
    actix::System::new().block_on(service::run(config, None, service::termination_signal()))
}

//! The command line: `serve`, `migrate`, `user …`, `network add`, `device-type add`,
//! `token`, `acl`.

pub mod acl;
pub mod catalog;
pub mod direct;
pub mod health;
pub mod token;
pub mod user;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, SettingsArgs};
use crate::db::migrate;
use crate::model::{Role, UserStatus};
use crate::service;
use user::LinkAction;

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
    /// Ask a running service's /healthz (DH_METRICS_LISTEN): exit 0 when healthy, 1 otherwise.
    Health,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage networks.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Manage device types.
    #[command(subcommand)]
    DeviceType(DeviceTypeCommand),
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
        /// The instances' names (DH_INSTANCE), comma-separated: accounts USER-NAME… for each.
        #[arg(long, value_delimiter = ',')]
        instances: Vec<String>,
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
    /// List users (`user/list`): id, login, role, status, last login.
    List {
        /// A LIKE pattern on the login (`%` any run, `_` one character), case-sensitive.
        #[arg(long)]
        login_pattern: Option<String>,
        /// Only users of this role.
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        /// Only users of this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// At most this many (default 20, at most 1000).
        #[arg(long)]
        take: Option<i64>,
        /// After skipping this many.
        #[arg(long)]
        skip: Option<i64>,
    },
    /// Print a user with its networks as JSON (`user/get`).
    Get {
        /// The user's login.
        #[arg(long)]
        login: String,
    },
    /// Delete a user and its network and device-type links (`user/delete`).
    Delete {
        /// The user's login.
        #[arg(long)]
        login: String,
    },
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
    /// Give a user access to a network (`user/assignNetwork`).
    AssignNetwork {
        /// The user's login.
        #[arg(long)]
        login: String,
        /// The network's id or name.
        #[arg(long)]
        network: String,
    },
    /// Take a network from a user (`user/unassignNetwork`).
    UnassignNetwork {
        /// The user's login.
        #[arg(long)]
        login: String,
        /// The network's id or name.
        #[arg(long)]
        network: String,
    },
    /// Give a user a device type (`user/assignDeviceType`; needs `disallow-all-device-types`).
    AssignDeviceType {
        /// The user's login.
        #[arg(long)]
        login: String,
        /// The device type's id or name.
        #[arg(long)]
        device_type: String,
    },
    /// Take a device type from a user (`user/unassignDeviceType`).
    UnassignDeviceType {
        /// The user's login.
        #[arg(long)]
        login: String,
        /// The device type's id or name.
        #[arg(long)]
        device_type: String,
    },
    /// Let a user use every device type; removes its device-type links (`user/allowAllDeviceTypes`).
    AllowAllDeviceTypes {
        /// The user's login.
        #[arg(long)]
        login: String,
    },
    /// Limit a user to its linked device types (`user/disallowAllDeviceTypes`).
    DisallowAllDeviceTypes {
        /// The user's login.
        #[arg(long)]
        login: String,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceTypeCommand {
    /// Create a device type and print its id.
    Add {
        /// Unique name.
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
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
        instances,
    } = &cli.command
    {
        print!("{}", acl::acl_text(service_user, *connections, instances));
        return Ok(());
    }
    let config = Arc::new(Config::resolve(&cli.settings, cli.config.as_ref())?);
    match cli.command {
        Command::Serve => serve(config),
        Command::Migrate => apply_migrations(&config),
        Command::Health => health::check(&config),
        Command::User(UserCommand::Add {
            login,
            password,
            role,
        }) => user::add(&config, &login, password, role.into()),
        Command::User(UserCommand::List {
            login_pattern,
            role,
            status,
            take,
            skip,
        }) => {
            let args = user::ListArgs {
                login_pattern,
                role: role.map(Role::from),
                status: status.map(UserStatus::from),
                take,
                skip,
            };
            user::list(&config, &args)
        }
        Command::User(UserCommand::Get { login }) => user::get(&config, &login),
        Command::User(UserCommand::Delete { login }) => user::delete(&config, &login),
        Command::User(UserCommand::Passwd { login }) => user::passwd(&config, &login),
        Command::User(UserCommand::SetStatus { login, status }) => {
            user::set_status(&config, &login, status.into())
        }
        Command::User(UserCommand::AssignNetwork { login, network }) => {
            user::link(&config, LinkAction::AssignNetwork, &login, &network)
        }
        Command::User(UserCommand::UnassignNetwork { login, network }) => {
            user::link(&config, LinkAction::UnassignNetwork, &login, &network)
        }
        Command::User(UserCommand::AssignDeviceType { login, device_type }) => {
            user::link(&config, LinkAction::AssignDeviceType, &login, &device_type)
        }
        Command::User(UserCommand::UnassignDeviceType { login, device_type }) => user::link(
            &config,
            LinkAction::UnassignDeviceType,
            &login,
            &device_type,
        ),
        Command::User(UserCommand::AllowAllDeviceTypes { login }) => {
            user::all_device_types(&config, &login, true)
        }
        Command::User(UserCommand::DisallowAllDeviceTypes { login }) => {
            user::all_device_types(&config, &login, false)
        }
        Command::Network(NetworkCommand::Add { name, description }) => {
            catalog::add_network(&config, &name, description.as_deref())
        }
        Command::DeviceType(DeviceTypeCommand::Add { name, description }) => {
            catalog::add_device_type(&config, &name, description.as_deref())
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

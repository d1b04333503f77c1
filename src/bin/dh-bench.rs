//! `dh-bench`: the load tool of dh-mqtt-plugin (see `dh_mqtt_plugin::bench`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use dh_mqtt_plugin::bench::compare::{self, CompareConfig};
use dh_mqtt_plugin::bench::connection::Account;
use dh_mqtt_plugin::bench::echo::{self, Engine};
use dh_mqtt_plugin::bench::load::{self, LoadConfig, Mix, Pace};

/// Request → response load for dh-mqtt-plugin through a real broker.
#[derive(Parser)]
#[command(name = "dh-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one load scenario and report it.
    Load {
        #[command(flatten)]
        common: Common,
        /// Connections ({prefix}01, {prefix}02, …).
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Requests in flight per connection (closed loop).
        #[arg(long, default_value_t = 4, conflicts_with = "rate")]
        in_flight: usize,
        /// Total requests per second (open loop) instead of a closed loop.
        #[arg(long)]
        rate: Option<f64>,
        /// Send this many requests at once instead (latency from the start).
        #[arg(long, conflicts_with = "rate")]
        burst: Option<u64>,
        /// Request kinds with weights: get, update, password, badlogin, list, search, count.
        #[arg(long, default_value = "get=1")]
        mix: Mix,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Also write per-second sent/answered/errors/p50/p99/max (by intended send time,
        /// warm-up included) to this CSV file.
        #[arg(long)]
        timeline: Option<std::path::PathBuf>,
        /// Also write every request's send time, first answer time, answer count and code
        /// (epoch milliseconds) to this CSV file.
        #[arg(long)]
        outcomes: Option<std::path::PathBuf>,
        /// Connections that outlive broker restarts: persistent sessions, automatic
        /// reconnect, resubscribe (for fault runs).
        #[arg(long)]
        resilient: bool,
        /// Access tokens, one per line, taken in turn by request number instead of --token
        /// (distinct users, as `compare`'s updateCurrent runs write).
        #[arg(long)]
        tokens: Option<PathBuf>,
    },
    /// A TCP proxy for staging network faults; its mode (forward, stall, cut, refuse, reset) is
    /// read from MODE_FILE every 20 ms. Runs until killed.
    Proxy {
        /// Loopback port to listen on.
        #[arg(long)]
        listen: u16,
        /// Where to forward (host:port).
        #[arg(long)]
        to: String,
        /// File holding the mode word.
        #[arg(long)]
        mode_file: PathBuf,
    },
    /// Holds a SQLite write lock (BEGIN IMMEDIATE) on a database file for a while.
    HoldLock {
        /// The SQLite file.
        #[arg(long)]
        sqlite: PathBuf,
        /// How long.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Adds COUNT users named PREFIX1 … PREFIXn (client role, no password) for listing runs.
    SeedUsers {
        /// The database (sqlite://… or postgres://…).
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// How many.
        #[arg(long)]
        count: u64,
        /// Login prefix.
        #[arg(long, default_value = "seeded")]
        prefix: String,
        /// Also give them this broker login password (needs JWT_SECRET, as the service's).
        #[arg(long)]
        broker_password: Option<String>,
    },
    /// Adds COUNT live sessions for client ids PREFIX1 … PREFIXn, bound to users 1 … USERS.
    SeedSessions {
        /// The database (sqlite://… or postgres://…).
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// How many.
        #[arg(long)]
        count: u64,
        /// Users the sessions are spread over (ids 1 to USERS).
        #[arg(long, default_value_t = 1)]
        users: u64,
        /// Client id prefix.
        #[arg(long, default_value = "seeded")]
        prefix: String,
    },
    /// A reconnect storm: DEVICES connections {prefix}1 … at once through the broker plugin's
    /// device logins, then closed, ROUNDS times (run it beside `load`).
    Storm {
        /// Broker URL.
        #[arg(long, env = "DH_BROKER_URL", default_value = "tcp://127.0.0.1:1883")]
        broker_url: String,
        /// Login prefix (the users `seed-users --broker-password` made).
        #[arg(long, default_value = "storm")]
        prefix: String,
        /// Connections per round.
        #[arg(long, default_value_t = 1000)]
        devices: usize,
        /// Their password.
        #[arg(long, env = "DH_STORM_PASSWORD")]
        password: String,
        /// Rounds.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Seconds between rounds.
        #[arg(long, default_value_t = 2.0)]
        pause: f64,
    },
    /// A bare responder answering every request with a canned success.
    Echo {
        /// Broker URL.
        #[arg(long, env = "DH_BROKER_URL", default_value = "tcp://127.0.0.1:1883")]
        broker_url: String,
        /// Broker account allowed to read dh/request/# (the service's).
        #[arg(long, env = "DH_BROKER_USERNAME", default_value = "dhplugin")]
        username: String,
        /// Connections sharing the requests, as the service's (USERNAME, USERNAME-2, …).
        #[arg(long, env = "DH_BROKER_CONNECTIONS", default_value_t = 1)]
        connections: u16,
        /// The responder: paho (the service's client, the fastest measured), rumqttc or codec.
        #[arg(long, value_enum, default_value_t = Engine::DEFAULT)]
        engine: Engine,
    },
    /// Alternate echo and the service on the same load; print the goal table.
    Compare {
        #[command(flatten)]
        common: Common,
        /// The service binary (reads DATABASE_URL, JWT_SECRET, DH_BROKER_* from this environment).
        #[arg(long)]
        service_bin: Option<PathBuf>,
        /// Alternating rounds per scenario.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Directory for results.json, table.md and latency-p1.svg.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Label for the table (the database).
        #[arg(long, default_value = "SQLite")]
        label: String,
        /// Broker account of the echo responder (the service's).
        #[arg(long, env = "DH_BROKER_USERNAME", default_value = "dhplugin")]
        echo_username: String,
        /// Distinct users the updateCurrent runs write (C3), added to DATABASE_URL if missing.
        #[arg(long, default_value_t = 64)]
        update_users: usize,
    },
}

#[derive(Args)]
struct Common {
    /// Broker URL.
    #[arg(long, env = "DH_BROKER_URL", default_value = "tcp://127.0.0.1:1883")]
    broker_url: String,
    /// Prefix of the connections' broker logins.
    #[arg(long, default_value = "bench")]
    client_prefix: String,
    /// Number of the first connection's login.
    #[arg(long, default_value_t = 1)]
    first_client: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Warm-up seconds before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// QoS of requests.
    #[arg(long, default_value_t = 1)]
    qos: i32,
    /// Access token for every request (else one is obtained with `token`).
    #[arg(long, env = "DH_BENCH_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Service login for `token` (and for password/badlogin requests).
    #[arg(long, default_value = "bench")]
    login: String,
    /// Seconds to wait for an answer before counting it missing.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
    /// Broker account that may read $SYS, for the drop counter.
    #[arg(long, default_value = "benchmon")]
    monitor_user: String,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
}

/// The non-empty lines of a tokens file.
fn read_tokens(file: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read tokens from {}: {e}", file.display()))?;
    let tokens: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if tokens.is_empty() {
        anyhow::bail!("{} holds no token", file.display());
    }
    Ok(tokens)
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

impl Common {
    fn load_config(&self, clients: usize, pace: Pace, mix: Mix) -> LoadConfig {
        let monitor_password = env("DH_BENCH_MONITOR_PASSWORD");
        LoadConfig {
            broker_url: self.broker_url.clone(),
            client_prefix: self.client_prefix.clone(),
            client_password: env("DH_BENCH_CLIENT_PASSWORD"),
            first_client: self.first_client,
            clients,
            pace,
            duration: Duration::from_secs(self.duration),
            warmup: Duration::from_secs(self.warmup),
            qos: self.qos,
            mix,
            token: self.token.clone().unwrap_or_default(),
            tokens: Vec::new(),
            login: Some((self.login.clone(), env("DH_BENCH_PASSWORD"))),
            timeout: Duration::from_secs(self.timeout),
            monitor: (!monitor_password.is_empty()).then(|| Account {
                broker_url: self.broker_url.clone(),
                login: self.monitor_user.clone(),
                password: monitor_password,
            }),
            progress: !self.quiet,
            timeline: None,
            outcomes: None,
            resilient: false,
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Load {
            common,
            clients,
            in_flight,
            rate,
            burst,
            mix,
            json,
            timeline,
            outcomes,
            resilient,
            tokens,
        } => {
            let pace = match (rate, burst) {
                (Some(rate), _) => Pace::Open { rate },
                (None, Some(count)) => Pace::Burst { count },
                (None, None) => Pace::Closed { in_flight },
            };
            let mut cfg = common.load_config(clients, pace, mix);
            if let Some(file) = tokens {
                cfg.tokens = read_tokens(&file)?;
            }
            if cfg.token.is_empty() && cfg.tokens.is_empty() {
                anyhow::bail!("give --token (or DH_BENCH_TOKEN); `compare` can log in by itself");
            }
            cfg.progress &= !json;
            cfg.timeline = timeline;
            cfg.outcomes = outcomes;
            cfg.resilient = resilient;
            let report = load::run(&cfg).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.table());
            }
        }
        Cmd::Proxy {
            listen,
            to,
            mode_file,
        } => dh_mqtt_plugin::bench::faults::run_proxy(listen, &to, &mode_file).await?,
        Cmd::HoldLock { sqlite, seconds } => dh_mqtt_plugin::bench::faults::hold_sqlite_lock(
            &sqlite,
            Duration::from_secs_f64(seconds),
        )?,
        Cmd::SeedUsers {
            database_url,
            count,
            prefix,
            broker_password,
        } => {
            dh_mqtt_plugin::bench::seed::seed_users(&database_url, &prefix, count)?;
            if let Some(password) = broker_password {
                let secret = std::env::var("JWT_SECRET")
                    .map_err(|_| anyhow::anyhow!("JWT_SECRET is required for broker logins"))?;
                // Read as the service reads it, so the verifiers match its key.
                let encoding = std::env::var("DH_JWT_SECRET_ENCODING")
                    .unwrap_or_else(|_| "raw".into())
                    .parse()
                    .map_err(anyhow::Error::msg)?;
                let key =
                    dh_mqtt_plugin::auth::broker_login::BrokerKey::from_secret(&secret, encoding);
                let n = dh_mqtt_plugin::bench::seed::seed_broker_logins(
                    &database_url,
                    &prefix,
                    &password,
                    &key,
                )?;
                println!("{n} broker logins");
            }
        }
        Cmd::SeedSessions {
            database_url,
            count,
            users,
            prefix,
        } => dh_mqtt_plugin::bench::seed::seed_sessions(&database_url, &prefix, count, users)?,
        Cmd::Storm {
            broker_url,
            prefix,
            devices,
            password,
            rounds,
            pause,
        } => {
            let pause = Duration::from_secs_f64(pause);
            let addr = broker_url
                .strip_prefix("tcp://")
                .ok_or_else(|| anyhow::anyhow!("storm needs a tcp:// broker URL"))?
                .to_string();
            let out = tokio::task::spawn_blocking(move || {
                dh_mqtt_plugin::bench::storm::run(&addr, &prefix, devices, &password, rounds, pause)
            })
            .await?;
            for (i, round) in out.iter().enumerate() {
                println!("round {}: {}", i + 1, round.line());
            }
        }
        Cmd::Echo {
            broker_url,
            username,
            connections,
            engine,
        } => {
            let account = Account {
                broker_url,
                login: username,
                password: env("DH_BROKER_PASSWORD"),
            };
            echo::run(&account, connections, engine).await?;
        }
        Cmd::Compare {
            common,
            service_bin,
            rounds,
            out,
            label,
            echo_username,
            update_users,
        } => {
            let service_bin = match service_bin {
                Some(p) => p,
                None => std::env::current_exe()?.with_file_name("dh-mqtt-plugin"),
            };
            let cfg = CompareConfig {
                echo_account: Account {
                    broker_url: common.broker_url.clone(),
                    login: echo_username,
                    password: env("DH_BROKER_PASSWORD"),
                },
                base: common.load_config(
                    16,
                    Pace::Closed { in_flight: 4 },
                    "get=1".parse().map_err(anyhow::Error::msg)?,
                ),
                service_bin,
                rounds: rounds.max(1),
                out,
                label,
                update_users,
            };
            print!("{}", compare::run(&cfg).await?);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The load stands for clients on other machines: under the normal policy its wake-ups
    // preempted the broker on the core they shared (docs/PERFORMANCE.md, item 21). Echo runs
    // under the policy the service runs under, and so do the processes `compare` starts.
    if !dh_mqtt_plugin::scheduling::batch_scheduling() {
        eprintln!("dh-bench: SCHED_BATCH refused; the load and echo keep their policy");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dh-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dh-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! What a load run does: the request kinds and their mix, the pacing, the whole scenario.

use std::path::PathBuf;
use std::time::Duration;

use super::connection::Account;

/// What each request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Kind {
    /// `user/getCurrent`
    Get,
    /// `user/getCurrent` without a token, on the session each connection binds with
    /// `authenticate` before the load.
    SessionGet,
    /// `user/updateCurrent` with `data` only.
    UpdateData,
    /// `user/updateCurrent` with a password (an Argon2 hash per request).
    UpdatePassword,
    /// `token` with a wrong password (a login flood).
    BadLogin,
    /// `user/list`: a page of 20 from the first 1,000 users by id (needs ManageUser).
    List,
    /// `user/list` with a `loginPattern` that matches few users (a scan of the table).
    Search,
    /// `user/count` of every user.
    Count,
}

/// Weights of the request kinds, drawn in turn.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mix(pub Vec<(Kind, u32)>);

impl std::str::FromStr for Mix {
    type Err = String;
    /// `get=3,update=1,password=0,badlogin=0`
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = Vec::new();
        for item in s.split(',').filter(|i| !i.is_empty()) {
            let (name, weight) = item.split_once('=').unwrap_or((item, "1"));
            let kind = match name {
                "get" => Kind::Get,
                "session" => Kind::SessionGet,
                "update" => Kind::UpdateData,
                "password" => Kind::UpdatePassword,
                "badlogin" => Kind::BadLogin,
                "list" => Kind::List,
                "search" => Kind::Search,
                "count" => Kind::Count,
                other => {
                    return Err(format!(
                        "unknown request kind '{other}' (get|session|update|password|badlogin|list|search|count)"
                    ))
                }
            };
            let weight = weight
                .parse()
                .map_err(|_| format!("bad weight in '{item}'"))?;
            parts.push((kind, weight));
        }
        if parts.iter().all(|(_, w)| *w == 0) {
            return Err("the mix needs at least one kind with a weight".into());
        }
        Ok(Mix(parts))
    }
}

impl Mix {
    /// Whether a connection must `authenticate` before its load.
    pub fn needs_session(&self) -> bool {
        self.0.iter().any(|(k, w)| *k == Kind::SessionGet && *w > 0)
    }

    /// Whether it writes users (updateCurrent).
    pub fn writes(&self) -> bool {
        self.0
            .iter()
            .any(|(k, w)| matches!(k, Kind::UpdateData | Kind::UpdatePassword) && *w > 0)
    }

    /// The kind of request number `seq` (a deterministic weighted round-robin).
    pub fn pick(&self, seq: u64) -> Kind {
        let total: u64 = self.0.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut at = seq % total.max(1);
        for (kind, w) in &self.0 {
            if at < u64::from(*w) {
                return *kind;
            }
            at -= u64::from(*w);
        }
        Kind::Get
    }
}

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Pace {
    /// Each connection keeps this many requests in flight.
    Closed {
        /// Requests in flight per connection.
        in_flight: usize,
    },
    /// This many requests per second in total.
    Open {
        /// Requests per second.
        rate: f64,
    },
    /// This many requests at once, spread over the connections, latency from the start.
    Burst {
        /// Requests.
        count: u64,
    },
}

/// A scenario.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadConfig {
    /// Broker URL.
    pub broker_url: String,
    /// Connection logins are `{prefix}01`, `{prefix}02`, …
    pub client_prefix: String,
    /// Their broker password.
    #[serde(skip)]
    pub client_password: String,
    /// Number of the first connection's login (to run two loads side by side).
    pub first_client: usize,
    /// Connections.
    pub clients: usize,
    /// Pacing.
    pub pace: Pace,
    /// Measured time.
    pub duration: Duration,
    /// Time before measuring starts (requests sent then are accounted, not measured).
    pub warmup: Duration,
    /// QoS of requests.
    pub qos: i32,
    /// Request kinds.
    pub mix: Mix,
    /// Access token put in every request.
    #[serde(skip)]
    pub token: String,
    /// Tokens of distinct users, taken in turn by request number instead of `token`.
    #[serde(skip)]
    pub tokens: Vec<String>,
    /// Login and password for `password` and `badlogin` requests.
    #[serde(skip)]
    pub login: Option<(String, String)>,
    /// How long to wait for an answer before counting it missing.
    pub timeout: Duration,
    /// Account that may read `$SYS` (for the broker's drop counter).
    #[serde(skip)]
    pub monitor: Option<Account>,
    /// Print a progress line every second.
    #[serde(skip)]
    pub progress: bool,
    /// Write the run second by second to this CSV file.
    #[serde(skip)]
    pub timeline: Option<PathBuf>,
    /// Write every request's outcome to this CSV file (see `Ledger::write_outcomes`).
    #[serde(skip)]
    pub outcomes: Option<PathBuf>,
    /// Connections that outlive broker restarts (see `connection::connect_with`).
    pub resilient: bool,
}

impl LoadConfig {
    /// The token request `seq` carries.
    pub fn token_for(&self, seq: u64) -> &str {
        match self.tokens.len() {
            0 => &self.token,
            n => self.tokens.get(seq as usize % n).map_or("", String::as_str),
        }
    }
}

//! A reconnect storm: DEVICES broker connections opened at once, then closed, ROUNDS times,
//! each logging in through the broker plugin (docs/PERFORMANCE.md, "Reconnect storm"). Run it
//! beside `dh-bench load` to see what the storm does to everyone else's latency.

use std::time::{Duration, Instant};

use futures::future::join_all;

use super::connection::{connect, Account};

/// One round's outcome.
#[derive(Debug, Clone)]
pub struct Round {
    pub connected: usize,
    pub refused: usize,
    /// CONNECT to CONNACK, per connection that got in (sorted).
    pub connect_times: Vec<Duration>,
    /// From the first CONNECT to the last CONNACK.
    pub wall: Duration,
}

impl Round {
    fn quantile(&self, q: f64) -> Duration {
        let n = self.connect_times.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let i = ((n as f64 * q).ceil() as usize).clamp(1, n) - 1;
        self.connect_times.get(i).copied().unwrap_or_default()
    }

    /// `connected 1000, refused 0, connect p50 … p99 … max …, all in …`
    pub fn line(&self) -> String {
        format!(
            "connected {}, refused {}, connect p50 {:.1} ms p99 {:.1} ms max {:.1} ms, all in {:.2} s",
            self.connected,
            self.refused,
            ms(self.quantile(0.5)),
            ms(self.quantile(0.99)),
            ms(self.quantile(1.0)),
            self.wall.as_secs_f64()
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Opens `devices` connections `{prefix}1` … at once with `password`, closes them, `rounds`
/// times, pausing `pause` between rounds.
pub async fn run(
    broker_url: &str,
    prefix: &str,
    devices: usize,
    password: &str,
    rounds: usize,
    pause: Duration,
) -> Vec<Round> {
    let mut out = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let attempts = (1..=devices).map(|i| {
            let account = Account {
                broker_url: broker_url.to_string(),
                login: format!("{prefix}{i}"),
                password: password.to_string(),
            };
            async move {
                let t = Instant::now();
                connect(&account, &[], 1)
                    .await
                    .map(|(client, _)| (client, t.elapsed()))
            }
        });
        let results = join_all(attempts).await;
        let wall = started.elapsed();
        let mut connect_times = Vec::new();
        let mut clients = Vec::new();
        let mut refused = 0;
        for result in results {
            match result {
                Ok((client, took)) => {
                    connect_times.push(took);
                    clients.push(client);
                }
                Err(_) => refused += 1,
            }
        }
        connect_times.sort_unstable();
        join_all(clients.iter().map(|c| c.disconnect(None))).await;
        out.push(Round {
            connected: clients.len(),
            refused,
            connect_times,
            wall,
        });
        tokio::time::sleep(pause).await;
    }
    out
}

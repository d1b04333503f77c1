//! A reconnect storm: DEVICES broker connections opened at once, then closed, ROUNDS times,
//! each logging in through the broker plugin (docs/PERFORMANCE.md, "Reconnect storm"). Run it
//! beside `dh-bench load` to see what the storm does to everyone else's latency.
//!
//! Each device is a thread speaking just enough MQTT 3.1.1 (CONNECT, CONNACK, DISCONNECT) over
//! a socket of its own: a thousand Paho clients in one process stalled in Paho's own
//! connection set-up before the broker was the limit.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

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

/// An MQTT 3.1.1 CONNECT (clean session, user name and password, client id = login).
fn connect_packet(login: &str, password: &str) -> Vec<u8> {
    let field = |out: &mut Vec<u8>, text: &[u8]| {
        out.extend_from_slice(&(text.len() as u16).to_be_bytes());
        out.extend_from_slice(text);
    };
    let mut body = Vec::new();
    field(&mut body, b"MQTT");
    body.extend_from_slice(&[4, 0xC2, 0, 60]);
    field(&mut body, login.as_bytes());
    field(&mut body, login.as_bytes());
    field(&mut body, password.as_bytes());
    let mut packet = vec![0x10];
    let mut len = body.len();
    loop {
        let byte = (len % 128) as u8;
        len /= 128;
        packet.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    packet.extend_from_slice(&body);
    packet
}

/// Connects one device; the open socket and how long CONNACK took, or `None` if refused.
fn login(addr: &str, login: &str, password: &str) -> Option<(TcpStream, Duration)> {
    let started = Instant::now();
    let mut socket = TcpStream::connect(addr).ok()?;
    socket.set_nodelay(true).ok()?;
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    socket.write_all(&connect_packet(login, password)).ok()?;
    let mut connack = [0u8; 4];
    socket.read_exact(&mut connack).ok()?;
    (connack == [0x20, 2, 0, 0]).then(|| (socket, started.elapsed()))
}

/// Opens `devices` connections `{prefix}1` … at once with `password` on `host:port`, holds
/// them until all are in, closes them; `rounds` times, pausing `pause` between rounds.
pub fn run(
    addr: &str,
    prefix: &str,
    devices: usize,
    password: &str,
    rounds: usize,
    pause: Duration,
) -> Vec<Round> {
    let mut out = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let threads: Vec<_> = (1..=devices)
            .filter_map(|i| {
                let (addr, name, password) = (
                    addr.to_string(),
                    format!("{prefix}{i}"),
                    password.to_string(),
                );
                std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || login(&addr, &name, &password))
                    .ok()
            })
            .collect();
        // Every socket stays open until the last device is in, then all leave.
        let logged_in: Vec<(TcpStream, Duration)> = threads
            .into_iter()
            .filter_map(|t| t.join().ok().flatten())
            .collect();
        let wall = started.elapsed();
        let mut connect_times = Vec::with_capacity(logged_in.len());
        for (mut socket, took) in logged_in {
            let _ = socket.write_all(&[0xE0, 0]);
            connect_times.push(took);
        }
        connect_times.sort_unstable();
        out.push(Round {
            connected: connect_times.len(),
            refused: devices - connect_times.len(),
            connect_times,
            wall,
        });
        std::thread::sleep(pause);
    }
    out
}

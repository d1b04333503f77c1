//! `dh-mqtt-plugin health`: asks a running service's `/healthz` (on `--metrics-listen`) and
//! exits 0 when it answers 200, 1 otherwise, printing its reason: for scripts and checks.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::config::Config;

/// How long the service has to answer.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Prints the service's health; an error when it is not healthy or does not answer.
pub fn check(config: &Config) -> anyhow::Result<()> {
    let addr = config.metrics_listen.ok_or_else(|| {
        anyhow::anyhow!("health asks the service's /healthz: set DH_METRICS_LISTEN (or --metrics-listen) as the service has it")
    })?;
    let (status, body) = get(addr, "/healthz")
        .map_err(|e| anyhow::anyhow!("no answer from http://{addr}/healthz: {e}"))?;
    match status {
        200 => {
            print!("{body}");
            Ok(())
        }
        _ => anyhow::bail!("unhealthy ({status}): {}", body.trim_end()),
    }
}

/// A GET of `path` on `addr`: the status code and the body.
pub fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = reply
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_string());
    Ok((status, body))
}

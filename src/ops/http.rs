//! The listener of `--metrics-listen`: `GET /metrics` (Prometheus text exposition) and
//! `GET /healthz` (200 while healthy, 503 with the reason otherwise). One thread, one request
//! per connection: it serves a scraper and a health check, not the public.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;

use super::health::Health;
use super::metrics::Sources;

/// How long a client has to send its request line.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Binds `addr` and serves it on a thread of its own.
pub fn start(
    addr: SocketAddr,
    handle: PrometheusHandle,
    sources: Sources,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    let health = Arc::clone(&sources.health);
    std::thread::Builder::new()
        .name("dh-metrics".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Err(e) = serve(stream, &handle, &sources, &health) {
                    log::debug!(target: "dh::metrics", "metrics connection: {e}");
                }
            }
        })?;
    log::info!(target: "dh::metrics", "serving /metrics and /healthz on http://{bound}");
    Ok(bound)
}

fn serve(
    mut stream: TcpStream,
    handle: &PrometheusHandle,
    sources: &Sources,
    health: &Health,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    // The whole request head (at most 8 KiB): closing a socket with unread bytes in it
    // resets the connection before the client reads the answer.
    let mut head = BufReader::new(&stream).take(8192);
    let mut line = String::new();
    head.read_line(&mut line)?;
    let mut header = String::new();
    while head.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut words = line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, kind, body) = match (method, path) {
        ("GET", "/metrics") => {
            sources.collect();
            handle.run_upkeep();
            ("200 OK", "text/plain; version=0.0.4", handle.render())
        }
        ("GET", "/healthz") => match health.verdict() {
            Ok(text) => ("200 OK", "text/plain", format!("{text}\n")),
            Err(why) => ("503 Service Unavailable", "text/plain", format!("{why}\n")),
        },
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "/metrics or /healthz\n".into(),
        ),
        _ => ("405 Method Not Allowed", "text/plain", "GET only\n".into()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

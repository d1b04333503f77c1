//! A TCP proxy for staging network faults (the tests and `deploy/faults.sh` put it in front
//! of PostgreSQL, or of a test broker, instead of touching the machine's servers):
//! - `Forward`: bytes pass both ways.
//! - `Stall`: connections stay open but nothing is forwarded (a network partition).
//! - `Cut`: every connection is closed, and new ones are closed as soon as they are accepted.
//! - `Refuse`: every connection is closed and new ones are refused (nothing listens).
//! - `Reset`: every connection is reset (RST, as by a peer that crashed mid-stream), new ones
//!   are closed as soon as they are accepted.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Bytes pass both ways.
    Forward = 0,
    /// Nothing is forwarded; connections stay open.
    Stall = 1,
    /// Connections are closed, new ones closed at once.
    Cut = 2,
    /// Connections are closed, new ones refused.
    Refuse = 3,
    /// Connections are reset, new ones closed at once.
    Reset = 4,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Mode, String> {
        match s.trim() {
            "forward" => Ok(Mode::Forward),
            "stall" => Ok(Mode::Stall),
            "cut" => Ok(Mode::Cut),
            "refuse" => Ok(Mode::Refuse),
            "reset" => Ok(Mode::Reset),
            other => Err(format!(
                "unknown proxy mode '{other}': forward, stall, cut, refuse or reset"
            )),
        }
    }
}

struct Shared {
    mode: AtomicU8,
    stop: AtomicBool,
    open: Mutex<Vec<TcpStream>>,
    port: u16,
    forwarded: AtomicUsize,
}

/// A running proxy; stops when dropped.
pub struct TcpProxy {
    port: u16,
    shared: Arc<Shared>,
}

impl TcpProxy {
    /// Listens on `port` of the loopback interface (0: a free one) and forwards to `target`
    /// (`host:port`).
    pub fn start(port: u16, target: &str) -> std::io::Result<TcpProxy> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            mode: AtomicU8::new(Mode::Forward as u8),
            stop: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
            port,
            forwarded: AtomicUsize::new(0),
        });
        let target = target.to_string();
        let accept = Arc::clone(&shared);
        thread::spawn(move || accept_loop(Some(listener), &target, &accept));
        Ok(TcpProxy { port, shared })
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections forwarded so far.
    pub fn forwarded(&self) -> usize {
        self.shared.forwarded.load(Ordering::SeqCst)
    }

    /// Switches the mode; `Cut` closes every open connection at once, `Reset` resets them.
    pub fn set(&self, mode: Mode) {
        self.shared.mode.store(mode as u8, Ordering::SeqCst);
        let open = || {
            std::mem::take(
                &mut *self
                    .shared
                    .open
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            )
        };
        match mode {
            Mode::Cut => open().iter().for_each(|s| {
                let _ = s.shutdown(Shutdown::Both);
            }),
            // A zero linger makes the last close of each socket send RST instead of FIN; shutting
            // down the read side sends nothing but wakes the forwarding threads, which close.
            Mode::Reset => open().iter().for_each(|s| {
                let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
                let _ = s.shutdown(Shutdown::Read);
            }),
            _ => {}
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.set(Mode::Cut);
    }
}

fn mode(shared: &Shared) -> u8 {
    shared.mode.load(Ordering::SeqCst)
}

/// Accepts and forwards; while refusing, the listener is closed (connects are refused) and
/// bound again once the mode changes.
fn accept_loop(mut listener: Option<TcpListener>, target: &str, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let refusing = mode(shared) == Mode::Refuse as u8;
        match (&listener, refusing) {
            (Some(_), true) => listener = None,
            (None, false) => listener = TcpListener::bind(("127.0.0.1", shared.port)).ok(),
            _ => {}
        }
        let Some(open) = &listener else {
            thread::sleep(Duration::from_millis(5));
            continue;
        };
        let _ = open.set_nonblocking(true);
        let client = match open.accept() {
            Ok((client, _)) => client,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(_) => return,
        };
        if mode(shared) != Mode::Forward as u8 && mode(shared) != Mode::Stall as u8 {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect(target) else {
            continue;
        };
        let _ = client.set_nonblocking(false);
        shared.forwarded.fetch_add(1, Ordering::SeqCst);
        for stream in [&client, &server] {
            if let Ok(clone) = stream.try_clone() {
                shared
                    .open
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(clone);
            }
        }
        for (from, to) in [(&client, &server), (&server, &client)] {
            if let (Ok(from), Ok(to)) = (from.try_clone(), to.try_clone()) {
                let shared = Arc::clone(shared);
                thread::spawn(move || pump(from, to, &shared));
            }
        }
    }
}

/// Copies `from` to `to` while forwarding; holds the bytes back while stalled.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared) {
    let _ = from.set_read_timeout(Some(Duration::from_millis(20)));
    let mut buf = [0u8; 16 * 1024];
    loop {
        match mode(shared) {
            m if m >= Mode::Cut as u8 => break,
            m if m == Mode::Stall as u8 => {
                thread::sleep(Duration::from_millis(5));
                continue;
            }
            _ => {}
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                // Read before the stall began: hold these bytes until it ends.
                while mode(shared) == Mode::Stall as u8 {
                    thread::sleep(Duration::from_millis(5));
                }
                let bytes = buf.get(..n).unwrap_or_default();
                if mode(shared) >= Mode::Cut as u8 || to.write_all(bytes).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    if mode(shared) != Mode::Reset as u8 {
        // A shutdown would send FIN before the reset.
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    }
}

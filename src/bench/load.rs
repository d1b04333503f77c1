//! One load scenario: N connections on their verified topics, closed loop (W requests in
//! flight per connection) or open loop (a fixed total rate, latency measured from the intended
//! send time so stalls are not hidden by coordinated omission).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::oneshot;

use super::connection::{dropped_messages, Account};
use super::ledger::Ledger;
use super::report::Report;
use super::timeline::write_csv;
use super::transport::{self, OnMessage, Sender};

pub use super::scenario::{Kind, LoadConfig, Mix, Pace};

#[derive(Deserialize)]
struct AnswerHead {
    #[serde(rename = "requestId", default)]
    request_id: Value,
    #[serde(default)]
    code: Option<u16>,
}

type Waiters = Arc<Mutex<HashMap<u64, oneshot::Sender<()>>>>;

struct Shared {
    ledger: Mutex<Ledger>,
    waiters: Waiters,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn payload(cfg: &LoadConfig, seq: u64) -> (String, Vec<u8>) {
    let (login, password) = cfg
        .login
        .clone()
        .unwrap_or_else(|| ("bench".into(), "bench-password".into()));
    let kind = cfg.mix.pick(seq);
    let token = cfg.token_for(seq);
    let body = match kind {
        Kind::Get => {
            format!(r#"{{"action":"user/getCurrent","requestId":{seq},"token":"{token}"}}"#)
        }
        Kind::SessionGet => format!(r#"{{"action":"user/getCurrent","requestId":{seq}}}"#),
        Kind::UpdateData => format!(
            r#"{{"action":"user/updateCurrent","requestId":{seq},"token":"{token}","user":{{"data":{{"n":{seq}}}}}}}"#
        ),
        // The same password again, so the account keeps working.
        Kind::UpdatePassword => {
            serde_json::json!({"action": "user/updateCurrent", "requestId": seq,
            "token": token, "user": {"password": password}})
            .to_string()
        }
        Kind::BadLogin => serde_json::json!({"action": "token", "requestId": seq, "login": login,
            "password": format!("wrong-{seq}")})
        .to_string(),
        Kind::List => format!(
            r#"{{"action":"user/list","requestId":{seq},"token":"{token}","take":20,"skip":{}}}"#,
            seq % 50 * 20
        ),
        Kind::Search => format!(
            r#"{{"action":"user/list","requestId":{seq},"token":"{token}","loginPattern":"%{}_9","take":20}}"#,
            seq % 1000
        ),
        Kind::Count => {
            format!(r#"{{"action":"user/count","requestId":{seq},"token":"{token}"}}"#)
        }
    };
    let action = match kind {
        Kind::Get | Kind::SessionGet => "user/getCurrent",
        Kind::UpdateData | Kind::UpdatePassword => "user/updateCurrent",
        Kind::BadLogin => "token",
        Kind::List | Kind::Search => "user/list",
        Kind::Count => "user/count",
    };
    (action.to_string(), body.into_bytes())
}

/// The topics a bench connection reads.
fn answer_topics(login: &str) -> Vec<String> {
    [
        "user/getCurrent",
        "user/updateCurrent",
        "token",
        "user/list",
        "user/count",
        "authenticate",
        "",
    ]
    .iter()
    .map(|a| format!("dh/response/{a}@{login}"))
    .collect()
}

/// Runs a scenario and reports it.
pub async fn run(cfg: &LoadConfig) -> anyhow::Result<Report> {
    let dropped_before = match &cfg.monitor {
        Some(m) => dropped_messages(m).await,
        None => None,
    };
    let shared = Arc::new(Shared {
        ledger: Mutex::new(Ledger::new()?),
        waiters: Arc::new(Mutex::new(HashMap::new())),
    });
    let (clients, readers) = connect_clients(cfg, &shared).await?;
    let start = Instant::now();
    let start_epoch_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    // Always: the report carries the answers of each second (compare's throughput plots).
    shared.lock().track_seconds(start);
    let progress = cfg
        .progress
        .then(|| tokio::spawn(progress_line(Arc::clone(&shared), start)));
    let clients = Arc::new(clients);
    send_all(cfg, &clients, &shared, start).await;
    // Let the last answers arrive.
    let drain_until = Instant::now() + cfg.timeout;
    while shared.lock().pending() > 0 && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await; // late duplicates still count
    if let Some(p) = progress {
        p.abort();
        eprintln!();
    }
    for (client, _) in clients.iter() {
        client.disconnect().await;
    }
    for r in readers {
        r.abort();
    }
    let dropped_after = match &cfg.monitor {
        Some(m) => dropped_messages(m).await,
        None => None,
    };
    let ledger = shared.lock();
    write_files(cfg, &ledger, start, start_epoch_ms)?;
    // A burst has no measured window: its throughput is over the time to the last answer.
    let measured = match cfg.pace {
        Pace::Burst { .. } => ledger.max_latency(),
        _ => cfg.duration,
    };
    Ok(Report::new(
        cfg,
        &ledger,
        measured,
        dropped_before,
        dropped_after,
    ))
}

type Clients = Vec<(Sender, String)>;

/// Where a connection's `authenticate` answer goes.
type AuthSlot = Arc<Mutex<Option<oneshot::Sender<Value>>>>;

/// Connects every load client and starts the tasks that read its answers (and, for
/// resilient clients, reconnect it).
async fn connect_clients(
    cfg: &LoadConfig,
    shared: &Arc<Shared>,
) -> anyhow::Result<(Clients, Vec<tokio::task::JoinHandle<()>>)> {
    let mut clients = Vec::new();
    let mut readers = Vec::new();
    for i in 0..cfg.clients {
        let account = Account {
            broker_url: cfg.broker_url.clone(),
            login: format!("{}{:02}", cfg.client_prefix, cfg.first_client + i),
            password: cfg.client_password.clone(),
        };
        let topics = answer_topics(&account.login);
        let auth: AuthSlot = Arc::new(Mutex::new(None));
        let on_message: OnMessage = {
            let (shared, auth) = (Arc::clone(shared), Arc::clone(&auth));
            Arc::new(move |_topic, payload| settle(&shared, &auth, payload))
        };
        let (client, tasks) =
            transport::open(&account, &topics, cfg.qos.min(1), cfg.resilient, on_message).await?;
        readers.extend(tasks);
        if cfg.mix.needs_session() {
            authenticate(&client, &auth, &account.login, cfg.token_for(i as u64)).await?;
        }
        clients.push((client, account.login));
    }
    Ok((clients, readers))
}

/// Binds the token to the connection's client id (`authenticate`) and waits for the answer.
async fn authenticate(
    client: &Sender,
    auth: &AuthSlot,
    login: &str,
    token: &str,
) -> anyhow::Result<()> {
    let (tx, rx) = oneshot::channel();
    *auth
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tx);
    let body = serde_json::json!({"action": "authenticate", "requestId": AUTH_ID, "token": token});
    client.publish(
        format!("dh/request/{login}"),
        body.to_string().into_bytes(),
        1,
    );
    match tokio::time::timeout(Duration::from_secs(10), rx).await {
        Ok(Ok(json)) if json.get("status").and_then(Value::as_str) == Some("success") => Ok(()),
        Ok(Ok(json)) => anyhow::bail!("{login}: authenticate refused: {json}"),
        _ => anyhow::bail!("{login}: no answer to authenticate within 10 s"),
    }
}

/// The request id of `authenticate`, which is not a measured request.
const AUTH_ID: &str = "bench-auth";

/// Sends the scenario's requests at its pace.
async fn send_all(cfg: &LoadConfig, clients: &Arc<Clients>, shared: &Arc<Shared>, start: Instant) {
    let measure_from = start + cfg.warmup;
    let end = measure_from + cfg.duration;
    match cfg.pace {
        Pace::Closed { in_flight } => {
            let mut loops = Vec::new();
            for c in 0..clients.len() {
                for _ in 0..in_flight {
                    let (clients, shared, cfg) =
                        (Arc::clone(clients), Arc::clone(shared), cfg.clone());
                    loops.push(tokio::spawn(async move {
                        closed_loop(&clients, c, &shared, &cfg, measure_from, end).await;
                    }));
                }
            }
            for l in loops {
                let _ = l.await;
            }
        }
        Pace::Open { rate } => {
            open_loop(clients, shared, cfg, rate, start, measure_from, end).await
        }
        Pace::Burst { count } => {
            for _ in 0..count {
                let seq = shared.lock().send(start, true);
                if let Some((client, login)) = clients.get(seq as usize % clients.len().max(1)) {
                    publish(client, login, cfg, seq);
                }
            }
        }
    }
}

/// Writes the run's seconds and outcomes files, where asked for.
fn write_files(
    cfg: &LoadConfig,
    ledger: &Ledger,
    start: Instant,
    start_epoch_ms: u128,
) -> std::io::Result<()> {
    if let (Some(path), Some(timeline)) = (&cfg.timeline, ledger.timeline()) {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
        write_csv(&mut file, &timeline.stats())?;
        file.flush()?;
    }
    if let Some(path) = &cfg.outcomes {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
        ledger.write_outcomes(&mut file, start, start_epoch_ms)?;
        file.flush()?;
    }
    Ok(())
}

fn settle(shared: &Shared, auth: &AuthSlot, payload: &[u8]) {
    let now = Instant::now();
    let Ok(head) = serde_json::from_slice::<AnswerHead>(payload) else {
        return;
    };
    let Some(seq) = head.request_id.as_u64() else {
        if head.request_id.as_str() == Some(AUTH_ID) {
            let waiter = auth
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let (Some(w), Ok(json)) = (waiter, serde_json::from_slice(payload)) {
                let _ = w.send(json);
            }
        }
        return;
    };
    let first = shared.lock().answer(seq, head.code, now);
    if first {
        let waiter = shared
            .waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&seq);
        if let Some(w) = waiter {
            let _ = w.send(());
        }
    }
}

fn publish(client: &Sender, login: &str, cfg: &LoadConfig, seq: u64) {
    let (_, body) = payload(cfg, seq);
    client.publish(format!("dh/request/{login}"), body, cfg.qos);
}

async fn closed_loop(
    clients: &[(Sender, String)],
    c: usize,
    shared: &Shared,
    cfg: &LoadConfig,
    measure_from: Instant,
    end: Instant,
) {
    let Some((client, login)) = clients.get(c) else {
        return;
    };
    while Instant::now() < end {
        let now = Instant::now();
        let (tx, rx) = oneshot::channel();
        let seq = {
            let mut ledger = shared.lock();
            let seq = ledger.send(now, now >= measure_from);
            shared
                .waiters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(seq, tx);
            seq
        };
        publish(client, login, cfg, seq);
        let _ = tokio::time::timeout(cfg.timeout, rx).await;
    }
}

async fn open_loop(
    clients: &[(Sender, String)],
    shared: &Shared,
    cfg: &LoadConfig,
    rate: f64,
    start: Instant,
    measure_from: Instant,
    end: Instant,
) {
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let mut i: u32 = 0;
    loop {
        let intended = start + interval * i;
        if intended >= end || clients.is_empty() {
            break;
        }
        tokio::time::sleep_until(intended.into()).await;
        let seq = shared.lock().send(intended, intended >= measure_from);
        if let Some((client, login)) = clients.get(seq as usize % clients.len()) {
            publish(client, login, cfg, seq);
        }
        i = i.saturating_add(1);
    }
}

async fn progress_line(shared: Arc<Shared>, start: Instant) {
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let t = shared.lock().totals();
        let answered = t.sent - t.missing;
        eprint!(
            "\r{:>6.1}s  sent {:>8}  answered {:>8}  {:>7}/s   ",
            start.elapsed().as_secs_f64(),
            t.sent,
            answered,
            answered - last
        );
        last = answered;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_and_pick_in_proportion() -> Result<(), String> {
        let mix: Mix = "get=3,update=1".parse()?;
        let picks: Vec<Kind> = (0..4).map(|s| mix.pick(s)).collect();
        assert_eq!(picks, [Kind::Get, Kind::Get, Kind::Get, Kind::UpdateData]);
        assert!("nope=1".parse::<Mix>().is_err());
        assert!("get=0".parse::<Mix>().is_err());
        Ok(())
    }

    /// Every kind's request decodes as its action, and its answer arrives on a topic the
    /// connection reads (a kind whose answer topic is missing only ever times out).
    #[test]
    fn every_kind_is_a_served_request_whose_answer_is_read() -> Result<(), String> {
        let mix: Mix = "get,session,update,password,badlogin,list,search,count".parse()?;
        let cfg = LoadConfig {
            broker_url: String::new(),
            client_prefix: "bench".into(),
            client_password: String::new(),
            first_client: 1,
            clients: 1,
            pace: Pace::Closed { in_flight: 1 },
            duration: Duration::ZERO,
            warmup: Duration::ZERO,
            qos: 1,
            mix,
            token: "t".into(),
            tokens: Vec::new(),
            login: None,
            timeout: Duration::ZERO,
            monitor: None,
            progress: false,
            timeline: None,
            outcomes: None,
            resilient: false,
        };
        let topics = answer_topics("bench01");
        for seq in 0..8 {
            let (action, body) = payload(&cfg, seq);
            let request = crate::protocol::decode(&body, 4096).map_err(|e| e.error.to_string())?;
            assert_eq!(request.action.name(), action, "request {seq}");
            let topic = format!("dh/response/{action}@bench01");
            assert!(topics.contains(&topic), "{topic} is not read");
        }
        Ok(())
    }
}

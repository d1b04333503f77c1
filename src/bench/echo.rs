//! The bare responder: answers every request on `dh/request/+` with a canned success on
//! `dh/response/{action}@{clientId}`, parsing only `action` and `requestId`. Nothing a plugin
//! on this broker does can be faster, so it is the ceiling `compare` measures against.

use paho_mqtt::{AsyncClient, AsyncReceiver, Message};
use serde::Deserialize;
use serde_json::{json, Value};

use super::connection::{connect, Account};
use crate::mqtt::connection_name;

#[derive(Deserialize)]
struct Head {
    action: String,
    #[serde(rename = "requestId", default)]
    request_id: Value,
}

/// Runs until SIGTERM/SIGINT with `connections` connections: the first logs in as the
/// account's login, connection k (from 2) as `{login}-k`, as the service's do, sharing the
/// request subscription when there are several. Each answers on the connection its request
/// came in on, so echo and the service load the broker the same way.
pub async fn run(account: &Account, connections: u16) -> anyhow::Result<()> {
    let topic = match connections {
        1 => "dh/request/+".to_string(),
        _ => "$share/dh-bench-echo/dh/request/+".to_string(),
    };
    let mut clients = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 1..=connections.max(1) {
        let account = Account {
            login: connection_name(&account.login, k),
            ..account.clone()
        };
        let (client, stream) = connect(&account, std::slice::from_ref(&topic), 1).await?;
        tasks.spawn(serve(client.clone(), stream));
        clients.push(client);
    }
    eprintln!(
        "echo: ready on {} ({connections} connections)",
        account.broker_url
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tasks.join_next() => {},
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    for client in clients {
        let _ = client.disconnect(None).await;
    }
    Ok(())
}

/// Answers every request arriving on `stream` through `client`.
async fn serve(client: AsyncClient, stream: AsyncReceiver<Option<Message>>) {
    while let Ok(Some(msg)) = stream.recv().await {
        let Some(client_id) = msg.topic().strip_prefix("dh/request/") else {
            continue;
        };
        let Ok(head) = serde_json::from_slice::<Head>(msg.payload()) else {
            continue;
        };
        let body =
            json!({"action": head.action, "requestId": head.request_id, "status": "success"});
        let topic = format!("dh/response/{}@{client_id}", head.action);
        let qos = (msg.qos() as i32).min(1);
        // Not awaited: the broker's PUBACK is Paho's business, as in the service.
        drop(client.publish(Message::new(topic, body.to_string(), qos)));
    }
}

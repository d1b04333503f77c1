//! The bare responder: answers every request on `dh/request/+` with a canned success on
//! `dh/response/{action}@{clientId}`, parsing only `action` and `requestId`. Nothing a plugin
//! on this broker does can be faster, so it is the ceiling `compare` measures against.

use serde::Deserialize;
use serde_json::{json, Value};

use super::connection::{connect, Account};

#[derive(Deserialize)]
struct Head {
    action: String,
    #[serde(rename = "requestId", default)]
    request_id: Value,
}

/// Runs until SIGTERM/SIGINT.
pub async fn run(account: &Account) -> anyhow::Result<()> {
    let topics = vec!["dh/request/+".to_string()];
    let (client, stream) = connect(account, &topics, 1).await?;
    eprintln!("echo: ready on {}", account.broker_url);
    let serve = async {
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
            drop(client.publish(paho_mqtt::Message::new(topic, body.to_string(), qos)));
        }
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        () = serve => {},
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    let _ = client.disconnect(None).await;
    Ok(())
}

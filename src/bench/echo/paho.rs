//! The echo on Paho, the service's MQTT client (MQTT 5, as the service connects).

use std::future::Future;

use paho_mqtt::{AsyncClient, AsyncReceiver, Message};

use super::answer;
use crate::bench::connection::{connect, Account};

/// Connects and subscribes; the future answers requests until the connection fails.
pub(super) async fn open(
    account: &Account,
    topic: &str,
) -> anyhow::Result<impl Future<Output = anyhow::Result<()>>> {
    let (client, stream) = connect(account, &[topic.to_string()], 1).await?;
    Ok(serve(client, stream))
}

/// Answers every request arriving on `stream` through `client`.
async fn serve(client: AsyncClient, stream: AsyncReceiver<Option<Message>>) -> anyhow::Result<()> {
    while let Ok(Some(msg)) = stream.recv().await {
        let Some((topic, body)) = answer(msg.topic(), msg.payload()) else {
            continue;
        };
        let qos = (msg.qos() as i32).min(1);
        // Not awaited: the broker's PUBACK is Paho's business, as in the service.
        drop(client.publish(Message::new(topic, body, qos)));
    }
    anyhow::bail!("the broker closed the connection")
}

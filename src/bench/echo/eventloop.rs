//! A minimal responder on rumqttc's own event loop (MQTT 3.1.1): what a user of that library
//! would write first. One task per connection polls the loop and queues each answer with
//! `try_publish`, which the same loop then sends.

use std::future::Future;

use rumqttc::{AsyncClient, Event, EventLoop, Packet};

use super::{answer, answer_qos};
use crate::bench::connection::Account;
use crate::bench::transport::connect_rumqttc;

/// Connects and subscribes; the future answers requests until the connection fails.
pub(super) async fn open(
    account: &Account,
    topic: &str,
) -> anyhow::Result<impl Future<Output = anyhow::Result<()>>> {
    let (client, events) = connect_rumqttc(account, &[topic.to_string()], 1).await?;
    Ok(serve(client, events))
}

async fn serve(client: AsyncClient, mut events: EventLoop) -> anyhow::Result<()> {
    loop {
        let event = events.poll().await?;
        let Event::Incoming(Packet::Publish(request)) = event else {
            continue;
        };
        let Some((topic, body)) = answer(&request.topic, &request.payload) else {
            continue;
        };
        let qos = answer_qos(request.qos);
        // The queue outsizes the load, so a full one means the loop has stopped.
        client.try_publish(topic, qos, false, body)?;
    }
}

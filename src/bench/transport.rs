//! The load tool's connections: rumqttc (MQTT 3.1.1) for measuring, Paho for runs that must
//! outlive broker restarts. A load tool that costs more CPU than the broker sets the ceiling
//! itself on a 2-core machine: with Paho, the tool used 46–58 µs of CPU per request, rumqttc
//! less than half of that (docs/PERFORMANCE.md, "The load tool").

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, SubscribeReasonCode};
use tokio::task::JoinHandle;

use super::connection::{connect_with, Account};

/// Answers queued per connection before `publish` fails; far above any load's in flight.
const QUEUE: usize = 65_536;

/// Called with every message a connection receives.
pub type OnMessage = Arc<dyn Fn(&str, &[u8]) + Send + Sync>;

/// The sending side of a load connection.
#[derive(Clone)]
pub enum Sender {
    /// rumqttc's client (the event loop runs in a task of this runtime).
    Rumqttc(AsyncClient),
    /// Paho's client (its own threads).
    Paho(paho_mqtt::AsyncClient),
}

impl Sender {
    /// Queues a publish; its acknowledgement is not awaited (the answer is what is measured).
    pub fn publish(&self, topic: String, body: Vec<u8>, qos: i32) {
        match self {
            Sender::Rumqttc(client) => {
                // A full queue means the connection is gone; the request is counted missing.
                let _ = client.try_publish(topic, to_qos(qos), false, body);
            }
            Sender::Paho(client) => drop(client.publish(paho_mqtt::Message::new(topic, body, qos))),
        }
    }

    /// Ends the connection.
    pub async fn disconnect(&self) {
        match self {
            Sender::Rumqttc(client) => drop(client.try_disconnect()),
            Sender::Paho(client) => drop(client.disconnect(None).await),
        }
    }
}

fn to_qos(qos: i32) -> QoS {
    match qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// Opens one load connection subscribed to `topics`; `on_message` sees what arrives. A
/// `resilient` connection is Paho's (see [`connect_with`]); the others are rumqttc's.
pub async fn open(
    account: &Account,
    topics: &[String],
    qos: i32,
    resilient: bool,
    on_message: OnMessage,
) -> anyhow::Result<(Sender, Vec<JoinHandle<()>>)> {
    if resilient {
        return open_paho(account, topics, qos, on_message).await;
    }
    let (client, mut events) = connect_rumqttc(account, topics, qos).await?;
    let reader = tokio::spawn(async move {
        while let Ok(event) = events.poll().await {
            if let Event::Incoming(Packet::Publish(msg)) = event {
                on_message(&msg.topic, &msg.payload);
            }
        }
    });
    Ok((Sender::Rumqttc(client), vec![reader]))
}

async fn open_paho(
    account: &Account,
    topics: &[String],
    qos: i32,
    on_message: OnMessage,
) -> anyhow::Result<(Sender, Vec<JoinHandle<()>>)> {
    let (client, stream) = connect_with(account, topics, qos, true).await?;
    let reader = tokio::spawn(async move {
        // `None` marks a lost connection; a resilient connection comes back.
        while let Ok(msg) = stream.recv().await {
            if let Some(msg) = msg {
                on_message(msg.topic(), msg.payload());
            }
        }
    });
    // Paho's own reconnect waits 1-2 s; a device that retries sooner shows the service's
    // recovery, not the load tool's.
    let nudged = client.clone();
    let nudger = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if !nudged.is_connected() {
                drop(nudged.reconnect());
            }
        }
    });
    Ok((Sender::Paho(client), vec![reader, nudger]))
}

/// A rumqttc connection (clean session, client id = login) subscribed to `topics`, polled
/// until the broker has granted them; a refused CONNECT or SUBSCRIBE is an error.
pub async fn connect_rumqttc(
    account: &Account,
    topics: &[String],
    qos: i32,
) -> anyhow::Result<(AsyncClient, EventLoop)> {
    let (host, port) = host_and_port(&account.broker_url)?;
    let mut options = MqttOptions::new(&account.login, &host, port);
    options
        .set_credentials(&account.login, &account.password)
        .set_keep_alive(Duration::from_secs(30))
        .set_inflight(u16::MAX)
        .set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut events) = AsyncClient::new(options, QUEUE);
    // rumqttc leaves Nagle on: a small answer then waits for the peer's delayed ACK (40 ms).
    let mut network = events.network_options();
    network.set_tcp_nodelay(true);
    events.set_network_options(network);
    let login = &account.login;
    if topics.is_empty() {
        return Ok((client, events));
    }
    let filters = topics
        .iter()
        .map(|t| rumqttc::SubscribeFilter::new(t.clone(), to_qos(qos)));
    client.subscribe_many(filters).await?;
    let granted = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    return Ok(!ack.return_codes.contains(&SubscribeReasonCode::Failure))
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .with_context(|| format!("{login}: no SUBACK from {} within 10 s", account.broker_url))?
    .with_context(|| format!("{login} cannot connect to {}", account.broker_url))?;
    if !granted {
        bail!("{login} may not subscribe to {topics:?}");
    }
    Ok((client, events))
}

/// `tcp://host:port` → `(host, port)`.
pub fn host_and_port(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url
        .strip_prefix("tcp://")
        .or_else(|| url.strip_prefix("mqtt://"))
        .with_context(|| format!("the load tool needs a tcp:// broker URL, not {url}"))?;
    let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "1883"));
    Ok((host.to_string(), port.parse()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_split_into_host_and_port() -> anyhow::Result<()> {
        assert_eq!(
            host_and_port("tcp://127.0.0.1:18830")?,
            ("127.0.0.1".into(), 18830)
        );
        assert_eq!(host_and_port("tcp://broker")?, ("broker".into(), 1883));
        assert!(host_and_port("ssl://broker:8883").is_err());
        Ok(())
    }
}

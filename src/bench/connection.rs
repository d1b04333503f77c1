//! MQTT connections of the load tool: the same Paho client as the service (Paho C sets
//! TCP_NODELAY), MQTT 5, no persistence, one broker account per connection (the broker binds
//! the client id to the login).

use std::time::Duration;

use anyhow::Context;
use paho_mqtt::{
    AsyncClient, AsyncReceiver, ConnectOptionsBuilder, CreateOptionsBuilder, Message,
    PersistenceType, Properties, PropertyCode, MQTT_VERSION_5,
};

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct Account {
    /// Broker URL.
    pub broker_url: String,
    /// Login, also the client id.
    pub login: String,
    /// Broker password.
    pub password: String,
}

/// Connects and subscribes (QoS `qos`) to `topics`; returns the client and its message stream.
pub async fn connect(
    account: &Account,
    topics: &[String],
    qos: i32,
) -> anyhow::Result<(AsyncClient, AsyncReceiver<Option<Message>>)> {
    connect_with(account, topics, qos, false).await
}

/// Like [`connect`]; a `resilient` connection outlives broker restarts as a device would:
/// a persistent session, requests buffered while disconnected, automatic reconnect and the
/// subscriptions issued again on every reconnect (the broker may have lost the session).
pub async fn connect_with(
    account: &Account,
    topics: &[String],
    qos: i32,
    resilient: bool,
) -> anyhow::Result<(AsyncClient, AsyncReceiver<Option<Message>>)> {
    let mut client = CreateOptionsBuilder::new()
        .server_uri(&account.broker_url)
        .client_id(&account.login)
        .mqtt_version(MQTT_VERSION_5)
        .persistence(PersistenceType::None)
        .send_while_disconnected(resilient)
        .max_buffered_messages(100_000)
        .create_client()?;
    let stream = client.get_stream(None);
    let mut builder = ConnectOptionsBuilder::new_v5();
    builder
        .clean_start(!resilient)
        .user_name(&account.login)
        .password(account.password.as_str())
        .connect_timeout(Duration::from_secs(5))
        .max_inflight(65_535);
    if resilient {
        let mut props = Properties::new();
        props.push_u32(PropertyCode::SessionExpiryInterval, 600)?;
        builder
            .properties(props)
            .automatic_reconnect(Duration::from_secs(1), Duration::from_secs(2));
        let (again, qos) = (topics.to_vec(), qos);
        client.set_connected_callback(move |cli| {
            if !again.is_empty() {
                // Not awaited: this runs on Paho's thread.
                drop(cli.subscribe_many_same_qos(&again, qos));
            }
        });
    }
    let options = builder.finalize();
    client
        .connect(options)
        .await
        .with_context(|| format!("{} cannot connect to {}", account.login, account.broker_url))?;
    if !topics.is_empty() {
        client
            .subscribe_many_same_qos(topics, qos)
            .await
            .with_context(|| format!("{} cannot subscribe", account.login))?;
    }
    Ok((client, stream))
}

/// Reads the broker's `$SYS/broker/publish/messages/dropped` counter, or `None` if the account
/// may not read `$SYS`. Mosquitto 2.0 publishes `$SYS` retained but leaves `dropped` out
/// until it is non-zero, so seeing `uptime` without `dropped` means 0.
pub async fn dropped_messages(account: &Account) -> Option<u64> {
    let dropped = "$SYS/broker/publish/messages/dropped";
    let topics = [dropped.to_string(), "$SYS/broker/uptime".to_string()];
    let (client, stream) = connect(account, &topics, 0).await.ok()?;
    let mut value = None;
    let mut deadline = tokio::time::Instant::now() + Duration::from_secs(12);
    while let Ok(Ok(Some(msg))) = tokio::time::timeout_at(deadline, stream.recv()).await {
        if msg.topic() == dropped {
            value = msg.payload_str().trim().parse().ok();
            break;
        }
        // `uptime` proves access; `dropped`, if retained, arrives with it.
        value = Some(0);
        deadline = deadline.min(tokio::time::Instant::now() + Duration::from_millis(300));
    }
    let _ = client.disconnect(None).await;
    value
}

//! The service's MQTT session (STYLE.md section 4.1, FIELD-NOTES section 7): MQTT 5 so the
//! `dh/request` path sees Response Topic and Correlation Data; a fixed client id with a
//! persistent session so requests queue at the broker while the service restarts; no Paho file
//! persistence (it would write into the working directory); Paho's automatic reconnect, with
//! subscriptions re-issued on every `Connected` because Paho does not restore them.

use std::time::Duration;

use paho_mqtt::{
    AsyncClient, ConnectOptions, ConnectOptionsBuilder, CreateOptionsBuilder, PersistenceType,
    Properties, PropertyCode, MQTT_VERSION_5,
};

use crate::config::Config;
use crate::protocol::topic::REQUEST_TOPIC;

/// Answers Paho buffers while the broker is away (send_while_disconnected).
const MAX_BUFFERED_ANSWERS: i32 = 100_000;
/// Outgoing QoS 1 answers awaiting PUBACK at once.
const MAX_INFLIGHT_ANSWERS: i32 = 1_024;

/// Creates the Paho client (not yet connected).
pub fn create_client(config: &Config) -> Result<AsyncClient, paho_mqtt::Error> {
    CreateOptionsBuilder::new()
        .server_uri(&config.broker_url)
        .client_id(&config.client_id)
        .mqtt_version(MQTT_VERSION_5)
        .persistence(PersistenceType::None)
        .send_while_disconnected(true)
        .max_buffered_messages(MAX_BUFFERED_ANSWERS)
        .create_client()
}

/// Connect options: persistent MQTT 5 session, automatic reconnect with backoff.
pub fn connect_options(config: &Config) -> Result<ConnectOptions, paho_mqtt::Error> {
    let mut props = Properties::new();
    props.push_u32(
        PropertyCode::SessionExpiryInterval,
        config.session_expiry_secs,
    )?;
    let mut builder = ConnectOptionsBuilder::new_v5();
    builder
        .clean_start(false)
        .properties(props)
        .keep_alive_interval(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(5))
        .automatic_reconnect(Duration::from_millis(500), Duration::from_secs(30))
        .max_inflight(MAX_INFLIGHT_ANSWERS);
    if let Some(user) = &config.broker_username {
        builder.user_name(user);
    }
    if let Some(password) = &config.broker_password {
        builder.password(password.expose());
    }
    Ok(builder.finalize())
}

/// The request subscriptions, through the share group when one is configured.
pub fn request_subscriptions(config: &Config) -> Vec<String> {
    let topics = [format!("{REQUEST_TOPIC}/+"), REQUEST_TOPIC.to_string()];
    match &config.share_group {
        Some(group) => topics.map(|t| format!("$share/{group}/{t}")).to_vec(),
        None => topics.to_vec(),
    }
}

//! The service's MQTT session: MQTT 5 so the
//! `dh/request` path sees Response Topic and Correlation Data; a fixed client id with a
//! persistent session so requests queue at the broker while the service restarts; no Paho file
//! persistence (it would write into the working directory); Paho's automatic reconnect, with
//! subscriptions re-issued on every `Connected` because Paho does not restore them.
//!
//! The service may hold several such sessions (`DH_BROKER_CONNECTIONS`) sharing the request
//! subscriptions: Mosquitto 2.0 reads one packet per connection per pass of its event loop, and
//! the service's connection carries half of all the packets it reads (every answer and every
//! request's PUBACK), so one connection is where requests queue first under load.

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

/// The share group used when several connections share the subscriptions and none is set.
pub const DEFAULT_SHARE_GROUP: &str = "dh-mqtt-plugin";

/// Who one of the service's broker connections is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// MQTT client id (the broker replaces it by the user name under
    /// `use_username_as_clientid`).
    pub client_id: String,
    /// Broker user name, if any.
    pub username: Option<String>,
    /// Whether the broker keeps this connection's session (and its queued requests) while
    /// it is away: the keeper's only (see [`keeper_identity`]). Mosquitto keeps queueing a
    /// share of the requests for every offline member of a share group with a session, so
    /// any other persistent connection would strand requests in a session nobody resumes.
    pub persistent: bool,
}

impl Identity {
    /// The name the broker knows the connection by: its user name under
    /// `use_username_as_clientid`, else its client id.
    pub fn broker_name(&self) -> &str {
        self.username.as_deref().unwrap_or(&self.client_id)
    }
}

/// The name of connection `k` (from 1) for a configured client id or broker login `base`:
/// `base` itself for the first, `base-k` for the others. The service, its ACL and
/// `dh-bench echo` all name their connections this way.
pub fn connection_name(base: &str, k: u16) -> String {
    match k {
        1 => base.to_string(),
        _ => format!("{base}-{k}"),
    }
}

/// The connections this instance holds for as long as it runs (see [`connection_name`]), so
/// each has its own broker account and session. Without an instance name the first one is
/// the keeper; a named instance's are `BASE-NAME`, `BASE-NAME-2`, … and all clean.
pub fn identities(config: &Config) -> Vec<Identity> {
    (1..=config.broker_connections)
        .map(|k| {
            let name = |base: &str| match &config.instance {
                Some(instance) => connection_name(&format!("{base}-{instance}"), k),
                None => connection_name(base, k),
            };
            Identity {
                client_id: name(&config.client_id),
                username: config.broker_username.as_deref().map(name),
                persistent: k == 1 && config.instance.is_none(),
            }
        })
        .collect()
}

/// The keeper: the one persistent broker session of a deployment, in the share group like
/// every connection, where requests queue while no instance is connected. Named instances
/// hold it one at a time (`keeper`); an unnamed instance's first connection is it.
pub fn keeper_identity(config: &Config) -> Identity {
    Identity {
        client_id: config.client_id.clone(),
        username: config.broker_username.clone(),
        persistent: true,
    }
}

/// Creates the Paho client of one connection (not yet connected).
pub fn create_client(
    config: &Config,
    identity: &Identity,
) -> Result<AsyncClient, paho_mqtt::Error> {
    CreateOptionsBuilder::new()
        .server_uri(&config.broker_url)
        .client_id(&identity.client_id)
        .mqtt_version(MQTT_VERSION_5)
        .persistence(PersistenceType::None)
        .send_while_disconnected(true)
        .max_buffered_messages(MAX_BUFFERED_ANSWERS)
        .create_client()
}

/// Connect options: MQTT 5 session (persistent for the first connection). Reconnecting is
/// the ingest actor's job, not Paho's (whose schedule counts in whole seconds). With `clean`
/// the broker's session and Paho's unacknowledged publishes are dropped.
pub fn connect_options(
    config: &Config,
    identity: &Identity,
    clean: bool,
) -> Result<ConnectOptions, paho_mqtt::Error> {
    let mut props = Properties::new();
    let expiry = match identity.persistent {
        true => config.session_expiry_secs,
        false => 0,
    };
    props.push_u32(PropertyCode::SessionExpiryInterval, expiry)?;
    let mut builder = ConnectOptionsBuilder::new_v5();
    builder
        .clean_start(clean || !identity.persistent)
        .properties(props)
        .keep_alive_interval(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(5))
        .max_inflight(MAX_INFLIGHT_ANSWERS);
    if let Some(user) = &identity.username {
        builder.user_name(user);
    }
    if let Some(password) = &config.broker_password {
        builder.password(password.expose());
    }
    Ok(builder.finalize())
}

/// The request subscriptions, and the ones to drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriptions {
    /// Subscribed on every connect.
    pub wanted: Vec<String>,
    /// Unsubscribed after that: forms an earlier configuration of the same persistent session
    /// may have left (plain, or shared through the default group). Left in place, the broker
    /// would deliver a request once per form, and it would be executed twice.
    pub stale: Vec<String>,
}

/// The request subscriptions: plain for a single connection, through the share group when
/// one is configured or when several connections share them.
pub fn request_subscriptions(config: &Config) -> Subscriptions {
    let plain = [format!("{REQUEST_TOPIC}/+"), REQUEST_TOPIC.to_string()];
    let shared = |group: &str| {
        plain
            .clone()
            .map(|t| format!("$share/{group}/{t}"))
            .to_vec()
    };
    let group = match (&config.share_group, config.broker_connections) {
        (Some(group), _) => Some(group.as_str()),
        (None, 1) if config.instance.is_none() => None,
        (None, _) => Some(DEFAULT_SHARE_GROUP),
    };
    let wanted = match group {
        Some(group) => shared(group),
        None => plain.to_vec(),
    };
    // Every form this service may have subscribed before, other than the wanted one.
    let stale = [plain.to_vec(), shared(DEFAULT_SHARE_GROUP)]
        .concat()
        .into_iter()
        .filter(|topic| !wanted.contains(topic))
        .collect();
    Subscriptions { wanted, stale }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SettingsArgs;

    /// The resolved settings; `None` (failing the assertions) if they are invalid.
    fn config(connections: u16, user: Option<&str>, group: Option<&str>) -> Option<Config> {
        let args = SettingsArgs {
            broker_connections: Some(connections),
            broker_username: user.map(str::to_string),
            share_group: group.map(str::to_string),
            ..SettingsArgs::default()
        };
        Config::resolve(&args, None).ok()
    }

    fn ids(connections: u16, user: Option<&str>) -> Vec<Identity> {
        config(connections, user, None).map_or_else(Vec::new, |c| identities(&c))
    }

    fn empty() -> Subscriptions {
        Subscriptions {
            wanted: Vec::new(),
            stale: Vec::new(),
        }
    }

    fn subs(connections: u16, group: Option<&str>) -> Option<Subscriptions> {
        config(connections, None, group).map(|c| request_subscriptions(&c))
    }

    #[test]
    fn each_connection_has_its_own_account_and_session() {
        let three = ids(3, Some("dhplugin"));
        let names: Vec<_> = three
            .iter()
            .map(|i| (i.client_id.as_str(), i.username.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("dh-mqtt-plugin", Some("dhplugin")),
                ("dh-mqtt-plugin-2", Some("dhplugin-2")),
                ("dh-mqtt-plugin-3", Some("dhplugin-3")),
            ]
        );
        let persistent: Vec<_> = three.iter().map(|i| i.persistent).collect();
        assert_eq!(persistent, [true, false, false]);
        let named = config(2, Some("dhplugin"), None).map(|mut c| {
            c.instance = Some("b".into());
            (identities(&c), keeper_identity(&c))
        });
        let (named, keeper) = named.unwrap_or_default();
        let names: Vec<_> = named
            .iter()
            .map(|i| (i.client_id.as_str(), i.persistent))
            .collect();
        assert_eq!(
            names,
            [("dh-mqtt-plugin-b", false), ("dh-mqtt-plugin-b-2", false)]
        );
        assert_eq!(
            (keeper.username.as_deref(), keeper.persistent),
            (Some("dhplugin"), true)
        );
        let anonymous = ids(1, None);
        assert_eq!(anonymous.first().map(|i| i.username.clone()), Some(None));
    }

    #[test]
    fn several_connections_share_and_drop_the_plain_subscriptions() {
        let one = subs(1, None).unwrap_or_else(empty);
        assert_eq!(one.wanted, ["dh/request/+", "dh/request"]);
        assert_eq!(
            one.stale,
            [
                "$share/dh-mqtt-plugin/dh/request/+",
                "$share/dh-mqtt-plugin/dh/request"
            ]
        );
        let two = subs(2, None).unwrap_or_else(empty);
        assert_eq!(
            two.wanted,
            [
                "$share/dh-mqtt-plugin/dh/request/+",
                "$share/dh-mqtt-plugin/dh/request"
            ]
        );
        assert_eq!(two.stale, ["dh/request/+", "dh/request"]);
        assert!(subs(9, None).is_none(), "at most 8 connections");
        let grouped = subs(2, Some("g")).unwrap_or_else(empty);
        assert_eq!(
            grouped.wanted,
            ["$share/g/dh/request/+", "$share/g/dh/request"]
        );
        assert_eq!(grouped.stale.len(), 4, "{:?}", grouped.stale);
    }
}

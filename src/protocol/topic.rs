//! Request and response topics (docs/PROTOCOL.md, section 1): the one place that builds a topic
//! the service publishes on.
//!
//! A topic is built only from validated parts: a client id the broker could have given a
//! client, and an action that passes a strict check. Anything else in an action is answered
//! on the sender's error topic `dh/response/@{clientId}` and echoed only inside the JSON.
//! Mosquitto treats a control character or a Unicode non-character in a topic as a malformed
//! packet and drops the publisher's connection; with a persistent session the answer would be
//! resent on every reconnect, so one request could keep the service off the broker.

pub use dh_mqtt_rules::{
    is_safe_text, is_topic_action, is_valid_client_id, MAX_CLIENT_ID_BYTES, MAX_TOPIC_ACTION_BYTES,
    REQUEST_TOPIC, RESPONSE_PREFIX,
};

/// A topic the service may publish on: always `dh/response/{action}@{clientId}` (or the
/// error topic `dh/response/@{clientId}`) built from validated parts. Only this module makes
/// one, so an unvalidated topic cannot reach the publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseTopic(String);

impl ResponseTopic {
    /// The topic text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The topic text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for ResponseTopic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client id that passed [`is_valid_client_id`], so it always forms a response topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// `id` if it can form a response topic nobody else's can match.
    pub fn parse(id: &str) -> Option<ClientId> {
        is_valid_client_id(id).then(|| ClientId(id.to_string()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a request came from, which decides who it may act as and where its answer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestTopic {
    /// `dh/request/{clientId}`: the broker's ACL guarantees the publisher owns `clientId`.
    Verified(ClientId),
    /// `dh/request`: MQTT 5 only, publisher unknown.
    Open,
}

/// The origin of an accepted request: enough to address its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Verified topic; answers go to `dh/response/{action}@{clientId}` and sessions apply.
    Verified { client_id: ClientId },
    /// MQTT 5 topic; the answer goes to the given response topic with the correlation data.
    Open {
        response_topic: ResponseTopic,
        response_action: String,
        correlation: Option<Vec<u8>>,
    },
}

impl Origin {
    /// The client id a session may be kept for (verified topic only).
    pub fn session_key(&self) -> Option<&str> {
        match self {
            Origin::Verified { client_id } => Some(client_id.as_str()),
            Origin::Open { .. } => None,
        }
    }

    /// The topic an answer for `action` goes to.
    pub fn answer_topic(&self, action: &str) -> ResponseTopic {
        match self {
            Origin::Verified { client_id } => response_topic(action, client_id),
            Origin::Open { response_topic, .. } => response_topic.clone(),
        }
    }

    /// A short description for log lines (never the payload).
    pub fn describe(&self) -> String {
        match self {
            Origin::Verified { client_id } => format!("client '{client_id}'"),
            Origin::Open { response_topic, .. } => format!("MQTT 5 request for '{response_topic}'"),
        }
    }
}

/// Classifies a topic the service received a message on.
pub fn classify(topic: &str) -> Option<RequestTopic> {
    if topic == REQUEST_TOPIC {
        return Some(RequestTopic::Open);
    }
    let client_id = topic.strip_prefix(REQUEST_TOPIC)?.strip_prefix('/')?;
    ClientId::parse(client_id).map(RequestTopic::Verified)
}

/// `dh/response/{action}@{clientId}` when the action passes [`is_topic_action`], the error
/// topic `dh/response/@{clientId}` otherwise.
pub fn response_topic(action: &str, client_id: &ClientId) -> ResponseTopic {
    let action = if is_topic_action(action) { action } else { "" };
    ResponseTopic(format!("{RESPONSE_PREFIX}{action}@{client_id}"))
}

/// Splits an MQTT 5 Response Topic of the form `dh/response/{action}@{id}` into the topic
/// and its action. Anything else is refused: the service must never publish outside
/// `dh/response/`, nor on a topic it would not build itself.
pub fn parse_response_topic(topic: &str) -> Option<(ResponseTopic, String)> {
    let rest = topic.strip_prefix(RESPONSE_PREFIX)?;
    // Actions never contain '@', so the first one ends it.
    let (action, id) = rest.split_once('@')?;
    if !is_topic_action(action) {
        return None;
    }
    let rebuilt = response_topic(action, &ClientId::parse(id)?);
    (rebuilt.as_str() == topic).then(|| (rebuilt, action.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Action;

    fn topic(action: &str, id: &str) -> Option<String> {
        ClientId::parse(id).map(|id| response_topic(action, &id).as_str().to_string())
    }

    #[test]
    fn classifies_request_topics() {
        assert_eq!(
            classify("dh/request/dev-1"),
            ClientId::parse("dev-1").map(RequestTopic::Verified)
        );
        assert_eq!(classify("dh/request"), Some(RequestTopic::Open));
        assert_eq!(classify("dh/request/"), None);
        assert_eq!(classify("dh/request/a/b"), None);
        assert_eq!(classify("dh/request/vic@atk"), None);
        assert_eq!(classify("dh/request/a\u{1}"), None);
        assert_eq!(classify("dh/requests"), None);
        assert_eq!(classify("other"), None);
    }

    #[test]
    fn served_actions_name_their_topic() {
        for &action in Action::ALL {
            assert!(is_topic_action(action.name()), "{}", action.name());
        }
        assert_eq!(
            topic("user/getCurrent", "dev").as_deref(),
            Some("dh/response/user/getCurrent@dev")
        );
        assert_eq!(
            topic("user/list", "dev").as_deref(),
            Some("dh/response/user/list@dev")
        );
    }

    #[test]
    fn unsafe_actions_use_the_error_topic() {
        for action in [
            "",
            "x\u{1}y",
            "x\ny",
            "x\u{7f}",
            "x\u{85}",
            "x\u{fdd0}",
            "x\u{ffff}",
            "user/getCurrent@vic",
            "a/+/b",
            "#",
            "a//b",
            "/a",
            "a/",
            "user get",
            "ü",
            &"a".repeat(MAX_TOPIC_ACTION_BYTES + 1),
        ] {
            assert_eq!(
                topic(action, "atk").as_deref(),
                Some("dh/response/@atk"),
                "{action:?}"
            );
        }
    }

    #[test]
    fn unsafe_client_ids_get_no_topic() {
        for id in [
            "",
            "a+b",
            "a#",
            "a/b",
            "vic@atk",
            "a\u{0}",
            "a\u{9f}",
            "a\u{fffe}",
            "a\u{1fffe}",
        ] {
            assert_eq!(topic("user/getCurrent", id), None, "{id:?}");
        }
        assert_eq!(topic("a", &"x".repeat(MAX_CLIENT_ID_BYTES + 1)), None);
        assert!(topic("a", &"x".repeat(MAX_CLIENT_ID_BYTES)).is_some());
        assert!(topic("a", "Gerät-7").is_some());
    }

    #[test]
    fn safe_text_follows_mosquitto() {
        for bad in [
            0x0, 0x1F, 0x7F, 0x9F, 0xFDD0, 0xFDEF, 0xFFFE, 0xFFFF, 0x10FFFF,
        ] {
            let c = char::from_u32(bad).unwrap_or('\0');
            assert!(!is_safe_text(&c.to_string()), "U+{bad:04X}");
        }
        for good in [0x20, 0x7E, 0xA0, 0xFDCF, 0xFDF0, 0xFFFD, 0x10000] {
            let c = char::from_u32(good).unwrap_or('\0');
            assert!(is_safe_text(&c.to_string()), "U+{good:04X}");
        }
    }

    #[test]
    fn parses_only_response_topics_of_the_contract() {
        let parsed = parse_response_topic("dh/response/user/getCurrent@dev");
        assert_eq!(
            parsed.map(|(t, a)| (t.as_str().to_string(), a)),
            Some((
                "dh/response/user/getCurrent@dev".into(),
                "user/getCurrent".into()
            ))
        );
        for refused in [
            "dh/response/@dev",
            "dh/response/x",
            "devices/x@y",
            "dh/response/x@a/b",
            "dh/response/user/getCurrent@vic@atk",
            "dh/response/x\u{1}@dev",
        ] {
            assert_eq!(parse_response_topic(refused), None, "{refused:?}");
        }
    }
}

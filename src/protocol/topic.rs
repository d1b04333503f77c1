//! Request and response topics (PROTOCOL.md section 2).

/// Prefix of every request topic.
pub const REQUEST_TOPIC: &str = "dh/request";
/// Prefix of every response topic.
pub const RESPONSE_PREFIX: &str = "dh/response/";
/// MQTT's limit on a topic's length in bytes.
const MAX_TOPIC_BYTES: usize = 65_535;

/// Where a request came from, which decides who it may act as and where its answer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestTopic {
    /// `dh/request/{clientId}`: the broker's ACL guarantees the publisher owns `clientId`.
    Verified(String),
    /// `dh/request`: MQTT 5 only, publisher unknown.
    Open,
}

/// The origin of an accepted request: enough to address its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Verified topic; answers go to `dh/response/{action}@{clientId}` and sessions apply.
    Verified { client_id: String },
    /// MQTT 5 topic; the answer goes to the given response topic with the correlation data.
    Open {
        response_topic: String,
        response_action: String,
        correlation: Option<Vec<u8>>,
    },
}

impl Origin {
    /// The client id a session may be kept for (verified topic only).
    pub fn session_key(&self) -> Option<&str> {
        match self {
            Origin::Verified { client_id } => Some(client_id),
            Origin::Open { .. } => None,
        }
    }

    /// The topic an answer for `action` goes to, or `None` if no valid topic can be formed.
    pub fn answer_topic(&self, action: &str) -> Option<String> {
        match self {
            Origin::Verified { client_id } => response_topic(action, client_id),
            Origin::Open { response_topic, .. } => Some(response_topic.clone()),
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
    is_valid_client_id(client_id).then(|| RequestTopic::Verified(client_id.to_string()))
}

/// A client id that can form a response topic: not empty, no wildcard, no level separator.
pub fn is_valid_client_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_TOPIC_BYTES && !id.contains(['+', '#', '/', '\0'])
}

/// `dh/response/{action}@{clientId}`, if both parts can form a valid topic.
pub fn response_topic(action: &str, client_id: &str) -> Option<String> {
    if !is_valid_client_id(client_id) || action.contains(['+', '#', '\0']) {
        return None;
    }
    let topic = format!("{RESPONSE_PREFIX}{action}@{client_id}");
    (topic.len() <= MAX_TOPIC_BYTES).then_some(topic)
}

/// Splits an MQTT 5 Response Topic of the form `dh/response/{action}@{id}` into its action.
/// Anything else is refused: the service must never publish outside `dh/response/`.
pub fn parse_response_topic(topic: &str) -> Option<(String, String)> {
    let rest = topic.strip_prefix(RESPONSE_PREFIX)?;
    // Action names never contain '@'; client ids (logins) may, so split at the first one.
    let (action, id) = rest.split_once('@')?;
    let rebuilt = response_topic(action, id)?;
    (rebuilt == topic && !action.is_empty()).then(|| (action.to_string(), id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_request_topics() {
        assert_eq!(
            classify("dh/request/dev-1"),
            Some(RequestTopic::Verified("dev-1".into()))
        );
        assert_eq!(classify("dh/request"), Some(RequestTopic::Open));
        assert_eq!(classify("dh/request/"), None);
        assert_eq!(classify("dh/request/a/b"), None);
        assert_eq!(classify("dh/requests"), None);
        assert_eq!(classify("other"), None);
    }

    #[test]
    fn builds_response_topics() {
        assert_eq!(
            response_topic("user/getCurrent", "dev@home").as_deref(),
            Some("dh/response/user/getCurrent@dev@home")
        );
        assert_eq!(response_topic("", "c").as_deref(), Some("dh/response/@c"));
        assert_eq!(response_topic("a+b", "c"), None);
        assert_eq!(response_topic("a", "c#"), None);
        assert_eq!(response_topic("a", ""), None);
        assert_eq!(response_topic("a", &"x".repeat(70_000)), None);
    }

    #[test]
    fn parses_only_response_topics_of_the_contract() {
        assert_eq!(
            parse_response_topic("dh/response/user/getCurrent@dev@home"),
            Some(("user/getCurrent".into(), "dev@home".into()))
        );
        assert_eq!(parse_response_topic("dh/response/@dev"), None);
        assert_eq!(parse_response_topic("dh/response/x"), None);
        assert_eq!(parse_response_topic("devices/x@y"), None);
        assert_eq!(parse_response_topic("dh/response/x@a/b"), None);
    }
}

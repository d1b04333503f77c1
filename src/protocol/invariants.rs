//! The properties the property tests (`properties.rs`, in CI) and the cargo-fuzz targets
//! (`fuzz/`) check on the decoder and the topic builder. Each returns what is wrong, if
//! anything; nothing here panics.

use serde_json::Value;

use super::topic::{
    is_safe_text, is_topic_action, parse_response_topic, response_topic, ClientId, RESPONSE_PREFIX,
};
use super::{decode, Answer, Body, Origin};

/// The client id the decoder properties address their answers to.
const CLIENT: &str = "dev-1";

/// What is wrong with a topic the service would publish on for `client_id` when answering
/// `action`: it must be under `dh/response/`, hold only text Mosquitto accepts and no
/// wildcard, be the sender's own, and name the action only when the action passes the check.
pub fn topic_fault(topic: &str, action: &str, client_id: &str) -> Option<String> {
    let Some(rest) = topic.strip_prefix(RESPONSE_PREFIX) else {
        return Some("outside dh/response/".into());
    };
    let (named, id) = rest.split_once('@').unwrap_or_default();
    let wanted = if is_topic_action(action) { action } else { "" };
    match () {
        _ if !is_safe_text(topic) => Some("text Mosquitto refuses".into()),
        _ if topic.contains(['+', '#']) => Some("a wildcard".into()),
        _ if id != client_id => Some(format!("another client's topic ({id:?})")),
        _ if named != wanted => Some(format!("action {named:?}, expected {wanted:?}")),
        _ => None,
    }
}

/// The topic builder for any action and client id: a safe topic of the sender's own, and an
/// MQTT 5 Response Topic accepted only when the service would build exactly that topic.
pub fn response_topic_fault(action: &str, id: &str) -> Option<String> {
    if let Some(client) = ClientId::parse(id) {
        let topic = response_topic(action, &client);
        if let Some(fault) = topic_fault(topic.as_str(), action, id) {
            return Some(format!("{topic:?}: {fault}"));
        }
        let parsed = parse_response_topic(topic.as_str());
        if is_topic_action(action) && parsed != Some((topic.clone(), action.to_string())) {
            return Some(format!("{topic:?} does not parse back"));
        }
    }
    let raw = format!("{RESPONSE_PREFIX}{action}@{id}");
    match parse_response_topic(&raw) {
        Some((topic, _)) if topic.as_str() != raw => Some(format!("{raw:?} parsed as {topic:?}")),
        Some((_, named)) => topic_fault(&raw, &named, id).map(|f| format!("{raw:?} accepted: {f}")),
        None => None,
    }
}

/// Any payload decodes to a request or to an error answer, and that answer goes to the
/// sender's own safe topic as JSON.
pub fn answer_fault(payload: &[u8]) -> Option<String> {
    let (action, request_id, result) = match decode(payload, 64 * 1024) {
        Ok(req) => (
            req.action.name().to_string(),
            req.request_id,
            Ok(Body::empty()),
        ),
        Err(failure) => (failure.raw_action, failure.request_id, Err(failure.error)),
    };
    let answer = Answer {
        action: action.clone(),
        request_id,
        result,
    };
    let client_id = ClientId::parse(CLIENT)?;
    let out = answer.address(&Origin::Verified { client_id }, 1);
    if let Some(fault) = topic_fault(out.topic.as_str(), &action, CLIENT) {
        return Some(format!("{:?}: {fault}", out.topic));
    }
    match serde_json::from_slice::<Value>(&out.payload) {
        Ok(_) => None,
        Err(e) => Some(format!("the answer is not JSON: {e}")),
    }
}

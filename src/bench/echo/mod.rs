//! The bare responder: answers every request on `dh/request/+` with a canned success on
//! `dh/response/{action}@{clientId}`, parsing only `action` and `requestId`. It is the ceiling
//! `compare` measures the service against, so it must be as fast as a responder can be on
//! this broker: anything it wastes flatters the service.
//!
//! Three engines, so that claim can be checked in one run (`compare`'s C1): `paho`, the
//! default (the service's client and its patched Paho C, which reads ahead: the fastest
//! since); `rumqttc` (a minimal responder on rumqttc's event loop, every connection polled by
//! one thread); and `codec` (rumqttc's packet codec on a blocking socket, a thread per
//! connection, every packet a read brought answered in one write).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::connection::Account;
use crate::mqtt::connection_name;
use crate::protocol::topic::is_topic_action;

mod codec;
mod eventloop;
mod paho;

/// Which responder `dh-bench echo` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// A minimal responder on rumqttc's event loop (the least CPU per request).
    Rumqttc,
    /// rumqttc's packet codec on a blocking socket, a thread per connection.
    Codec,
    /// Paho, the service's MQTT client (the default, the fastest measured).
    Paho,
}

impl Engine {
    /// `dh-bench echo`'s engine when none is given: the fastest, or within 3 % of it, in every
    /// recorded run since Paho C reads ahead (docs/PERFORMANCE.md, "C1: the echo engine").
    pub const DEFAULT: Engine = Engine::Paho;

    /// The engine's name, as `--engine` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Codec => "codec",
            Engine::Rumqttc => "rumqttc",
            Engine::Paho => "paho",
        }
    }
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(rename = "requestId", default, borrow)]
    request_id: Option<&'a RawValue>,
}

/// The answer topic and body for a request that arrived on `topic`, or `None` for anything
/// that is not a request on `dh/request/{clientId}` with an action that can be a topic level
/// (publishing on a topic with `+` or `#` would cost the responder its connection).
fn answer(topic: &str, payload: &[u8]) -> Option<(String, String)> {
    let client_id = topic.strip_prefix("dh/request/")?;
    let head: Head = serde_json::from_slice(payload).ok()?;
    let action = head.action.as_ref();
    if !is_topic_action(action) {
        return None;
    }
    let id = head.request_id.map_or("null", RawValue::get);
    // A topic action is letters, digits and '/', so it needs no JSON escaping.
    let body = format!(r#"{{"action":"{action}","requestId":{id},"status":"success"}}"#);
    Some((format!("dh/response/{action}@{client_id}"), body))
}

/// The QoS of an answer: the request's, at most 1 (as the service answers).
fn answer_qos(request: rumqttc::QoS) -> rumqttc::QoS {
    match request {
        rumqttc::QoS::AtMostOnce => rumqttc::QoS::AtMostOnce,
        _ => rumqttc::QoS::AtLeastOnce,
    }
}

/// The request subscription: shared when there are several connections.
fn request_topic(connections: u16) -> String {
    match connections {
        0 | 1 => "dh/request/+".to_string(),
        _ => "$share/dh-bench-echo/dh/request/+".to_string(),
    }
}

/// The account of connection `k` (from 1): the login, then `{login}-k`, as the service's.
fn connection_account(account: &Account, k: u16) -> Account {
    Account {
        login: connection_name(&account.login, k),
        ..account.clone()
    }
}

/// Runs until SIGTERM/SIGINT (or a connection is lost) with `connections` connections, each
/// answering on the connection its request came in on, so echo and the service load the
/// broker the same way.
pub async fn run(account: &Account, connections: u16, engine: Engine) -> anyhow::Result<()> {
    let connections = connections.max(1);
    let topic = request_topic(connections);
    let mut tasks = tokio::task::JoinSet::new();
    for k in 1..=connections {
        let account = connection_account(account, k);
        match engine {
            Engine::Rumqttc => tasks.spawn(eventloop::open(&account, &topic).await?),
            Engine::Codec => tasks.spawn(codec::open(&account, &topic)?),
            Engine::Paho => tasks.spawn(paho::open(&account, &topic).await?),
        };
    }
    eprintln!(
        "echo: ready on {} ({connections} connections, {} engine)",
        account.broker_url,
        engine.name()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        ended = tasks.join_next() => {
            if let Some(Ok(Err(e))) = ended {
                return Err(e.context("echo lost a connection"));
            }
        },
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_carry_the_action_and_the_request_id_verbatim() {
        let got = answer(
            "dh/request/bench01",
            br#"{"action":"user/getCurrent","requestId":{"a":[1,"x"]},"token":"t"}"#,
        );
        let (topic, body) = got.unwrap_or_default();
        assert_eq!(topic, "dh/response/user/getCurrent@bench01");
        assert_eq!(
            body,
            r#"{"action":"user/getCurrent","requestId":{"a":[1,"x"]},"status":"success"}"#
        );
        let (_, body) = answer("dh/request/b", br#"{"action":"token"}"#).unwrap_or_default();
        assert_eq!(
            body,
            r#"{"action":"token","requestId":null,"status":"success"}"#
        );
    }

    #[test]
    fn requests_that_cannot_be_answered_on_a_topic_are_skipped() {
        for (topic, payload) in [
            ("dh/request/b", &br#"{"action":"a/#"}"#[..]),
            ("dh/request/b", br#"{"action":"a+b"}"#),
            ("dh/request/b", br#"{"action":""}"#),
            ("dh/request/b", b"not json"),
            ("dh/other/b", br#"{"action":"token"}"#),
        ] {
            assert_eq!(answer(topic, payload), None, "{payload:?}");
        }
    }
}

//! Which received messages become requests, and where their answers go (docs/PROTOCOL.md,
//! section 1): plain functions over what a publish carries, so the rules are unit-tested
//! without a broker. The ingest actor calls them and counts and logs each refusal.

use super::topic::{classify, parse_response_topic, RequestTopic};
use super::Origin;
use crate::logging::excerpt;

/// What a received publish carries that decides whether it is a request.
#[derive(Debug, Clone, Copy)]
pub struct Publish<'a> {
    /// Its topic.
    pub topic: &'a str,
    /// Whether it was retained.
    pub retained: bool,
    /// Its MQTT 5 Response Topic, if any.
    pub response_topic: Option<&'a str>,
    /// Its MQTT 5 Correlation Data, if any.
    pub correlation: Option<&'a [u8]>,
}

/// Why a publish is not executed; none of them gets an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Retained: every resubscribe would replay it.
    Retained,
    /// Not a request topic, or a client id that cannot form a safe answer topic.
    NotARequest,
    /// On `dh/request` without a Response Topic: nowhere to answer.
    Unanswerable,
    /// A Response Topic the service would not build itself.
    ForeignResponseTopic,
    /// A Response Topic naming another action than the payload's.
    ActionMismatch,
}

impl Refusal {
    /// A log line for it (client text cut to a short excerpt).
    pub fn describe(&self, publish: &Publish<'_>, action: &str) -> String {
        let topic = excerpt(publish.topic);
        let response = excerpt(publish.response_topic.unwrap_or_default());
        match self {
            Refusal::Retained => format!("ignored a retained request on '{topic}'"),
            Refusal::NotARequest => format!(
                "ignored a message on '{topic}': not a request topic, or a client id that cannot form a safe answer topic"
            ),
            Refusal::Unanswerable => {
                "dropped a request on 'dh/request' without a Response Topic".to_string()
            }
            Refusal::ForeignResponseTopic => format!(
                "refused a request whose Response Topic '{response}' is outside dh/response/{{action}}@{{id}}"
            ),
            Refusal::ActionMismatch => format!(
                "refused an MQTT 5 request: its Response Topic '{response}' names another action than its payload's '{}'",
                excerpt(action)
            ),
        }
    }
}

/// The origin of a publish that is a request, or why it is not one.
pub fn accept(publish: &Publish<'_>) -> Result<Origin, Refusal> {
    if publish.retained {
        return Err(Refusal::Retained);
    }
    match classify(publish.topic).ok_or(Refusal::NotARequest)? {
        RequestTopic::Verified(client_id) => Ok(Origin::Verified { client_id }),
        RequestTopic::Open => {
            let topic = publish.response_topic.ok_or(Refusal::Unanswerable)?;
            let (response_topic, response_action) =
                parse_response_topic(topic).ok_or(Refusal::ForeignResponseTopic)?;
            Ok(Origin::Open {
                response_topic,
                response_action,
                correlation: publish.correlation.map(<[u8]>::to_vec),
            })
        }
    }
}

/// On the MQTT 5 topic the Response Topic must name the payload's action (else anyone could
/// have the service publish any answer on any client's topic); the verified topic names none.
pub fn check_action(origin: &Origin, action: &str) -> Result<(), Refusal> {
    match origin {
        Origin::Open {
            response_action, ..
        } if response_action != action => Err(Refusal::ActionMismatch),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish<'a>(topic: &'a str, retained: bool, response: Option<&'a str>) -> Publish<'a> {
        Publish {
            topic,
            retained,
            response_topic: response,
            correlation: Some(b"c"),
        }
    }

    #[test]
    fn verified_topics_are_requests_of_their_client() {
        let origin = accept(&publish("dh/request/dev-1", false, None));
        assert_eq!(
            origin
                .ok()
                .and_then(|o| o.session_key().map(str::to_string)),
            Some("dev-1".into())
        );
    }

    #[test]
    fn retained_and_foreign_messages_are_refused() {
        let refused = |p: Publish<'_>| accept(&p).err();
        assert_eq!(
            refused(publish("dh/request/dev-1", true, None)),
            Some(Refusal::Retained)
        );
        assert_eq!(
            refused(publish("dh/request/a/b", false, None)),
            Some(Refusal::NotARequest)
        );
        assert_eq!(
            refused(publish("dh/request/vic@atk", false, None)),
            Some(Refusal::NotARequest)
        );
        assert_eq!(
            refused(publish("dh/request", false, None)),
            Some(Refusal::Unanswerable)
        );
        for foreign in [
            "devices/x",
            "dh/response/@x",
            "dh/response/a@b/c",
            "dh/response/x\u{1}@y",
        ] {
            assert_eq!(
                refused(publish("dh/request", false, Some(foreign))),
                Some(Refusal::ForeignResponseTopic),
                "{foreign}"
            );
        }
    }

    #[test]
    fn mqtt5_requests_answer_on_their_response_topic_for_their_own_action() {
        let Ok(origin) = accept(&publish("dh/request", false, Some("dh/response/token@x"))) else {
            unreachable!("a valid MQTT 5 request");
        };
        assert_eq!(
            origin.session_key(),
            None,
            "no session on the unverified topic"
        );
        assert!(matches!(&origin, Origin::Open { correlation: Some(c), .. } if c == b"c"));
        assert_eq!(check_action(&origin, "token"), Ok(()));
        assert_eq!(
            check_action(&origin, "user/getCurrent"),
            Err(Refusal::ActionMismatch)
        );
        let verified = accept(&publish("dh/request/x", false, None));
        assert_eq!(verified.map(|o| check_action(&o, "anything")), Ok(Ok(())));
    }
}

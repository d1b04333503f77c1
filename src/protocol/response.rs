//! Building answers (docs/PROTOCOL.md) and the message that carries them.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::request::RequestId;
use super::topic::ResponseTopic;
use super::user_view::{CurrentView, UserView};
use super::Origin;
use crate::error::ServiceError;

/// An answer before it is addressed: success fields or an error.
#[derive(Debug)]
pub struct Answer {
    /// The action name echoed back (the raw text for unknown actions).
    pub action: String,
    /// The request id echoed back.
    pub request_id: RequestId,
    /// Result fields on success, the error otherwise.
    pub result: Result<Body, ServiceError>,
}

/// The fields a success adds after `status`.
#[derive(Debug)]
pub enum Body {
    /// Named fields (token pairs; none for a bare success).
    Fields(Map<String, Value>),
    /// `user/getCurrent`'s `current`, written straight into the bytes (the hot path: no
    /// `Value` tree is built for it).
    Current(Box<UserView>),
}

impl Body {
    /// A success with no fields.
    pub fn empty() -> Body {
        Body::Fields(Map::new())
    }
}

impl Body {
    /// A success with one field.
    pub fn field<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Body, ServiceError> {
        let value = serde_json::to_value(value).map_err(|e| {
            log::error!(target: "dh::protocol", "answer field {key}: {e}");
            ServiceError::Internal
        })?;
        let mut fields = Map::new();
        fields.insert(key.to_string(), value);
        Ok(Body::Fields(fields))
    }
}

impl From<Map<String, Value>> for Body {
    fn from(fields: Map<String, Value>) -> Body {
        Body::Fields(fields)
    }
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(None)?;
        out.serialize_entry("action", &self.action)?;
        out.serialize_entry("requestId", &self.request_id)?;
        match &self.result {
            Ok(body) => {
                out.serialize_entry("status", "success")?;
                match body {
                    Body::Fields(fields) => {
                        for (key, value) in fields {
                            out.serialize_entry(key, value)?;
                        }
                    }
                    Body::Current(current) => {
                        out.serialize_entry("current", &CurrentView(current))?
                    }
                }
            }
            Err(err) => {
                out.serialize_entry("status", "error")?;
                out.serialize_entry("code", &err.code())?;
                out.serialize_entry("error", &err.to_string())?;
            }
        }
        out.end()
    }
}

impl Answer {
    /// The JSON payload: `{"action","requestId","status",…}`, written straight from the
    /// answer (no intermediate `Value` tree, no copy of the result fields).
    #[expect(
        clippy::expect_used,
        reason = "string keys and JSON values into a Vec cannot fail; an empty payload would be a silent non-answer"
    )]
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an answer serializes")
    }
    /// Addresses the answer for `origin`.
    pub fn address(&self, origin: &Origin, request_qos: i32) -> Outgoing {
        let topic = origin.answer_topic(&self.action);
        let correlation = match origin {
            Origin::Open { correlation, .. } => correlation.clone(),
            Origin::Verified { .. } => None,
        };
        Outgoing {
            topic,
            qos: request_qos.clamp(0, 1),
            correlation,
            payload: self.to_bytes(),
        }
    }
}

/// A message ready for the publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Always under `dh/response/`, built from validated parts.
    pub topic: ResponseTopic,
    /// The request's QoS, at most 1.
    pub qos: i32,
    /// MQTT 5 correlation data, echoed byte for byte.
    pub correlation: Option<Vec<u8>>,
    /// The JSON answer.
    pub payload: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_id(id: &str) -> RequestId {
        let payload = format!(r#"{{"action":"token","requestId":{id}}}"#);
        crate::protocol::decode(payload.as_bytes(), 1024)
            .map(|r| r.request_id)
            .unwrap_or_default()
    }

    #[test]
    fn error_answer_has_protocol_shape() {
        let answer = Answer {
            action: "user/getCurrent".into(),
            request_id: decode_id("7"),
            result: Err(ServiceError::Unauthorized),
        };
        assert_eq!(
            String::from_utf8(answer.to_bytes()).unwrap_or_default(),
            r#"{"action":"user/getCurrent","requestId":7,"status":"error","code":401,"error":"Unauthorized"}"#
        );
    }

    #[test]
    fn addresses_verified_and_mqtt5_origins() {
        let answer = Answer {
            action: "authenticate".into(),
            request_id: RequestId::NONE,
            result: Ok(Body::empty()),
        };
        let Some(client_id) = super::super::topic::ClientId::parse("dev") else {
            unreachable!("a valid client id");
        };
        let out = answer.address(&Origin::Verified { client_id }, 2);
        assert_eq!(
            (out.topic.as_str(), out.qos),
            ("dh/response/authenticate@dev", 1)
        );
        let Some((response_topic, response_action)) =
            super::super::topic::parse_response_topic("dh/response/authenticate@x")
        else {
            unreachable!("a valid response topic");
        };
        let open = Origin::Open {
            response_topic,
            response_action,
            correlation: Some(vec![0, 255]),
        };
        let out = answer.address(&open, 0);
        assert_eq!(out.correlation, Some(vec![0, 255]));
    }
}

//! Decoding a request payload (docs/PROTOCOL.md).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Action;
use crate::error::ServiceError;
use crate::secret::Secret;

/// A decoded request of a served action.
#[derive(Debug)]
pub struct Request {
    /// The action to perform.
    pub action: Action,
    /// Echoed back as-is; `null` when absent.
    pub request_id: RequestId,
    /// An access token for this one request; wins over a session.
    pub token: Option<Secret>,
    /// The action's own fields: the request object without `action`, `requestId` and
    /// `token`.
    pub body: Map<String, Value>,
}

/// A request that cannot be served, with what is known for addressing the error answer.
#[derive(Debug, PartialEq)]
pub struct DecodeFailure {
    /// The `action` text if there was one (names the response topic); empty when absent.
    pub raw_action: String,
    /// The request id if it could be read.
    pub request_id: RequestId,
    /// The answer to give.
    pub error: ServiceError,
}

/// A request's `requestId` exactly as the client wrote it, so that it is echoed byte for
/// byte (a number beyond `f64` precision included); `null` when absent.
#[derive(Debug, Clone, Default)]
pub struct RequestId(Option<Box<RawValue>>);

impl RequestId {
    /// No `requestId` (echoed as `null`).
    pub const NONE: RequestId = RequestId(None);

    /// The JSON text echoed back.
    pub fn raw(&self) -> &str {
        self.0.as_deref().map_or("null", RawValue::get)
    }

    /// The id as a JSON value (for tests and comparisons; numbers may lose precision).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.raw()).unwrap_or(Value::Null)
    }
}

impl PartialEq for RequestId {
    fn eq(&self, other: &RequestId) -> bool {
        self.raw() == other.raw()
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(raw) => raw.serialize(serializer),
            None => serializer.serialize_unit(),
        }
    }
}

/// Decodes a payload of at most `max_bytes` bytes.
pub fn decode(payload: &[u8], max_bytes: usize) -> Result<Request, Box<DecodeFailure>> {
    let fail = |raw_action: String, request_id: RequestId, error| {
        Box::new(DecodeFailure {
            raw_action,
            request_id,
            error,
        })
    };
    if payload.len() > max_bytes {
        return Err(fail(
            String::new(),
            RequestId::NONE,
            ServiceError::MalformedJson,
        ));
    }
    let Ok(Envelope {
        action,
        request_id,
        token,
        body,
    }) = serde_json::from_slice::<Envelope>(payload)
    else {
        return Err(fail(
            String::new(),
            RequestId::NONE,
            ServiceError::MalformedJson,
        ));
    };
    let request_id = RequestId(request_id);
    let Some(Value::String(raw_action)) = action else {
        return Err(fail(
            String::new(),
            request_id,
            ServiceError::ActionRequired,
        ));
    };
    let Some(action) = Action::from_name(&raw_action) else {
        let error = ServiceError::IllegalAction(raw_action.clone());
        return Err(fail(raw_action, request_id, error));
    };
    let token = match token {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) => Some(Secret::new(token)),
        Some(_) => {
            let error = ServiceError::field("token", "a string");
            return Err(fail(raw_action, request_id, error));
        }
    };
    let nul_field = match &token {
        Some(t) if t.expose().contains('\0') => Some("token".to_string()),
        _ => field_with_nul(&body, ""),
    };
    if let Some(field) = nul_field {
        let error = ServiceError::field(&field, "text without NUL characters");
        return Err(fail(raw_action, request_id, error));
    }
    Ok(Request {
        action,
        request_id,
        token,
        body,
    })
}

/// The path of the first string field holding a NUL character, if any. PostgreSQL refuses
/// NUL in text (a query error), SQLite stores it; both are refused here, before any query.
/// `data` is skipped: it is stored as JSON text, where a NUL is the escape `\u0000`.
fn field_with_nul(fields: &Map<String, Value>, prefix: &str) -> Option<String> {
    fields.iter().find_map(|(key, value)| {
        let path = match prefix {
            "" => key.clone(),
            _ => format!("{prefix}.{key}"),
        };
        match value {
            _ if key == "data" => None,
            Value::String(text) if text.contains('\0') || key.contains('\0') => Some(path),
            Value::Object(inner) => field_with_nul(inner, &path),
            _ => None,
        }
    })
}

/// A request object read in one pass: the three fields every request may carry picked out,
/// the action's own fields kept in `body`. (Reading the whole object into a `Value` and then
/// looking the three up cost a hashed ordered-map insert and a key allocation per field.)
/// A repeated key keeps its last value, as `serde_json`'s own maps do.
struct Envelope {
    action: Option<Value>,
    request_id: Option<Box<RawValue>>,
    token: Option<Value>,
    body: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Envelope, D::Error> {
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Envelope, M::Error> {
        let mut envelope = Envelope {
            action: None,
            request_id: None,
            token: None,
            body: Map::new(),
        };
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Action => envelope.action = Some(map.next_value()?),
                Key::RequestId => envelope.request_id = Some(map.next_value()?),
                Key::Token => envelope.token = Some(map.next_value()?),
                Key::Other(name) => {
                    envelope.body.insert(name, map.next_value()?);
                }
            }
        }
        Ok(envelope)
    }
}

/// A key of the request object; only the action's own keys are allocated.
enum Key {
    Action,
    RequestId,
    Token,
    Other(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
        Ok(match name {
            "action" => Key::Action,
            "requestId" => Key::RequestId,
            "token" => Key::Token,
            other => Key::Other(other.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failure(payload: &str) -> DecodeFailure {
        match decode(payload.as_bytes(), 1024) {
            Err(failure) => *failure,
            Ok(req) => unreachable!("decoded {:?}", req.action),
        }
    }

    #[test]
    fn decodes_a_request() -> Result<(), String> {
        let req = decode(
            br#"{"action":"user/getCurrent","requestId":{"a":1},"token":"t"}"#,
            1024,
        )
        .map_err(|e| e.error.to_string())?;
        assert_eq!(req.action, Action::GetCurrentUser);
        assert_eq!(req.request_id.to_value(), json!({"a": 1}));
        assert_eq!(req.token.as_ref().map(Secret::expose), Some("t"));
        assert!(
            !req.body.contains_key("token"),
            "the token is taken out of the body"
        );
        Ok(())
    }

    #[test]
    fn keeps_the_actions_own_fields_and_the_last_of_repeated_keys() -> Result<(), String> {
        let req = decode(
            br#"{"act\u0069on":"token","login":"a","requestId":1,"requestId":2,"payload":{"x":[1]}}"#,
            1024,
        )
        .map_err(|e| e.error.to_string())?;
        assert_eq!(req.action, Action::Token, "an escaped key is still the key");
        assert_eq!(req.request_id.raw(), "2");
        assert_eq!(
            Value::Object(req.body),
            json!({"login": "a", "payload": {"x": [1]}})
        );
        Ok(())
    }

    #[test]
    fn refuses_nul_in_text_fields_but_not_in_data() {
        let cases = [
            (
                r#"{"action":"token","login":"a\u0000b","password":"x"}"#,
                "login",
            ),
            (r#"{"action":"authenticate","token":"t\u0000"}"#, "token"),
            (
                r#"{"action":"user/updateCurrent","user":{"password":"\u0000abcdef"}}"#,
                "user.password",
            ),
        ];
        for (payload, field) in cases {
            assert_eq!(
                failure(payload).error,
                ServiceError::field(field, "text without NUL characters"),
                "{payload}"
            );
        }
        let data = br#"{"action":"user/updateCurrent","user":{"data":{"k":"\u0000"}}}"#;
        assert!(decode(data, 1024).is_ok());
    }

    #[test]
    fn echoes_request_ids_byte_for_byte() -> Result<(), String> {
        for id in [
            "18446744073709551616",
            "1.0e5",
            "-0",
            "123456789012345678901234567890.5",
            r#""\u0041\n""#,
            r#"{"b":1,"a":[1.50]}"#,
            "null",
        ] {
            let payload = format!(r#"{{"action":"user/getCurrent","requestId":{id}}}"#);
            let req = decode(payload.as_bytes(), 1024).map_err(|e| e.error.to_string())?;
            assert_eq!(req.request_id.raw(), id);
            let unknown = format!(r#"{{"action":"nope","requestId":{id}}}"#);
            assert_eq!(failure(&unknown).request_id.raw(), id);
        }
        let absent = decode(br#"{"action":"token"}"#, 1024).map_err(|e| e.error.to_string())?;
        assert_eq!(absent.request_id.raw(), "null");
        Ok(())
    }

    #[test]
    fn refuses_bad_payloads_with_protocol_errors() {
        assert_eq!(failure("nope").error, ServiceError::MalformedJson);
        assert_eq!(failure("[1]").error, ServiceError::MalformedJson);
        let big = format!(
            r#"{{"action":"user/getCurrent","x":"{}"}}"#,
            "a".repeat(2000)
        );
        assert_eq!(failure(&big).error, ServiceError::MalformedJson);
        let missing = failure(r#"{"requestId":5}"#);
        assert_eq!(
            (missing.error, missing.request_id.to_value()),
            (ServiceError::ActionRequired, json!(5))
        );
        assert_eq!(
            failure(r#"{"action":7}"#).error,
            ServiceError::ActionRequired
        );
        let unknown = failure(r#"{"action":"user/search"}"#);
        assert_eq!(unknown.raw_action, "user/search");
        assert_eq!(
            unknown.error,
            ServiceError::IllegalAction("user/search".into())
        );
        assert_eq!(
            failure(r#"{"action":"authenticate","token":5}"#).error,
            ServiceError::field("token", "a string")
        );
    }
}

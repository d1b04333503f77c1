//! Decoding a request payload (PROTOCOL.md section 3).

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
    pub request_id: Value,
    /// An access token for this one request; wins over a session.
    pub token: Option<Secret>,
    /// The whole request object, for the action's own fields.
    pub body: Map<String, Value>,
}

/// A request that cannot be served, with what is known for addressing the error answer.
#[derive(Debug, PartialEq)]
pub struct DecodeFailure {
    /// The `action` text if there was one (names the response topic); empty when absent.
    pub raw_action: String,
    /// The request id if it could be read.
    pub request_id: Value,
    /// The answer to give.
    pub error: ServiceError,
}

/// Decodes a payload of at most `max_bytes` bytes.
pub fn decode(payload: &[u8], max_bytes: usize) -> Result<Request, Box<DecodeFailure>> {
    let fail = |raw_action: String, request_id: Value, error| {
        Box::new(DecodeFailure {
            raw_action,
            request_id,
            error,
        })
    };
    if payload.len() > max_bytes {
        return Err(fail(
            String::new(),
            Value::Null,
            ServiceError::MalformedJson,
        ));
    }
    let mut body = match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(fail(
                String::new(),
                Value::Null,
                ServiceError::MalformedJson,
            ))
        }
    };
    let request_id = body.get("requestId").cloned().unwrap_or(Value::Null);
    let raw_action = match body.get("action") {
        Some(Value::String(action)) => action.clone(),
        _ => {
            return Err(fail(
                String::new(),
                request_id,
                ServiceError::ActionRequired,
            ))
        }
    };
    let Some(action) = Action::from_name(&raw_action) else {
        let error = ServiceError::IllegalAction(raw_action.clone());
        return Err(fail(raw_action, request_id, error));
    };
    let token = match body.remove("token") {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) => Some(Secret::new(token)),
        Some(_) => {
            let error = ServiceError::field("token", "a string");
            return Err(fail(raw_action, request_id, error));
        }
    };
    Ok(Request {
        action,
        request_id,
        token,
        body,
    })
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
        assert_eq!(req.request_id, json!({"a": 1}));
        assert_eq!(req.token.as_ref().map(Secret::expose), Some("t"));
        assert!(
            !req.body.contains_key("token"),
            "the token is taken out of the body"
        );
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
            (missing.error, missing.request_id),
            (ServiceError::ActionRequired, json!(5))
        );
        assert_eq!(
            failure(r#"{"action":7}"#).error,
            ServiceError::ActionRequired
        );
        let unknown = failure(r#"{"action":"user/list"}"#);
        assert_eq!(unknown.raw_action, "user/list");
        assert_eq!(
            unknown.error,
            ServiceError::IllegalAction("user/list".into())
        );
        assert_eq!(
            failure(r#"{"action":"authenticate","token":5}"#).error,
            ServiceError::field("token", "a string")
        );
    }
}

//! The bodies of `token`, `token/refresh` and `token/create` (as the DeviceHive server does).

use chrono::{DateTime, NaiveDateTime};
use serde_json::{Map, Value};

use crate::auth::permission::action_id;
use crate::error::ServiceError;
use crate::secret::Secret;

/// `token`: a login attempt.
#[derive(Debug)]
pub struct LoginRequest {
    /// Exact login (not trimmed, as DeviceHive).
    pub login: String,
    /// The password to check.
    pub password: Secret,
}

/// Reads `{login, password}`; blank or missing fields are refused before any lookup.
pub fn parse_login(body: &Map<String, Value>) -> Result<LoginRequest, ServiceError> {
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    match (text("login"), text("password")) {
        (Some(login), Some(password)) if !login.trim().is_empty() && !password.is_empty() => {
            Ok(LoginRequest {
                login: login.to_string(),
                password: Secret::new(password),
            })
        }
        _ => Err(ServiceError::InvalidLoginRequest),
    }
}

/// Reads `{refreshToken}`.
pub fn parse_refresh(body: &Map<String, Value>) -> Result<Secret, ServiceError> {
    match body.get("refreshToken").and_then(Value::as_str) {
        Some(token) if !token.is_empty() => Ok(Secret::new(token)),
        _ => Err(ServiceError::MissingPayload),
    }
}

/// `token/create`: what the new pair should carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    /// Whose tokens.
    pub user_id: i64,
    /// Action ids; DeviceHive grants NONE (`[1]`) when absent, the CLIENT set for `[]`.
    pub actions: Option<Vec<i64>>,
    /// Network ids as strings, `"*"` allowed; `None` grants no networks.
    pub networks: Option<Vec<String>>,
    /// Device-type ids as strings, `"*"` allowed.
    pub device_types: Option<Vec<String>>,
    /// Access expiry in epoch ms.
    pub expiration_ms: Option<i64>,
    /// Refresh expiry in epoch ms (inherits `expiration_ms` when absent).
    pub refresh_expiration_ms: Option<i64>,
}

/// Reads `{payload: {userId, actions, networkIds, deviceTypeIds, expiration, refreshExpiration}}`.
pub fn parse_create(body: &Map<String, Value>) -> Result<CreateRequest, ServiceError> {
    let Some(Value::Object(p)) = body.get("payload") else {
        return Err(ServiceError::MissingPayload);
    };
    let present = |name: &str| p.get(name).filter(|v| !v.is_null());
    let user_id = present("userId")
        .ok_or_else(|| ServiceError::field("payload.userId", "a user id"))?
        .as_i64()
        .ok_or_else(|| ServiceError::field("payload.userId", "an integer"))?;
    let actions = match present("actions") {
        None => Some(vec![1]),
        Some(v) => Some(parse_actions(v)?),
    };
    Ok(CreateRequest {
        user_id,
        actions,
        networks: present("networkIds")
            .map(|v| parse_ids(v, "payload.networkIds"))
            .transpose()?,
        device_types: present("deviceTypeIds")
            .map(|v| parse_ids(v, "payload.deviceTypeIds"))
            .transpose()?,
        expiration_ms: present("expiration")
            .map(|v| parse_time(v, "payload.expiration"))
            .transpose()?,
        refresh_expiration_ms: present("refreshExpiration")
            .map(|v| parse_time(v, "payload.refreshExpiration"))
            .transpose()?,
    })
}

/// Names (case-insensitive; unknown ones dropped, as DeviceHive does) or ids 0..=18.
fn parse_actions(value: &Value) -> Result<Vec<i64>, ServiceError> {
    let bad = || ServiceError::field("payload.actions", "an array of action names or ids");
    let items = value.as_array().ok_or_else(bad)?;
    let mut ids = Vec::new();
    for item in items {
        match item {
            Value::String(name) => ids.extend(action_id(name)),
            Value::Number(n) => match n.as_i64() {
                Some(id @ 0..=18) => ids.push(id),
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        }
    }
    Ok(ids)
}

fn parse_ids(value: &Value, field: &str) -> Result<Vec<String>, ServiceError> {
    let bad = || ServiceError::field(field, "an array of ids or \"*\"");
    value
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|v| match v {
            Value::String(s) if s == "*" || s.parse::<i64>().is_ok() => Ok(s.clone()),
            Value::Number(n) if n.is_i64() => Ok(n.to_string()),
            _ => Err(bad()),
        })
        .collect()
}

/// Epoch milliseconds, or an ISO-8601 timestamp (UTC when it has no zone).
fn parse_time(value: &Value, field: &str) -> Result<i64, ServiceError> {
    let bad = || ServiceError::field(field, "epoch milliseconds or an ISO-8601 timestamp");
    match value {
        Value::Number(n) => n.as_i64().ok_or_else(bad),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .or_else(|_| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                    .map(|t| t.and_utc().timestamp_millis())
            })
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn login_needs_both_fields() {
        assert!(parse_login(&obj(json!({"login": "a", "password": "p"}))).is_ok());
        for bad in [
            json!({"login": " ", "password": "p"}),
            json!({"login": "a", "password": ""}),
            json!({"login": "a"}),
            json!({"login": 1, "password": "p"}),
        ] {
            assert_eq!(
                parse_login(&obj(bad)).err(),
                Some(ServiceError::InvalidLoginRequest)
            );
        }
        assert_eq!(
            parse_refresh(&obj(json!({}))).err(),
            Some(ServiceError::MissingPayload)
        );
    }

    #[test]
    fn create_reads_devicehive_forms() -> Result<(), ServiceError> {
        let req = parse_create(&obj(json!({"payload": {
            "userId": 5, "actions": ["GetCurrentUser", 11, "bogus"], "networkIds": [1, "2", "*"],
            "expiration": "2030-01-01T00:00:00.000Z", "refreshExpiration": 1_900_000_000_000_i64
        }})))?;
        assert_eq!(req.actions, Some(vec![10, 11]));
        assert_eq!(req.networks, Some(vec!["1".into(), "2".into(), "*".into()]));
        assert_eq!(req.device_types, None);
        assert_eq!(req.expiration_ms, Some(1_893_456_000_000));
        assert_eq!(req.refresh_expiration_ms, Some(1_900_000_000_000));
        let bare = parse_create(&obj(json!({"payload": {"userId": 5}})))?;
        assert_eq!(bare.actions, Some(vec![1]), "absent actions grant NONE");
        assert_eq!(
            parse_create(&obj(json!({}))).err(),
            Some(ServiceError::MissingPayload)
        );
        assert!(parse_create(&obj(json!({"payload": {"userId": "x"}}))).is_err());
        assert!(parse_create(&obj(json!({"payload": {"userId": 1, "actions": [99]}}))).is_err());
        Ok(())
    }
}

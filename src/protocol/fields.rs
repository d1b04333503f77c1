//! Reading the top-level fields of the user-management actions: ids, integers, strings and
//! booleans, with DeviceHive's leniency where a correct client may rely on it (a number may
//! come as a numeric string) and a 400 naming the field where it would guess (a fraction, a
//! number beyond 64 bits).

use serde_json::{Map, Value};

use crate::error::{IdKind, ServiceError};

/// An integer field: a JSON integer or a string of one; `None` when absent or `null`.
pub fn integer(fields: &Map<String, Value>, name: &str) -> Result<Option<i64>, ServiceError> {
    let wrong = || ServiceError::field(name, "an integer");
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(wrong),
        Some(Value::String(text)) => text.trim().parse::<i64>().map(Some).map_err(|_| wrong()),
        Some(_) => Err(wrong()),
    }
}

/// A required id field (`userId`, `networkId`, `deviceTypeId`): absent or `null` is
/// DeviceHive's "… id is wrong or empty".
pub fn id(fields: &Map<String, Value>, kind: IdKind) -> Result<i64, ServiceError> {
    let name = match kind {
        IdKind::User => "userId",
        IdKind::Network => "networkId",
        IdKind::DeviceType => "deviceTypeId",
    };
    integer(fields, name)?.ok_or(ServiceError::IdRequired(kind))
}

/// A string field; `None` when absent or `null`.
pub fn string<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ServiceError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ServiceError::field(name, "a string")),
    }
}

/// A boolean field; `None` when absent or `null`.
pub fn boolean(fields: &Map<String, Value>, name: &str) -> Result<Option<bool>, ServiceError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ServiceError::field(name, "a boolean")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn ids_accept_integers_and_numeric_strings_only() {
        let id_of = |v: Value| id(&fields(json!({ "userId": v })), IdKind::User);
        assert_eq!(id_of(json!(7)), Ok(7));
        assert_eq!(id_of(json!("7")), Ok(7));
        assert_eq!(
            id_of(json!(null)),
            Err(ServiceError::IdRequired(IdKind::User))
        );
        for bad in [
            json!(2.7),
            json!("x"),
            json!(""),
            json!(true),
            json!([1]),
            json!(1e30),
        ] {
            assert_eq!(
                id_of(bad.clone()),
                Err(ServiceError::field("userId", "an integer")),
                "{bad}"
            );
        }
        assert_eq!(
            id(&fields(json!({})), IdKind::DeviceType),
            Err(ServiceError::IdRequired(IdKind::DeviceType))
        );
    }

    #[test]
    fn strings_and_booleans_name_the_field_on_a_wrong_type() {
        let f = fields(json!({"s": 1, "b": "yes", "ok": "x", "t": true}));
        assert_eq!(string(&f, "ok"), Ok(Some("x")));
        assert_eq!(string(&f, "s"), Err(ServiceError::field("s", "a string")));
        assert_eq!(boolean(&f, "t"), Ok(Some(true)));
        assert_eq!(boolean(&f, "b"), Err(ServiceError::field("b", "a boolean")));
        assert_eq!(string(&f, "absent"), Ok(None));
    }
}

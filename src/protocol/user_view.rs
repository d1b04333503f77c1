//! The `current` object of a `user/getCurrent` answer (PROTOCOL.md section 5): every field
//! present, nulls included, `lastLogin` as `yyyy-MM-ddTHH:mm:ss.SSS` UTC without a zone.

use serde_json::{json, Value};

use crate::db::user_repo::CurrentUser;

/// Builds the `current` object.
pub fn current_user_json(current: &CurrentUser) -> Value {
    let user = &current.user;
    let networks: Vec<Value> = current
        .networks
        .iter()
        .map(|n| json!({"id": n.id, "name": n.name, "description": n.description}))
        .collect();
    json!({
        "id": user.id,
        "login": user.login,
        "role": user.role,
        "status": user.status,
        "lastLogin": user.last_login.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()),
        "data": user.data.as_deref().map(stored_data),
        "introReviewed": user.intro_reviewed,
        "allDeviceTypesAvailable": user.all_device_types_available,
        "networks": networks,
    })
}

/// `data` is stored as JSON text; text another writer left that is not JSON is returned as a
/// string rather than failing the whole answer.
fn stored_data(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::model::{NetworkRow, UserRow};
    use chrono::NaiveDate;

    #[test]
    fn renders_every_field() {
        let last =
            NaiveDate::from_ymd_opt(2024, 2, 16).and_then(|d| d.and_hms_milli_opt(10, 0, 0, 5));
        let current = CurrentUser {
            user: UserRow {
                id: 1,
                login: "dhadmin".into(),
                password_hash: Some("h".into()),
                password_salt: None,
                role: 0,
                status: 0,
                login_attempts: 0,
                last_login: last,
                data: Some(r#"{"a":1}"#.into()),
                intro_reviewed: Some(false),
                all_device_types_available: None,
            },
            networks: vec![NetworkRow {
                id: 1,
                name: "Sample Network".into(),
                description: None,
            }],
        };
        assert_eq!(
            current_user_json(&current),
            json!({"id": 1, "login": "dhadmin", "role": 0, "status": 0,
                   "lastLogin": "2024-02-16T10:00:00.005", "data": {"a": 1},
                   "introReviewed": false, "allDeviceTypesAvailable": null,
                   "networks": [{"id": 1, "name": "Sample Network", "description": null}]})
        );
    }
}

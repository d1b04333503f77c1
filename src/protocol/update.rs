//! The `user` object of `user/updateCurrent`, `user/update` and `user/insert`
//! (docs/PROTOCOL.md). In an update, absent and `null` mean "leave as is" for every field but
//! `data`, where `null` clears the stored value.

use serde_json::{Map, Value};

use crate::error::ServiceError;
use crate::model::{check_login, check_password_policy, Role, UserStatus};
use crate::secret::Secret;

/// The fields a request asks to change; `None` leaves a field as it is.
#[derive(Debug, Default, PartialEq)]
pub struct UserUpdate {
    /// New login, trimmed and checked.
    pub login: Option<String>,
    /// New role (admins only).
    pub role: Option<Role>,
    /// New status (admins only).
    pub status: Option<UserStatus>,
    /// New password, checked against the policy; hashed before it reaches the database.
    pub password: Option<Secret>,
    /// `Some(None)` clears `data`; `Some(Some(v))` stores `v`.
    pub data: Option<Option<Value>>,
    /// New introReviewed flag.
    pub intro_reviewed: Option<bool>,
    /// allDeviceTypesAvailable: read by `user/insert` only (updates ignore it, as DeviceHive's).
    pub all_device_types_available: Option<bool>,
}

/// The `user` object of `user/insert`, its required fields present.
#[derive(Debug)]
pub struct NewUserRequest {
    /// Trimmed and checked.
    pub login: String,
    /// Role.
    pub role: Role,
    /// Status; ACTIVE when absent.
    pub status: UserStatus,
    /// Checked against the policy.
    pub password: Secret,
    /// `data`, `None` for absent or `null`.
    pub data: Option<Value>,
    /// introReviewed; the column default (false) when absent.
    pub intro_reviewed: Option<bool>,
    /// allDeviceTypesAvailable; the column default (true) when absent.
    pub all_device_types_available: Option<bool>,
}

/// Reads and validates the `user` object of `user/insert`.
pub fn parse_new(body: &Map<String, Value>) -> Result<NewUserRequest, ServiceError> {
    let update = parse(body)?;
    Ok(NewUserRequest {
        login: update.login.ok_or(ServiceError::LoginRequired)?,
        role: update.role.ok_or(ServiceError::RoleRequired)?,
        status: update.status.unwrap_or(UserStatus::Active),
        password: update.password.ok_or(ServiceError::PasswordPolicy)?,
        data: update.data.flatten(),
        intro_reviewed: update.intro_reviewed,
        all_device_types_available: update.all_device_types_available,
    })
}

impl UserUpdate {
    /// Whether the update touches a field only administrators may change.
    pub fn needs_admin(&self) -> bool {
        self.login.is_some() || self.role.is_some() || self.status.is_some()
    }
}

/// Reads and validates the `user` object of a request body.
pub fn parse(body: &Map<String, Value>) -> Result<UserUpdate, ServiceError> {
    let user = match body.get("user") {
        None | Some(Value::Null) => return Err(ServiceError::UserRequired),
        Some(Value::Object(user)) => user,
        Some(_) => return Err(ServiceError::field("user", "an object")),
    };
    let present = |name: &str| user.get(name).filter(|v| !v.is_null());
    let mut update = UserUpdate::default();
    if let Some(login) = present("login") {
        let login = login
            .as_str()
            .ok_or_else(|| ServiceError::field("user.login", "a string"))?
            .trim();
        check_login(login).map_err(ServiceError::InvalidLogin)?;
        update.login = Some(login.to_string());
    }
    if let Some(role) = present("role") {
        let role = role.as_i64().and_then(Role::from_ordinal);
        update.role =
            Some(role.ok_or_else(|| {
                ServiceError::field("user.role", "0 (administrator) or 1 (client)")
            })?);
    }
    if let Some(status) = present("status") {
        let status = status.as_i64().and_then(UserStatus::from_ordinal);
        update.status = Some(status.ok_or_else(|| {
            ServiceError::field("user.status", "0 (active), 1 (locked out) or 2 (disabled)")
        })?);
    }
    if let Some(password) = present("password") {
        let password = password
            .as_str()
            .ok_or_else(|| ServiceError::field("user.password", "a string"))?;
        // DeviceHive ignores an empty password rather than refusing it.
        if !password.is_empty() {
            if !check_password_policy(password) {
                return Err(ServiceError::PasswordPolicy);
            }
            update.password = Some(Secret::new(password));
        }
    }
    if let Some(data) = user.get("data") {
        update.data = Some((!data.is_null()).then(|| data.clone()));
    }
    if let Some(intro) = present("introReviewed") {
        let intro = intro
            .as_bool()
            .ok_or_else(|| ServiceError::field("user.introReviewed", "a boolean"))?;
        update.intro_reviewed = Some(intro);
    }
    if let Some(all) = present("allDeviceTypesAvailable") {
        let all = all
            .as_bool()
            .ok_or_else(|| ServiceError::field("user.allDeviceTypesAvailable", "a boolean"))?;
        update.all_device_types_available = Some(all);
    }
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_json(v: Value) -> Result<UserUpdate, ServiceError> {
        match v {
            Value::Object(map) => parse(&map),
            _ => Err(ServiceError::MalformedJson),
        }
    }

    #[test]
    fn absent_fields_stay_none_and_null_data_clears() -> Result<(), ServiceError> {
        let update = parse_json(json!({"user": {"data": null, "role": null}}))?;
        assert_eq!(
            update,
            UserUpdate {
                data: Some(None),
                ..UserUpdate::default()
            }
        );
        assert!(!update.needs_admin());
        let update = parse_json(json!({"user": {}}))?;
        assert_eq!(update, UserUpdate::default());
        Ok(())
    }

    #[test]
    fn reads_every_field() -> Result<(), ServiceError> {
        let update = parse_json(json!({"user": {
            "login": " new.login ", "role": 1, "status": 2, "password": "secret1",
            "data": {"k": [1]}, "introReviewed": true, "oldPassword": "ignored"
        }}))?;
        assert_eq!(update.login.as_deref(), Some("new.login"));
        assert_eq!(update.role, Some(Role::Client));
        assert_eq!(update.status, Some(UserStatus::Disabled));
        assert_eq!(
            update.password.as_ref().map(Secret::expose),
            Some("secret1")
        );
        assert_eq!(update.data, Some(Some(json!({"k": [1]}))));
        assert_eq!(update.intro_reviewed, Some(true));
        assert!(update.needs_admin());
        Ok(())
    }

    #[test]
    fn refuses_bad_fields() {
        let err = |v| parse_json(v).err();
        assert_eq!(err(json!({})), Some(ServiceError::UserRequired));
        assert_eq!(err(json!({"user": null})), Some(ServiceError::UserRequired));
        assert_eq!(
            err(json!({"user": 3})),
            Some(ServiceError::field("user", "an object"))
        );
        for (field, value) in [
            ("role", json!("x")),
            ("role", json!(5)),
            ("status", json!(3)),
            ("login", json!(1)),
            ("password", json!(123456)),
            ("introReviewed", json!("yes")),
        ] {
            let e = err(json!({"user": {field: value}}));
            assert!(
                matches!(&e, Some(ServiceError::InvalidField { field: f, .. }) if f == &format!("user.{field}")),
                "{field}: {e:?}"
            );
        }
        assert_eq!(
            err(json!({"user": {"password": "12345"}})),
            Some(ServiceError::PasswordPolicy)
        );
        assert!(matches!(
            err(json!({"user": {"login": "a b c"}})),
            Some(ServiceError::InvalidLogin(_))
        ));
    }

    #[test]
    fn an_insert_needs_login_role_and_password() {
        let new = |v: Value| match v {
            Value::Object(map) => parse_new(&map).err(),
            _ => None,
        };
        let full = json!({"login": "neo", "role": 1, "password": "secret1"});
        assert_eq!(new(json!({"user": full})), None);
        for (missing, error) in [
            ("login", ServiceError::LoginRequired),
            ("role", ServiceError::RoleRequired),
            ("password", ServiceError::PasswordPolicy),
        ] {
            let mut user = full.clone();
            if let Some(map) = user.as_object_mut() {
                map.remove(missing);
            }
            assert_eq!(new(json!({ "user": user })), Some(error), "{missing}");
        }
        let empty = json!({"user": {"login": "neo", "role": 1, "password": ""}});
        assert_eq!(new(empty), Some(ServiceError::PasswordPolicy));
    }

    #[test]
    fn empty_password_is_ignored_like_devicehive() -> Result<(), ServiceError> {
        assert_eq!(
            parse_json(json!({"user": {"password": ""}}))?.password,
            None
        );
        Ok(())
    }
}

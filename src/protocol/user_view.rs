//! The `current` object of a `user/getCurrent` answer (docs/PROTOCOL.md): every field
//! present, nulls included, `lastLogin` as `yyyy-MM-ddTHH:mm:ss.SSS` UTC without a zone.
//!
//! Plain wire-side types: the data layer converts its rows into them at the boundary (moves,
//! no copies), so nothing here knows a database. Written straight into the answer's bytes:
//! building a `serde_json::Value` first (an ordered map per object, a hashed key per field, a
//! strftime pattern parsed per request) cost more than the rest of the request's JSON
//! together (callgrind, docs/PERFORMANCE.md).

use std::fmt::Write;

use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::value::RawValue;

/// A user as `user/getCurrent` shows it, with its networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    /// `id`
    pub id: i64,
    /// `login`
    pub login: String,
    /// Role ordinal.
    pub role: i32,
    /// Status ordinal.
    pub status: i32,
    /// Last login, UTC.
    pub last_login: Option<NaiveDateTime>,
    /// `data` as stored: JSON text.
    pub data: Option<String>,
    /// `introReviewed`
    pub intro_reviewed: Option<bool>,
    /// `allDeviceTypesAvailable`
    pub all_device_types_available: Option<bool>,
    /// The user's networks, ordered by id.
    pub networks: Vec<NetworkView>,
}

/// A network or a device type as answers show it: `{id, name, description}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkView {
    /// `id`
    pub id: i64,
    /// `name`
    pub name: String,
    /// `description`
    pub description: Option<String>,
}

/// Serializes as the `current` object.
pub struct CurrentView<'a>(pub &'a UserView);

impl Serialize for CurrentView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PolicyView(self.0, Policy::Current).serialize(serializer)
    }
}

/// Which of a user's fields an answer shows, and in which order (DeviceHive's JSON policies;
/// its serializer puts a subclass's `networks` first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `user/getCurrent`: every field, then `networks` (this service's order since its first
    /// release; JSON readers do not depend on it).
    Current,
    /// `user/get`: `networks` first, then every field.
    Published,
    /// `user/list`: every field, no `networks`.
    Listed,
    /// `user/insert`: `id`, `lastLogin`, `data`, `introReviewed`, `allDeviceTypesAvailable`.
    Submitted,
}

/// Serializes a user under a [`Policy`].
pub struct PolicyView<'a>(pub &'a UserView, pub Policy);

impl Serialize for PolicyView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let PolicyView(user, policy) = *self;
        let mut out = serializer.serialize_map(None)?;
        if policy == Policy::Published {
            out.serialize_entry("networks", &Networks(&user.networks))?;
        }
        out.serialize_entry("id", &user.id)?;
        if policy != Policy::Submitted {
            out.serialize_entry("login", &user.login)?;
            out.serialize_entry("role", &user.role)?;
            out.serialize_entry("status", &user.status)?;
        }
        out.serialize_entry("lastLogin", &user.last_login.map(format_timestamp))?;
        out.serialize_entry("data", &user.data.as_deref().map(StoredData))?;
        out.serialize_entry("introReviewed", &user.intro_reviewed)?;
        out.serialize_entry("allDeviceTypesAvailable", &user.all_device_types_available)?;
        if policy == Policy::Current {
            out.serialize_entry("networks", &Networks(&user.networks))?;
        }
        out.end()
    }
}

struct Networks<'a>(&'a [NetworkView]);

impl Serialize for Networks<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for network in self.0 {
            seq.serialize_element(network)?;
        }
        seq.end()
    }
}

impl Serialize for NetworkView {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(Some(3))?;
        out.serialize_entry("id", &self.id)?;
        out.serialize_entry("name", &self.name)?;
        out.serialize_entry("description", &self.description)?;
        out.end()
    }
}

/// `data` is stored as JSON text and goes out as that JSON; text another writer left that is
/// not JSON goes out as a string rather than failing the whole answer.
struct StoredData<'a>(&'a str);

impl Serialize for StoredData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<&RawValue>(self.0) {
            Ok(json) => json.serialize(serializer),
            Err(_) => serializer.serialize_str(self.0),
        }
    }
}

/// `yyyy-MM-ddTHH:mm:ss.SSS`, milliseconds truncated: DeviceHive's timestamps.
pub fn format_timestamp(t: NaiveDateTime) -> String {
    let mut text = String::with_capacity(23);
    // Writing into a String cannot fail. A leap second's nanoseconds run past 10^9; its
    // fraction is the part below a second, as chrono's `%.3f` prints it.
    let _ = write!(
        text,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() % 1_000_000_000 / 1_000_000
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::{json, Value};

    fn user(last_login: Option<NaiveDateTime>, data: Option<&str>) -> UserView {
        UserView {
            id: 1,
            login: "dhadmin".into(),
            role: 0,
            status: 0,
            last_login,
            data: data.map(str::to_string),
            intro_reviewed: Some(false),
            all_device_types_available: None,
            networks: vec![NetworkView {
                id: 1,
                name: "Sample Network".into(),
                description: None,
            }],
        }
    }

    fn render(current: &UserView) -> String {
        serde_json::to_string(&CurrentView(current)).unwrap_or_default()
    }

    #[test]
    fn renders_every_field_in_order() {
        let last =
            NaiveDate::from_ymd_opt(2024, 2, 16).and_then(|d| d.and_hms_milli_opt(10, 0, 0, 5));
        assert_eq!(
            render(&user(last, Some(r#"{"a":1}"#))),
            concat!(
                r#"{"id":1,"login":"dhadmin","role":0,"status":0,"#,
                r#""lastLogin":"2024-02-16T10:00:00.005","data":{"a":1},"#,
                r#""introReviewed":false,"allDeviceTypesAvailable":null,"#,
                r#""networks":[{"id":1,"name":"Sample Network","description":null}]}"#
            )
        );
    }

    /// One field of the rendered object (`Null` when absent).
    fn field(current: &UserView, name: &str) -> Value {
        let rendered: Value = serde_json::from_str(&render(current)).unwrap_or_default();
        rendered.get(name).cloned().unwrap_or_default()
    }

    #[test]
    fn last_login_is_truncated_to_milliseconds_and_nulls_stay() {
        let last = NaiveDate::from_ymd_opt(2009, 12, 1)
            .and_then(|d| d.and_hms_nano_opt(7, 8, 9, 999_999_999));
        assert_eq!(
            field(&user(last, None), "lastLogin"),
            json!("2009-12-01T07:08:09.999")
        );
        assert!(render(&user(last, None)).contains(r#""data":null"#));
        assert!(render(&user(None, None)).contains(r#""lastLogin":null"#));
    }

    #[test]
    fn policies_choose_and_order_the_fields() {
        let view = user(None, None);
        let keys = |policy| {
            let text = serde_json::to_string(&PolicyView(&view, policy)).unwrap_or_default();
            let value: serde_json::Map<String, Value> =
                serde_json::from_str(&text).unwrap_or_default();
            value.keys().cloned().collect::<Vec<_>>().join(",")
        };
        assert_eq!(
            keys(Policy::Published),
            "networks,id,login,role,status,lastLogin,data,introReviewed,allDeviceTypesAvailable"
        );
        assert_eq!(
            keys(Policy::Listed),
            "id,login,role,status,lastLogin,data,introReviewed,allDeviceTypesAvailable"
        );
        assert_eq!(
            keys(Policy::Submitted),
            "id,lastLogin,data,introReviewed,allDeviceTypesAvailable"
        );
    }

    #[test]
    fn data_that_is_not_json_goes_out_as_a_string() {
        assert_eq!(
            field(&user(None, Some("not {json")), "data"),
            json!("not {json")
        );
        assert_eq!(
            field(&user(None, Some(r#"[1,{"b":null}]"#)), "data"),
            json!([1, {"b": null}])
        );
    }
}

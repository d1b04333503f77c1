//! The filters and page of `user/list` and `user/count` (docs/PROTOCOL.md, section 4): the
//! request's top-level `login`, `loginPattern`, `role`, `status`, `sortField`, `sortOrder`,
//! `take` and `skip`.

use serde_json::{Map, Value};

use super::fields;
use crate::error::ServiceError;

/// The most users one `user/list` answer holds; `take` above it is refused.
pub const MAX_TAKE: i64 = 1_000;
/// `take` when the request has none (DeviceHive's default).
pub const DEFAULT_TAKE: i64 = 20;

/// Which users a list or count covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Exact, case-sensitive login; ignored when `login_pattern` is given.
    pub login: Option<String>,
    /// A SQL LIKE pattern (`%`, `_`, `\` escapes), case-sensitive on both databases.
    pub login_pattern: Option<String>,
    /// Stored role ordinal; a value no user has matches nothing.
    pub role: Option<i64>,
    /// Stored status ordinal; a value no user has matches nothing.
    pub status: Option<i64>,
}

/// The order a list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// `id`
    Id,
    /// `login`
    Login,
}

/// Which slice of the filtered users a list answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Sorted by; `id` when the request names none, so that pages are stable.
    pub sort: SortField,
    /// `sortOrder` DESC.
    pub descending: bool,
    /// At most this many users, 0..=[`MAX_TAKE`].
    pub take: i64,
    /// After skipping this many.
    pub skip: i64,
}

/// Reads the filter fields.
pub fn filter(body: &Map<String, Value>) -> Result<UserFilter, ServiceError> {
    let login_pattern = fields::string(body, "loginPattern")?.map(str::to_string);
    if let Some(pattern) = &login_pattern {
        if ends_in_lone_escape(pattern) {
            return Err(ServiceError::field(
                "loginPattern",
                "a LIKE pattern (% and _ match, \\ escapes the next character) not ending in a lone \\",
            ));
        }
    }
    Ok(UserFilter {
        login: fields::string(body, "login")?.map(str::to_string),
        login_pattern,
        role: fields::integer(body, "role")?,
        status: fields::integer(body, "status")?,
    })
}

/// Reads the sort and paging fields. Unlike DeviceHive, an unknown `sortField` or `sortOrder`
/// is answered (DeviceHive sends nothing for the latter) and either case of `id`/`login` sorts.
pub fn page(body: &Map<String, Value>) -> Result<Page, ServiceError> {
    let sort = match fields::string(body, "sortField")? {
        None => SortField::Id,
        Some(f) if f.eq_ignore_ascii_case("id") => SortField::Id,
        Some(f) if f.eq_ignore_ascii_case("login") => SortField::Login,
        Some(_) => return Err(ServiceError::InvalidSortField),
    };
    let descending = match fields::string(body, "sortOrder")? {
        None => false,
        Some(o) if o.eq_ignore_ascii_case("asc") => false,
        Some(o) if o.eq_ignore_ascii_case("desc") => true,
        Some(o) => return Err(ServiceError::InvalidSortOrder(o.to_string())),
    };
    let take = fields::integer(body, "take")?.unwrap_or(DEFAULT_TAKE);
    if !(0..=MAX_TAKE).contains(&take) {
        return Err(ServiceError::field("take", "an integer from 0 to 1000"));
    }
    let skip = fields::integer(body, "skip")?.unwrap_or(0);
    if skip < 0 {
        return Err(ServiceError::field("skip", "an integer of 0 or more"));
    }
    Ok(Page {
        sort,
        descending,
        take,
        skip,
    })
}

/// Whether a LIKE pattern ends in an escape character with nothing to escape (PostgreSQL
/// refuses such a pattern with an error).
fn ends_in_lone_escape(pattern: &str) -> bool {
    let trailing = pattern.chars().rev().take_while(|&c| c == '\\').count();
    trailing % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn defaults_sort_by_id_and_take_twenty() {
        assert_eq!(
            page(&body(json!({}))),
            Ok(Page {
                sort: SortField::Id,
                descending: false,
                take: 20,
                skip: 0
            })
        );
        let p = page(&body(
            json!({"sortField": "Login", "sortOrder": "desc", "take": "5", "skip": 3}),
        ));
        assert_eq!(
            p,
            Ok(Page {
                sort: SortField::Login,
                descending: true,
                take: 5,
                skip: 3
            })
        );
    }

    #[test]
    fn refuses_what_devicehive_leaves_unanswered() {
        let err = |v| page(&body(v)).err();
        assert_eq!(
            err(json!({"sortField": "name"})),
            Some(ServiceError::InvalidSortField)
        );
        assert_eq!(
            err(json!({"sortOrder": "up"})),
            Some(ServiceError::InvalidSortOrder("up".into()))
        );
        assert!(err(json!({"take": 1001})).is_some());
        assert!(err(json!({"take": -1})).is_some());
        assert!(err(json!({"skip": -1})).is_some());
        assert_eq!(page(&body(json!({"take": 1000}))).map(|p| p.take), Ok(1000));
    }

    #[test]
    fn a_pattern_may_not_end_in_a_lone_escape() {
        let f = |p: &str| filter(&body(json!({ "loginPattern": p })));
        assert!(f("dh\\").is_err());
        assert!(f("dh\\\\\\").is_err());
        assert!(f("dh\\\\").is_ok());
        assert!(f("dh\\_%").is_ok());
        let both = filter(&body(json!({"login": "a", "role": "1", "status": 7})));
        assert_eq!(
            both,
            Ok(UserFilter {
                login: Some("a".into()),
                login_pattern: None,
                role: Some(1),
                status: Some(7)
            })
        );
    }
}

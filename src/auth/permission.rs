//! DeviceHive's `HiveAction` ids (as the DeviceHive server does) and the permission check of
//! section 3.7: permissions come only from the token's `a` claim.

/// The action ids this service checks or mints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiveAction {
    /// 0: every action.
    Any = 0,
    /// 2
    GetNetwork = 2,
    /// 10
    GetCurrentUser = 10,
    /// 11
    UpdateCurrentUser = 11,
    /// 12
    ManageUser = 12,
    /// 14
    ManageNetwork = 14,
    /// 15
    ManageToken = 15,
    /// 17
    GetDeviceType = 17,
    /// 18
    ManageDeviceType = 18,
}

/// The CLIENT action set: what an empty `a` list grants and what a client login token carries.
pub const CLIENT_ACTIONS: [i64; 13] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17];

/// Whether a token's actions (`a` claim; `None` when absent) grant `needed`.
pub fn allows(actions: Option<&[i64]>, needed: HiveAction) -> bool {
    let needed = needed as i64;
    match actions {
        None => false,
        Some([]) => CLIENT_ACTIONS.contains(&needed),
        Some(list) => list.contains(&(HiveAction::Any as i64)) || list.contains(&needed),
    }
}

/// DeviceHive's action names by id (`HiveAction`, as the DeviceHive server numbers them); id 1 (NONE) has none.
const ACTION_NAMES: [&str; 19] = [
    "*",
    "",
    "GetNetwork",
    "GetDevice",
    "GetDeviceNotification",
    "GetDeviceCommand",
    "RegisterDevice",
    "CreateDeviceCommand",
    "UpdateDeviceCommand",
    "CreateDeviceNotification",
    "GetCurrentUser",
    "UpdateCurrentUser",
    "ManageUser",
    "ManageConfiguration",
    "ManageNetwork",
    "ManageToken",
    "ManagePlugin",
    "GetDeviceType",
    "ManageDeviceType",
];

/// The id of an action name, case-insensitively as DeviceHive's `fromString`; unknown → `None`.
pub fn action_id(name: &str) -> Option<i64> {
    if name.is_empty() {
        return None;
    }
    ACTION_NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
        .and_then(|i| i64::try_from(i).ok())
}

/// The concrete actions an `a` claim grants, or `None` for "every action" (id 0).
fn granted(actions: Option<&[i64]>) -> Option<Vec<i64>> {
    match actions {
        None => Some(Vec::new()),
        Some([]) => Some(CLIENT_ACTIONS.to_vec()),
        Some(list) if list.contains(&(HiveAction::Any as i64)) => None,
        Some(list) => Some(list.to_vec()),
    }
}

/// Whether every action `requested` grants is also granted by `caller`.
pub fn actions_within(caller: Option<&[i64]>, requested: Option<&[i64]>) -> bool {
    match (granted(caller), granted(requested)) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(have), Some(want)) => want.iter().all(|a| *a == 1 || have.contains(a)),
    }
}

/// Whether a network or device-type scope (`n`/`dt`: ids as strings, `"*"` for all, absent for
/// none) stays within the caller's.
pub fn scope_within(caller: Option<&[String]>, requested: Option<&[String]>) -> bool {
    let caller = caller.unwrap_or_default();
    if caller.iter().any(|c| c == "*") {
        return true;
    }
    requested
        .unwrap_or_default()
        .iter()
        .all(|r| r != "*" && caller.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_ids() {
        assert_eq!(action_id("GetCurrentUser"), Some(10));
        assert_eq!(action_id("managetoken"), Some(15));
        assert_eq!(action_id("*"), Some(0));
        assert_eq!(action_id("Nope"), None);
        assert_eq!(action_id(""), None);
    }

    #[test]
    fn scope_rules() {
        assert!(actions_within(Some(&[0]), Some(&[0])));
        assert!(actions_within(Some(&[]), Some(&[10, 11])));
        assert!(!actions_within(Some(&[10]), Some(&[10, 12])));
        assert!(!actions_within(Some(&[]), Some(&[0])));
        assert!(
            actions_within(Some(&[10]), Some(&[1])),
            "NONE is always within"
        );
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(scope_within(Some(&s(&["*"])), Some(&s(&["*"]))));
        assert!(scope_within(Some(&s(&["1", "2"])), Some(&s(&["2"]))));
        assert!(!scope_within(Some(&s(&["1"])), Some(&s(&["2"]))));
        assert!(!scope_within(Some(&s(&["1"])), Some(&s(&["*"]))));
        assert!(scope_within(None, None));
    }

    #[test]
    fn follows_devicehive_rules() {
        assert!(allows(Some(&[0]), HiveAction::ManageUser));
        assert!(allows(Some(&[]), HiveAction::GetCurrentUser));
        assert!(!allows(Some(&[]), HiveAction::ManageUser));
        assert!(allows(Some(&[10]), HiveAction::GetCurrentUser));
        assert!(!allows(Some(&[10]), HiveAction::UpdateCurrentUser));
        assert!(!allows(Some(&[1]), HiveAction::GetCurrentUser));
        assert!(!allows(None, HiveAction::GetCurrentUser));
    }
}

//! DeviceHive's `HiveAction` ids (DEVICEHIVE.md section 3.6) and the permission check of
//! section 3.7: permissions come only from the token's `a` claim.

/// The action ids this service checks or mints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiveAction {
    /// 0: every action.
    Any = 0,
    /// 10
    GetCurrentUser = 10,
    /// 11
    UpdateCurrentUser = 11,
    /// 12
    ManageUser = 12,
    /// 15
    ManageToken = 15,
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

#[cfg(test)]
mod tests {
    use super::*;

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

//! The actions this service serves and the DeviceHive permission each one needs.

use crate::auth::permission::HiveAction;

/// Declares the served actions once: variant, wire name, permission (`None`: the action needs
/// no access token). `ALL` lists them in declaration order (the ACL's order).
macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $permission:expr;)*) => {
        /// A served action (docs/PROTOCOL.md).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[$doc])* $variant,)*
        }

        impl Action {
            /// Every served action, in the order the ACL lists them.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The action's wire name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// The token permission the action needs; `None` for actions that need no access
            /// token (they carry their own credentials, or are public).
            pub fn permission(self) -> Option<HiveAction> {
                match self {
                    $(Action::$variant => $permission,)*
                }
            }
        }
    };
}

actions! {
    /// `authenticate`: binds a token to the client id.
    Authenticate = "authenticate", None;
    /// `token`: login with login and password.
    Token = "token", None;
    /// `token/refresh`: a new access token from a refresh token.
    TokenRefresh = "token/refresh", None;
    /// `token/create`: mint a scoped token pair.
    TokenCreate = "token/create", Some(HiveAction::ManageToken);
    /// `user/getCurrent`
    GetCurrentUser = "user/getCurrent", Some(HiveAction::GetCurrentUser);
    /// `user/updateCurrent`
    UpdateCurrentUser = "user/updateCurrent", Some(HiveAction::UpdateCurrentUser);
    /// `user/list`
    ListUsers = "user/list", Some(HiveAction::ManageUser);
    /// `user/count`
    CountUsers = "user/count", Some(HiveAction::ManageUser);
    /// `user/get`
    GetUser = "user/get", Some(HiveAction::ManageUser);
    /// `user/insert`
    InsertUser = "user/insert", Some(HiveAction::ManageUser);
    /// `user/update`
    UpdateUser = "user/update", Some(HiveAction::ManageUser);
    /// `user/delete`
    DeleteUser = "user/delete", Some(HiveAction::ManageUser);
    /// `user/getNetwork`
    GetUserNetwork = "user/getNetwork", Some(HiveAction::GetNetwork);
    /// `user/assignNetwork`
    AssignNetwork = "user/assignNetwork", Some(HiveAction::ManageNetwork);
    /// `user/unassignNetwork`
    UnassignNetwork = "user/unassignNetwork", Some(HiveAction::ManageNetwork);
    /// `user/getDeviceType`
    GetUserDeviceType = "user/getDeviceType", Some(HiveAction::GetDeviceType);
    /// `user/getDeviceTypes`
    GetUserDeviceTypes = "user/getDeviceTypes", Some(HiveAction::ManageDeviceType);
    /// `user/assignDeviceType`
    AssignDeviceType = "user/assignDeviceType", Some(HiveAction::ManageDeviceType);
    /// `user/unassignDeviceType`
    UnassignDeviceType = "user/unassignDeviceType", Some(HiveAction::ManageDeviceType);
    /// `user/allowAllDeviceTypes`
    AllowAllDeviceTypes = "user/allowAllDeviceTypes", Some(HiveAction::ManageDeviceType);
    /// `user/disallowAllDeviceTypes`
    DisallowAllDeviceTypes = "user/disallowAllDeviceTypes", Some(HiveAction::ManageDeviceType);
    /// `server/info`: public.
    ServerInfo = "server/info", None;
    /// `cluster/info`: public; this service has no cluster to describe.
    ClusterInfo = "cluster/info", None;
}

impl Action {
    /// Looks an action up by its wire name (exact, case-sensitive, as DeviceHive does).
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// Whether the action is served without an access token or session: `token` and
    /// `token/refresh` authenticate themselves, `server/info` and `cluster/info` are public.
    pub fn needs_no_token(self) -> bool {
        matches!(
            self,
            Action::Token | Action::TokenRefresh | Action::ServerInfo | Action::ClusterInfo
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
        assert_eq!(Action::from_name("user/getcurrent"), None);
    }

    #[test]
    fn only_authenticate_and_the_tokenless_actions_lack_a_permission() {
        for &a in Action::ALL {
            let tokenless = a.needs_no_token() || a == Action::Authenticate;
            assert_eq!(a.permission().is_none(), tokenless, "{a:?}");
        }
    }
}

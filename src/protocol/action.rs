//! The actions this service serves and the DeviceHive permission each one needs.

use crate::auth::permission::HiveAction;

/// A served action (docs/PROTOCOL.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `user/getCurrent`
    GetCurrentUser,
    /// `user/updateCurrent`
    UpdateCurrentUser,
    /// `authenticate`
    Authenticate,
    /// `token`: login with login and password.
    Token,
    /// `token/refresh`: a new access token from a refresh token.
    TokenRefresh,
    /// `token/create`: mint a scoped token pair (ManageToken).
    TokenCreate,
}

impl Action {
    /// Every served action, in the order the ACL lists them.
    pub const ALL: [Action; 6] = [
        Action::Authenticate,
        Action::Token,
        Action::TokenRefresh,
        Action::TokenCreate,
        Action::GetCurrentUser,
        Action::UpdateCurrentUser,
    ];

    /// The action's wire name.
    pub fn name(self) -> &'static str {
        match self {
            Action::GetCurrentUser => "user/getCurrent",
            Action::UpdateCurrentUser => "user/updateCurrent",
            Action::Authenticate => "authenticate",
            Action::Token => "token",
            Action::TokenRefresh => "token/refresh",
            Action::TokenCreate => "token/create",
        }
    }

    /// Looks an action up by its wire name (exact, case-sensitive, as DeviceHive does).
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The token permission the action needs; `None` for actions that carry their own
    /// credentials.
    pub fn permission(self) -> Option<HiveAction> {
        match self {
            Action::GetCurrentUser => Some(HiveAction::GetCurrentUser),
            Action::UpdateCurrentUser => Some(HiveAction::UpdateCurrentUser),
            Action::TokenCreate => Some(HiveAction::ManageToken),
            Action::Authenticate | Action::Token | Action::TokenRefresh => None,
        }
    }

    /// Whether the action authenticates itself (login and password, or a refresh token) and so
    /// never goes through the access-token check.
    pub fn carries_own_credentials(self) -> bool {
        matches!(self, Action::Token | Action::TokenRefresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
        assert_eq!(Action::from_name("user/getcurrent"), None);
    }
}

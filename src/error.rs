//! The errors a client can see: one variant per row of docs/PROTOCOL.md and the action
//! texts of section 5. The code and text of each are fixed here and nowhere else; the cause of an
//! internal failure is logged where it happens and never put on the wire.

use std::fmt;

/// An error answer: `{"status":"error","code":…,"error":…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceError {
    /// Not JSON, not an object, or over the size limit.
    MalformedJson,
    /// `action` missing or not a string.
    ActionRequired,
    /// An action this service does not serve.
    IllegalAction(String),
    /// No usable credentials on a protected action.
    Unauthorized,
    /// `authenticate` with a token that does not verify or a user that cannot log in.
    InvalidCredentials,
    /// The token (or the session's token) is past its expiry.
    TokenExpired,
    /// The token lacks the action's permission.
    AccessDenied,
    /// A field of the wrong type or out of range; names the field.
    InvalidField { field: String, expected: String },
    /// `user/updateCurrent` without a `user` object.
    UserRequired,
    /// A client-role user tried to change `login`, `role` or `status`.
    AdminRequired,
    /// A new password outside 6..128 symbols.
    PasswordPolicy,
    /// A login that fails DeviceHive's login rules.
    InvalidLogin(&'static str),
    /// Another user already has the requested login.
    LoginTaken,
    /// `token` with a blank login or an empty password.
    InvalidLoginRequest,
    /// `token` for a user who is locked out or disabled.
    UserLocked,
    /// `token/create` for a user who is locked out or disabled.
    TargetUserLocked,
    /// `token/refresh` with an access token.
    InvalidTokenType,
    /// `token/refresh` with an expired refresh token.
    RefreshExpired,
    /// `token/refresh` or `token/create` without their payload.
    MissingPayload,
    /// `token/create` for a user id that does not exist.
    UserNotFound(i64),
    /// A required `userId`, `networkId` or `deviceTypeId` is missing.
    IdRequired(IdKind),
    /// `user/insert` without a login.
    LoginRequired,
    /// `user/insert` without a role.
    RoleRequired,
    /// `user/list` with a `sortField` other than `id` or `login`.
    InvalidSortField,
    /// `user/list` with a `sortOrder` other than `ASC` or `DESC`.
    InvalidSortOrder(String),
    /// A network id that matches no network.
    NetworkNotFound(i64),
    /// A device type id that matches no device type.
    DeviceTypeNotFound(i64),
    /// `user/getNetwork` for a network the user is not linked to.
    UserNetworkNotFound { network: i64, user: i64 },
    /// `user/getDeviceType` for a device type the user is not linked to.
    UserDeviceTypeNotFound { device_type: i64, user: i64 },
    /// `user/delete` of the caller's own user.
    SelfDelete,
    /// Assigning device types to a user who may use all of them.
    AllDeviceTypesAllowed,
    /// The database cannot be reached in time.
    ServiceUnavailable,
    /// The backlog is over its bound; the request was shed with this answer.
    ServerBusy,
    /// Anything else; details are in the log only.
    Internal,
}

/// Which id a request lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `userId`
    User,
    /// `networkId`
    Network,
    /// `deviceTypeId`
    DeviceType,
}

impl ServiceError {
    /// The HTTP-like status code of the answer.
    pub fn code(&self) -> u16 {
        match self {
            Self::MalformedJson
            | Self::ActionRequired
            | Self::IllegalAction(_)
            | Self::InvalidField { .. }
            | Self::UserRequired
            | Self::PasswordPolicy
            | Self::InvalidLogin(_)
            | Self::InvalidLoginRequest
            | Self::MissingPayload
            | Self::IdRequired(_)
            | Self::LoginRequired
            | Self::RoleRequired
            | Self::InvalidSortField
            | Self::InvalidSortOrder(_) => 400,
            Self::Unauthorized
            | Self::InvalidCredentials
            | Self::TokenExpired
            | Self::UserLocked
            | Self::InvalidTokenType
            | Self::RefreshExpired => 401,
            Self::AccessDenied
            | Self::AdminRequired
            | Self::LoginTaken
            | Self::TargetUserLocked
            | Self::SelfDelete
            | Self::AllDeviceTypesAllowed => 403,
            Self::UserNotFound(_)
            | Self::NetworkNotFound(_)
            | Self::DeviceTypeNotFound(_)
            | Self::UserNetworkNotFound { .. }
            | Self::UserDeviceTypeNotFound { .. } => 404,
            Self::Internal => 500,
            Self::ServiceUnavailable | Self::ServerBusy => 503,
        }
    }

    /// Shorthand for a wrong-type field error.
    pub fn field(field: &str, expected: &str) -> Self {
        Self::InvalidField {
            field: field.to_string(),
            expected: expected.to_string(),
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedJson => f.write_str("Malformed Json received."),
            Self::ActionRequired => f.write_str("Action is required"),
            Self::IllegalAction(action) => write!(f, "Illegal argument: {action}"),
            Self::Unauthorized => f.write_str("Unauthorized"),
            Self::InvalidCredentials => f.write_str("Invalid credentials"),
            Self::TokenExpired => f.write_str("Token expired"),
            Self::AccessDenied => f.write_str("Access is denied"),
            Self::InvalidField { field, expected } => {
                write!(f, "Invalid value of field '{field}': expected {expected}")
            }
            Self::UserRequired => f.write_str("User is required"),
            Self::AdminRequired => f.write_str("Admin permissions required for this action"),
            Self::PasswordPolicy => f.write_str("Password can contain only from 6 to 128 symbols!"),
            Self::InvalidLogin(text) => f.write_str(text),
            Self::LoginTaken => {
                f.write_str("User with such login already exists. Please, select another one")
            }
            Self::InvalidLoginRequest => {
                f.write_str("Invalid or empty authorization request parameters")
            }
            Self::UserLocked | Self::TargetUserLocked => f.write_str("User is locked or disabled"),
            Self::InvalidTokenType => f.write_str("Invalid token type"),
            Self::RefreshExpired => f.write_str("Token has expired"),
            Self::MissingPayload => f.write_str("Missing or invalid payload in request"),
            Self::UserNotFound(id) => write!(f, "User with id = {id} not found"),
            Self::IdRequired(IdKind::User) => f.write_str("User id is wrong or empty"),
            Self::IdRequired(IdKind::Network) => f.write_str("Network id is wrong or empty"),
            Self::IdRequired(IdKind::DeviceType) => f.write_str("Device type id is wrong or empty"),
            Self::LoginRequired => f.write_str("login field cannot be null."),
            Self::RoleRequired => f.write_str("User role is invalid or empty"),
            Self::InvalidSortField => {
                f.write_str("Invalid request parameters: sortField must be 'id' or 'login'")
            }
            Self::InvalidSortOrder(given) => {
                write!(f, "Unparseable sort order : {given} (expected ASC or DESC)")
            }
            Self::NetworkNotFound(id) => write!(f, "Network with id = {id} not found"),
            Self::DeviceTypeNotFound(id) => write!(f, "Device type with id = {id} not found"),
            Self::UserNetworkNotFound { network, user } => {
                write!(
                    f,
                    "Network with id {network} for user with id {user} was not found"
                )
            }
            Self::UserDeviceTypeNotFound { device_type, user } => {
                write!(
                    f,
                    "Device type with id {device_type} for user with id {user} not found"
                )
            }
            Self::SelfDelete => f.write_str(
                "You can not delete a user or access key that you use to authenticate this request",
            ),
            Self::AllDeviceTypesAllowed => {
                f.write_str("Cannot assign device type to user with all device types allowed")
            }
            Self::ServiceUnavailable => f.write_str("Service unavailable"),
            Self::ServerBusy => f.write_str("Server is busy"),
            Self::Internal => f.write_str("Internal server error"),
        }
    }
}

impl std::error::Error for ServiceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_texts_match_protocol_section_3() {
        let cases = [
            (ServiceError::MalformedJson, 400, "Malformed Json received."),
            (ServiceError::ActionRequired, 400, "Action is required"),
            (
                ServiceError::IllegalAction("x/y".into()),
                400,
                "Illegal argument: x/y",
            ),
            (ServiceError::Unauthorized, 401, "Unauthorized"),
            (ServiceError::InvalidCredentials, 401, "Invalid credentials"),
            (ServiceError::TokenExpired, 401, "Token expired"),
            (ServiceError::AccessDenied, 403, "Access is denied"),
            (ServiceError::UserRequired, 400, "User is required"),
            (
                ServiceError::AdminRequired,
                403,
                "Admin permissions required for this action",
            ),
            (ServiceError::UserLocked, 401, "User is locked or disabled"),
            (
                ServiceError::TargetUserLocked,
                403,
                "User is locked or disabled",
            ),
            (ServiceError::InvalidTokenType, 401, "Invalid token type"),
            (ServiceError::RefreshExpired, 401, "Token has expired"),
            (
                ServiceError::UserNotFound(9),
                404,
                "User with id = 9 not found",
            ),
            (ServiceError::ServiceUnavailable, 503, "Service unavailable"),
            (ServiceError::ServerBusy, 503, "Server is busy"),
            (ServiceError::Internal, 500, "Internal server error"),
        ];
        for (err, code, text) in cases {
            assert_eq!((err.code(), err.to_string().as_str()), (code, text));
        }
        let field = ServiceError::field("user.role", "an integer");
        assert_eq!(field.code(), 400);
        assert!(field.to_string().contains("'user.role'"));
    }
}

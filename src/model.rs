//! Domain values shared by the wire, the tokens and the database: roles and statuses as the
//! DeviceHive server stores them (integer ordinals).

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// 0: may change login, role and status.
    Admin,
    /// 1: may change only password, data and introReviewed.
    Client,
}

impl Role {
    /// The stored ordinal.
    pub fn ordinal(self) -> i32 {
        match self {
            Role::Admin => 0,
            Role::Client => 1,
        }
    }

    /// Reads a stored ordinal.
    pub fn from_ordinal(value: i64) -> Option<Role> {
        match value {
            0 => Some(Role::Admin),
            1 => Some(Role::Client),
            _ => None,
        }
    }
}

/// A user's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// 0: may use the API.
    Active,
    /// 1: locked out after failed logins.
    LockedOut,
    /// 2: disabled by an administrator.
    Disabled,
}

impl UserStatus {
    /// The stored ordinal.
    pub fn ordinal(self) -> i32 {
        match self {
            UserStatus::Active => 0,
            UserStatus::LockedOut => 1,
            UserStatus::Disabled => 2,
        }
    }

    /// Reads a stored ordinal.
    pub fn from_ordinal(value: i64) -> Option<UserStatus> {
        match value {
            0 => Some(UserStatus::Active),
            1 => Some(UserStatus::LockedOut),
            2 => Some(UserStatus::Disabled),
            _ => None,
        }
    }
}

/// Longest login the `dh_user.login` column (`varchar(64)`) holds.
pub const MAX_LOGIN_CHARS: usize = 64;

/// Checks a login against DeviceHive's rules (`^[\w@.-]+$`, 3 to 64 symbols: the column is
/// `varchar(64)` although the server's validator says 128). Returns the error text on failure.
pub fn check_login(login: &str) -> Result<(), &'static str> {
    let len = login.chars().count();
    if !(3..=MAX_LOGIN_CHARS).contains(&len) {
        return Err("Field cannot be empty. The length of login should be from 3 to 64 symbols.");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '.' | '-');
    if !login.chars().all(allowed) {
        return Err("Login can contain only lowercase or uppercase letters, numbers, and some special symbols (_@.)");
    }
    Ok(())
}

/// Checks a new password against DeviceHive's rule `^.{6,128}$`: 6 to 128 UTF-16 units, no
/// line terminators (Java's `.` does not match them).
pub fn check_password_policy(password: &str) -> bool {
    let len = password.encode_utf16().count();
    let has_line_break = password.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']);
    (6..=128).contains(&len) && !has_line_break
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_round_trip() {
        for r in [Role::Admin, Role::Client] {
            assert_eq!(Role::from_ordinal(r.ordinal().into()), Some(r));
        }
        for s in [
            UserStatus::Active,
            UserStatus::LockedOut,
            UserStatus::Disabled,
        ] {
            assert_eq!(UserStatus::from_ordinal(s.ordinal().into()), Some(s));
        }
        assert_eq!(Role::from_ordinal(2), None);
        assert_eq!(UserStatus::from_ordinal(3), None);
    }

    #[test]
    fn login_rules() {
        assert!(check_login("dev-1@home.lan").is_ok());
        assert!(check_login("ab").is_err());
        assert!(check_login(&"a".repeat(65)).is_err());
        assert!(check_login("with space").is_err());
    }

    #[test]
    fn password_policy() {
        assert!(check_password_policy("secret"));
        assert!(!check_password_policy("short"));
        assert!(check_password_policy(&"x".repeat(128)));
        assert!(!check_password_policy(&"x".repeat(129)));
        assert!(!check_password_policy("line\nbreak"));
    }
}

//! The claims of a login token, as the DeviceHive server issues them: the one place both
//! `token` and the operator's `dh-mqtt-plugin token` build them.

use crate::auth::jwt::{Claims, TokenType};
use crate::db::user_repo::CurrentUser;
use crate::model::Role;

/// Whether the user may use the API (status ACTIVE).
pub fn is_active(user: &CurrentUser) -> bool {
    user.user.is_active()
}

/// The user's role; a role ordinal this service does not know counts as a client, the role
/// with the fewer rights.
pub fn role_of(user: &CurrentUser) -> Role {
    Role::from_ordinal(user.user.role.into()).unwrap_or(Role::Client)
}

/// The login claims for `user`: its role's actions, its networks, its device-type access.
pub fn login_claims(user: &CurrentUser, token_type: TokenType, expires_ms: i64) -> Claims {
    let networks: Vec<i64> = user.networks.iter().map(|n| n.id).collect();
    let all_types = user.user.all_device_types_available.unwrap_or(true);
    Claims::for_login(
        user.user.id,
        role_of(user),
        &networks,
        all_types,
        token_type,
        expires_ms,
    )
}

/// A signed pair as the answer's fields.
pub fn pair(
    tokens: Vec<String>,
) -> Result<serde_json::Map<String, serde_json::Value>, crate::error::ServiceError> {
    let [access, refresh]: [String; 2] = tokens
        .try_into()
        .map_err(|_| crate::error::ServiceError::Internal)?;
    let mut fields = serde_json::Map::new();
    fields.insert("accessToken".into(), access.into());
    fields.insert("refreshToken".into(), refresh.into());
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::fake::user;

    #[test]
    fn an_unknown_role_gets_a_clients_claims() {
        let mut odd = user(7, "odd", 1);
        odd.user.role = 9;
        let claims = login_claims(&odd, TokenType::Access, 1);
        let client = login_claims(&user(7, "odd", 1), TokenType::Access, 1);
        assert_eq!(claims.a, client.a);
        assert_eq!(role_of(&odd), Role::Client);
    }
}

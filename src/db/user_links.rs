//! A user's networks and device types as directory operations (docs/PROTOCOL.md, section 4):
//! `user/getNetwork`, `user/assignNetwork`, `user/unassignNetwork` and the six device-type
//! actions. Checks run in DeviceHive's order inside the operation's transaction; a link
//! change bumps the network's or device type's `entity_version`, as DeviceHive's ORM does.

use diesel::prelude::*;

use super::directory::{require_self_or_admin, Caller, DirectoryOp, OpError};
use super::model::{DeviceTypeRow, NetworkRow};
use super::schema::{device_type, dh_user, network, user_device_type, user_network};
use super::DbConn;
use crate::error::ServiceError;
use crate::{with_conn, write_transaction};

/// A user and a network, or a user and a device type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// `userId`
    pub user_id: i64,
    /// `networkId` or `deviceTypeId`
    pub other_id: i64,
}

/// The user's `all_device_types_available`, or 404 when there is no such user. NULL (which
/// DeviceHive never writes, and answers 500 for) reads as the column default, true.
macro_rules! all_device_types {
    ($c:expr, $user_id:expr) => {
        dh_user::table
            .find($user_id)
            .select(dh_user::all_device_types_available)
            .first::<Option<bool>>($c)
            .optional()
            .map_err(OpError::from)
            .and_then(|found| {
                found
                    .map(|flag| flag.unwrap_or(true))
                    .ok_or(OpError::Refused(ServiceError::UserNotFound($user_id)))
            })
    };
}

/// 404 unless the user exists.
macro_rules! require_user {
    ($c:expr, $user_id:expr) => {
        all_device_types!($c, $user_id).map(|_| ())
    };
}

/// `user/getNetwork`: one network the user is linked to.
pub struct GetUserNetwork {
    /// Who asks.
    pub caller: Caller,
    /// The user and the network.
    pub link: Link,
}

impl DirectoryOp for GetUserNetwork {
    type Output = NetworkRow;
    const WHAT: &'static str = "user/getNetwork";

    fn run(self, conn: &mut DbConn) -> Result<NetworkRow, OpError> {
        let Link { user_id, other_id } = self.link;
        require_self_or_admin(conn, self.caller, user_id)?;
        with_conn!(conn, |c| {
            require_user!(c, user_id)?;
            user_network::table
                .inner_join(network::table)
                .filter(user_network::user_id.eq(user_id))
                .filter(network::id.eq(other_id))
                .select(NetworkRow::as_select())
                .first(c)
                .optional()?
                .ok_or(OpError::Refused(ServiceError::UserNetworkNotFound {
                    network: other_id,
                    user: user_id,
                }))
        })
    }
}

/// 404 unless the network exists.
macro_rules! require_network {
    ($c:expr, $id:expr) => {
        network::table
            .find($id)
            .select(network::id)
            .first::<i64>($c)
            .optional()?
            .map(|_| ())
            .ok_or(OpError::Refused(ServiceError::NetworkNotFound($id)))
    };
}

/// `user/assignNetwork`: links the user to the network (once).
pub struct AssignNetwork(pub Link);

impl DirectoryOp for AssignNetwork {
    type Output = ();
    const WHAT: &'static str = "user/assignNetwork";

    fn run(self, conn: &mut DbConn) -> Result<(), OpError> {
        let Link { user_id, other_id } = self.0;
        write_transaction!(conn, |c| {
            require_user!(c, user_id)?;
            require_network!(c, other_id)?;
            let linked = user_network::table
                .filter(user_network::user_id.eq(user_id))
                .filter(user_network::network_id.eq(other_id))
                .select(user_network::id)
                .first::<i64>(c)
                .optional()?;
            if linked.is_none() {
                diesel::insert_into(user_network::table)
                    .values((
                        user_network::network_id.eq(other_id),
                        user_network::user_id.eq(user_id),
                    ))
                    .execute(c)?;
                diesel::update(network::table.find(other_id))
                    .set(network::entity_version.eq(network::entity_version + 1))
                    .execute(c)?;
            }
            Ok(())
        })
    }
}

/// `user/unassignNetwork`: removes the user's links to the network (not linked: success).
pub struct UnassignNetwork(pub Link);

impl DirectoryOp for UnassignNetwork {
    type Output = ();
    const WHAT: &'static str = "user/unassignNetwork";

    fn run(self, conn: &mut DbConn) -> Result<(), OpError> {
        let Link { user_id, other_id } = self.0;
        write_transaction!(conn, |c| {
            require_user!(c, user_id)?;
            require_network!(c, other_id)?;
            let removed = diesel::delete(
                user_network::table
                    .filter(user_network::user_id.eq(user_id))
                    .filter(user_network::network_id.eq(other_id)),
            )
            .execute(c)?;
            if removed > 0 {
                diesel::update(network::table.find(other_id))
                    .set(network::entity_version.eq(network::entity_version + 1))
                    .execute(c)?;
            }
            Ok(())
        })
    }
}

/// `user/getDeviceType`: one device type the user has a link to. As DeviceHive's WebSocket
/// API, the all-device-types flag is not consulted: only links count.
pub struct GetUserDeviceType {
    /// Who asks.
    pub caller: Caller,
    /// The user and the device type.
    pub link: Link,
}

impl DirectoryOp for GetUserDeviceType {
    type Output = DeviceTypeRow;
    const WHAT: &'static str = "user/getDeviceType";

    fn run(self, conn: &mut DbConn) -> Result<DeviceTypeRow, OpError> {
        let Link { user_id, other_id } = self.link;
        require_self_or_admin(conn, self.caller, user_id)?;
        with_conn!(conn, |c| {
            require_user!(c, user_id)?;
            user_device_type::table
                .inner_join(device_type::table)
                .filter(user_device_type::user_id.eq(user_id))
                .filter(device_type::id.eq(other_id))
                .select(DeviceTypeRow::as_select())
                .first(c)
                .optional()?
                .ok_or(OpError::Refused(ServiceError::UserDeviceTypeNotFound {
                    device_type: other_id,
                    user: user_id,
                }))
        })
    }
}

/// `user/getDeviceTypes`: every device type when the user may use all, else its links.
pub struct GetUserDeviceTypes {
    /// `userId`
    pub user_id: i64,
}

impl DirectoryOp for GetUserDeviceTypes {
    type Output = Vec<DeviceTypeRow>;
    const WHAT: &'static str = "user/getDeviceTypes";

    fn run(self, conn: &mut DbConn) -> Result<Vec<DeviceTypeRow>, OpError> {
        let user_id = self.user_id;
        with_conn!(conn, |c| {
            let mut rows = if all_device_types!(c, user_id)? {
                device_type::table
                    .select(DeviceTypeRow::as_select())
                    .order(device_type::id)
                    .load(c)?
            } else {
                user_device_type::table
                    .inner_join(device_type::table)
                    .filter(user_device_type::user_id.eq(user_id))
                    .select(DeviceTypeRow::as_select())
                    .order(device_type::id)
                    .load(c)?
            };
            // The link table has no unique constraint: a type may be linked twice.
            rows.dedup_by_key(|row| row.id);
            Ok(rows)
        })
    }
}

/// The user's flag (404 when missing), then 403 while it allows all device types, then 404
/// unless the device type exists: DeviceHive's order for assign and unassign.
macro_rules! require_assignable {
    ($c:expr, $user_id:expr, $device_type_id:expr) => {{
        if all_device_types!($c, $user_id)? {
            return Err(ServiceError::AllDeviceTypesAllowed.into());
        }
        device_type::table
            .find($device_type_id)
            .select(device_type::id)
            .first::<i64>($c)
            .optional()?
            .ok_or(OpError::Refused(ServiceError::DeviceTypeNotFound(
                $device_type_id,
            )))?;
    }};
}

/// `user/assignDeviceType`: links the user to the device type (once).
pub struct AssignDeviceType(pub Link);

impl DirectoryOp for AssignDeviceType {
    type Output = ();
    const WHAT: &'static str = "user/assignDeviceType";

    fn run(self, conn: &mut DbConn) -> Result<(), OpError> {
        let Link { user_id, other_id } = self.0;
        write_transaction!(conn, |c| {
            require_assignable!(c, user_id, other_id);
            let linked = user_device_type::table
                .filter(user_device_type::user_id.eq(user_id))
                .filter(user_device_type::device_type_id.eq(other_id))
                .select(user_device_type::id)
                .first::<i64>(c)
                .optional()?;
            if linked.is_none() {
                diesel::insert_into(user_device_type::table)
                    .values((
                        user_device_type::device_type_id.eq(other_id),
                        user_device_type::user_id.eq(user_id),
                    ))
                    .execute(c)?;
                diesel::update(device_type::table.find(other_id))
                    .set(device_type::entity_version.eq(device_type::entity_version + 1))
                    .execute(c)?;
            }
            Ok(())
        })
    }
}

/// `user/unassignDeviceType`: removes the user's links to the device type.
pub struct UnassignDeviceType(pub Link);

impl DirectoryOp for UnassignDeviceType {
    type Output = ();
    const WHAT: &'static str = "user/unassignDeviceType";

    fn run(self, conn: &mut DbConn) -> Result<(), OpError> {
        let Link { user_id, other_id } = self.0;
        write_transaction!(conn, |c| {
            require_assignable!(c, user_id, other_id);
            let removed = diesel::delete(
                user_device_type::table
                    .filter(user_device_type::user_id.eq(user_id))
                    .filter(user_device_type::device_type_id.eq(other_id)),
            )
            .execute(c)?;
            if removed > 0 {
                diesel::update(device_type::table.find(other_id))
                    .set(device_type::entity_version.eq(device_type::entity_version + 1))
                    .execute(c)?;
            }
            Ok(())
        })
    }
}

/// `user/allowAllDeviceTypes` (`allow: true`): removes every device-type link of the user
/// and sets the flag, as DeviceHive does; `user/disallowAllDeviceTypes` (`allow: false`)
/// clears the flag and keeps the links.
pub struct SetAllDeviceTypes {
    /// `userId`
    pub user_id: i64,
    /// The new flag.
    pub allow: bool,
}

impl DirectoryOp for SetAllDeviceTypes {
    type Output = ();
    const WHAT: &'static str = "user/allowAllDeviceTypes";

    fn run(self, conn: &mut DbConn) -> Result<(), OpError> {
        let SetAllDeviceTypes { user_id, allow } = self;
        write_transaction!(conn, |c| {
            require_user!(c, user_id)?;
            if allow {
                diesel::delete(
                    user_device_type::table.filter(user_device_type::user_id.eq(user_id)),
                )
                .execute(c)?;
            }
            diesel::update(dh_user::table.find(user_id))
                .set(dh_user::all_device_types_available.eq(Some(allow)))
                .execute(c)?;
            Ok(())
        })
    }
}

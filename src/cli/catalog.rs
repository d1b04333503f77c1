//! `network add` and `device-type add`: rows the user family links to. DeviceHive creates
//! them with its network and device-type APIs, which this service does not serve.

use anyhow::bail;

use crate::config::Config;
use crate::db::{user_repo, DbPool};

/// Creates a network and prints its id.
pub fn add_network(config: &Config, name: &str, description: Option<&str>) -> anyhow::Result<()> {
    let mut conn = DbPool::open(&config.database, 1, config.db_timeout)?.get()?;
    if user_repo::find_network(&mut conn, name)?.is_some_and(|n| n.name == name) {
        bail!("a network named '{name}' already exists");
    }
    let id = user_repo::insert_network(&mut conn, name, description)?;
    println!("{id}");
    Ok(())
}

/// Creates a device type and prints its id.
pub fn add_device_type(
    config: &Config,
    name: &str,
    description: Option<&str>,
) -> anyhow::Result<()> {
    let mut conn = DbPool::open(&config.database, 1, config.db_timeout)?.get()?;
    if user_repo::find_device_type(&mut conn, name)?.is_some_and(|t| t.name == name) {
        bail!("a device type named '{name}' already exists");
    }
    let id = user_repo::insert_device_type(&mut conn, name, description)?;
    println!("{id}");
    Ok(())
}

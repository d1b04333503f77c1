//! The operator CLI as a [`Directory`]: the user-management actions run on one database
//! connection of its own, with the configured hash scheme, as [`Caller::Operator`]. Refusals
//! are the same `ServiceError`s an MQTT client gets.

use anyhow::bail;
use serde_json::{Map, Value};

use crate::auth::broker_login::{BrokerKey, NewBrokerLogin};
use crate::auth::password::{hash, HashScheme, StoredPassword};
use crate::config::Config;
use crate::db::directory::{Caller, DirectoryOp, OpError};
use crate::db::{DbConn, DbPool};
use crate::error::ServiceError;
use crate::handlers::{manage, Directory};
use crate::protocol::{Action, Body};
use crate::secret::Secret;

/// One connection's worth of directory.
pub struct Direct {
    pool: DbPool,
    scheme: HashScheme,
    broker_key: Option<BrokerKey>,
}

impl Direct {
    /// Opens the configured database.
    pub fn open(config: &Config) -> anyhow::Result<Direct> {
        Ok(Direct {
            pool: DbPool::open(&config.database, 1, config.db_timeout)?,
            scheme: config.password_hash,
            broker_key: config.broker_key(),
        })
    }

    /// Runs a plain query on the same connection (looking a name up).
    pub fn query<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> diesel::QueryResult<T>,
    ) -> anyhow::Result<T> {
        Ok(f(&mut self.pool.get()?)?)
    }

    /// Runs `action` with the request fields `body`; its answer's fields, or an error naming
    /// the code and text an MQTT client would get.
    pub fn call(&self, action: Action, body: Value) -> anyhow::Result<Map<String, Value>> {
        let Value::Object(body) = body else {
            bail!("request fields must be an object");
        };
        let answer =
            futures::executor::block_on(manage::handle(self, action, Caller::Operator, &body));
        match answer {
            Ok(Body::Fields(fields)) => Ok(fields),
            Ok(Body::Current(_)) => bail!("{}: unexpected answer", action.name()),
            Err(err) => bail!("{} {}", err.code(), err),
        }
    }
}

impl Directory for Direct {
    async fn run<Op: DirectoryOp>(&self, op: Op) -> Result<Op::Output, ServiceError> {
        let mut conn = self.pool.get().map_err(|err| {
            log::error!(target: "dh::cli", "{}: {err}", Op::WHAT);
            ServiceError::ServiceUnavailable
        })?;
        op.run(&mut conn).map_err(|err| match err {
            OpError::Refused(refusal) => refusal,
            OpError::Db(cause) => {
                log::error!(target: "dh::cli", "{}: {cause}", Op::WHAT);
                ServiceError::Internal
            }
        })
    }

    async fn hash_password(&self, password: Secret) -> Result<StoredPassword, ServiceError> {
        hash(password.expose(), self.scheme).map_err(|err| {
            log::error!(target: "dh::cli", "hashing a password: {err}");
            ServiceError::Internal
        })
    }

    fn broker_login(&self, password: &Secret) -> Option<NewBrokerLogin> {
        self.broker_key
            .as_ref()
            .map(|key| key.login(password.expose()))
    }
}

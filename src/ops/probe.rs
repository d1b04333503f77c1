//! The self-check behind systemd's watchdog and `/healthz`: every [`INTERVAL`] a message to
//! the auth actor and to every repository lane (each runs `SELECT 1` on a pooled connection).
//! The check itself runs on the actix system thread, where ingest, the batchers and the
//! publishers run, so its running at all says that thread is not wedged; the answers say the
//! auth actor and every lane thread are not either. A lane blocked on a database that stopped
//! answering fails it too: a restart is what frees such a lane.

use std::sync::Arc;
use std::time::Duration;

use actix::Addr;

use super::health::Health;
use crate::actors::ask::ask;
use crate::actors::auth::AuthActor;
use crate::actors::lanes::RepoLanes;
use crate::actors::messages::{Mint, Ping};
use crate::error::ServiceError;

/// How often the check runs.
pub const INTERVAL: Duration = Duration::from_secs(1);
/// How long the actors have to answer it.
const TIMEOUT: Duration = Duration::from_secs(3);

/// What the check visits.
#[derive(Clone)]
pub struct Probe {
    /// The auth actor.
    pub auth: Addr<AuthActor>,
    /// Every set of repository lanes.
    pub lanes: Vec<RepoLanes>,
    /// Where the database's outcome goes.
    pub health: Arc<Health>,
}

impl Probe {
    /// Runs one check: whether every actor answered in time. The database's own outcome
    /// (a lane may answer that its connection failed) goes to [`Health`].
    pub async fn check(&self) -> bool {
        let auth = ask(&self.auth, Mint(Vec::new()));
        let lanes = self
            .lanes
            .iter()
            .flat_map(|lanes| (0..lanes.len()).map(move |index| lanes.ask_on(index, Ping)));
        let all = async { (auth.await, futures::future::join_all(lanes).await) };
        let Ok((auth, lanes)) = actix_rt::time::timeout(TIMEOUT, all).await else {
            self.health
                .database_checked(Err(format!("no answer within {TIMEOUT:?}")));
            return false;
        };
        let database = lanes
            .iter()
            .find_map(|outcome| outcome.as_ref().err())
            .map_or(Ok(()), |e| Err(e.to_string()));
        self.health.database_checked(database);
        // A lane that answered an error still answered; only a lane actor that is gone
        // (`Internal` from `ask`) or silent counts against the actors.
        auth.is_ok()
            && lanes
                .iter()
                .all(|o| !matches!(o, Err(ServiceError::Internal)))
    }
}

//! The user-repository actor: diesel over the r2d2 pool. Each instance runs alone on its own
//! arbiter thread (a lane, see [`super::lanes`]), so its blocking database work never runs
//! where MQTT is driven.

use actix::{Actor, Context, Handler, Supervised};

use super::messages::{
    BindSession, CountSessions, FindLogin, LoadBatch, LoadUser, Ping, PruneSessions,
    RecordAuthentication, RecordLoginFailure, RecordLoginSuccess, RunOp, SessionBatch, UpdateBatch,
};
use super::supervise::{guarded, inject, FaultPlan, FaultSite};
use crate::auth::jwt::now_ms;
use crate::db::directory::{DirectoryOp, OpError};
use crate::db::server_clock::ServerClock;
use crate::db::sessions::{self, StoredSession};
use crate::db::user_repo::{self, CurrentUser, UpdateRejection};
use crate::db::{DbConn, DbError, DbPool};
use crate::error::ServiceError;
use crate::ops::metrics;

/// Runs the repository's queries.
pub struct RepoActor {
    pool: DbPool,
    max_login_attempts: i32,
    faults: FaultPlan,
    /// The database server's clock, read by this lane's update batches.
    server_clock: ServerClock,
}

impl RepoActor {
    /// A repository thread over `pool`; `max_login_attempts` wrong passwords lock a user.
    pub fn new(pool: DbPool, max_login_attempts: i32, faults: FaultPlan) -> RepoActor {
        RepoActor {
            pool,
            max_login_attempts,
            faults,
            server_clock: ServerClock::default(),
        }
    }

    fn with_conn<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut DbConn) -> Result<T, diesel::result::Error>,
    ) -> Result<T, ServiceError> {
        inject(&self.faults, FaultSite::Repo);
        let outcome = self
            .pool
            .get()
            .and_then(|mut conn| f(&mut conn).map_err(|e| conn.classify(e)));
        outcome.map_err(|err| match err {
            DbError::Unavailable(cause) => {
                metrics::database_error("unavailable");
                log::warn!(target: "dh::repo", "{what}: {cause}");
                ServiceError::ServiceUnavailable
            }
            DbError::Query(cause) => {
                metrics::database_error("query");
                log::error!(target: "dh::repo", "{what}: {cause}");
                ServiceError::Internal
            }
        })
    }
}

impl Actor for RepoActor {
    type Context = Context<Self>;
}

impl Supervised for RepoActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        // The actor holds no connection between messages: nothing to repair.
        log::warn!(target: "dh::repo", "repository actor restarting");
    }
}

impl Handler<LoadBatch> for RepoActor {
    type Result = Result<Vec<Result<CurrentUser, ServiceError>>, ServiceError>;

    fn handle(&mut self, msg: LoadBatch, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            let found = self.with_conn("user/getCurrent", |c| {
                user_repo::load_current_many(c, &msg.0)
            })?;
            Ok(msg
                .0
                .iter()
                .map(|id| {
                    found
                        .get(id)
                        .filter(|cur| cur.user.is_active())
                        .cloned()
                        .ok_or(ServiceError::Unauthorized)
                })
                .collect())
        })
    }
}

impl Handler<SessionBatch> for RepoActor {
    type Result = Result<Vec<Result<StoredSession, ServiceError>>, ServiceError>;

    fn handle(&mut self, msg: SessionBatch, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            let found = self.with_conn("session", |c| sessions::load_many(c, &msg.0))?;
            Ok(msg
                .0
                .iter()
                .map(|id| found.get(id).cloned().ok_or(ServiceError::Unauthorized))
                .collect())
        })
    }
}

impl Handler<BindSession> for RepoActor {
    type Result = Result<(), ServiceError>;

    fn handle(&mut self, msg: BindSession, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            self.with_conn("authenticate", |c| {
                sessions::bind(c, &msg.client_id, &msg.claims, now_ms())
            })?;
            log::info!(target: "dh::auth", "client '{}' authenticated as user {}", msg.client_id, msg.claims.u.unwrap_or_default());
            Ok(())
        })
    }
}

impl Handler<Ping> for RepoActor {
    type Result = Result<(), ServiceError>;

    fn handle(&mut self, _: Ping, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            self.with_conn("health check", |c| {
                crate::with_conn!(c, |c| diesel::RunQueryDsl::execute(
                    diesel::sql_query("SELECT 1"),
                    c
                ))
                .map(drop)
            })
        })
    }
}

impl Handler<CountSessions> for RepoActor {
    type Result = Result<i64, ServiceError>;

    fn handle(&mut self, _: CountSessions, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            self.with_conn("session count", sessions::count)
        })
    }
}

impl Handler<PruneSessions> for RepoActor {
    type Result = Result<usize, ServiceError>;

    fn handle(&mut self, _: PruneSessions, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            self.with_conn("session pruning", |c| sessions::prune(c, now_ms()))
        })
    }
}

impl Handler<UpdateBatch> for RepoActor {
    type Result = Result<Vec<Result<(), ServiceError>>, ServiceError>;

    fn handle(&mut self, msg: UpdateBatch, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            let mut clock = self.server_clock;
            let outcomes = self.with_conn("user/updateCurrent", |c| {
                user_repo::update_current_batch(c, &msg.0, &mut clock)
            });
            self.server_clock = clock;
            let outcomes = outcomes?;
            Ok(outcomes
                .into_iter()
                .map(|o| {
                    o.map_err(|why| match why {
                        UpdateRejection::NotActive => ServiceError::Unauthorized,
                        UpdateRejection::AdminRequired => ServiceError::AdminRequired,
                        UpdateRejection::LoginTaken => ServiceError::LoginTaken,
                        UpdateRejection::TooLate => ServiceError::ServiceUnavailable,
                    })
                })
                .collect())
        })
    }
}

impl Handler<RecordAuthentication> for RepoActor {
    type Result = Result<bool, ServiceError>;

    fn handle(&mut self, msg: RecordAuthentication, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            let now = chrono::Utc::now().naive_utc();
            let user = self.with_conn("authenticate", |c| {
                user_repo::touch_login(c, msg.user_id, now)
            })?;
            Ok(user.is_some_and(|u| u.is_active()))
        })
    }
}

impl Handler<FindLogin> for RepoActor {
    type Result = Result<Option<CurrentUser>, ServiceError>;

    fn handle(&mut self, msg: FindLogin, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            self.with_conn("token", |c| {
                let Some(user) = user_repo::find_by_login(c, &msg.login)? else {
                    return Ok(None);
                };
                let networks = user_repo::networks_of(c, user.id)?;
                Ok(Some(CurrentUser { user, networks }))
            })
        })
    }
}

impl Handler<LoadUser> for RepoActor {
    type Result = Result<Option<CurrentUser>, ServiceError>;

    fn handle(&mut self, msg: LoadUser, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            self.with_conn("load user", |c| user_repo::load_current(c, msg.user_id))
        })
    }
}

impl Handler<RecordLoginFailure> for RepoActor {
    type Result = Result<(), ServiceError>;

    fn handle(&mut self, msg: RecordLoginFailure, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            let max = self.max_login_attempts;
            let locked = self.with_conn("token", |c| {
                user_repo::record_login_failure(c, msg.user_id, max)
            })?;
            if locked {
                log::warn!(target: "dh::repo", "user {} locked out after {max} wrong passwords", msg.user_id);
            }
            Ok(())
        })
    }
}

impl Handler<RecordLoginSuccess> for RepoActor {
    type Result = Result<bool, ServiceError>;

    fn handle(&mut self, msg: RecordLoginSuccess, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            let now = chrono::Utc::now().naive_utc();
            let user = self.with_conn("token", |c| user_repo::touch_login(c, msg.user_id, now))?;
            if !user.is_some_and(|u| u.is_active()) {
                return Ok(false);
            }
            if let Some(up) = &msg.upgrade {
                let upgraded = self.with_conn("token", |c| {
                    user_repo::upgrade_password(c, msg.user_id, &up.old_hash, &up.new)
                })?;
                if upgraded > 0 {
                    log::info!(target: "dh::repo", "user {}: legacy password hash upgraded to Argon2id", msg.user_id);
                }
            }
            Ok(true)
        })
    }
}

impl<Op: DirectoryOp> Handler<RunOp<Op>> for RepoActor {
    type Result = Result<Op::Output, ServiceError>;

    fn handle(&mut self, msg: RunOp<Op>, ctx: &mut Self::Context) -> Self::Result {
        guarded(ctx, "repository", || {
            // A refusal is an answer, not a database failure: it is not logged as one.
            self.with_conn(Op::WHAT, |c| match msg.0.run(c) {
                Ok(output) => Ok(Ok(output)),
                Err(OpError::Refused(refusal)) => Ok(Err(refusal)),
                Err(OpError::Db(err)) => Err(err),
            })?
        })
    }
}

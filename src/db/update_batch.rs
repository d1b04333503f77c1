//! Group commit of `user/updateCurrent`: a batch of updates in one write transaction (on
//! PostgreSQL, a batch that is one statement in that statement alone), each checked and
//! written as the rules say, none landing after its request's deadline.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::Bool;

use super::bulk_update::{self, Shape};
use super::combine::{combine, CombinedWrite};
use super::model::{UpdateJob, UserRow};
use super::prepared;
use super::schema::dh_user;
use super::server_clock::ServerClock;
use super::DbConn;
use crate::model::{Role, UserStatus};
use crate::write_transaction;

/// Why an update was refused; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateRejection {
    /// The user is gone or not active.
    NotActive,
    /// A client-role user asked for an admin-only field.
    AdminRequired,
    /// Another user has the requested login.
    LoginTaken,
    /// Its request is too close to its deadline for a commit to land before the 503.
    TooLate,
}

enum TxError {
    Db(DieselError),
    Rejected(UpdateRejection),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError::Db(e)
    }
}

/// A batch commits only while every one of its requests has at least this long left before
/// its deadline. It is the database's statement and idle-in-transaction timeout: a COMMIT
/// held up by a stalled connection past a deadline then finds its session ended by the server
/// and changes nothing (docs/OPERATIONS.md, "When the database fails").
pub const COMMIT_MARGIN: Duration = Duration::from_millis(super::pool::PG_STATEMENT_TIMEOUT_MS);

/// One update's checks and write, inside the batch's transaction; compiled for both backends.
/// The common update (no login change) is one statement: the UPDATE itself checks that the
/// user is active and, for admin-only fields, an admin. Only when it writes nothing do the
/// checks run one by one to tell why (and write, should the row have changed meanwhile). On
/// PostgreSQL every statement is a round trip, and under load a round trip waits for the CPU.
macro_rules! apply_update {
    ($c:ident, $job:ident) => {{
        if $job.changes.login.is_none() && !$job.changes.is_empty() {
            let admin_or_not_needed = dh_user::role
                .eq(Role::Admin.ordinal())
                .or($job.needs_admin.into_sql::<Bool>().eq(false));
            let filter = dh_user::id
                .eq($job.user_id)
                .and(dh_user::status.eq(UserStatus::Active.ordinal()))
                .and(admin_or_not_needed);
            let written = prepared::update(dh_user::table, &$job.changes, filter).execute($c)?;
            if written == 1 {
                return Ok(());
            }
        }
        let user = dh_user::table
            .find($job.user_id)
            .select(UserRow::as_select())
            .first($c)
            .optional()?
            .filter(UserRow::is_active)
            .ok_or(TxError::Rejected(UpdateRejection::NotActive))?;
        if $job.needs_admin && Role::from_ordinal(user.role.into()) != Some(Role::Admin) {
            return Err(TxError::Rejected(UpdateRejection::AdminRequired));
        }
        if let Some(login) = &$job.changes.login {
            let taken = dh_user::table
                .filter(dh_user::login.eq(login).and(dh_user::id.ne($job.user_id)))
                .select(dh_user::id)
                .first::<i64>($c)
                .optional()?;
            if taken.is_some() {
                return Err(TxError::Rejected(UpdateRejection::LoginTaken));
            }
        }
        if !$job.changes.is_empty() {
            diesel::update(dh_user::table.find($job.user_id))
                .set(&$job.changes)
                .execute($c)?;
        }
        Ok(())
    }};
}

/// Applies a batch of `user/updateCurrent`s in one write transaction (group commit: one
/// commit, one fsync, for every update waiting); one user's plain updates are combined into
/// one write first (see [`super::combine`]). Per write: the user must be active, admin-only
/// fields need the admin role (read from the row, so a demotion takes effect at once), a new
/// login must be free; only the provided columns are written, so concurrent updates of other
/// fields are not lost. A refused write changes nothing and does not disturb the others. A
/// database error fails the whole batch. One outcome per job, in order.
///
/// A job already too late to commit is refused ([`UpdateRejection::TooLate`]) before the
/// transaction, and the rest are written: left in, it made the whole batch roll back, and
/// with it every request that still had time. Once a stall had queued requests for half a
/// second, every batch held one, nothing committed until the queue had timed out, and an
/// open-loop load at half the ceiling got 503s (docs/PERFORMANCE.md, "Too late to commit").
///
/// `clock` is the caller's reading of the server's clock, kept from batch to batch: with it,
/// a batch that is one bulk statement runs without a transaction (see [`super::server_clock`]).
pub fn update_current_batch(
    conn: &mut DbConn,
    jobs: &[UpdateJob],
    clock: &mut ServerClock,
) -> QueryResult<Vec<Result<(), UpdateRejection>>> {
    let now = Instant::now();
    // The jobs still in time, and where each sits in the batch.
    let (timely, live): (Vec<usize>, Vec<&UpdateJob>) = jobs
        .iter()
        .enumerate()
        .filter(|(_, job)| commit_by(job) > now)
        .unzip();
    let mut outcomes = vec![Err(UpdateRejection::TooLate); jobs.len()];
    if live.is_empty() {
        return Ok(outcomes);
    }
    for (&index, outcome) in timely.iter().zip(write_batch(conn, &live, clock)?) {
        if let Some(slot) = outcomes.get_mut(index) {
            *slot = outcome;
        }
    }
    Ok(outcomes)
}

/// The latest moment `job`'s update may commit.
fn commit_by(job: &UpdateJob) -> Instant {
    job.deadline
        .checked_sub(COMMIT_MARGIN)
        .unwrap_or(job.deadline)
}

/// [`update_current_batch`]'s transaction, for jobs that all had time when it began: plain
/// updates of distinct users in one statement per [`bulk_update::Shape`] (see [`bulk_update`]),
/// then the others, and those the statement did not write, one by one.
fn write_batch(
    conn: &mut DbConn,
    jobs: &[&UpdateJob],
    clock: &mut ServerClock,
) -> QueryResult<Vec<Result<(), UpdateRejection>>> {
    let writes = combine(jobs);
    let bulk = bulk_update::groups(&writes);
    let commit_by = jobs.iter().map(|job| commit_by(job)).min();
    if let Some(outcomes) = one_statement(conn, jobs.len(), &writes, &bulk, commit_by, clock)? {
        return Ok(outcomes);
    }
    write_transaction!(conn, |c| {
        let mut outcomes = vec![Ok(()); jobs.len()];
        let mut written = vec![false; writes.len()];
        for (shape, members) in &bulk {
            let done = bulk_update::write(c, *shape, &writes, members, i64::MAX, clock)?;
            for w in done.written {
                if let Some(done) = written.get_mut(w) {
                    *done = true;
                }
            }
        }
        for (write, _) in writes.iter().zip(&written).filter(|(_, &done)| !done) {
            let job = &write.job;
            // A savepoint only where a statement may fail and be recovered from: a login
            // change can hit the unique index (and on PostgreSQL any error aborts the whole
            // transaction). Otherwise the one UPDATE is atomic by itself and the checks before
            // it write nothing; a savepoint would cost two more statements per update.
            let apply = |c: &mut _| -> Result<(), TxError> { apply_update!(c, job) };
            let one = match job.changes.login {
                Some(_) => c.transaction(apply),
                None => apply(c),
            };
            let outcome = match one {
                Ok(()) => Ok(()),
                Err(TxError::Rejected(why)) => Err(why),
                // A rename that raced another one in this batch or another transaction.
                Err(TxError::Db(DieselError::DatabaseError(
                    DatabaseErrorKind::UniqueViolation,
                    _,
                ))) if job.changes.login.is_some() => Err(UpdateRejection::LoginTaken),
                Err(TxError::Db(e)) => return Err(e),
            };
            for &member in &write.members {
                if let Some(slot) = outcomes.get_mut(member) {
                    *slot = outcome;
                }
            }
        }
        if commit_by.is_some_and(|by| Instant::now() > by) {
            // Too late to be sure the commit lands before a request's 503: nothing is written.
            return Err(DieselError::RollbackTransaction);
        }
        Ok(outcomes)
    })
}

/// A PostgreSQL batch whose every write is in one bulk statement, run as that statement alone:
/// atomic by itself, it commits without `BEGIN` and `COMMIT`. It starts on the server no later
/// than the batch's commit deadline, or writes nothing and `None` sends the batch through the
/// transaction; so does a batch of any other kind, SQLite, or no fresh reading of the clock.
fn one_statement(
    conn: &mut DbConn,
    count: usize,
    writes: &[CombinedWrite],
    bulk: &[(Shape, Vec<usize>)],
    commit_by: Option<Instant>,
    clock: &mut ServerClock,
) -> QueryResult<Option<Vec<Result<(), UpdateRejection>>>> {
    let (DbConn::Postgres(c), [(shape, members)]) = (conn, bulk) else {
        return Ok(None);
    };
    if members.len() != writes.len() {
        return Ok(None);
    }
    let Some(not_after_us) = commit_by.and_then(|by| clock.server_time_of(by, Instant::now()))
    else {
        return Ok(None);
    };
    let done = bulk_update::write(&mut **c, *shape, writes, members, not_after_us, clock)?;
    if done.too_late(not_after_us) {
        return Ok(None);
    }
    // Each write is a plain update of a user with no other write in the batch: one the
    // statement did not write is of a user who is gone or not active, as the checks would say.
    let mut outcomes = vec![Err(UpdateRejection::NotActive); count];
    for write in done.written.iter().filter_map(|&w| writes.get(w)) {
        for &member in &write.members {
            if let Some(slot) = outcomes.get_mut(member) {
                *slot = Ok(());
            }
        }
    }
    Ok(Some(outcomes))
}

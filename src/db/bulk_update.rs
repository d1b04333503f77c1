//! One UPDATE statement for many users' plain `user/updateCurrent`s of a batch (PostgreSQL).
//!
//! On PostgreSQL every statement of a batch is a round trip, and on a loaded 2-core machine a
//! round trip waits for the CPU twice (the backend's turn, then ours). With every update its
//! own statement, a batch of 64 distinct users' updates took 64 round trips inside the
//! transaction, and the updateCurrent throughput was a fifth of the echo's
//! (docs/PERFORMANCE.md, "C3: distinct users"). Here the rows travel as one JSON array, one
//! statement sets the same columns of every row, and `RETURNING` says which rows it wrote.
//!
//! Only plain updates go in (no login, role or status: nothing another row or a check of the
//! batch depends on), and only of users with no other write in the batch, so running them
//! first is the same as running them in request order. A row the statement did not write
//! (the user gone or not active) goes through the one-by-one path, which tells why.

use std::collections::HashMap;
use std::time::Instant;

use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::LoadQuery;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Integer, Nullable, Text, Untyped};
use serde::Serialize;

use super::combine::CombinedWrite;
use super::model::UserChanges;
use super::server_clock::ServerClock;
use crate::model::UserStatus;

/// The columns a plain update may set, as bits of a [`Shape`].
const COLUMNS: [(u8, &str, &str); 4] = [
    (1, "password_hash", "text"),
    (2, "password_salt", "text"),
    (4, "data", "text"),
    (8, "intro_reviewed", "boolean"),
];

/// Which columns an update sets; one statement serves the updates of one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape(u8);

impl Shape {
    /// The shape of a plain update; `None` for one that changes the login, role or status (or
    /// nothing), which keeps its own statement and checks.
    pub fn of(changes: &UserChanges) -> Option<Shape> {
        if changes.login.is_some()
            || changes.role.is_some()
            || changes.status.is_some()
            || changes.login_attempts.is_some()
        {
            return None;
        }
        let bits = [
            changes.password_hash.is_some(),
            changes.password_salt.is_some(),
            changes.data.is_some(),
            changes.intro_reviewed.is_some(),
        ]
        .iter()
        .zip(COLUMNS)
        .filter(|(set, _)| **set)
        .fold(0, |bits, (_, (bit, _, _))| bits | bit);
        (bits != 0).then_some(Shape(bits))
    }

    /// The SET list, each column from the input row `v`; the same in both dialects.
    fn assignments(self) -> String {
        let set: Vec<String> = self
            .columns()
            .map(|(n, _)| format!("{n} = v.{n}"))
            .collect();
        set.join(", ")
    }

    fn columns(self) -> impl Iterator<Item = (&'static str, &'static str)> {
        COLUMNS
            .into_iter()
            .filter(move |(bit, _, _)| self.0 & bit != 0)
            .map(|(_, name, ty)| (name, ty))
    }
}

/// The writes of a batch that go into one statement per shape: groups of two or more (one
/// write alone is one statement either way), each a list of indexes into `writes`.
pub fn groups(writes: &[CombinedWrite]) -> Vec<(Shape, Vec<usize>)> {
    let mut per_user: HashMap<i64, usize> = HashMap::new();
    for write in writes {
        *per_user.entry(write.job.user_id).or_default() += 1;
    }
    let mut groups: Vec<(Shape, Vec<usize>)> = Vec::new();
    for (index, write) in writes.iter().enumerate() {
        if per_user.get(&write.job.user_id) != Some(&1) || write.job.needs_admin {
            continue;
        }
        let Some(shape) = Shape::of(&write.job.changes) else {
            continue;
        };
        match groups.iter_mut().find(|(s, _)| *s == shape) {
            Some((_, members)) => members.push(index),
            None => groups.push((shape, vec![index])),
        }
    }
    groups.retain(|(_, members)| members.len() > 1);
    groups
}

/// The statement's SQL in each backend's dialect. It takes the rows as a JSON array of
/// objects (`id` and the shape's columns), the active status and the latest server time (µs
/// since the epoch) at which it may still start, and returns the time it started and the ids
/// written: one row with no id when it wrote none, or when it started too late and so wrote
/// nothing (see [`super::server_clock`]).
pub trait BulkDialect {
    /// The UPDATE for `shape`, or `None` where one statement per row is cheaper.
    fn bulk_update_sql(shape: Shape) -> Option<BulkSql>;
}

/// A bulk UPDATE's SQL around its three parameters: the rows, the active status, the bound.
pub struct BulkSql {
    before_rows: String,
    before_status: String,
    before_bound: &'static str,
    after: &'static str,
}

impl BulkDialect for PgConnection {
    fn bulk_update_sql(shape: Shape) -> Option<BulkSql> {
        let types: Vec<String> = shape.columns().map(|(n, t)| format!("{n} {t}")).collect();
        // `g` is read once; a data-modifying WITH runs whether or not its rows are used.
        Some(BulkSql {
            before_rows: format!(
                "WITH g AS (SELECT (extract(epoch FROM statement_timestamp()) * 1000000)::bigint \
                 AS started_us), w AS (UPDATE dh_user AS u SET {} FROM json_to_recordset(",
                shape.assignments()
            ),
            before_status: format!(
                "::json) AS v(id bigint, {}), g WHERE u.id = v.id AND u.status = ",
                types.join(", ")
            ),
            before_bound: " AND g.started_us <= ",
            after: " RETURNING u.id) SELECT g.started_us, w.id FROM g LEFT JOIN w ON true",
        })
    }
}

/// The bulk UPDATE as a statement diesel prepares once per connection and shape, then reuses
/// (`sql_query` is never cached): PostgreSQL plans it once instead of for every batch, where
/// planning was a tenth of the server's CPU under an update load (docs/PERFORMANCE.md item 26).
pub struct BulkStatement {
    sql: BulkSql,
    rows: String,
    status: i32,
    not_after_us: i64,
}

impl QueryId for BulkStatement {
    type QueryId = ();
    // Cached by its SQL text, which is the same for every batch of one shape.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for BulkStatement {
    type SqlType = Untyped;
}

impl<DB> QueryFragment<DB> for BulkStatement
where
    DB: Backend + HasSqlType<Text> + HasSqlType<Integer> + HasSqlType<BigInt>,
    String: ToSql<Text, DB>,
    i32: ToSql<Integer, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(&self.sql.before_rows);
        out.push_bind_param::<Text, _>(&self.rows)?;
        out.push_sql(&self.sql.before_status);
        out.push_bind_param::<Integer, _>(&self.status)?;
        out.push_sql(self.sql.before_bound);
        out.push_bind_param::<BigInt, _>(&self.not_after_us)?;
        out.push_sql(self.sql.after);
        Ok(())
    }
}

impl<C> RunQueryDsl<C> for BulkStatement {}

impl BulkDialect for SqliteConnection {
    /// SQLite runs in process: a statement per row costs microseconds and no round trip, and
    /// building, then parsing the JSON cost more than it saved (C3 on SQLite 0.49 one by one
    /// against 0.38 in one statement, docs/PERFORMANCE.md "C3: distinct users").
    fn bulk_update_sql(_shape: Shape) -> Option<BulkSql> {
        None
    }
}

/// A row of the statement's answer.
#[derive(QueryableByName)]
pub struct Written {
    /// When the statement started, by the server's clock (µs since the epoch).
    #[diesel(sql_type = BigInt)]
    pub started_us: i64,
    /// A user it wrote; none in the one row of a statement that wrote nothing.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub id: Option<i64>,
}

/// What one bulk statement did.
#[derive(Debug, Default)]
pub struct BulkOutcome {
    /// The indexes of the writes it wrote.
    pub written: Vec<usize>,
    /// When it started, by the server's clock (µs since the epoch); `None` where the backend
    /// has no such statement.
    pub started_us: Option<i64>,
}

impl BulkOutcome {
    /// Whether it started too late to write anything.
    pub fn too_late(&self, not_after_us: i64) -> bool {
        self.started_us.is_some_and(|at| at > not_after_us)
    }
}

/// Runs the statement for the writes at `members` (of one shape, distinct users), if it
/// starts on the server no later than `not_after_us` (`i64::MAX`: whenever it starts); the
/// start time it reports is a new reading of `clock`.
pub fn write<C>(
    c: &mut C,
    shape: Shape,
    writes: &[CombinedWrite],
    members: &[usize],
    not_after_us: i64,
    clock: &mut ServerClock,
) -> QueryResult<BulkOutcome>
where
    C: BulkDialect + Connection,
    C::Backend: HasSqlType<Text> + HasSqlType<Integer> + HasSqlType<BigInt>,
    String: ToSql<Text, C::Backend>,
    i32: ToSql<Integer, C::Backend>,
    i64: ToSql<BigInt, C::Backend>,
    for<'a> BulkStatement: LoadQuery<'a, C, Written>,
{
    let Some(sql) = C::bulk_update_sql(shape) else {
        return Ok(BulkOutcome::default());
    };
    let by_user: HashMap<i64, usize> = members
        .iter()
        .filter_map(|&w| writes.get(w).map(|write| (write.job.user_id, w)))
        .collect();
    let rows: Vec<Row> = members
        .iter()
        .filter_map(|&w| writes.get(w))
        .map(Row::of)
        .collect();
    let rows = serde_json::to_string(&rows)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let statement = BulkStatement {
        sql,
        rows,
        status: UserStatus::Active.ordinal(),
        not_after_us,
    };
    let answer: Vec<Written> = statement.load(c)?;
    let started_us = answer.first().map(|w| w.started_us);
    if let Some(started_us) = started_us {
        clock.observe(Instant::now(), started_us);
    }
    Ok(BulkOutcome {
        written: answer
            .iter()
            .filter_map(|w| w.id.and_then(|id| by_user.get(&id).copied()))
            .collect(),
        started_us,
    })
}

/// One row of the statement's input: the user's id and the columns its update sets, the others
/// left out, so that the row has exactly its [`Shape`]'s columns. Serialized straight from the
/// request's job: no `serde_json::Value` per row and no copy of its values.
#[derive(Serialize)]
struct Row<'a> {
    id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_hash: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_salt: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    intro_reviewed: Option<bool>,
}

impl<'a> Row<'a> {
    fn of(write: &'a CombinedWrite) -> Row<'a> {
        let changes = &write.job.changes;
        Row {
            id: write.job.user_id,
            password_hash: changes.password_hash.as_deref(),
            password_salt: changes.password_salt.as_ref().map(Option::as_deref),
            data: changes.data.as_ref().map(Option::as_deref),
            intro_reviewed: changes.intro_reviewed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::model::UpdateJob;
    use serde_json::{Map, Value};

    fn write(user_id: i64, changes: UserChanges, needs_admin: bool) -> CombinedWrite<'static> {
        CombinedWrite {
            job: std::borrow::Cow::Owned(UpdateJob {
                user_id,
                changes,
                needs_admin,
                deadline: std::time::Instant::now(),
            }),
            members: vec![],
        }
    }

    fn data(user_id: i64) -> CombinedWrite<'static> {
        let changes = UserChanges {
            data: Some(Some("{}".into())),
            ..UserChanges::default()
        };
        write(user_id, changes, false)
    }

    #[test]
    fn groups_plain_updates_of_users_written_once_by_shape() {
        let intro = UserChanges {
            intro_reviewed: Some(true),
            ..UserChanges::default()
        };
        let status = UserChanges {
            status: Some(2),
            ..UserChanges::default()
        };
        let writes = [
            data(1),
            data(2),
            write(3, intro.clone(), false),
            data(4),
            write(5, intro, false),
            data(6),
            write(6, status, true),
            write(7, UserChanges::default(), false),
        ];
        let got = groups(&writes);
        assert_eq!(
            got,
            vec![(Shape(4), vec![0, 1, 3]), (Shape(8), vec![2, 4])],
            "user 6 has two writes, user 7's changes nothing"
        );
    }

    #[test]
    fn a_login_role_or_status_change_has_no_shape() {
        let login = UserChanges {
            login: Some("x".into()),
            data: Some(None),
            ..UserChanges::default()
        };
        assert_eq!(Shape::of(&login), None);
        let plain = UserChanges {
            password_hash: Some("h".into()),
            password_salt: Some(None),
            ..UserChanges::default()
        };
        assert_eq!(Shape::of(&plain), Some(Shape(3)));
        let row = serde_json::to_string(&Row::of(&write(9, plain, false)));
        assert_eq!(
            row.ok().as_deref(),
            Some(r#"{"id":9,"password_hash":"h","password_salt":null}"#)
        );
    }

    #[test]
    fn a_row_has_exactly_its_shapes_columns() {
        for bits in 1..16_u8 {
            let set = |bit: u8| bits & bit != 0;
            let changes = UserChanges {
                password_hash: set(1).then(|| "h".to_string()),
                password_salt: set(2).then_some(None),
                data: set(4).then(|| Some("{\"a\":\"b\"}".to_string())),
                intro_reviewed: set(8).then_some(false),
                ..UserChanges::default()
            };
            let shape = Shape::of(&changes);
            assert_eq!(shape, Some(Shape(bits)), "bits {bits}");
            let write = write(1, changes, false);
            let row: Option<Map<String, Value>> = serde_json::to_string(&Row::of(&write))
                .ok()
                .and_then(|r| serde_json::from_str(&r).ok());
            let keys: Vec<String> = row.map(|r| r.keys().cloned().collect()).unwrap_or_default();
            let expected: Vec<String> = std::iter::once("id")
                .chain(Shape(bits).columns().map(|(name, _)| name))
                .map(str::to_string)
                .collect();
            assert_eq!(keys, expected, "bits {bits}");
        }
    }
}

//! [`update`]: an `UPDATE … SET … WHERE …` that diesel keeps prepared per connection.
//!
//! Diesel prepares every `UPDATE` anew: it marks update statements unsafe to cache, as their
//! SQL depends on which of a changeset's `Option` fields are set. But a statement whose query
//! id is not static is cached by its SQL text and bind types, so the same update of the same
//! columns finds its prepared statement again and an update of other columns gets its own.
//! Preparing each `user/updateCurrent`'s UPDATE was a sixth of the service's CPU under an
//! update load on SQLite (docs/PERFORMANCE.md item 27).

use diesel::backend::Backend;
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId};
use diesel::result::Error;
use diesel::{QueryResult, RunQueryDsl, Table};

/// `UPDATE table SET values WHERE filter`, cached by its SQL text; see [`update`].
pub struct Update<F, V, W> {
    from: F,
    values: V,
    filter: W,
}

/// The update of `table`'s rows matching `filter` (an expression with binds, no literal
/// values) to `values`, as `diesel::update(table.filter(filter)).set(values)` would send it.
pub fn update<T, V, W>(table: T, values: V, filter: W) -> Update<T::FromClause, V::Changeset, W>
where
    T: Table,
    V: AsChangeset<Target = T>,
{
    Update {
        from: table.from_clause(),
        values: values.as_changeset(),
        filter,
    }
}

impl<F, V, W> QueryId for Update<F, V, W> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<F, V, W, DB> QueryFragment<DB> for Update<F, V, W>
where
    DB: Backend,
    F: QueryFragment<DB>,
    V: QueryFragment<DB>,
    W: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.values.is_noop(out.backend())? {
            return Err(Error::QueryBuilderError(
                "an update that sets no column".into(),
            ));
        }
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.values.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())
    }
}

impl<F, V, W, C> RunQueryDsl<C> for Update<F, V, W> {}

#[cfg(test)]
mod tests {
    use diesel::debug_query;
    use diesel::prelude::*;
    use diesel::sqlite::Sqlite;

    use crate::db::model::UserChanges;
    use crate::db::schema::dh_user;

    #[test]
    fn sends_what_diesels_update_sends() {
        let changes = UserChanges {
            data: Some(Some("{}".into())),
            intro_reviewed: Some(true),
            ..UserChanges::default()
        };
        let filter = || dh_user::id.eq(7_i64).and(dh_user::status.eq(0));
        let ours = super::update(dh_user::table, changes.clone(), filter());
        let diesels = diesel::update(dh_user::table.filter(filter())).set(changes);
        assert_eq!(
            debug_query::<Sqlite, _>(&ours).to_string(),
            debug_query::<Sqlite, _>(&diesels).to_string()
        );
    }
}

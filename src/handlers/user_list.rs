//! `user/list` and `user/count`: filters and a page (protocol::user_query), then one query.

use serde_json::{Map, Value};

use super::Directory;
use crate::db::user_admin::{CountUsers, ListUsers};
use crate::error::ServiceError;
use crate::protocol::user_query;
use crate::protocol::user_view::{Policy, PolicyView, UserView};
use crate::protocol::Body;

/// `users`: one page of the filtered users.
pub async fn list<D: Directory>(
    directory: &D,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let filter = user_query::filter(body)?;
    let page = user_query::page(body)?;
    let rows = directory.run(ListUsers { filter, page }).await?;
    let views: Vec<UserView> = rows.into_iter().map(UserView::from).collect();
    let listed: Vec<PolicyView<'_>> = views
        .iter()
        .map(|v| PolicyView(v, Policy::Listed))
        .collect();
    Body::field("users", &listed)
}

/// `count`: how many users the filters cover.
pub async fn count<D: Directory>(
    directory: &D,
    body: &Map<String, Value>,
) -> Result<Body, ServiceError> {
    let filter = user_query::filter(body)?;
    let count = directory.run(CountUsers { filter }).await?;
    Body::field("count", &count)
}

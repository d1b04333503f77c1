//! The database deadline: a database step that has not answered within [`DB_DEADLINE`] is
//! answered 503 `Service unavailable`, so a request is answered within 2 s whatever the
//! database does (a stalled connection never errors by itself). The abandoned step is not
//! run if it has not started: actix skips a message whose sender is gone, the batchers skip
//! such jobs, and an update batch does not commit once a request in it is too close to its
//! deadline (see `user_repo::COMMIT_MARGIN`).

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::admission::Admission;
use crate::error::ServiceError;

/// How long one database step may take; with the broker's two hops and the rest of the
/// request this keeps answers within 2 s.
pub const DB_DEADLINE: Duration = Duration::from_millis(1_500);

/// `step`'s outcome, or `ServiceUnavailable` (counted) once [`DB_DEADLINE`] has passed.
pub async fn within_deadline<T>(
    admission: &Admission,
    step: impl Future<Output = T>,
) -> Result<T, ServiceError> {
    match tokio::time::timeout(DB_DEADLINE, step).await {
        Ok(outcome) => Ok(outcome),
        Err(_) => {
            admission.timed_out.fetch_add(1, Ordering::Relaxed);
            Err(ServiceError::ServiceUnavailable)
        }
    }
}

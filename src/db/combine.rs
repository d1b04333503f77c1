//! Write combining for a batch of `user/updateCurrent`s: updates of one user that change no
//! admin-only field (data, password, introReviewed) are merged into one UPDATE, the later
//! value of a column winning, exactly as if they had been written one after the other.
//!
//! Why it is the same as writing them in order: such updates cannot change the user's status
//! or role, so the checks (active, admin) come out the same for every one of them, and they
//! touch no other row and no login, so moving one before another user's update changes
//! nothing either. An update with an admin-only field is never merged and closes the user's
//! open group, so no update is moved across it. Devices of one DeviceHive user share its row:
//! without combining, a busy user's updates would rewrite the same row once per request inside
//! one transaction, each on PostgreSQL a round trip and a new row version.

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;

use super::model::{UpdateJob, UserChanges};

/// One write of the batch and the requests whose outcome it decides.
pub struct CombinedWrite<'a> {
    /// The merged update: the request's own job unless others were merged into it (no copy
    /// of its data for the common write of one request).
    pub job: Cow<'a, UpdateJob>,
    /// Indexes of the requests it stands for, in the batch.
    pub members: Vec<usize>,
}

/// Groups a batch into writes, in the order of each write's first request.
pub fn combine<J: Borrow<UpdateJob>>(jobs: &[J]) -> Vec<CombinedWrite<'_>> {
    let mut writes: Vec<CombinedWrite> = Vec::with_capacity(jobs.len());
    // The user's group that later non-admin updates may still join.
    let mut open: HashMap<i64, usize> = HashMap::new();
    for (index, job) in jobs.iter().map(Borrow::borrow).enumerate() {
        if job.needs_admin {
            open.remove(&job.user_id);
        } else if let Some(write) = open.get(&job.user_id).and_then(|&w| writes.get_mut(w)) {
            write.job.to_mut().changes.overlay(job.changes.clone());
            write.members.push(index);
            continue;
        } else {
            open.insert(job.user_id, writes.len());
        }
        writes.push(CombinedWrite {
            job: Cow::Borrowed(job),
            members: vec![index],
        });
    }
    writes
}

impl UserChanges {
    /// Applies `later` on top: every column it provides replaces this one's.
    pub fn overlay(&mut self, later: UserChanges) {
        fn take<T>(mine: &mut Option<T>, theirs: Option<T>) {
            if theirs.is_some() {
                *mine = theirs;
            }
        }
        take(&mut self.login, later.login);
        take(&mut self.role, later.role);
        take(&mut self.status, later.status);
        take(&mut self.password_hash, later.password_hash);
        take(&mut self.password_salt, later.password_salt);
        take(&mut self.login_attempts, later.login_attempts);
        take(&mut self.data, later.data);
        take(&mut self.intro_reviewed, later.intro_reviewed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(user_id: i64, text: &str) -> UpdateJob {
        UpdateJob {
            user_id,
            deadline: std::time::Instant::now() + std::time::Duration::from_secs(60),
            changes: UserChanges {
                data: Some(Some(text.into())),
                ..UserChanges::default()
            },
            needs_admin: false,
        }
    }

    fn status(user_id: i64) -> UpdateJob {
        UpdateJob {
            user_id,
            deadline: std::time::Instant::now() + std::time::Duration::from_secs(60),
            changes: UserChanges {
                status: Some(2),
                ..UserChanges::default()
            },
            needs_admin: true,
        }
    }

    fn shape(writes: &[CombinedWrite]) -> Vec<(i64, Vec<usize>)> {
        writes
            .iter()
            .map(|w| (w.job.user_id, w.members.clone()))
            .collect()
    }

    #[test]
    fn merges_one_users_plain_updates_later_value_winning() {
        let mut intro = data(1, "b");
        intro.changes.intro_reviewed = Some(true);
        let jobs = [data(1, "a"), data(2, "x"), intro, data(1, "c")];
        let writes = combine(&jobs);
        assert_eq!(shape(&writes), vec![(1, vec![0, 2, 3]), (2, vec![1])]);
        let merged = writes.first().map(|w| &w.job.changes);
        assert_eq!(merged.and_then(|c| c.data.clone()), Some(Some("c".into())));
        assert_eq!(merged.and_then(|c| c.intro_reviewed), Some(true));
    }

    #[test]
    fn never_moves_an_update_across_an_admin_update_of_the_same_user() {
        let jobs = [
            data(1, "a"),
            status(1),
            data(1, "b"),
            data(2, "x"),
            data(1, "c"),
        ];
        let writes = combine(&jobs);
        assert_eq!(
            shape(&writes),
            vec![(1, vec![0]), (1, vec![1]), (1, vec![2, 4]), (2, vec![3])]
        );
    }
}

//! Runs the service's threads (and `dh-bench`'s) under `SCHED_BATCH`.
//!
//! A request crosses three threads: Paho's receive thread hands it to the actix thread, which
//! hands the answer to Paho's send thread. Under the normal policy each hand-off wakes the
//! next thread, and the woken thread preempts the one that woke it whenever they share a core,
//! so each thread ran a message or two at a time. `SCHED_BATCH`
//! keeps nice levels and CPU shares as they are and only stops a woken thread from preempting
//! the running one, so each thread drains what is queued for it before the next runs
//! (figures: docs/PERFORMANCE.md, item 11). A lone request is not delayed: it wakes its
//! thread on an idle core, where there is nothing to preempt.

/// Puts the calling thread, and every thread it starts afterwards, under `SCHED_BATCH` if it
/// runs under the normal policy; a policy someone chose (real-time, idle) is left alone.
/// Returns whether the policy is now `SCHED_BATCH`.
pub fn batch_scheduling() -> bool {
    #[allow(unsafe_code)]
    // SAFETY: a query about the calling thread (id 0).
    let policy = unsafe { libc::sched_getscheduler(0) };
    if policy != libc::SCHED_OTHER {
        return policy == libc::SCHED_BATCH;
    }
    let param = libc::sched_param { sched_priority: 0 };
    #[allow(unsafe_code)]
    // SAFETY: the calling thread (id 0) and a sched_param that lives across the call; only the
    // kernel's scheduling state changes.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    if rc != 0 {
        log::debug!(target: "dh::scheduling", "SCHED_BATCH: {}", std::io::Error::last_os_error());
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel reports the policy back for the thread, and a thread it starts inherits it
    /// (Paho's and the repository's threads are started after the call).
    #[test]
    fn the_thread_and_its_children_run_as_batch() {
        let switched = std::thread::spawn(|| {
            let ok = batch_scheduling();
            #[allow(unsafe_code)]
            // SAFETY: a query about the calling thread.
            let own = unsafe { libc::sched_getscheduler(0) };
            #[allow(unsafe_code)]
            // SAFETY: as above, in the thread started after the switch.
            let child = std::thread::spawn(|| unsafe { libc::sched_getscheduler(0) })
                .join()
                .unwrap_or(-1);
            (ok, own, child)
        })
        .join();
        assert_eq!(
            switched.ok(),
            Some((true, libc::SCHED_BATCH, libc::SCHED_BATCH))
        );
    }
}

//! Handing freed memory back to the operating system on a timer.
//!
//! The binaries use mimalloc 2.x (see `main.rs`). When a burst of requests ends, the pages
//! that held its tasks are freed inside mimalloc, but the segment they sit in only returns
//! them to the OS (`MADV_DONTNEED`) when that same thread touches the segment again: the
//! purge is scheduled on free and executed on a later allocation or free in that segment
//! (`mi_segment_schedule_purge` / `mi_segment_try_purge` in its `segment.c`). If the steady
//! load that follows is served from other segments, the burst's pages stay resident for good,
//! which is how the 10-minute soak (P7 in the README) once ended 12 % above its first minute.
//! A forced collect of the thread's heap runs those purges; it only releases pages that hold
//! no live allocation, so the working set is untouched.

use std::time::{Duration, Instant};

/// How often the actix thread's heap is collected: long against the collect's own cost (well
/// under a millisecond for this service's heap), short against a soak's minute.
pub const COLLECT_INTERVAL: Duration = Duration::from_secs(10);

/// Returns the calling thread's free mimalloc pages to the OS and runs overdue purges.
/// Harmless (it finds nothing to do) where mimalloc is not the global allocator.
pub fn return_free_pages() -> Duration {
    let started = Instant::now();
    #[allow(unsafe_code)]
    // SAFETY: `mi_collect` takes no pointers and may be called at any time from any thread;
    // it only walks the calling thread's own heap and mimalloc's process-wide arenas.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    started.elapsed()
}

/// Collects the current thread's heap every [`COLLECT_INTERVAL`], forever (spawn it on the
/// thread whose allocations it should cover).
pub async fn collect_periodically() {
    let mut ticks = actix_rt::time::interval(COLLECT_INTERVAL);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let took = return_free_pages();
        log::debug!(target: "dh::memory", "returned free pages in {took:?}");
    }
}

//! Keeps the service's memory in small pages.
//!
//! mimalloc reserves its arena in 1 GiB, 2 MiB-aligned regions and, by default, asks for
//! transparent huge pages on them (`madvise(MADV_HUGEPAGE)`). The kernel then backs whole
//! 2 MiB ranges of a heap that needs a few 4 KiB pages of each, and khugepaged keeps
//! collapsing partly used ranges into huge pages in the background: more than twice the RSS,
//! growing in 2 MiB steps (docs/PERFORMANCE.md, item 10). The build asks mimalloc not to `madvise`
//! (feature `no_thp`), which is enough where THP is `madvise` (this machine); where it is
//! `always`, the process itself has to opt out, which is what this does.

/// Turns transparent huge pages off for this process (and what it would start), whatever the
/// system-wide setting; memory already backed by a huge page stays so.
pub fn disable_transparent_huge_pages() {
    #[allow(unsafe_code)]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag on this process's
    // memory descriptor; it touches no memory of ours.
    let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if rc != 0 {
        // Kernels without THP refuse it; huge pages are then not a concern either.
        log::debug!(target: "dh::memory", "PR_SET_THP_DISABLE: {}", std::io::Error::last_os_error());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel reports the flag back in /proc/self/status ("THP_enabled: 0").
    #[test]
    fn the_process_reports_huge_pages_off() {
        disable_transparent_huge_pages();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let flag = status
            .lines()
            .find_map(|l| l.strip_prefix("THP_enabled:"))
            .map(str::trim);
        assert_eq!(flag, Some("0"), "THP_enabled in /proc/self/status");
    }
}

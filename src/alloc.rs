//! Allocator figures. The `logredact` binary runs on jemalloc (see
//! `main.rs`), which fragments less than glibc malloc over months of
//! uneven load and can report what it holds.

/// jemalloc's (allocated, active, resident) bytes, refreshed now; `None`
/// if jemalloc cannot report them.
pub fn figures() -> Option<(u64, u64, u64)> {
    use tikv_jemalloc_ctl::{epoch, stats};
    epoch::advance().ok()?;
    Some((
        stats::allocated::read().ok()? as u64,
        stats::active::read().ok()? as u64,
        stats::resident::read().ok()? as u64,
    ))
}

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

/// Starts sampling allocations for heap profiles; false if this build's
/// allocator cannot (the binary sets `prof:true` in `malloc_conf`, inactive
/// until this call, so a daemon without the flag pays nothing).
pub fn start_heap_profile() -> bool {
    let Some(ctl) = jemalloc_pprof::PROF_CTL.as_ref() else {
        tracing::warn!("heap profiling was asked for, but the allocator was built without it; /debug/pprof/heap stays off");
        return false;
    };
    // Called once at start-up, before anything else can hold the lock.
    let Ok(mut ctl) = ctl.try_lock() else {
        return false;
    };
    match ctl.activate() {
        Ok(()) => {
            tracing::info!("heap profiling on: /debug/pprof/heap serves the live heap");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot start heap profiling; /debug/pprof/heap stays off");
            false
        }
    }
}

/// The sampled live heap in pprof format (gzipped protobuf).
pub async fn heap_profile() -> Result<Vec<u8>, String> {
    let ctl = jemalloc_pprof::PROF_CTL
        .as_ref()
        .ok_or("heap profiling is not available in this build")?;
    let mut ctl = ctl.lock().await;
    if !ctl.activated() {
        return Err("heap profiling is off; set [metrics] heap_profile = true".into());
    }
    ctl.dump_pprof()
        .map_err(|e| format!("cannot write the heap profile: {e}"))
}

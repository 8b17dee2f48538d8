//! systemd integration (`Type=notify`): `READY=1` once the daemon runs
//! (start-up checks done; partitions may come later, which `/ready` and
//! the status line report), `STATUS=` with the current throughput or what
//! it waits for, `WATCHDOG=1` only while
//! the pipeline's loops are turning (a stuck pipeline stops the pings and
//! systemd restarts the service), and `STOPPING=1` on shutdown. Without
//! `NOTIFY_SOCKET` every call is a no-op.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sd_notify::NotifyState;

use crate::stats::Stats;

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!(error = %e, "cannot notify systemd");
    }
}

/// Runs until `stop` is set. On a thread of its own: notifying is a
/// blocking send on systemd's socket, which must not stall the async
/// runtime when systemd is slow to read it.
pub fn run(stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let mut watchdog_usec = 0u64;
    let watchdog = sd_notify::watchdog_enabled(false, &mut watchdog_usec);
    // Ping at a third of the watchdog interval; report status every 5 s.
    let period = if watchdog {
        Duration::from_micros(watchdog_usec / 3).max(Duration::from_millis(100))
    } else {
        Duration::from_secs(5)
    };
    let mut ready = false;
    let mut last = (Instant::now(), stats.completed());
    while !stop.load(Relaxed) {
        if !ready && stats.running.load(Relaxed) {
            ready = true;
            // A unit waiting for partitions is running, not failed:
            // readiness for traffic is `/ready`'s to say.
            send(&[
                NotifyState::Ready,
                NotifyState::Status("running; waiting for Kafka partitions"),
            ]);
        }
        let healthy = crate::telemetry::health_problems(&stats).is_empty();
        if watchdog && healthy {
            send(&[NotifyState::Watchdog]);
        }
        let (then, done) = last;
        if then.elapsed() >= Duration::from_secs(5) {
            let now = stats.completed();
            let rate = (now - done) as f64 / then.elapsed().as_secs_f64();
            let partitions = stats.assigned_partitions.load(Relaxed);
            let waiting_for = stats.detail().waiting_for.clone();
            let status = if let Some(what) = waiting_for {
                format!("running; waiting for {what}")
            } else if partitions == 0 {
                "running; waiting for Kafka partitions (see the log)".to_owned()
            } else {
                format!(
                    "{rate:.0} events/s, {} in flight, {partitions} partitions{}",
                    stats.in_flight_events.load(Relaxed),
                    if healthy { "" } else { ", STALLED" }
                )
            };
            send(&[NotifyState::Status(&status)]);
            last = (Instant::now(), now);
        }
        // In short steps, so that a stop is seen at once.
        let next = Instant::now() + period;
        while !stop.load(Relaxed) && Instant::now() < next {
            std::thread::sleep(Duration::from_millis(50).min(period));
        }
    }
}

/// Tells systemd the service is stopping. From a thread of its own, not
/// waited for: a systemd slow to read its socket must not hold up the
/// shutdown.
/// A thread that cannot be made (a unit at its `TasksMax`) costs only the
/// notification: the shutdown must go on.
pub fn stopping() {
    let spawned = std::thread::Builder::new()
        .name("systemd-stopping".into())
        .spawn(|| send(&[NotifyState::Stopping]));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot tell systemd the service is stopping");
    }
}

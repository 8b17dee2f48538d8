//! systemd integration (`Type=notify`): `READY=1` once partitions are
//! assigned, `STATUS=` with the current throughput, `WATCHDOG=1` only while
//! the pipeline's loops are turning (a stuck pipeline stops the pings and
//! systemd restarts the service), and `STOPPING=1` on shutdown. Without
//! `NOTIFY_SOCKET` every call is a no-op.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sd_notify::NotifyState;

use crate::stats::Stats;

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!(error = %e, "cannot notify systemd");
    }
}

/// Runs until dropped.
pub async fn run(stats: Arc<Stats>) {
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
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        if !ready && stats.assigned_partitions.load(Relaxed) > 0 {
            ready = true;
            send(&[NotifyState::Ready]);
        }
        let healthy = crate::telemetry::health_problems(&stats).is_empty();
        if watchdog && healthy {
            send(&[NotifyState::Watchdog]);
        }
        let (then, done) = last;
        if then.elapsed() >= Duration::from_secs(5) {
            let now = stats.completed();
            let rate = (now - done) as f64 / then.elapsed().as_secs_f64();
            let status = format!(
                "{rate:.0} events/s, {} in flight, {} partitions{}",
                stats.in_flight_events.load(Relaxed),
                stats.assigned_partitions.load(Relaxed),
                if healthy { "" } else { ", STALLED" }
            );
            send(&[NotifyState::Status(&status)]);
            last = (Instant::now(), now);
        }
    }
}

/// Tells systemd the service is stopping.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

//! The daemon's own HTTP endpoints, on a local address: `/metrics` in the
//! Prometheus text format, `/health` and `/ready` as JSON.
//!
//! Metrics are rendered at scrape time from [`Stats`]: the hot path only
//! bumps atomics and per-batch histograms. Labels are output names, rule
//! ids, reason classes, outcomes, and topic/partition for lag; never
//! anything per document, per user or per dated index.
//!
//! - this file: the server, `/health` and `/ready`.
//! - `metrics.rs`: the exposition.

mod metrics;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use metrics::render;

use crate::stats::{now_ms, Stats};

/// A loop that has not turned for this long is considered stuck.
pub const STALL_MS: u64 = 30_000;

/// Serves the endpoints on `listener` until the task is dropped;
/// `/debug/pprof/heap` too when `heap_profile`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    stats: Arc<Stats>,
    heap_profile: bool,
) -> std::io::Result<()> {
    let mut app = Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .route("/ready", get(ready));
    if heap_profile {
        app = app.route("/debug/pprof/heap", get(heap));
    }
    axum::serve(listener, app.with_state(stats)).await
}

/// The live heap as a gzipped pprof profile, for `pprof` or
/// `go tool pprof`.
async fn heap() -> Response {
    match crate::alloc::heap_profile().await {
        Ok(profile) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"heap.pb.gz\"",
                ),
            ],
            profile,
        )
            .into_response(),
        Err(problem) => (StatusCode::SERVICE_UNAVAILABLE, format!("{problem}\n")).into_response(),
    }
}

async fn metrics(State(stats): State<Arc<Stats>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&stats),
    )
        .into_response()
}

/// Why the pipeline is not healthy, if it is not.
pub fn health_problems(stats: &Stats) -> Vec<String> {
    let now = now_ms() as u64;
    let mut problems = Vec::new();
    let consumer = stats.consumer_heartbeat_ms.load(Relaxed);
    if consumer == 0 || now.saturating_sub(consumer) > STALL_MS {
        problems.push(format!(
            "the consumer loop has not turned for {} s",
            now.saturating_sub(consumer) / 1000
        ));
    }
    for (output, beat) in &stats.detail().output_heartbeat_ms {
        if now.saturating_sub(*beat) > STALL_MS {
            problems.push(format!(
                "output \"{output}\" has not turned for {} s",
                now.saturating_sub(*beat) / 1000
            ));
        }
    }
    problems
}

async fn health(State(stats): State<Arc<Stats>>) -> Response {
    json_status(health_problems(&stats))
}

async fn ready(State(stats): State<Arc<Stats>>) -> Response {
    let mut problems = Vec::new();
    if stats.assigned_partitions.load(Relaxed) == 0 {
        problems.push("no Kafka partitions are assigned yet".to_owned());
    }
    for (output, up) in &stats.detail().reachable {
        if !up {
            problems.push(format!(
                "output \"{output}\" is not reachable (its last request failed, got 5xx, or had its credentials refused with 401 or 403)"
            ));
        }
    }
    json_status(problems)
}

fn json_status(problems: Vec<String>) -> Response {
    if problems.is_empty() {
        (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok"})),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "failing", "reasons": problems})),
        )
            .into_response()
    }
}

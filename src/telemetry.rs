//! The daemon's own HTTP endpoints, on a local address: `/metrics` in the
//! Prometheus text format, `/health` and `/ready` as JSON.
//!
//! Metrics are rendered at scrape time from [`Stats`]: the hot path only
//! bumps atomics and per-batch histograms. Labels are output names, rule
//! ids, reason classes, outcomes, and topic/partition for lag; never
//! anything per document, per user or per dated index.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::stats::{now_ms, Histogram, Stats};

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
                "output \"{output}\" is not reachable (its last request failed or got 5xx)"
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

/// Escapes a label value for the text format.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Out(String);

impl Out {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", label(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn scalar(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.head(name, kind, help);
        self.sample(name, &[], value);
    }

    /// A histogram from an HDR histogram; `scale` turns recorded units into
    /// the metric's unit (1e-6 for µs → seconds).
    fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        h: &Histogram,
        bounds: &[f64],
        scale: f64,
    ) {
        let bucket = format!("{name}_bucket");
        for bound in bounds {
            let units = (bound / scale) as u64;
            let count = h.count_between(0, units);
            let le = format!("{bound}");
            let mut with = labels.to_vec();
            with.push(("le", &le));
            self.sample(&bucket, &with, count as f64);
        }
        let mut with = labels.to_vec();
        with.push(("le", "+Inf"));
        self.sample(&bucket, &with, h.len() as f64);
        let sum: f64 = h
            .iter_recorded()
            .map(|v| v.value_iterated_to() as f64 * v.count_at_value() as f64)
            .sum();
        self.sample(&format!("{name}_sum"), labels, sum * scale);
        self.sample(&format!("{name}_count"), labels, h.len() as f64);
    }
}

const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 300.0,
];
const DOCS: &[f64] = &[1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0];
const BYTES: &[f64] = &[
    1024.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 10485760.0, 52428800.0,
];

/// The whole exposition, in the Prometheus text format.
pub fn render(stats: &Stats) -> String {
    let mut o = Out(String::with_capacity(8192));
    let n = |c: &std::sync::atomic::AtomicU64| c.load(Relaxed) as f64;
    o.scalar(
        "logredact_events_consumed_total",
        "counter",
        "Messages taken from Kafka.",
        n(&stats.consumed),
    );
    o.scalar(
        "logredact_consumed_bytes_total",
        "counter",
        "Bytes of messages taken from Kafka.",
        n(&stats.consumed_bytes),
    );
    o.head(
        "logredact_events_completed_total",
        "counter",
        "Events settled: indexed in every output routed to, dead-lettered, or dropped by a rule. Sums to consumed once nothing is in flight.",
    );
    for (outcome, c) in [
        ("indexed", &stats.completed_indexed),
        ("dead_lettered", &stats.completed_dead_lettered),
        ("dropped", &stats.dropped_by_rule),
    ] {
        o.sample(
            "logredact_events_completed_total",
            &[("outcome", outcome)],
            n(c),
        );
    }
    o.scalar(
        "logredact_residual_hits_total",
        "counter",
        "Values the residual scan had to mask: a nonzero rate means a rule has a gap.",
        n(&stats.residual_hits),
    );
    o.scalar(
        "logredact_retried_items_total",
        "counter",
        "Bulk items sent again after a 429, 5xx, timeout or connection error.",
        n(&stats.retried_items),
    );
    o.scalar(
        "logredact_offset_commits_total",
        "counter",
        "Offset commits made.",
        n(&stats.commits),
    );
    o.scalar(
        "logredact_in_flight_events",
        "gauge",
        "Events taken from Kafka and not yet settled.",
        n(&stats.in_flight_events),
    );
    o.scalar(
        "logredact_in_flight_bytes",
        "gauge",
        "Bytes of events taken and not yet settled; consumption pauses above pipeline.max_in_flight_bytes.",
        n(&stats.in_flight_bytes),
    );
    o.scalar(
        "logredact_assigned_partitions",
        "gauge",
        "Kafka partitions assigned to this daemon.",
        n(&stats.assigned_partitions),
    );
    if let Some((allocated, active, resident)) = crate::alloc::figures() {
        o.head(
            "logredact_allocator_bytes",
            "gauge",
            "jemalloc's allocated, active and resident bytes.",
        );
        for (kind, v) in [
            ("allocated", allocated),
            ("active", active),
            ("resident", resident),
        ] {
            o.sample("logredact_allocator_bytes", &[("kind", kind)], v as f64);
        }
    }

    let d = stats.detail();
    o.head(
        "logredact_documents_indexed_total",
        "counter",
        "Documents acknowledged by each output.",
    );
    for (output, v) in &d.indexed {
        o.sample(
            "logredact_documents_indexed_total",
            &[("output", output)],
            *v as f64,
        );
    }
    o.head(
        "logredact_dead_letters_total",
        "counter",
        "Dead-letter records written, by reason class.",
    );
    for (class, v) in &d.dead_letters {
        o.sample(
            "logredact_dead_letters_total",
            &[("class", class)],
            *v as f64,
        );
    }
    o.head(
        "logredact_masked_values_total",
        "counter",
        "Values masked, by mask rule and its detector.",
    );
    for ((rule, detector), v) in &d.masks {
        o.sample(
            "logredact_masked_values_total",
            &[("rule", rule), ("detector", detector)],
            *v as f64,
        );
    }
    o.head(
        "logredact_tags_total",
        "counter",
        "Tag rules that fired, by rule.",
    );
    for (rule, v) in &d.tags {
        o.sample("logredact_tags_total", &[("rule", rule)], *v as f64);
    }
    o.head(
        "logredact_bulk_requests_total",
        "counter",
        "Bulk requests by output and outcome.",
    );
    for ((output, outcome), v) in &d.bulk_requests {
        o.sample(
            "logredact_bulk_requests_total",
            &[("output", output), ("outcome", outcome)],
            *v as f64,
        );
    }
    o.head(
        "logredact_rule_reloads_total",
        "counter",
        "Rule reloads by result (ok, error).",
    );
    for (result, v) in &d.reloads {
        o.sample(
            "logredact_rule_reloads_total",
            &[("result", result)],
            *v as f64,
        );
    }
    o.head(
        "logredact_rules_info",
        "gauge",
        "The active rule set's fingerprint (a hash of its files).",
    );
    o.sample(
        "logredact_rules_info",
        &[("fingerprint", &d.rules_fingerprint)],
        1.0,
    );
    o.scalar(
        "logredact_rules_loaded_timestamp_seconds",
        "gauge",
        "When the active rule set was loaded.",
        d.rules_loaded_at,
    );
    o.head(
        "logredact_output_up",
        "gauge",
        "1 when the output's last request got an answer that was not 5xx.",
    );
    for (output, up) in &d.reachable {
        o.sample(
            "logredact_output_up",
            &[("output", output)],
            f64::from(u8::from(*up)),
        );
    }
    o.head(
        "logredact_consumer_lag",
        "gauge",
        "Messages behind the high watermark, per assigned partition (librdkafka statistics).",
    );
    for ((topic, partition), lag) in &d.consumer_lag {
        o.sample(
            "logredact_consumer_lag",
            &[("topic", topic), ("partition", &partition.to_string())],
            *lag as f64,
        );
    }

    o.head(
        "logredact_end_to_end_latency_seconds",
        "histogram",
        "Kafka message timestamp to acknowledgement by the output.",
    );
    for (output, h) in &d.end_to_end {
        o.histogram(
            "logredact_end_to_end_latency_seconds",
            &[("output", output)],
            h,
            SECONDS,
            1e-6,
        );
    }
    o.head(
        "logredact_rule_duration_seconds",
        "histogram",
        "Rule engine time per event.",
    );
    if let Some(h) = &d.rule_time {
        o.histogram("logredact_rule_duration_seconds", &[], h, SECONDS, 1e-6);
    }
    o.head(
        "logredact_batch_wait_seconds",
        "histogram",
        "Time from consumption until the event's first bulk request was sent.",
    );
    for (output, h) in &d.batch_wait {
        o.histogram(
            "logredact_batch_wait_seconds",
            &[("output", output)],
            h,
            SECONDS,
            1e-6,
        );
    }
    o.head(
        "logredact_bulk_request_duration_seconds",
        "histogram",
        "Bulk request duration.",
    );
    for (output, h) in &d.bulk_duration {
        o.histogram(
            "logredact_bulk_request_duration_seconds",
            &[("output", output)],
            h,
            SECONDS,
            1e-6,
        );
    }
    o.head(
        "logredact_bulk_batch_documents",
        "histogram",
        "Documents per bulk request.",
    );
    for (output, h) in &d.batch_docs {
        o.histogram(
            "logredact_bulk_batch_documents",
            &[("output", output)],
            h,
            DOCS,
            1.0,
        );
    }
    o.head(
        "logredact_bulk_batch_bytes",
        "histogram",
        "Bytes per bulk request.",
    );
    for (output, h) in &d.batch_bytes {
        o.histogram(
            "logredact_bulk_batch_bytes",
            &[("output", output)],
            h,
            BYTES,
            1.0,
        );
    }
    o.0
}

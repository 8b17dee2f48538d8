//! `/metrics`: the Prometheus text format, rendered at scrape time from
//! [`Stats`]. Each family is written by one call, so its help, type and
//! samples stay together.

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed};

use crate::stats::{Histogram, Stats};

const COUNTER: &str = "counter";
const GAUGE: &str = "gauge";

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

    /// A family without labels: one sample.
    fn scalar(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help, [([], value)]);
    }

    /// A family: its help and type, then one sample per label set.
    fn family<'a, const N: usize>(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        samples: impl IntoIterator<Item = ([(&'a str, &'a str); N], f64)>,
    ) {
        self.head(name, kind, help);
        for (labels, value) in samples {
            self.sample(name, &labels, value);
        }
    }

    /// A histogram family, one histogram per output.
    fn histograms<'a>(
        &mut self,
        name: &str,
        help: &str,
        by_output: impl IntoIterator<Item = (&'a String, &'a Histogram)>,
        bounds: &[f64],
        scale: f64,
    ) {
        self.head(name, "histogram", help);
        for (output, h) in by_output {
            self.histogram(name, &[("output", output)], h, bounds, scale);
        }
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
    let n = |c: &AtomicU64| c.load(Relaxed) as f64;
    // Read in the order the pipeline promises they add up in (consumed, in
    // flight, then the outcomes; see `pipeline::consumer`), with Acquire to
    // pair with its Release, so that every scrape has settled + in flight
    // >= consumed.
    let consumed = stats.consumed.load(Acquire) as f64;
    let in_flight = stats.in_flight_events.load(Acquire) as f64;
    let outcomes = [
        ("indexed", &stats.completed_indexed),
        ("dead_lettered", &stats.completed_dead_lettered),
        ("dropped", &stats.dropped_by_rule),
        ("released", &stats.released),
    ]
    .map(|(outcome, c)| ([("outcome", outcome)], c.load(Acquire) as f64));
    o.scalar(
        "logredact_events_consumed_total",
        COUNTER,
        "Messages taken from Kafka.",
        consumed,
    );
    o.scalar(
        "logredact_consumed_bytes_total",
        COUNTER,
        "Bytes of messages taken from Kafka.",
        n(&stats.consumed_bytes),
    );
    o.family(
        "logredact_events_completed_total",
        COUNTER,
        "Events settled: indexed in every output routed to, dead-lettered, dropped by a rule, or released to another group member by a rebalance (read again there). With the in-flight gauge, sums to consumed at all times.",
        outcomes,
    );
    o.scalar(
        "logredact_kafka_lost_before_read_total",
        COUNTER,
        "Offsets Kafka's retention deleted before logredact read them: events lost upstream, never masked nor written.",
        n(&stats.lost_before_read),
    );
    o.scalar(
        "logredact_residual_hits_total",
        COUNTER,
        "Values the residual scan had to mask: a nonzero rate means a rule has a gap.",
        n(&stats.residual_hits),
    );
    o.scalar(
        "logredact_retried_items_total",
        COUNTER,
        "Bulk items sent again after a 429, 5xx, 401 or 403, timeout or connection error.",
        n(&stats.retried_items),
    );
    o.scalar(
        "logredact_offset_commits_total",
        COUNTER,
        "Offset commits the broker confirmed.",
        n(&stats.commits),
    );
    o.scalar(
        "logredact_offset_commit_failures_total",
        COUNTER,
        "Offset commits that failed; each is tried again at the next commit interval.",
        n(&stats.commit_failures),
    );
    o.scalar(
        "logredact_seals_stored_total",
        COUNTER,
        "Seals stored everywhere they go (the seal index or directory, and the second copy).",
        n(&stats.seals_stored),
    );
    o.scalar(
        "logredact_seal_failures_total",
        COUNTER,
        "Attempts to store seals that failed; each is retried, and the offsets they cover stay uncommitted.",
        n(&stats.seal_failures),
    );
    o.scalar(
        "logredact_unsealed_offsets",
        GAUGE,
        "Offsets complete but not yet covered by a stored seal, a run of skipped or lost offsets counted once (consumption pauses above 500,000).",
        n(&stats.unsealed),
    );
    o.scalar(
        "logredact_in_flight_events",
        GAUGE,
        "Events taken from Kafka and not yet settled.",
        in_flight,
    );
    o.scalar(
        "logredact_kafka_fetch_queue_bytes",
        GAUGE,
        "Bytes librdkafka has fetched ahead of the consumer (bounded by queued.max.messages.kbytes).",
        n(&stats.fetch_queue_bytes),
    );
    o.scalar(
        "logredact_in_flight_bytes",
        GAUGE,
        "Bytes of events taken and not yet settled; consumption pauses above pipeline.max_in_flight_bytes.",
        n(&stats.in_flight_bytes),
    );
    o.scalar(
        "logredact_assigned_partitions",
        GAUGE,
        "Kafka partitions assigned to this daemon.",
        n(&stats.assigned_partitions),
    );
    if let Some((allocated, active, resident)) = crate::alloc::figures() {
        o.family(
            "logredact_allocator_bytes",
            GAUGE,
            "jemalloc's allocated, active and resident bytes.",
            [
                ("allocated", allocated),
                ("active", active),
                ("resident", resident),
            ]
            .map(|(kind, v)| ([("kind", kind)], v as f64)),
        );
    }

    let d = stats.detail();
    o.family(
        "logredact_documents_indexed_total",
        COUNTER,
        "Documents acknowledged by each output.",
        d.indexed
            .iter()
            .map(|(output, v)| ([("output", output.as_str())], *v as f64)),
    );
    o.family(
        "logredact_dead_letters_total",
        COUNTER,
        "Dead-letter records written, by reason class.",
        d.dead_letters
            .iter()
            .map(|(class, v)| ([("class", *class)], *v as f64)),
    );
    o.family(
        "logredact_masked_values_total",
        COUNTER,
        "Values masked, by mask rule and its detector.",
        d.masks.iter().map(|((rule, detector), v)| {
            (
                [("rule", rule.as_str()), ("detector", *detector)],
                *v as f64,
            )
        }),
    );
    o.family(
        "logredact_tags_total",
        COUNTER,
        "Tag rules that fired, by rule.",
        d.tags
            .iter()
            .map(|(rule, v)| ([("rule", rule.as_str())], *v as f64)),
    );
    o.family(
        "logredact_events_dropped_by_rule_total",
        COUNTER,
        "Events dropped by a route rule, by rule (their sum is the `dropped` outcome).",
        d.drops
            .iter()
            .map(|(rule, v)| ([("rule", rule.as_str())], *v as f64)),
    );
    o.family(
        "logredact_bulk_requests_total",
        COUNTER,
        "Bulk requests by output and outcome.",
        d.bulk_requests.iter().map(|((output, outcome), v)| {
            (
                [("output", output.as_str()), ("outcome", *outcome)],
                *v as f64,
            )
        }),
    );
    o.family(
        "logredact_rule_reloads_total",
        COUNTER,
        "Rule reloads by result (ok, error).",
        d.reloads
            .iter()
            .map(|(result, v)| ([("result", *result)], *v as f64)),
    );
    o.family(
        "logredact_rules_info",
        GAUGE,
        "The active rule set's fingerprint (a hash of its files).",
        [([("fingerprint", d.rules_fingerprint.as_str())], 1.0)],
    );
    o.scalar(
        "logredact_rules_loaded_timestamp_seconds",
        GAUGE,
        "When the active rule set was loaded.",
        d.rules_loaded_at,
    );
    o.family(
        "logredact_output_up",
        GAUGE,
        "1 when the output's last request got an answer that was not 5xx, 401 or 403.",
        d.reachable
            .iter()
            .map(|(output, up)| ([("output", output.as_str())], f64::from(u8::from(*up)))),
    );
    let partitions: Vec<String> = d.consumer_lag.keys().map(|(_, p)| p.to_string()).collect();
    o.family(
        "logredact_consumer_lag",
        GAUGE,
        "Messages behind the high watermark, per assigned partition (librdkafka statistics).",
        d.consumer_lag
            .iter()
            .zip(&partitions)
            .map(|(((topic, _), lag), partition)| {
                (
                    [("topic", topic.as_str()), ("partition", partition.as_str())],
                    *lag as f64,
                )
            }),
    );

    o.histograms(
        "logredact_end_to_end_latency_seconds",
        "Kafka message timestamp to acknowledgement by the output.",
        &d.end_to_end,
        SECONDS,
        1e-6,
    );
    o.head(
        "logredact_rule_duration_seconds",
        "histogram",
        "Rule engine time per event.",
    );
    if let Some(h) = &d.rule_time {
        o.histogram("logredact_rule_duration_seconds", &[], h, SECONDS, 1e-6);
    }
    o.histograms(
        "logredact_batch_wait_seconds",
        "Time from consumption until the event's first bulk request was sent.",
        &d.batch_wait,
        SECONDS,
        1e-6,
    );
    o.histograms(
        "logredact_bulk_request_duration_seconds",
        "Bulk request duration.",
        &d.bulk_duration,
        SECONDS,
        1e-6,
    );
    o.histograms(
        "logredact_bulk_batch_documents",
        "Documents per bulk request.",
        &d.batch_docs,
        DOCS,
        1.0,
    );
    o.histograms(
        "logredact_bulk_batch_bytes",
        "Bytes per bulk request.",
        &d.batch_bytes,
        BYTES,
        1.0,
    );
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stats with a value in every metric family.
    fn populated() -> Stats {
        let stats = Stats::default();
        for (i, c) in [
            &stats.consumed,
            &stats.consumed_bytes,
            &stats.completed_indexed,
            &stats.completed_dead_lettered,
            &stats.dropped_by_rule,
            &stats.residual_hits,
            &stats.retried_items,
            &stats.commits,
            &stats.commit_failures,
            &stats.seals_stored,
            &stats.seal_failures,
            &stats.unsealed,
            &stats.released,
            &stats.in_flight_events,
            &stats.in_flight_bytes,
            &stats.fetch_queue_bytes,
            &stats.assigned_partitions,
        ]
        .into_iter()
        .enumerate()
        {
            c.store(1000 + i as u64, Relaxed);
        }
        let mut d = stats.detail();
        for output in ["cold", "hot"] {
            d.indexed.insert(output.into(), 7);
            d.reachable.insert(output.into(), output == "hot");
            d.bulk_requests.insert((output.into(), "ok"), 3);
            crate::stats::record(&mut d.end_to_end, output, 1500);
            crate::stats::record(&mut d.batch_wait, output, 250);
            crate::stats::record(&mut d.bulk_duration, output, 40_000);
            crate::stats::record(&mut d.batch_docs, output, 256);
            crate::stats::record(&mut d.batch_bytes, output, 300_000);
        }
        d.dead_letters.insert("not_json", 2);
        d.masks.insert(("mask-cn-id".into(), "cn_id"), 5);
        d.tags.insert("privileged-action".into(), 1);
        d.drops.insert("drop-health-checks".into(), 4);
        d.reloads.insert("ok", 1);
        d.rules_fingerprint = "f5db0dc632d8".into();
        d.rules_loaded_at = 1_795_161_600.5;
        d.consumer_lag.insert(("access-logs".into(), 3), 12);
        let mut h = crate::stats::new_histogram();
        let _ = h.record(3);
        d.rule_time = Some(h);
        drop(d);
        stats
    }

    #[test]
    fn every_family_renders_once_with_help_and_type() {
        let text = render(&populated());
        if let Ok(path) = std::env::var("LOGREDACT_WRITE_METRICS") {
            std::fs::write(path, &text).unwrap();
        }
        for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
            let name = line.split(' ').nth(2).unwrap();
            assert_eq!(
                text.matches(&format!("# TYPE {name} ")).count(),
                1,
                "{name} declared twice"
            );
            assert!(
                text.contains(&format!("# HELP {name} ")),
                "{name} has no help"
            );
        }
        assert!(text.contains("logredact_events_completed_total{outcome=\"dropped\"} 1004\n"));
        assert!(text
            .contains("logredact_masked_values_total{rule=\"mask-cn-id\",detector=\"cn_id\"} 5\n"));
        assert!(text.contains("logredact_consumer_lag{topic=\"access-logs\",partition=\"3\"} 12\n"));
        assert!(text
            .contains("logredact_events_dropped_by_rule_total{rule=\"drop-health-checks\"} 4\n"));
        assert!(
            text.contains("logredact_bulk_batch_documents_bucket{output=\"hot\",le=\"500\"} 1\n")
        );
    }
}

//! Counters and latency histograms the pipeline keeps about itself. Labels
//! are output names, rule ids and reason classes: all bounded sets.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Acquire};
use std::sync::Mutex;
use std::time::Duration;

/// Latency in microseconds, 1 µs to 1 hour, 3 significant digits.
pub type Histogram = hdrhistogram::Histogram<u64>;

pub fn new_histogram() -> Histogram {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static bounds")
}

/// Records `value` (at least 1) in the histogram of `key`, creating it.
pub fn record(map: &mut BTreeMap<String, Histogram>, key: &str, value: u64) {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), new_histogram());
    }
    if let Some(h) = map.get_mut(key) {
        h.saturating_record(value.max(1));
    }
}

/// Shared by the consumer thread and the sinks.
#[derive(Debug, Default)]
pub struct Stats {
    /// Messages taken from Kafka.
    pub consumed: AtomicU64,
    pub consumed_bytes: AtomicU64,
    /// Events whose every routed output acknowledged them.
    pub completed_indexed: AtomicU64,
    /// Events that went, for at least one output, to the dead-letter output.
    pub completed_dead_lettered: AtomicU64,
    /// Events dropped by a route rule.
    pub dropped_by_rule: AtomicU64,
    /// Events that were in flight in a partition taken away by a rebalance
    /// (or whose reading moved back while assigned): not committed here,
    /// so they are read again, by the partition's new owner or this one.
    pub released: AtomicU64,
    /// Offsets Kafka deleted before they were read: never consumed, so
    /// outside the outcomes, lost upstream.
    pub lost_before_read: AtomicU64,
    pub masked_values: AtomicU64,
    pub residual_hits: AtomicU64,
    pub in_flight_events: AtomicU64,
    /// Partitions this consumer owns now.
    pub assigned_partitions: AtomicU64,
    pub in_flight_bytes: AtomicU64,
    /// Bytes librdkafka has fetched ahead and not yet handed over (from its
    /// statistics, every 5 s).
    pub fetch_queue_bytes: AtomicU64,
    pub retried_items: AtomicU64,
    /// Offset commits the broker confirmed.
    pub commits: AtomicU64,
    /// Offset commits that failed (retried at the next commit interval).
    pub commit_failures: AtomicU64,
    /// Seals stored everywhere they go (docs/audit.md).
    pub seals_stored: AtomicU64,
    /// Attempts to store seals that failed (each is retried).
    pub seal_failures: AtomicU64,
    /// Offsets complete but not yet covered by a stored seal.
    pub unsealed: AtomicU64,
    /// Time spent in the rule engine, for CPU-per-event figures.
    pub rule_nanos: AtomicU64,
    /// Set once start-up is done and the consumer loop runs: systemd hears
    /// `READY=1` then, whether or not partitions are assigned yet.
    pub running: std::sync::atomic::AtomicBool,
    /// Milliseconds since the epoch when the consumer loop last turned;
    /// `/health` and the systemd watchdog read it.
    pub consumer_heartbeat_ms: AtomicU64,
    pub detail: Mutex<Detail>,
}

/// The labelled counters and histograms.
#[derive(Debug, Default)]
pub struct Detail {
    /// Documents acknowledged, per output.
    pub indexed: BTreeMap<String, u64>,
    /// Dead-letter records, per reason class.
    pub dead_letters: BTreeMap<&'static str, u64>,
    /// Values masked, per (rule id, detector).
    pub masks: BTreeMap<(String, &'static str), u64>,
    /// Tag rules that fired, per rule id.
    pub tags: BTreeMap<String, u64>,
    /// Events dropped, by the route rule that dropped them.
    pub drops: BTreeMap<String, u64>,
    /// Bulk requests per output and outcome.
    pub bulk_requests: BTreeMap<(String, &'static str), u64>,
    /// Kafka timestamp to acknowledgement, per output (µs).
    pub end_to_end: BTreeMap<String, Histogram>,
    /// Rule engine time per event (µs).
    pub rule_time: Option<Histogram>,
    /// Time from consumption until the event's batch was sent, per output (µs).
    pub batch_wait: BTreeMap<String, Histogram>,
    /// Bulk request duration, per output (µs).
    pub bulk_duration: BTreeMap<String, Histogram>,
    /// Documents and bytes per bulk request, per output.
    pub batch_docs: BTreeMap<String, Histogram>,
    pub batch_bytes: BTreeMap<String, Histogram>,
    /// Consumer lag per assigned partition, from librdkafka statistics.
    pub consumer_lag: BTreeMap<(String, i32), i64>,
    /// Whether each output's last request got an answer that was not 5xx.
    pub reachable: BTreeMap<String, bool>,
    /// Milliseconds since the epoch of each output's last loop turn.
    pub output_heartbeat_ms: BTreeMap<String, u64>,
    /// The active rule set and when it was loaded (seconds since the epoch).
    pub rules_fingerprint: String,
    pub rules_loaded_at: f64,
    /// What start-up waits for before it consumes, if anything (the
    /// systemd status line shows it).
    pub waiting_for: Option<String>,
    /// Rule reloads by result: `ok` or `error`.
    pub reloads: BTreeMap<&'static str, u64>,
}

impl Stats {
    pub fn completed(&self) -> u64 {
        self.completed_indexed.load(Acquire)
            + self.completed_dead_lettered.load(Acquire)
            + self.dropped_by_rule.load(Acquire)
    }

    /// Adds to a counter. Release: a reader that sees the addition with
    /// Acquire sees every counter the writer changed before it (the
    /// accounting identity depends on that order; see
    /// `pipeline::consumer`).
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, std::sync::atomic::Ordering::Release);
    }

    pub fn detail(&self) -> std::sync::MutexGuard<'_, Detail> {
        // A panic elsewhere must not take the counters with it.
        self.detail.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes that an output's loop turns, for `/health` and the watchdog.
    pub fn output_heartbeat(&self, output: &str) {
        let now = now_ms() as u64;
        let mut d = self.detail();
        match d.output_heartbeat_ms.get_mut(output) {
            Some(t) => *t = now,
            None => {
                d.output_heartbeat_ms.insert(output.to_owned(), now);
            }
        }
    }

    /// Settles events that were in flight in a partition this consumer
    /// stopped reading where it was (revoked, or its position moved back):
    /// they are read again, and acks that come later for them are stale.
    /// Counted as released before they leave in flight, as every outcome
    /// is, so the counters add up at all times.
    pub fn release(&self, events: u64, bytes: u64) {
        use std::sync::atomic::Ordering::{Relaxed, Release};
        Stats::add(&self.released, events);
        self.in_flight_bytes.fetch_sub(bytes, Relaxed);
        self.in_flight_events.fetch_sub(events, Release);
    }

    pub fn dead_letter(&self, class: &'static str) {
        *self.detail().dead_letters.entry(class).or_default() += 1;
    }

    pub fn bulk_request(&self, output: &str, outcome: &'static str) {
        *self
            .detail()
            .bulk_requests
            .entry((output.to_owned(), outcome))
            .or_default() += 1;
    }

    /// Records documents acknowledged by `output` and their latencies.
    pub fn indexed(&self, output: &str, latencies: impl Iterator<Item = Duration>) {
        let mut d = self.detail();
        let h = d
            .end_to_end
            .entry(output.to_owned())
            .or_insert_with(new_histogram);
        let mut n = 0;
        for l in latencies {
            n += 1;
            h.saturating_record((l.as_micros() as u64).max(1));
        }
        *d.indexed.entry(output.to_owned()).or_default() += n;
    }
}

/// The time, read once for a batch of documents.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub ms: i64,
    pub instant: std::time::Instant,
}

impl Now {
    pub fn read() -> Now {
        Now {
            ms: now_ms(),
            instant: std::time::Instant::now(),
        }
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Time since a Kafka timestamp, or zero for timestamps in the future.
pub fn since_ms(ts_ms: i64) -> Duration {
    Duration::from_millis(now_ms().saturating_sub(ts_ms).max(0) as u64)
}

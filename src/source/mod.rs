//! The Kafka source: a consumer-group member that owns the offset tracker.
//!
//! Rebalance callbacks run on the consumer thread, inside `poll`. On
//! revoke, the tracker's completed watermark for each revoked partition is
//! committed synchronously and the partition's state is dropped, so acks
//! that arrive later for it are recognised as stale. On assign, librdkafka
//! resumes from the committed offset.

pub mod commit;
pub mod tracker;
pub mod unread;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

pub use commit::{Answer, Committer};
pub use tracker::{CommitPoint, OffsetTracker, SealInfo, SealOut};

use crate::config::KafkaConfig;
use crate::stats::Stats;

/// Shared between the consumer loop and librdkafka's callbacks, which both
/// run on the consumer thread; the mutex is never contended.
pub struct SourceContext {
    pub tracker: Mutex<OffsetTracker>,
    pub stats: Arc<Stats>,
    /// Consumption is paused for back-pressure; newly assigned partitions
    /// must be paused too.
    pub paused: AtomicBool,
}

impl SourceContext {
    pub fn new(stats: Arc<Stats>) -> SourceContext {
        SourceContext {
            tracker: Mutex::new(OffsetTracker::new()),
            stats,
            paused: AtomicBool::new(false),
        }
    }

    pub fn tracker(&self) -> MutexGuard<'_, OffsetTracker> {
        self.tracker.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ClientContext for SourceContext {
    fn stats(&self, statistics: rdkafka::Statistics) {
        // Replaced whole, so revoked partitions leave no entry behind.
        let mut lag = std::collections::BTreeMap::new();
        let mut fetched = 0;
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                if *partition >= 0 && p.consumer_lag >= 0 {
                    lag.insert((topic.clone(), *partition), p.consumer_lag);
                }
                if *partition >= 0 {
                    fetched += p.fetchq_size;
                }
            }
        }
        self.stats.detail().consumer_lag = lag;
        self.stats
            .fetch_queue_bytes
            .store(fetched, Ordering::Relaxed);
    }

    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        // librdkafka's own messages name brokers and topics, never payloads.
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility = fac, "{message}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "librdkafka", facility = fac, "{message}")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility = fac, "{message}")
            }
            RDKafkaLogLevel::Debug => {
                tracing::debug!(target: "librdkafka", facility = fac, "{message}")
            }
        }
    }
}

impl ConsumerContext for SourceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(revoked) = rebalance else {
            return;
        };
        let mut commit = TopicPartitionList::new();
        let mut tracker = self.tracker();
        let mut released = tracker::Released::default();
        for elem in revoked.elements() {
            let (point, r) = tracker.revoke(elem.topic(), elem.partition());
            released.events += r.events;
            released.bytes += r.bytes;
            if let Some((topic, partition, offset)) = point {
                let _ = commit.add_partition_offset(&topic, partition, Offset::Offset(offset));
            }
        }
        self.stats
            .assigned_partitions
            .store(tracker.partitions().len() as u64, Ordering::Relaxed);
        drop(tracker);
        // Settled here as released (before leaving in flight, as every
        // outcome is): the new owner reads them again from the committed
        // offset, and acks that come later for them are stale.
        self.stats.release(released.events, released.bytes);
        tracing::info!(
            partitions = revoked.count(),
            released_events = released.events,
            "partitions revoked; events in flight in them will be read again by their new owner"
        );
        if commit.count() > 0 {
            match consumer.commit(&commit, CommitMode::Sync) {
                Ok(()) => Stats::add(&self.stats.commits, 1),
                Err(e) => {
                    Stats::add(&self.stats.commit_failures, 1);
                    tracing::warn!(error = %e, "commit on revoke failed; the new owner will re-read some events (they overwrite by _id)")
                }
            }
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(assigned) => {
                let mut tracker = self.tracker();
                for elem in assigned.elements() {
                    tracker.assign(elem.topic(), elem.partition());
                }
                self.stats
                    .assigned_partitions
                    .store(tracker.partitions().len() as u64, Ordering::Relaxed);
                drop(tracker);
                tracing::info!(partitions = assigned.count(), "partitions assigned");
                self.note_resume_points(consumer, assigned);
                if self.paused.load(Ordering::Relaxed) {
                    if let Err(e) = consumer.pause(assigned) {
                        tracing::warn!(error = %e, "cannot pause newly assigned partitions");
                    }
                }
            }
            Rebalance::Error(e) => tracing::error!(error = %e, "rebalance failed"),
            Rebalance::Revoke(_) => {}
        }
    }
}

impl SourceContext {
    /// Notes where reading resumes in newly assigned partitions: their
    /// committed offsets (one request for all of them). At a partition's
    /// first message, the consumer tells what lies between
    /// (`unread_offsets`): records deleted before they were read, or
    /// offsets that hold no message, over which the seal chains start.
    fn note_resume_points(&self, consumer: &BaseConsumer<Self>, assigned: &TopicPartitionList) {
        let committed = match consumer.committed_offsets(assigned.clone(), Duration::from_secs(5)) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the committed offsets of newly assigned partitions; records Kafka deleted before they were read will go unnoticed there, and where one resumes at a transaction marker verify will report a one-offset gap (docs/audit.md)");
                return;
            }
        };
        let mut tracker = self.tracker();
        for elem in committed.elements() {
            if let Offset::Offset(offset) = elem.offset() {
                tracker.resume_at(elem.topic(), elem.partition(), offset);
            }
        }
    }
}

/// Before taking the message at `to` from `slot`, reading jumped over the
/// offsets `from..to` (`first`: to the partition's first message since it
/// was assigned, from its committed offset). Those before the log's start
/// were deleted by Kafka's retention before they were read: they are
/// counted and reported as lost (they were never masked nor written), and
/// the seals say so (`verify` reports them). The others hold no message
/// (transaction markers, aborted or compacted records). At a partition's
/// first message, its new seal segment starts at the committed offset, so
/// `verify` sees no gap between segments.
#[allow(clippy::too_many_arguments)]
pub fn unread_offsets(
    consumer: &BaseConsumer<SourceContext>,
    topic: &str,
    partition: i32,
    slot: u32,
    from: i64,
    to: i64,
    first: bool,
    stats: &Stats,
) {
    // The committed offset read at the assignment may be stale: the
    // partition's previous owner may have committed once more since (a
    // commit on revoke still in flight). Then reading started past it,
    // and the offsets in between are that owner's, sealed by it: read the
    // committed offset again rather than claim them.
    let from = match first {
        true => committed_now(consumer, topic, partition).map_or(from, |c| c.max(from)),
        false => from,
    };
    if from >= to {
        return;
    }
    let start = unread::log_start(consumer, topic, partition).or_else(|| {
        // Not known locally: ask the broker, once per assignment at most
        // (a jump in mid-stream without it is taken for markers).
        first
            .then(|| consumer.fetch_watermarks(topic, partition, Duration::from_secs(5)))
            .and_then(|r| match r {
                Ok((low, _)) => Some(low),
                Err(e) => {
                    tracing::warn!(error = %e, partition, "cannot read where a newly assigned partition starts; if reading resumed at a transaction marker, verify will report a one-offset gap there (docs/audit.md)");
                    None
                }
            })
    });
    let Some(start) = start else {
        return;
    };
    let lost = unread::lost(from, to, start);
    let mut tracker = consumer.context().tracker();
    if first {
        tracker.start_chains_at(slot, from);
    }
    if lost > 0 {
        tracker.note_lost(slot, from, lost);
        drop(tracker);
        crate::events::LostBeforeRead {
            topic,
            partition,
            from,
            count: lost,
        }
        .emit(stats);
    }
}

/// The offset the group has committed for one partition, asked now.
fn committed_now(
    consumer: &BaseConsumer<SourceContext>,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    let mut list = TopicPartitionList::new();
    list.add_partition(topic, partition);
    let committed = consumer
        .committed_offsets(list, Duration::from_secs(5))
        .ok()?;
    let elem = committed.elements().into_iter().next()?;
    match elem.offset() {
        Offset::Offset(offset) => Some(offset),
        _ => None,
    }
}

/// Builds the consumer, not yet in its group (see [`subscribe`]). No
/// network IO happens until the first poll.
pub fn consumer(
    config: &KafkaConfig,
    context: SourceContext,
) -> anyhow::Result<BaseConsumer<SourceContext>> {
    let mut client = client_config(config)?;
    client
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    // Defaults the daemon prefers, unless the operator set them.
    for (key, value) in [
        ("auto.offset.reset", "earliest"),
        // librdkafka's 500 ms default is the added latency when a broker
        // holds a fetch until the wait runs out (tansu does); 50 ms bounds
        // that at the cost of at most 20 idle fetches a second per broker.
        ("fetch.wait.max.ms", "50"),
        // Consumer lag per partition, for the metrics.
        ("statistics.interval.ms", "5000"),
        // Messages librdkafka fetches ahead of the consumer, in KiB: 16 MiB
        // rather than its 64 MiB default, so that the fetch queue (which is
        // not counted in `max_in_flight_bytes`) stays a small, stated part
        // of the process's memory. 16 MiB is about 20,000 typical events,
        // more than a second of the daemon's throughput, so it never runs
        // dry while a fetch is under way. `fetch.max.bytes` follows it.
        ("queued.max.messages.kbytes", "16384"),
    ] {
        if !config.properties.contains_key(key) {
            client.set(key, value);
        }
    }
    client.create_with_context(context).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the Kafka consumer: {}; check kafka.properties for a misspelled librdkafka property",
            crate::config::kafka_error_text(&e)
        )
    })
}

/// Joins the consumer group: from here on the group may assign partitions
/// to this member, so call it only once the outputs can take events.
pub fn subscribe<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    config: &KafkaConfig,
) -> anyhow::Result<()> {
    let patterns: Vec<String> = match &config.topic_regex {
        Some(re) if re.starts_with('^') => vec![re.clone()],
        Some(re) => vec![format!("^{re}")],
        None => config.topics.clone(),
    };
    let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
    consumer
        .subscribe(&patterns)
        .map_err(|e| anyhow::anyhow!("cannot subscribe to {patterns:?}: {e}"))
}

/// The client settings shared by the consumer and the dead-letter producer.
pub fn client_config(config: &KafkaConfig) -> anyhow::Result<ClientConfig> {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &config.bootstrap_servers);
    for (k, v) in config.resolved_properties()? {
        client.set(k, v);
    }
    Ok(client)
}

/// Checks that the brokers answer, naming the topics that do not exist.
pub fn check_reachable<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    config: &KafkaConfig,
) -> anyhow::Result<()> {
    let metadata = consumer
        .fetch_metadata(None, std::time::Duration::from_secs(10))
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot reach Kafka at {} ({e}); check kafka.bootstrap_servers, the security properties, and that the brokers are up",
                config.bootstrap_servers
            )
        })?;
    for topic in &config.topics {
        if !metadata.topics().iter().any(|t| t.name() == topic) {
            tracing::warn!(topic = %topic, "the topic does not exist yet; consumption starts when it is created");
        }
    }
    Ok(())
}

/// Pauses or resumes every assigned partition.
pub fn set_paused<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    paused: bool,
    flag: &AtomicBool,
) -> anyhow::Result<()> {
    let assignment = consumer.assignment()?;
    if paused {
        consumer.pause(&assignment)?;
    } else {
        consumer.resume(&assignment)?;
    }
    flag.store(paused, Ordering::Relaxed);
    Ok(())
}

/// Commits offsets and waits for the broker's answer (at shutdown, when
/// nothing else is left to do); returns whether it confirmed them.
pub fn commit_and_wait<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    points: &[CommitPoint],
) -> bool {
    let mut list = TopicPartitionList::new();
    for (topic, partition, offset) in points {
        let _ = list.add_partition_offset(topic, *partition, Offset::Offset(*offset));
    }
    match consumer.commit(&list, CommitMode::Sync) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "offset commit failed; the events after the last commit will be read again after a restart (they overwrite by _id)");
            false
        }
    }
}

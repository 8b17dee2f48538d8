//! Wires the source, the rules and the sinks together.
//!
//! One consumer thread polls Kafka, applies the rules (a plain synchronous
//! function) and hands each event to the outputs it was routed to over
//! bounded channels. The sinks run on tokio and send acknowledgements back
//! to the consumer thread, which owns the offset tracker and commits. The
//! consumer handles pending acks before it takes new messages.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::FutureProducer;
use tokio::sync::mpsc;

use crate::config::{Config, OutputConfig, PipelineConfig};
use crate::rules::{KeyRing, Reject, Routes, RuleSet, Workspace};
use crate::sink::dead_letter::{Content, DeadLetterSender};
use crate::sink::{self, Ack, DeadLetter, DeadLetterWriter, Doc, DocBatch};
use crate::source::{self, SourceContext};
use crate::stats::Stats;

/// Bytes of an unprocessable message kept (masked) in its dead-letter
/// record; the original stays in Kafka at the recorded offset.
pub const MAX_DEAD_LETTER_TEXT: usize = 64 << 10;

/// Batches queued per output before the consumer waits.
const OUTPUT_QUEUE: usize = 64;

/// Documents the consumer gathers for an output before handing them over;
/// a partial batch is handed over when the consumer is idle or after
/// `HANDOVER_DELAY`.
const HANDOVER_DOCS: usize = 256;
const HANDOVER_DELAY: Duration = Duration::from_millis(2);

/// A compiled rule set plus what the pipeline derives from it.
pub struct ActiveRules {
    pub set: RuleSet,
    /// Per rule index, for route rules: bitmask of output ids.
    routes: Vec<u64>,
    /// Every output.
    all: u64,
}

impl ActiveRules {
    /// Checks the set against the configured outputs.
    pub fn new(set: RuleSet, outputs: &[&str]) -> Result<ActiveRules, String> {
        let mut routes = vec![0u64; set.rule_ids().len()];
        for (i, mask) in routes.iter_mut().enumerate() {
            if set.kind_of(i) != "route" {
                continue;
            }
            for name in set.route_outputs(Routes::Rule(i)).unwrap_or_default() {
                let id = outputs.iter().position(|o| *o == name).ok_or_else(|| {
                    format!(
                        "rule \"{}\" routes to output \"{name}\", which the config does not define; configured outputs: {}",
                        set.rule_ids()[i],
                        outputs.join(", ")
                    )
                })?;
                *mask |= 1 << id;
            }
        }
        Ok(ActiveRules {
            set,
            routes,
            all: (1u64 << outputs.len()) - 1,
        })
    }

    fn outputs(&self, routes: Routes) -> u64 {
        match routes {
            Routes::Default => self.all,
            Routes::Rule(i) => self.routes[i],
            Routes::Dropped(_) => 0,
        }
    }
}

/// Reads the hash keys the config names.
pub fn key_ring(config: &Config) -> anyhow::Result<KeyRing> {
    let specs: Vec<_> = config
        .rules
        .hash_keys
        .iter()
        .map(|(name, source)| crate::commands::KeySpec {
            name: name.clone(),
            source: source.0.clone(),
        })
        .collect();
    crate::commands::keys::key_ring(&specs)
}

/// Loads and checks the rules a config points to; errors are printable.
pub fn load_rules(config: &Config, keys: &KeyRing) -> Result<ActiveRules, String> {
    let set = RuleSet::load(&config.rules.dir, keys).map_err(|e| e.to_string())?;
    ActiveRules::new(set, &config.output_names())
}

/// An output's input queue.
enum OutputTask {
    Elasticsearch(Box<sink::elasticsearch::BulkWriter>),
    File(sink::file::FileWriter),
}

/// Runs the pipeline until `shutdown` completes, then drains: stops
/// fetching, flushes, waits for acknowledgements up to the configured
/// timeout, commits, and returns.
pub async fn run(
    config: &Config,
    rules: Arc<ArcSwap<ActiveRules>>,
    stats: Arc<Stats>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    // Build everything first, so a bad setting fails before any IO.
    let mut tasks = Vec::new();
    for (name, output) in &config.outputs {
        tasks.push(match output {
            OutputConfig::Elasticsearch(es) => {
                OutputTask::Elasticsearch(Box::new(sink::elasticsearch::BulkWriter::new(name, es)?))
            }
            OutputConfig::File(f) => OutputTask::File(sink::file::FileWriter::new(name, f)?),
        });
    }
    let producer: Option<FutureProducer> = match &config.dead_letter.topic {
        Some(_) => Some(
            source::client_config(&config.kafka)
                .set("enable.idempotence", "true")
                .create()
                .map_err(|e| anyhow::anyhow!("cannot create the dead-letter producer: {e}"))?,
        ),
        None => None,
    };
    let dead_letter_writer = DeadLetterWriter::new(&config.dead_letter, producer)?;
    let consumer = source::consumer(&config.kafka, SourceContext::new(stats.clone()))?;

    // Startup checks: every output and Kafka, each failure named.
    for task in &tasks {
        if let OutputTask::Elasticsearch(w) = task {
            sink::elasticsearch::check_reachable(&w.name, w.client()).await?;
        }
    }
    let consumer = tokio::task::spawn_blocking({
        let kafka = config.kafka.clone();
        move || source::check_reachable(&consumer, &kafka).map(|()| consumer)
    })
    .await??;

    crate::reload::note_active(&stats, &rules.load());
    for (name, output) in &config.outputs {
        if let OutputConfig::Elasticsearch(_) = output {
            stats.detail().reachable.insert(name.clone(), true);
        }
    }
    let telemetry = if config.metrics.enabled {
        let listener = tokio::net::TcpListener::bind(&config.metrics.listen)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen on metrics.listen = \"{}\" ({e}); choose a free address or set metrics.enabled = false",
                    config.metrics.listen
                )
            })?;
        tracing::info!(address = %listener.local_addr()?, "metrics, health and readiness endpoints listening");
        let heap_profile = config.metrics.heap_profile && crate::alloc::start_heap_profile();
        Some(tokio::spawn(crate::telemetry::serve(
            listener,
            stats.clone(),
            heap_profile,
        )))
    } else {
        None
    };

    let (ack_tx, ack_rx) = std::sync::mpsc::channel::<Vec<Ack>>();
    let (dl_tx, dl_rx) = mpsc::unbounded_channel();
    let mut senders = Vec::new();
    let mut handles = Vec::new();
    for task in tasks {
        let (tx, rx) = mpsc::channel(OUTPUT_QUEUE);
        senders.push(tx);
        let (acks, stats) = (ack_tx.clone(), stats.clone());
        handles.push(match task {
            OutputTask::Elasticsearch(w) => tokio::spawn(w.run(rx, acks, dl_tx.clone(), stats)),
            OutputTask::File(w) => tokio::spawn(w.run(rx, acks, stats)),
        });
    }
    handles.push(tokio::spawn(dead_letter_writer.run(
        dl_rx,
        ack_tx.clone(),
        stats.clone(),
    )));
    drop(ack_tx);

    let stop = Arc::new(AtomicBool::new(false));
    let needs_event_time = config.outputs.values().any(|o| match o {
        OutputConfig::Elasticsearch(es) => es.index.as_deref().is_some_and(|i| i.contains('%')),
        OutputConfig::File(f) => f.index.contains('%'),
    });
    let mut consumer_loop = ConsumerLoop {
        consumer,
        rules,
        outputs: senders,
        dead_letters: dl_tx,
        acks: ack_rx,
        stop: stop.clone(),
        config: config.pipeline.clone(),
        stats: stats.clone(),
        needs_event_time,
    };
    let mut consumer_thread = tokio::task::spawn_blocking(move || consumer_loop.run());
    tracing::info!("pipeline running");
    let result = tokio::select! {
        r = &mut consumer_thread => Some(r),
        () = shutdown => None,
    };
    let result = match result {
        Some(r) => r,
        None => {
            tracing::info!("shutting down: no new events are taken; waiting for outputs");
            stop.store(true, Relaxed);
            consumer_thread.await
        }
    };
    // The consumer thread has dropped its senders; outputs finish what
    // they hold. Whatever is still unacknowledged was not committed and
    // will be read again after a restart.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    for h in handles {
        if tokio::time::timeout_at(deadline, async { h.await.ok() })
            .await
            .is_err()
        {
            tracing::warn!(
                "an output did not finish in time; its unacknowledged events will be read again"
            );
        }
    }
    if let Some(t) = telemetry {
        t.abort();
    }
    result.map_err(|e| anyhow::anyhow!("the consumer thread failed: {e}"))?
}

struct ConsumerLoop {
    consumer: BaseConsumer<SourceContext>,
    rules: Arc<ArcSwap<ActiveRules>>,
    outputs: Vec<mpsc::Sender<DocBatch>>,
    dead_letters: DeadLetterSender,
    acks: Receiver<Vec<Ack>>,
    stop: Arc<AtomicBool>,
    config: PipelineConfig,
    stats: Arc<Stats>,
    needs_event_time: bool,
}

impl ConsumerLoop {
    fn run(&mut self) -> anyhow::Result<()> {
        let mut work = Workspace::new();
        let mut out = Vec::with_capacity(8192);
        let mut last_commit = Instant::now();
        // The time, as of the last event the rules finished (a clock read
        // per event fewer than reading it again here), or read afresh when
        // no event came.
        let mut clock = last_commit;
        let mut counts = RuleCounts::default();
        let mut handover = Handover {
            docs: vec![Vec::new(); self.outputs.len()],
            since: None,
        };
        while !self.stop.load(Relaxed) {
            self.drain_acks();
            if clock.saturating_duration_since(last_commit) >= self.config.commit_interval {
                self.commit(CommitMode::Async);
                counts.flush(&self.stats);
                self.heartbeat();
                last_commit = clock;
            }
            self.back_pressure();
            if handover
                .since
                .is_some_and(|t| clock.saturating_duration_since(t) >= HANDOVER_DELAY)
            {
                handover.send(&self.outputs);
            }
            let timeout = if handover.since.is_some() {
                Duration::ZERO
            } else if self.paused() {
                Duration::from_millis(20)
            } else {
                Duration::from_millis(100)
            };
            let Some(message) = self.consumer.poll(timeout) else {
                handover.send(&self.outputs);
                self.heartbeat();
                clock = Instant::now();
                continue;
            };
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "kafka consumer error");
                    clock = Instant::now();
                    continue;
                }
            };
            let finished = self.process(&message, &mut work, &mut out, &mut counts, &mut handover);
            clock = finished.unwrap_or_else(Instant::now);
        }
        counts.flush(&self.stats);
        handover.send(&self.outputs);
        self.drain()
    }

    /// Counts an event as taken and not yet settled (undone in `apply_ack`).
    fn add_in_flight(&self, weight: u32) {
        self.stats
            .in_flight_bytes
            .fetch_add(u64::from(weight), Relaxed);
        self.stats.in_flight_events.fetch_add(1, Relaxed);
    }

    /// Notes that the loop turns, for `/health` and the watchdog.
    fn heartbeat(&self) {
        self.stats
            .consumer_heartbeat_ms
            .store(crate::stats::now_ms() as u64, Relaxed);
    }

    fn paused(&self) -> bool {
        self.consumer.context().paused.load(Relaxed)
    }

    fn back_pressure(&self) {
        let bytes = self.stats.in_flight_bytes.load(Relaxed) as usize;
        let max = self.config.max_in_flight_bytes;
        let paused = self.paused();
        let flag = &self.consumer.context().paused;
        if !paused && bytes > max {
            tracing::info!(
                in_flight_bytes = bytes,
                "outputs are behind; pausing consumption"
            );
            if let Err(e) = source::set_paused(&self.consumer, true, flag) {
                tracing::warn!(error = %e, "cannot pause consumption");
            }
        } else if paused && bytes <= max / 2 {
            tracing::info!(
                in_flight_bytes = bytes,
                "outputs caught up; resuming consumption"
            );
            if let Err(e) = source::set_paused(&self.consumer, false, flag) {
                tracing::warn!(error = %e, "cannot resume consumption");
            }
        }
    }

    fn drain_acks(&self) {
        let mut tracker = self.consumer.context().tracker();
        while let Ok(acks) = self.acks.try_recv() {
            for ack in acks {
                self.apply_ack(&mut tracker, ack);
            }
        }
    }

    fn apply_ack(&self, tracker: &mut source::OffsetTracker, ack: Ack) {
        if let Some(done) = tracker.ack(ack) {
            self.stats
                .in_flight_bytes
                .fetch_sub(u64::from(done.bytes), Relaxed);
            self.stats.in_flight_events.fetch_sub(1, Relaxed);
            let counter = if done.dead_lettered {
                &self.stats.completed_dead_lettered
            } else {
                &self.stats.completed_indexed
            };
            Stats::add(counter, 1);
        }
    }

    fn commit(&self, mode: CommitMode) {
        let points = self.consumer.context().tracker().to_commit();
        if !points.is_empty() && source::commit(&self.consumer, &points, mode) {
            self.consumer.context().tracker().committed(&points);
            Stats::add(&self.stats.commits, 1);
        }
    }

    /// After stop: no new messages. Close the outputs' queues, wait for
    /// acks until nothing is in flight or the timeout passes, commit.
    fn drain(&mut self) -> anyhow::Result<()> {
        self.outputs.clear();
        let (dead, _) = mpsc::unbounded_channel();
        self.dead_letters = dead;
        let deadline = Instant::now() + self.config.shutdown_timeout;
        loop {
            let in_flight = self.consumer.context().tracker().in_flight();
            if in_flight == 0 {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(in_flight, "shutdown timeout passed; unacknowledged events will be read again after restart");
                break;
            }
            match self.acks.recv_timeout(left.min(Duration::from_millis(100))) {
                Ok(acks) => {
                    let mut tracker = self.consumer.context().tracker();
                    for ack in acks {
                        self.apply_ack(&mut tracker, ack);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.drain_acks();
        self.commit(CommitMode::Sync);
        Ok(())
    }

    fn process(
        &self,
        message: &rdkafka::message::BorrowedMessage<'_>,
        work: &mut Workspace,
        out: &mut Vec<u8>,
        counts: &mut RuleCounts,
        handover: &mut Handover,
    ) -> Option<Instant> {
        let payload = message.payload().unwrap_or_default();
        let (partition, offset) = (message.partition(), message.offset());
        let (slot, topic) = {
            let tracker = self.consumer.context().tracker();
            match tracker.slot(message.topic(), partition) {
                Some(slot) => (slot, tracker.topic(slot).expect("slot is live")),
                // Not ours (revoked between fetch and now): the new owner
                // reads it.
                None => return None,
            }
        };
        Stats::add(&self.stats.consumed, 1);
        Stats::add(&self.stats.consumed_bytes, payload.len() as u64);
        let kafka_ts_ms = message.timestamp().to_millis();
        let weight = (payload.len() + 256) as u32;
        let rules = self.rules.load();
        counts.follow(&rules, &self.stats);

        // When the rules finished with the event; taken once, it also marks
        // when the event was consumed.
        let mut finished = None;
        let verdict = if payload.len() > self.config.max_event_bytes {
            Err(too_large(payload.len(), self.config.max_event_bytes))
        } else {
            out.clear();
            let started = Instant::now();
            // A panic in the rules must not let the event out unmasked nor
            // stop the pipeline: it becomes a dead letter like any other.
            let r =
                std::panic::catch_unwind(AssertUnwindSafe(|| rules.set.apply(payload, out, work)))
                    .unwrap_or_else(|_| {
                        Err(Reject::rule(
                            "(internal)",
                            "an internal error stopped processing; please report it",
                        ))
                    })
                    .map_err(|r| (r.class(), r.to_string()));
            let now = Instant::now();
            finished = Some(now);
            let took = now - started;
            Stats::add(&self.stats.rule_nanos, took.as_nanos() as u64);
            counts
                .rule_time
                .saturating_record((took.as_micros() as u64).max(1));
            r
        };

        let mut tracker = self.consumer.context().tracker();
        match verdict {
            Ok(v) => {
                counts.add(work);
                Stats::add(&self.stats.masked_values, u64::from(v.masked));
                Stats::add(&self.stats.residual_hits, u64::from(v.residual));
                let mask = rules.outputs(v.routes);
                let n = mask.count_ones() as u16;
                let Some(token) = tracker.track(slot, offset, n, weight) else {
                    return finished;
                };
                if n == 0 {
                    Stats::add(&self.stats.dropped_by_rule, 1);
                    return finished;
                }
                drop(tracker);
                self.add_in_flight(weight);
                let body = Bytes::copy_from_slice(out);
                let time_ms = self
                    .needs_event_time
                    .then(|| sink::event_time_ms(&body))
                    .flatten()
                    .or(kafka_ts_ms)
                    .unwrap_or_else(crate::stats::now_ms);
                let consumed_at = *finished.get_or_insert_with(Instant::now);
                let doc = Arc::new(Doc {
                    token,
                    id: sink::doc_id(&topic, partition, offset),
                    body,
                    time_ms,
                    kafka_ts_ms,
                    topic,
                    partition,
                    consumed_at,
                });
                let mut full = false;
                for (i, docs) in handover.docs.iter_mut().enumerate() {
                    if mask & (1 << i) != 0 {
                        docs.push(doc.clone());
                        full |= docs.len() >= HANDOVER_DOCS;
                    }
                }
                handover.since.get_or_insert(consumed_at);
                if full {
                    handover.send(&self.outputs);
                }
            }
            Err((class, reason)) => {
                let Some(token) = tracker.track(slot, offset, 1, weight) else {
                    return finished;
                };
                drop(tracker);
                self.add_in_flight(weight);
                // Mask the whole message, then cut: cutting first would
                // leave the part of a value before the cut unmasked (17 of
                // an ID's 18), and so would masking only a window of it.
                // The message is already in memory, and bounded by
                // librdkafka's fetch limits.
                // Inside catch_unwind, as `apply` is: a panic here would
                // otherwise stop the consumer on the same message forever.
                let (masked, cut) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    rules.set.mask_text_cut(payload, MAX_DEAD_LETTER_TEXT)
                }))
                .unwrap_or_else(|_| {
                    (
                        "[masking failed; nothing of the message is kept]".to_owned(),
                        true,
                    )
                });
                let record = DeadLetter {
                    token,
                    topic,
                    partition,
                    offset,
                    class,
                    reason,
                    output: None,
                    content: Content::Text {
                        masked,
                        truncated: cut,
                    },
                };
                if self.dead_letters.send(record).is_err() {
                    tracing::error!("the dead-letter output stopped; the event stays uncommitted");
                }
            }
        }
        finished
    }
}

/// Documents gathered per output on the consumer thread, not yet handed
/// over.
struct Handover {
    docs: Vec<DocBatch>,
    /// When the oldest gathered document was added.
    since: Option<Instant>,
}

impl Handover {
    /// Sends the gathered documents to their outputs; waits while an
    /// output's queue is full (back-pressure).
    fn send(&mut self, outputs: &[mpsc::Sender<DocBatch>]) {
        for (docs, output) in self.docs.iter_mut().zip(outputs) {
            if !docs.is_empty() && output.blocking_send(std::mem::take(docs)).is_err() {
                tracing::error!("an output stopped; its events stay uncommitted");
            }
        }
        self.since = None;
    }
}

fn too_large(len: usize, max: usize) -> (&'static str, String) {
    (
        "too_large",
        format!(
            "not processed: the event is {len} bytes, more than pipeline.max_event_bytes ({max})"
        ),
    )
}

/// Per-rule counts gathered on the consumer thread and folded into the
/// shared stats now and then, so the hot loop takes no lock per event.
struct RuleCounts {
    /// The rule set counted last; one pointer comparison per event tells
    /// whether it is still the live one (held, so its address is not reused).
    followed: Option<Arc<ActiveRules>>,
    fingerprint: String,
    ids: Vec<(String, &'static str, Option<&'static str>)>,
    counts: Vec<u64>,
    /// Rule engine time per event (µs), merged into the stats on flush.
    rule_time: crate::stats::Histogram,
}

impl Default for RuleCounts {
    fn default() -> RuleCounts {
        RuleCounts {
            followed: None,
            fingerprint: String::new(),
            ids: Vec::new(),
            counts: Vec::new(),
            rule_time: crate::stats::new_histogram(),
        }
    }
}

impl RuleCounts {
    /// Switches to `set` when the rules were reloaded; counts of the old
    /// set go out first.
    fn follow(&mut self, rules: &Arc<ActiveRules>, stats: &Stats) {
        if self
            .followed
            .as_ref()
            .is_some_and(|f| Arc::ptr_eq(f, rules))
        {
            return;
        }
        self.followed = Some(rules.clone());
        let set = &rules.set;
        if self.fingerprint != set.fingerprint() {
            self.flush(stats);
            self.fingerprint = set.fingerprint().to_owned();
            self.ids = set
                .rule_ids()
                .iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), set.kind_of(i), set.detector_of(i)))
                .collect();
            self.counts = vec![0; self.ids.len()];
        }
    }

    fn add(&mut self, work: &Workspace) {
        for (total, n) in self.counts.iter_mut().zip(work.counts()) {
            *total += u64::from(*n);
        }
    }

    fn flush(&mut self, stats: &Stats) {
        let mut d = stats.detail();
        let total = d.rule_time.get_or_insert_with(crate::stats::new_histogram);
        let _ = total.add(&self.rule_time);
        self.rule_time.reset();
        for ((id, kind, detector), n) in self.ids.iter().zip(self.counts.iter_mut()) {
            if *n == 0 {
                continue;
            }
            match (*kind, detector) {
                ("mask", Some(detector)) => {
                    *d.masks.entry((id.clone(), detector)).or_default() += *n;
                }
                ("tag", _) => *d.tags.entry(id.clone()).or_default() += *n,
                _ => continue,
            }
            *n = 0;
        }
    }
}

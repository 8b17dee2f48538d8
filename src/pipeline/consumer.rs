//! The consumer loop, on its own thread: polls Kafka, applies the rules
//! (a plain synchronous function), hands each event to the outputs it was
//! routed to over bounded channels, takes their acknowledgements back, and
//! commits. Pending acknowledgements are handled before new messages.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{
    AtomicBool,
    Ordering::{Relaxed, Release},
};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use tokio::sync::mpsc;

use super::counts::RuleCounts;
use super::handover::Handover;
use super::sealing::{Sealing, MAX_UNSEALED};
use super::{ActiveRules, HANDOVER_DELAY, HANDOVER_DOCS, MAX_DEAD_LETTER_TEXT};
use crate::config::PipelineConfig;
use crate::rules::{Reject, Verdict, Workspace};
use crate::sink::dead_letter::{Content, DeadLetterSender};
use crate::sink::{self, Ack, DeadLetter, Doc, DocBatch};
use crate::source::{self, SourceContext};
use crate::stats::Stats;

pub(super) struct ConsumerLoop {
    /// Declared before `consumer`, so dropped before it: its queue belongs
    /// to the consumer's client.
    pub(super) committer: source::Committer,
    pub(super) consumer: BaseConsumer<SourceContext>,
    pub(super) rules: Arc<ArcSwap<ActiveRules>>,
    pub(super) outputs: Vec<mpsc::Sender<DocBatch>>,
    pub(super) dead_letters: DeadLetterSender,
    pub(super) acks: Receiver<Vec<Ack>>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) config: PipelineConfig,
    pub(super) stats: Arc<Stats>,
    pub(super) needs_event_time: bool,
    /// Set when an output is sealed.
    pub(super) sealing: Option<Sealing>,
}

impl ConsumerLoop {
    pub(super) fn run(&mut self) -> anyhow::Result<()> {
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
            self.commit_answers();
            if clock.saturating_duration_since(last_commit) >= self.config.commit_interval {
                self.cut_seals();
                self.commit();
                counts.flush(&self.stats);
                self.heartbeat();
                last_commit = clock;
            }
            self.back_pressure();
            if handover
                .since
                .is_some_and(|t| clock.saturating_duration_since(t) >= HANDOVER_DELAY)
            {
                handover.send(&self.outputs, &|| self.stop.load(Relaxed));
            }
            let timeout = if handover.since.is_some() {
                Duration::ZERO
            } else if self.paused() {
                Duration::from_millis(20)
            } else {
                Duration::from_millis(100)
            };
            let Some(message) = self.consumer.poll(timeout) else {
                handover.send(&self.outputs, &|| self.stop.load(Relaxed));
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
        // What is gathered still goes out, with room waited for until the
        // shutdown deadline (not past it: an output stuck in retries keeps
        // its queue full).
        let deadline = Instant::now() + self.config.shutdown_timeout;
        handover.send(&self.outputs, &|| Instant::now() >= deadline);
        let unsent: usize = handover.docs.iter().map(Vec::len).sum();
        if unsent > 0 {
            tracing::warn!(
                documents = unsent,
                "stopping while an output's queue is full: these events stay uncommitted and are read again after the restart"
            );
        }
        self.drain(deadline)
    }

    /// Counts an event as taken and not yet settled (undone in `apply_ack`).
    /// In flight first, consumed after, and on settling the outcome first,
    /// in flight after: so that settled + in flight ≥ consumed for anyone
    /// reading consumed, then in flight, then the outcomes, at any moment.
    fn add_in_flight(&self, at: &Place) {
        self.stats
            .in_flight_bytes
            .fetch_add(u64::from(at.weight), Relaxed);
        self.stats.in_flight_events.fetch_add(1, Release);
        self.add_consumed(at);
    }

    /// Counts an event as taken from Kafka, once it is counted in flight or
    /// in its outcome.
    fn add_consumed(&self, at: &Place) {
        Stats::add(&self.stats.consumed, 1);
        Stats::add(
            &self.stats.consumed_bytes,
            u64::from(at.weight - EVENT_OVERHEAD),
        );
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
        // Seals not yet stored hold their offsets uncommitted; their fates
        // are small, but bounded all the same.
        let unsealed = match &self.sealing {
            Some(_) => self.consumer.context().tracker().unsealed(),
            None => 0,
        };
        self.stats.unsealed.store(unsealed as u64, Relaxed);
        if !paused && unsealed > MAX_UNSEALED {
            tracing::info!(unsealed, "seals are behind; pausing consumption");
            if let Err(e) = source::set_paused(&self.consumer, true, flag) {
                tracing::warn!(error = %e, "cannot pause consumption");
            }
        } else if paused && unsealed > MAX_UNSEALED / 2 {
            // Stay paused until the seals catch up.
        } else if !paused && bytes > max {
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

    /// Seals what completed, and takes in stored seals.
    fn cut_seals(&self) {
        if let Some(sealing) = &self.sealing {
            let rules = self.rules.load();
            let mut tracker = self.consumer.context().tracker();
            sealing.take_acks(&mut tracker);
            sealing.cut(&mut tracker, &rules);
        }
    }

    fn drain_acks(&self) {
        let mut tracker = self.consumer.context().tracker();
        if let Some(sealing) = &self.sealing {
            sealing.take_acks(&mut tracker);
        }
        while let Ok(acks) = self.acks.try_recv() {
            for ack in acks {
                self.apply_ack(&mut tracker, ack);
            }
        }
    }

    fn apply_ack(&self, tracker: &mut source::OffsetTracker, ack: Ack) {
        if let Some(done) = tracker.ack(ack) {
            let counter = if done.dead_lettered {
                &self.stats.completed_dead_lettered
            } else {
                &self.stats.completed_indexed
            };
            Stats::add(counter, 1);
            self.stats
                .in_flight_bytes
                .fetch_sub(u64::from(done.bytes), Relaxed);
            self.stats.in_flight_events.fetch_sub(1, Release);
        }
    }

    /// Commits what is complete and not yet confirmed committed, without
    /// waiting; an unconfirmed commit is sent again (commits are
    /// idempotent, and one partition's commits are answered in order).
    fn commit(&self) {
        let points = self.consumer.context().tracker().to_commit();
        if points.is_empty() {
            return;
        }
        if let Err(e) = self.committer.commit(&self.consumer, &points) {
            Stats::add(&self.stats.commit_failures, 1);
            tracing::warn!(error = %e, "cannot send an offset commit; it is tried again at the next commit interval");
        }
    }

    /// Takes in the broker's answers to earlier commits: confirmed offsets
    /// count as committed; failures are counted and logged (the offsets
    /// are sent again at the next commit interval).
    fn commit_answers(&self) {
        for answer in self.committer.answers() {
            self.consumer
                .context()
                .tracker()
                .committed(&answer.confirmed);
            match answer.error {
                None => Stats::add(&self.stats.commits, 1),
                Some(e) => {
                    Stats::add(&self.stats.commit_failures, 1);
                    tracing::warn!(error = %e, "the broker refused an offset commit; it is tried again at the next commit interval");
                }
            }
        }
    }

    /// After stop: no new messages. Close the outputs' queues, wait for
    /// acks until nothing is in flight or the timeout passes, commit.
    fn drain(&mut self, deadline: Instant) -> anyhow::Result<()> {
        self.outputs.clear();
        let (dead, _) = mpsc::unbounded_channel();
        self.dead_letters = dead;
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
        self.drain_seals(deadline);
        let points = self.consumer.context().tracker().to_commit();
        if !points.is_empty() && source::commit_and_wait(&self.consumer, &points) {
            self.consumer.context().tracker().committed(&points);
            Stats::add(&self.stats.commits, 1);
        }
        Ok(())
    }

    /// At shutdown: seals what completed and waits (up to `deadline`) for
    /// the seals to be stored, so that their offsets can be committed.
    fn drain_seals(&mut self, deadline: Instant) {
        let Some(sealing) = &self.sealing else { return };
        self.cut_seals();
        loop {
            let waiting = self.consumer.context().tracker().unsealed();
            if waiting == 0 {
                break;
            }
            if Instant::now() >= deadline {
                tracing::warn!(waiting, "shutdown timeout passed with seals unstored; their events will be read again and sealed after restart");
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            sealing.take_acks(&mut self.consumer.context().tracker());
        }
        // Closing the writers' queues lets them finish.
        if let Some(s) = &mut self.sealing {
            s.writers.clear();
        }
    }

    /// Takes one message: the rules, then the outputs it is routed to, a
    /// dead letter, or nothing (dropped by a rule). Returns when the rules
    /// finished with it, if they ran.
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
        let (slot, topic, unread) = {
            let mut tracker = self.consumer.context().tracker();
            match tracker.slot(message.topic(), partition) {
                Some(slot) => {
                    let slot = match tracker.moved_back(slot, offset) {
                        Some((slot, released)) => {
                            self.stats.release(released.events, released.bytes);
                            tracing::warn!(
                                topic = message.topic(),
                                partition,
                                offset,
                                released_events = released.events,
                                "reading of a partition moved back while it stayed assigned (its log was truncated or the topic made anew); it starts over from there, and the events in flight in it are read again"
                            );
                            slot
                        }
                        None => slot,
                    };
                    (
                        slot,
                        tracker.topic(slot).expect("slot is live"),
                        tracker.unread_before(slot, offset),
                    )
                }
                // Not ours (revoked between fetch and now): the new owner
                // reads it.
                None => return None,
            }
        };
        if let Some((from, first)) = unread {
            source::unread_offsets(
                &self.consumer,
                &topic,
                partition,
                slot,
                from,
                offset,
                first,
                &self.stats,
            );
        }
        let weight = payload.len() as u32 + EVENT_OVERHEAD;
        let rules = self.rules.load();
        counts.follow(&rules, &self.stats);

        // When the rules finished with the event; taken once, it also marks
        // when the event was consumed.
        let mut finished = None;
        let verdict = if payload.len() > self.config.max_event_bytes {
            Err(too_large(payload.len(), self.config.max_event_bytes))
        } else {
            let (verdict, now) = self.apply_rules(&rules, payload, out, work, counts);
            finished = Some(now);
            verdict
        };
        let mut at = Place {
            slot,
            topic,
            partition,
            offset,
            weight,
            seal: None,
        };
        match verdict {
            Ok(v) => {
                counts.add(work);
                Stats::add(&self.stats.masked_values, u64::from(v.masked));
                Stats::add(&self.stats.residual_hits, u64::from(v.residual));
                let mask = rules.outputs(v.routes);
                let kafka_ts_ms = message.timestamp().to_millis();
                at.seal = self.sealing.as_ref().map(|s| {
                    let dropped_by = match v.routes {
                        crate::rules::Routes::Dropped(i) => {
                            rules.set.rule_ids().get(i).map(|id| Arc::from(id.as_str()))
                        }
                        _ => None,
                    };
                    s.routed(mask, out, dropped_by)
                });
                self.route(at, mask, out, kafka_ts_ms, &mut finished, handover);
            }
            Err((class, reason)) => self.dead_letter(at, &rules, payload, class, reason),
        }
        finished
    }

    /// Applies the rules to one event into `out`; returns the verdict (or
    /// the reason class and reason) and when the rules finished.
    fn apply_rules(
        &self,
        rules: &ActiveRules,
        payload: &[u8],
        out: &mut Vec<u8>,
        work: &mut Workspace,
        counts: &mut RuleCounts,
    ) -> (Result<Verdict, (&'static str, String)>, Instant) {
        out.clear();
        let started = Instant::now();
        // A panic in the rules must not let the event out unmasked nor
        // stop the pipeline: it becomes a dead letter like any other.
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| rules.set.apply(payload, out, work)))
            .unwrap_or_else(|_| {
                Err(Reject::rule(
                    "(internal)",
                    "an internal error stopped processing; please report it",
                ))
            })
            .map_err(|r| (r.class(), r.to_string()));
        let now = Instant::now();
        let took = now - started;
        Stats::add(&self.stats.rule_nanos, took.as_nanos() as u64);
        counts
            .rule_time
            .saturating_record((took.as_micros() as u64).max(1));
        (r, now)
    }

    /// Tracks a processed event and hands it to the outputs in `mask`
    /// (none: dropped by a rule, counted).
    fn route(
        &self,
        mut at: Place,
        mask: u64,
        out: &[u8],
        kafka_ts_ms: Option<i64>,
        finished: &mut Option<Instant>,
        handover: &mut Handover,
    ) {
        let n = mask.count_ones() as u16;
        let seal = at.seal.take();
        let Some(token) = self
            .consumer
            .context()
            .tracker()
            .track(at.slot, at.offset, n, at.weight, seal)
        else {
            return;
        };
        if n == 0 {
            Stats::add(&self.stats.dropped_by_rule, 1);
            self.add_consumed(&at);
            return;
        }
        self.add_in_flight(&at);
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
            id: sink::doc_id(&at.topic, at.partition, at.offset),
            body,
            time_ms,
            kafka_ts_ms,
            topic: at.topic,
            partition: at.partition,
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
            handover.send(&self.outputs, &|| self.stop.load(Relaxed));
        }
    }

    /// Tracks an event that could not be processed and sends it, masked
    /// whole, to the dead-letter output.
    fn dead_letter(
        &self,
        mut at: Place,
        rules: &ActiveRules,
        payload: &[u8],
        class: &'static str,
        reason: String,
    ) {
        let seal = at
            .seal
            .take()
            .or_else(|| self.sealing.as_ref().map(|s| s.rejected(class)));
        let Some(token) = self
            .consumer
            .context()
            .tracker()
            .track(at.slot, at.offset, 1, at.weight, seal)
        else {
            return;
        };
        self.add_in_flight(&at);
        // Mask the whole message, then cut: cutting first would leave the
        // part of a value before the cut unmasked (17 of an ID's 18), and
        // so would masking only a window of it. The message is already in
        // memory, and bounded by librdkafka's fetch limits.
        // Inside catch_unwind, as `apply` is: a panic here would otherwise
        // stop the consumer on the same message forever.
        let (masked, cut) = std::panic::catch_unwind(AssertUnwindSafe(|| {
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
            topic: at.topic,
            partition: at.partition,
            offset: at.offset,
            class,
            reason,
            output: None,
            output_index: None,
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

/// What an event weighs in flight beyond its bytes (its document, tracker
/// entry and queue slots), so that many tiny events still bound memory.
const EVENT_OVERHEAD: u32 = 256;

/// Where a consumed message sits, and what it weighs in flight.
struct Place {
    slot: u32,
    topic: Arc<str>,
    partition: i32,
    offset: i64,
    weight: u32,
    /// What the seals need of it, with sealing on.
    seal: Option<Box<crate::source::SealInfo>>,
}

fn too_large(len: usize, max: usize) -> (&'static str, String) {
    (
        "too_large",
        format!(
            "not processed: the event is {len} bytes, more than pipeline.max_event_bytes ({max})"
        ),
    )
}

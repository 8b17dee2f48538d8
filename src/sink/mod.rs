//! Outputs: Elasticsearch bulk writers, NDJSON files, and the dead-letter
//! output. Every document a sink takes ends in exactly one [`Ack`]: indexed
//! (or written), or dead-lettered with a reason.

pub mod dead_letter;
pub mod elasticsearch;
mod event_time;
pub mod file;
pub mod seals;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

pub use crate::config::index_name::{IndexNamer, IndexTemplate};
pub use dead_letter::{DeadLetter, DeadLetterWriter};
pub use event_time::event_time_ms;

/// Names one consumed Kafka message for the offset tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token {
    /// The tracker's slot for the (topic, partition).
    pub slot: u32,
    /// Bumped on each assignment, so acks for a partition that was revoked
    /// and assigned again are recognised as stale.
    pub generation: u32,
    pub offset: i64,
}

/// Awaits `work`, beating `name`'s heartbeat at each `tick` meanwhile: a
/// writer whose request or delivery takes long (a timeout, librdkafka's
/// `message.timeout.ms`) is waiting, not stuck, and `/health` must say so.
pub(crate) async fn while_beating<T>(
    work: impl std::future::Future<Output = T>,
    tick: &mut tokio::time::Interval,
    stats: &crate::stats::Stats,
    name: &str,
) -> T {
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = tick.tick() => stats.output_heartbeat(name),
        }
    }
}

/// Which tokens are current: per tracker slot, the generation of the
/// partition assigned there, or none. Shared by the offset tracker (which
/// writes it) with the outputs, so that they let go of documents of a
/// partition whose events were released (revoked, or its reading moved
/// back): those are read again, and retrying the old copies would only
/// hold memory that back-pressure no longer counts.
#[derive(Debug, Default)]
pub struct Generations(std::sync::RwLock<Vec<Option<u32>>>);

impl Generations {
    /// `slot` now holds a partition of `generation`, or (`None`) nothing.
    pub fn set(&self, slot: u32, generation: Option<u32>) {
        let mut slots = self.0.write().unwrap_or_else(|p| p.into_inner());
        let i = slot as usize;
        if slots.len() <= i {
            slots.resize(i + 1, None);
        }
        slots[i] = generation;
    }

    /// Whether `token` belongs to a partition as it is assigned now.
    pub fn is_current(&self, token: &Token) -> bool {
        let slots = self.0.read().unwrap_or_else(|p| p.into_inner());
        slots.get(token.slot as usize).copied().flatten() == Some(token.generation)
    }
}

/// One output is finished with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub token: Token,
    /// The event went to the dead-letter output instead of this output.
    pub dead_lettered: bool,
    /// The output (its index) the ack is about; none for an event that
    /// never reached an output (dead-lettered by the consumer).
    pub output: Option<u8>,
}

/// Where acks go, a batch at a time: the consumer thread, which owns the
/// offset tracker.
pub type AckSender = std::sync::mpsc::Sender<Vec<Ack>>;

/// Documents travel to an output in small batches, so the consumer thread
/// wakes an output once per batch rather than once per event.
pub type DocBatch = Vec<Arc<Doc>>;

/// A redacted event on its way to the outputs it was routed to; shared by
/// them, so the body is held once.
#[derive(Debug)]
pub struct Doc {
    pub token: Token,
    /// Deterministic `_id` (topic/partition/offset): a replay overwrites.
    pub id: String,
    /// The redacted event, without a trailing newline.
    pub body: Bytes,
    /// Event time (`@timestamp`, else the Kafka timestamp), for index names.
    pub time_ms: i64,
    /// The Kafka message timestamp, for end-to-end latency.
    pub kafka_ts_ms: Option<i64>,
    pub topic: Arc<str>,
    pub partition: i32,
    /// When the consumer took it, for the time an event waits in a batch.
    pub consumed_at: Instant,
}

impl Doc {
    /// Time from the event's production (its Kafka timestamp) to `now`,
    /// or from its consumption when the message has no timestamp.
    pub fn age(&self, now: &crate::stats::Now) -> std::time::Duration {
        match self.kafka_ts_ms {
            Some(ts) => std::time::Duration::from_millis(now.ms.saturating_sub(ts).max(0) as u64),
            None => now.instant.saturating_duration_since(self.consumed_at),
        }
    }

    /// Approximate memory held, for back-pressure accounting.
    pub fn weight(&self) -> usize {
        self.body.len() + self.id.len() + 128
    }
}

/// The deterministic document id for a Kafka message.
pub fn doc_id(topic: &str, partition: i32, offset: i64) -> String {
    // Built by hand: this runs for every event, and `format!` costs more
    // than the rest of it.
    let mut id = String::with_capacity(topic.len() + 24);
    id.push_str(topic);
    id.push('-');
    push_int(&mut id, i64::from(partition));
    id.push('-');
    push_int(&mut id, offset);
    id
}

fn push_int(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_ids_are_topic_partition_offset() {
        for (p, o) in [
            (0, 0),
            (3, 42),
            (11, -1),
            (i32::MAX, i64::MAX),
            (-2, i64::MIN),
        ] {
            assert_eq!(doc_id("access-logs", p, o), format!("access-logs-{p}-{o}"));
        }
    }
}

//! The dead-letter output: events that could not be processed or indexed,
//! with the reason, to a local directory and/or a Kafka topic. A record
//! never holds unmasked personal data: events the rules processed are
//! already redacted, and raw bytes that could not be parsed have been
//! through the detectors as text ([`crate::rules::RuleSet::mask_text`]).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::Serialize;
use tokio::sync::mpsc;

use super::file::RotatingFile;
use super::{Ack, AckSender, Token};
use crate::stats::Stats;

/// What a dead-letter record carries.
#[derive(Debug)]
pub enum Content {
    /// The redacted event, as JSON.
    Event(Bytes),
    /// Input that could not be processed, masked as text; possibly cut.
    Text { masked: String, truncated: bool },
}

/// One event for the dead-letter output.
#[derive(Debug)]
pub struct DeadLetter {
    pub token: Token,
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    /// Low-cardinality class, e.g. `not_json` or `indexing_rejected`.
    pub class: &'static str,
    /// A sentence for people; never event content.
    pub reason: String,
    /// The output that refused it, if an output did.
    pub output: Option<Arc<str>>,
    /// That output's index (its bit in route masks).
    pub output_index: Option<u8>,
    pub content: Content,
}

#[derive(Serialize)]
struct Record<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: String,
    class: &'a str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
    topic: &'a str,
    partition: i32,
    offset: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a serde_json::value::RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_masked: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

impl DeadLetter {
    /// The record as one JSON line.
    pub fn to_line(&self) -> Vec<u8> {
        let (event, raw_masked, truncated) = match &self.content {
            Content::Event(b) => (
                std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| serde_json::from_str::<&serde_json::value::RawValue>(s).ok()),
                None,
                false,
            ),
            Content::Text { masked, truncated } => (None, Some(masked.as_str()), *truncated),
        };
        let record = Record {
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            class: self.class,
            reason: &self.reason,
            output: self.output.as_deref(),
            topic: &self.topic,
            partition: self.partition,
            offset: self.offset,
            event,
            raw_masked,
            truncated,
        };
        let mut line = serde_json::to_vec(&record).expect("serializing a record cannot fail");
        line.push(b'\n');
        line
    }
}

pub type DeadLetterSender = mpsc::UnboundedSender<DeadLetter>;

/// Writes dead-letter records, then acknowledges them.
pub struct DeadLetterWriter {
    pub dir: Option<RotatingFile>,
    pub kafka: Option<(FutureProducer, String)>,
}

impl DeadLetterWriter {
    pub fn new(
        config: &crate::config::DeadLetterConfig,
        producer: Option<FutureProducer>,
    ) -> anyhow::Result<DeadLetterWriter> {
        let dir = match &config.dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|e| {
                    anyhow::anyhow!(
                        "dead_letter.dir: cannot create {} ({e}); check the path and permissions",
                        d.display()
                    )
                })?;
                Some(RotatingFile::new(d, "dead-letter", config.rotate_bytes))
            }
            None => None,
        };
        let kafka = match (&config.topic, producer) {
            (Some(t), Some(p)) => Some((p, t.clone())),
            _ => None,
        };
        Ok(DeadLetterWriter { dir, kafka })
    }

    /// Runs until every sender is dropped. A record is acknowledged only
    /// after it is written everywhere configured; failures are retried, so
    /// a dead-letter outage stalls consumption instead of losing events.
    pub async fn run(
        mut self,
        mut input: mpsc::UnboundedReceiver<DeadLetter>,
        acks: AckSender,
        stats: Arc<Stats>,
    ) {
        let mut batch = Vec::new();
        while let Some(first) = input.recv().await {
            batch.push(first);
            while batch.len() < 1024 {
                match input.try_recv() {
                    Ok(d) => batch.push(d),
                    Err(_) => break,
                }
            }
            let lines: Vec<Vec<u8>> = batch.iter().map(DeadLetter::to_line).collect();
            let mut delay = Duration::from_millis(100);
            while let Err(e) = self.write(&batch, &lines).await {
                tracing::error!(error = %e, "cannot write dead-letter records; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            let mut done = Vec::with_capacity(batch.len());
            for d in batch.drain(..) {
                stats.dead_letter(d.class);
                tracing::warn!(
                    class = d.class,
                    topic = %d.topic,
                    partition = d.partition,
                    offset = d.offset,
                    output = d.output.as_deref().unwrap_or("-"),
                    "event dead-lettered"
                );
                done.push(Ack {
                    token: d.token,
                    dead_lettered: true,
                    output: d.output_index,
                });
            }
            let _ = acks.send(done);
        }
        if let Some(dir) = &mut self.dir {
            let _ = dir.flush();
        }
    }

    async fn write(&mut self, batch: &[DeadLetter], lines: &[Vec<u8>]) -> anyhow::Result<()> {
        if let Some(dir) = &mut self.dir {
            for line in lines {
                dir.write(line)?;
            }
            dir.flush()?;
        }
        if let Some((producer, topic)) = &self.kafka {
            let mut pending = Vec::with_capacity(lines.len());
            for (d, line) in batch.iter().zip(lines) {
                let key = super::doc_id(&d.topic, d.partition, d.offset);
                let record = FutureRecord::to(topic)
                    .key(key.as_bytes())
                    .payload(&line[..line.len() - 1]);
                // Enqueue every record first, then wait for all deliveries.
                let delivery = producer.send_result(record).map_err(|(e, _)| {
                    anyhow::anyhow!("cannot produce to dead-letter topic \"{topic}\": {e}")
                })?;
                pending.push(delivery);
            }
            for delivery in pending {
                match delivery.await {
                    Ok(Ok(_)) => {}
                    Ok(Err((e, _))) => {
                        anyhow::bail!("cannot produce to dead-letter topic \"{topic}\": {e}")
                    }
                    Err(_) => anyhow::bail!("the dead-letter producer was closed"),
                }
            }
        }
        Ok(())
    }
}

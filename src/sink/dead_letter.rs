//! The dead-letter output: events that could not be processed or indexed,
//! with the reason, to a local directory and/or a Kafka topic. A record
//! never holds unmasked personal data: events the rules processed are
//! already redacted, and raw bytes that could not be parsed have been
//! through the detectors as text ([`crate::rules::RuleSet::mask_text`]).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rdkafka::error::RDKafkaErrorCode;
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
    /// Why the content was left out of this copy of the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    content_left_out: Option<&'a str>,
}

/// Why a record on the dead-letter topic has no content: the whole record
/// was larger than the producer or the broker takes.
const TOO_LARGE_FOR_TOPIC: &str = "the record was too large for the dead-letter topic; the copy in dead_letter.dir (if set) has it, and the event can be read again from its topic, partition and offset";

impl DeadLetter {
    /// The record as one JSON line.
    pub fn to_line(&self) -> Vec<u8> {
        self.line(None)
    }

    /// The record as one JSON line, without its content when
    /// `content_left_out` says why.
    fn line(&self, content_left_out: Option<&str>) -> Vec<u8> {
        let (event, raw_masked, truncated) = match (&self.content, content_left_out) {
            (_, Some(_)) => (None, None, false),
            (Content::Event(b), None) => (
                std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| serde_json::from_str::<&serde_json::value::RawValue>(s).ok()),
                None,
                false,
            ),
            (Content::Text { masked, truncated }, None) => {
                (None, Some(masked.as_str()), *truncated)
            }
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
            content_left_out,
        };
        let mut line = serde_json::to_vec(&record).expect("serializing a record cannot fail");
        line.push(b'\n');
        line
    }
}

pub type DeadLetterSender = mpsc::UnboundedSender<DeadLetter>;

/// The dead-letter writer's name in `/health`.
/// (With a space: no output can be named so.)
const HEARTBEAT: &str = "dead-letter writer";

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
    /// What a retry repeats is only what failed: the directory gets each
    /// record once, and the topic each record not yet delivered. A record
    /// too large for the topic goes there without its content (there is no
    /// point retrying it as it is).
    pub async fn run(
        mut self,
        mut input: mpsc::UnboundedReceiver<DeadLetter>,
        acks: AckSender,
        stats: Arc<Stats>,
    ) {
        let mut batch = Vec::new();
        // Beats while it runs, waiting or retrying, so that `/health` says
        // so if this writer stops (the events sent to it would then hold
        // every commit back, silently).
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            stats.output_heartbeat(HEARTBEAT);
            let first = tokio::select! {
                first = input.recv() => match first {
                    Some(first) => first,
                    None => break,
                },
                _ = tick.tick() => continue,
            };
            batch.push(first);
            while batch.len() < 1024 {
                match input.try_recv() {
                    Ok(d) => batch.push(d),
                    Err(_) => break,
                }
            }
            let mut lines: Vec<Vec<u8>> = batch.iter().map(DeadLetter::to_line).collect();
            let mut in_dir = 0;
            let mut unsent: Vec<usize> = match self.kafka {
                Some(_) => (0..batch.len()).collect(),
                None => Vec::new(),
            };
            let mut content_left_out = vec![false; batch.len()];
            let mut delay = Duration::from_millis(100);
            loop {
                let attempt = async {
                    self.write_dir(&lines, &mut in_dir)?;
                    self.produce(&batch, &mut lines, &mut unsent, &mut content_left_out)
                        .await
                };
                let result = super::while_beating(attempt, &mut tick, &stats, HEARTBEAT).await;
                match result {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot write dead-letter records; retrying");
                        tokio::time::sleep(delay).await;
                        stats.output_heartbeat(HEARTBEAT);
                        delay = (delay * 2).min(Duration::from_secs(10));
                    }
                }
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

    /// Writes `lines[*written..]` to the directory, if one is set, and
    /// once they are synced, advances `written` past them. (A failed write
    /// or sync leaves the directory as it was at the last sync.)
    fn write_dir(&mut self, lines: &[Vec<u8>], written: &mut usize) -> anyhow::Result<()> {
        let Some(dir) = &mut self.dir else {
            return Ok(());
        };
        if *written < lines.len() {
            for line in &lines[*written..] {
                dir.write(line)?;
            }
            // Acknowledged dead letters let offsets be committed: they
            // must survive a crash of the host.
            dir.sync()?;
            *written = lines.len();
        }
        Ok(())
    }

    /// Produces the records `unsent` lists to the topic, if one is set,
    /// and takes each delivered one off the list. A record the producer or
    /// the broker refuses as too large is made again without its content,
    /// and produced in the same call.
    async fn produce(
        &self,
        batch: &[DeadLetter],
        lines: &mut [Vec<u8>],
        unsent: &mut Vec<usize>,
        content_left_out: &mut [bool],
    ) -> anyhow::Result<()> {
        let Some((producer, topic)) = &self.kafka else {
            unsent.clear();
            return Ok(());
        };
        let mut first_error = None;
        // At most twice: as it is, then, if too large, without content.
        for _ in 0..2 {
            if unsent.is_empty() {
                break;
            }
            first_error = None;
            let mut pending = Vec::with_capacity(unsent.len());
            let mut failed = Vec::new();
            // Enqueue every record first, then wait for all deliveries.
            for &i in unsent.iter() {
                let d = &batch[i];
                let key = super::doc_id(&d.topic, d.partition, d.offset);
                let line = &lines[i];
                let record = FutureRecord::to(topic)
                    .key(key.as_bytes())
                    .payload(&line[..line.len() - 1]);
                match producer.send_result(record) {
                    Ok(delivery) => pending.push((i, delivery)),
                    Err((e, _)) => failed.push((i, Some(e))),
                }
            }
            for (i, delivery) in pending {
                match delivery.await {
                    Ok(Ok(_)) => {}
                    Ok(Err((e, _))) => failed.push((i, Some(e))),
                    Err(_) => failed.push((i, None)),
                }
            }
            failed.sort_unstable_by_key(|(i, _)| *i);
            unsent.clear();
            let mut retry_now = false;
            for (i, e) in failed {
                let too_large = e.as_ref().and_then(|e| e.rdkafka_error_code())
                    == Some(RDKafkaErrorCode::MessageSizeTooLarge);
                if too_large && !content_left_out[i] {
                    tracing::warn!(
                        topic = %batch[i].topic,
                        partition = batch[i].partition,
                        offset = batch[i].offset,
                        bytes = lines[i].len(),
                        "a dead-letter record is too large for the dead-letter topic; it goes there without its content"
                    );
                    lines[i] = batch[i].line(Some(TOO_LARGE_FOR_TOPIC));
                    content_left_out[i] = true;
                    retry_now = true;
                } else if first_error.is_none() {
                    first_error = Some(match e {
                        Some(_) if too_large => anyhow::anyhow!(
                            "a dead-letter record is too large for topic \"{topic}\" even without its content; raise the topic's max.message.bytes (and kafka.properties message.max.bytes)"
                        ),
                        Some(e) => {
                            anyhow::anyhow!("cannot produce to dead-letter topic \"{topic}\": {e}")
                        }
                        None => anyhow::anyhow!("the dead-letter producer was closed"),
                    });
                }
                unsent.push(i);
            }
            if !retry_now {
                break;
            }
        }
        match first_error {
            Some(e) => Err(e),
            None if unsent.is_empty() => Ok(()),
            None => Err(anyhow::anyhow!(
                "cannot produce to dead-letter topic \"{topic}\": records are still refused as too large"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::mocking::MockCluster;
    use rdkafka::Message;

    use super::*;

    fn letter(offset: i64, event: Vec<u8>) -> DeadLetter {
        DeadLetter {
            token: Token {
                slot: 0,
                generation: 0,
                offset,
            },
            topic: "access".into(),
            partition: 0,
            offset,
            class: "indexing_rejected",
            reason: "mapping".into(),
            output: None,
            output_index: None,
            content: Content::Event(Bytes::from(event)),
        }
    }

    /// The writer beats while it waits, so that `/health` would name it
    /// if it stopped.
    #[test]
    fn the_writer_beats_while_it_waits() {
        let writer = DeadLetterWriter {
            dir: None,
            kafka: None,
        };
        let stats = Arc::new(Stats::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let (ack_tx, _acks) = std::sync::mpsc::channel();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let task = tokio::spawn(writer.run(rx, ack_tx, stats.clone()));
            tokio::time::sleep(Duration::from_millis(1500)).await;
            drop(tx);
            task.await.unwrap();
        });
        assert!(stats.detail().output_heartbeat_ms.contains_key(HEARTBEAT));
    }

    /// A record larger than the producer takes (`message.max.bytes`,
    /// 1,000,000 by default; 1,000 here) was retried with its whole batch forever, its
    /// offsets never committed, and each retry wrote the batch to the
    /// directory again. Now it goes to the topic without its content, once,
    /// the directory gets every record once, and all are acknowledged.
    #[test]
    fn a_record_too_large_for_the_topic_goes_there_without_its_content() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("dead", 1, 1).unwrap();
        let dir = std::env::temp_dir().join(format!("logredact-dead-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // The smallest limit librdkafka takes, so that a record of a few
        // KiB is too large (a topic's `max.message.bytes` may be that
        // small; such records were retried for ever too).
        let producer: FutureProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .set("message.max.bytes", "1000")
            .create()
            .unwrap();
        let writer = DeadLetterWriter {
            dir: Some(RotatingFile::new(&dir, "dead-letter", 1 << 30)),
            kafka: Some((producer, "dead".to_owned())),
        };
        let huge = format!(r#"{{"message":"{}"}}"#, "x".repeat(3_000)).into_bytes();
        let (tx, rx) = mpsc::unbounded_channel();
        for (offset, event) in [
            (1, b"{\"a\":1}".to_vec()),
            (2, huge),
            (3, b"{\"b\":2}".to_vec()),
        ] {
            tx.send(letter(offset, event)).unwrap();
        }
        drop(tx);
        let (ack_tx, ack_rx) = std::sync::mpsc::channel();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let finished = runtime.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(30),
                writer.run(rx, ack_tx, Arc::new(Stats::default())),
            )
            .await
        });
        assert!(finished.is_ok(), "the writer is still retrying");
        let acked: Vec<i64> = ack_rx
            .try_iter()
            .flatten()
            .map(|a| a.token.offset)
            .collect();
        assert_eq!(acked, [1, 2, 3]);

        // The directory: each record once, the large one whole.
        let text = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect::<String>();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1]["event"]["message"].as_str().unwrap().len(), 3_000);

        // The topic: all three, the large one without content, saying why.
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .set("group.id", "check")
            .set("auto.offset.reset", "earliest")
            .create()
            .unwrap();
        consumer.subscribe(&["dead"]).unwrap();
        let mut records = Vec::new();
        let start = std::time::Instant::now();
        while records.len() < 3 && start.elapsed() < Duration::from_secs(20) {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
                records.push(
                    serde_json::from_slice::<serde_json::Value>(m.payload().unwrap()).unwrap(),
                );
            }
        }
        assert_eq!(records.len(), 3);
        // (The large one was produced again, after the others.)
        records.sort_by_key(|r| r["offset"].as_i64());
        assert_eq!(records[0]["event"]["a"], 1);
        assert!(records[1].get("event").is_none());
        assert_eq!(records[1]["offset"], 2);
        assert!(records[1]["content_left_out"]
            .as_str()
            .unwrap()
            .contains("too large for the dead-letter topic"));
        assert_eq!(records[2]["event"]["b"], 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

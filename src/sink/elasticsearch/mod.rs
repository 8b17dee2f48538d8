//! The Elasticsearch output: one [`BulkWriter`] per output.
//!
//! Documents are batched by bytes, count and time, and sent with up to
//! `concurrency` bulk requests at once. Each response is judged item by
//! item: successes are acknowledged at once; 429, 5xx, timeouts and
//! connection errors send only the failed items back to the batcher after
//! an exponential backoff with jitter, so retries never hold up other
//! documents; mapping and other 4xx errors go to the dead-letter output
//! with the error type and reason.
//!
//! - `client.rs`: the client (nodes, TLS, credentials) and the start-up
//!   check that the cluster is Elasticsearch.
//! - `setup.rs`: `setup-es`, installing ILM policies and index templates.
//! - this file: the batcher, one per output.
//! - `request.rs`: one bulk request and what it costs (metrics).
//! - `response.rs`: judging the response, item by item.
//! - `retry.rs`: backoff, retries and dead-lettering.

mod client;
mod request;
mod response;
mod retry;
pub mod setup;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use elasticsearch::Elasticsearch;
use tokio::sync::{mpsc, Semaphore};

pub use client::{check_cluster, check_reachable, client, NotReady};
pub use response::{judge_item, ItemOutcome};
pub use retry::{backoff, PROBE_INTERVAL};

use super::dead_letter::DeadLetterSender;
use super::file::action_line;
use super::{AckSender, Doc, DocBatch, Generations, IndexNamer, IndexTemplate};
use crate::config::ElasticsearchConfig;
use crate::stats::Stats;

/// A document waiting for (another) attempt.
#[derive(Debug)]
struct Pending {
    doc: Arc<Doc>,
    /// Attempts made so far.
    attempts: u32,
    /// Items refused in a row (in answered requests) since the last outage:
    /// the backoff of a single item's retry.
    item_failures: u32,
}

/// Writes documents for one Elasticsearch output.
pub struct BulkWriter {
    pub name: Arc<str>,
    /// The output's index among the outputs (its bit in route masks).
    pub index: u8,
    client: Elasticsearch,
    config: ElasticsearchConfig,
    target: Target,
    /// Which documents are still wanted (see [`Generations`]); all of
    /// them when `None`.
    pub generations: Option<Arc<Generations>>,
}

enum Target {
    Index(IndexNamer),
    DataStream(Arc<str>),
}

/// Everything a bulk request task needs, shared.
struct Shared {
    name: Arc<str>,
    index: u8,
    client: Elasticsearch,
    config: ElasticsearchConfig,
    acks: AckSender,
    dead_letters: DeadLetterSender,
    stats: Arc<Stats>,
    retry: mpsc::UnboundedSender<Vec<Pending>>,
    /// Documents this writer holds: batched, in requests, or waiting to be
    /// retried. The writer exits only when its input is closed and this is 0.
    outstanding: AtomicUsize,
    done: tokio::sync::Notify,
    /// Lowered when the cluster answers 413 (request too large), so later
    /// batches fit its `http.max_content_length`.
    docs_cap: AtomicUsize,
    /// Whole requests failed in a row; 0 once one is answered.
    failing: AtomicU32,
    /// Bumped when the cluster answers again: waiting retries go at once.
    answers_again: tokio::sync::watch::Sender<u64>,
    /// Whether the outage probe runs (see `retry.rs`).
    probing: AtomicBool,
    /// Whether the cluster was seen down (no answer) since it last answered
    /// a bulk request: only then does the probe's `GET /` wake retries.
    seen_down: AtomicBool,
    generations: Option<Arc<Generations>>,
}

impl BulkWriter {
    pub fn new(name: &str, config: &ElasticsearchConfig) -> anyhow::Result<BulkWriter> {
        let target = match (&config.index, &config.data_stream) {
            (Some(t), _) => Target::Index(IndexNamer::new(
                IndexTemplate::parse(t).map_err(|e| anyhow::anyhow!(e))?,
            )),
            (None, Some(ds)) => Target::DataStream(ds.as_str().into()),
            (None, None) => anyhow::bail!("output \"{name}\": no index or data_stream"),
        };
        Ok(BulkWriter {
            name: name.into(),
            index: 0,
            client: client(name, config)?,
            config: config.clone(),
            target,
            generations: None,
        })
    }

    pub fn client(&self) -> &Elasticsearch {
        &self.client
    }

    /// Runs until `input` is closed and every document taken has been
    /// acknowledged or dead-lettered.
    pub async fn run(
        mut self,
        mut input: mpsc::Receiver<DocBatch>,
        acks: AckSender,
        dead_letters: DeadLetterSender,
        stats: Arc<Stats>,
    ) {
        let (retry_tx, mut retry_rx) = mpsc::unbounded_channel::<Vec<Pending>>();
        let shared = Arc::new(Shared {
            name: self.name.clone(),
            index: self.index,
            client: self.client.clone(),
            config: self.config.clone(),
            acks,
            dead_letters,
            stats,
            retry: retry_tx,
            outstanding: AtomicUsize::new(0),
            done: tokio::sync::Notify::new(),
            docs_cap: AtomicUsize::new(self.config.bulk_max_docs),
            failing: AtomicU32::new(0),
            answers_again: tokio::sync::watch::Sender::new(0),
            probing: AtomicBool::new(false),
            seen_down: AtomicBool::new(false),
            generations: self.generations.clone(),
        });
        let permits = Arc::new(Semaphore::new(self.config.concurrency));
        let mut batch = Batch::default();
        let mut input_open = true;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let deadline = batch
                .started
                .map(|s| tokio::time::Instant::from_std(s + self.config.flush_interval));
            tokio::select! {
                biased;
                Some(items) = retry_rx.recv() => {
                    for p in items {
                        self.push(&mut batch, p);
                        if self.is_full(&batch, &shared) {
                            self.flush(&mut batch, &shared, &permits).await;
                        }
                    }
                }
                docs = input.recv(), if input_open => match docs {
                    Some(docs) => {
                        shared.outstanding.fetch_add(docs.len(), Ordering::SeqCst);
                        for doc in docs {
                            self.push(
                                &mut batch,
                                Pending { doc, attempts: 0, item_failures: 0 },
                            );
                            if self.is_full(&batch, &shared) {
                                self.flush(&mut batch, &shared, &permits).await;
                            }
                        }
                    }
                    None => input_open = false,
                },
                _ = sleep_until(deadline) => {}
                _ = tick.tick() => shared.stats.output_heartbeat(&shared.name),
                _ = shared.done.notified(), if !input_open => {}
            }
            let due = batch
                .started
                .is_some_and(|s| s.elapsed() >= self.config.flush_interval);
            if self.is_full(&batch, &shared) || due || !input_open {
                self.flush(&mut batch, &shared, &permits).await;
            }
            if !input_open
                && batch.docs.is_empty()
                && shared.outstanding.load(Ordering::SeqCst) == 0
            {
                break;
            }
        }
    }

    fn is_full(&self, batch: &Batch, shared: &Shared) -> bool {
        let max_docs = self
            .config
            .bulk_max_docs
            .min(shared.docs_cap.load(Ordering::Relaxed));
        batch.docs.len() >= max_docs || batch.bytes >= self.config.bulk_max_bytes
    }

    /// Sends the batch once a request slot is free (waiting for one is the
    /// back-pressure on this output).
    async fn flush(&self, batch: &mut Batch, shared: &Arc<Shared>, permits: &Arc<Semaphore>) {
        if batch.docs.is_empty() {
            return;
        }
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        // The next batch starts with room for the largest recent one, so it
        // does not grow by copying: batches flushed by the timer vary in
        // size, and each one larger than the last would otherwise copy its
        // body as it grew. After a burst the room shrinks by 1/64 a batch;
        // it never exceeds the batch limits.
        let room = Room {
            docs: batch.docs.len().max(batch.room.docs - batch.room.docs / 64),
            body: batch.body.len().max(batch.room.body - batch.room.body / 64),
        };
        let next = Batch {
            docs: Vec::with_capacity(room.docs.min(self.config.bulk_max_docs)),
            ops: Vec::with_capacity(room.docs.min(self.config.bulk_max_docs)),
            body: Vec::with_capacity((room.body + room.body / 16).min(self.config.bulk_max_bytes)),
            room,
            ..Batch::default()
        };
        let ready = std::mem::replace(batch, next);
        let shared = shared.clone();
        tokio::spawn(async move {
            request::send_batch(&shared, ready).await;
            drop(permit);
            shared.done.notify_one();
        });
    }

    fn push(&mut self, batch: &mut Batch, p: Pending) {
        let (op, index) = match &mut self.target {
            Target::Index(namer) => ("index", namer.name(p.doc.time_ms)),
            Target::DataStream(ds) => ("create", ds.clone()),
        };
        let before = batch.body.len();
        action_line(&mut batch.body, op, &index, &p.doc.id);
        batch.body.extend_from_slice(&p.doc.body);
        batch.body.push(b'\n');
        batch.bytes += batch.body.len() - before;
        batch.ops.push(op);
        batch.started.get_or_insert_with(Instant::now);
        batch.docs.push(p);
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

#[derive(Default)]
struct Batch {
    docs: Vec<Pending>,
    ops: Vec<&'static str>,
    body: Vec<u8>,
    bytes: usize,
    started: Option<Instant>,
    /// How large recent batches were.
    room: Room,
}

#[derive(Default, Clone, Copy)]
struct Room {
    docs: usize,
    body: usize,
}

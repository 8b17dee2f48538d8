//! The Elasticsearch output: one [`BulkWriter`] per output.
//!
//! Documents are batched by bytes, count and time, and sent with up to
//! `concurrency` bulk requests at once. Each response is judged item by
//! item: successes are acknowledged at once; 429, 5xx, timeouts and
//! connection errors send only the failed items back to the batcher after
//! an exponential backoff with jitter, so retries never hold up other
//! documents; mapping and other 4xx errors go to the dead-letter output
//! with the error type and reason.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use elasticsearch::auth::Credentials;
use elasticsearch::cert::{Certificate, CertificateValidation};
use elasticsearch::http::headers::{HeaderMap, HeaderValue, CONTENT_TYPE};
use elasticsearch::http::transport::{
    MultiNodeConnectionPool, SingleNodeConnectionPool, TransportBuilder,
};
use elasticsearch::http::Method;
use elasticsearch::Elasticsearch;
use serde::Deserialize;
use tokio::sync::{mpsc, Semaphore};

use super::dead_letter::{Content, DeadLetter, DeadLetterSender};
use super::file::action_line;
use super::{Ack, AckSender, Doc, DocBatch, IndexNamer, IndexTemplate};
use crate::config::ElasticsearchConfig;
use crate::stats::Stats;

/// A document waiting for (another) attempt.
#[derive(Debug)]
struct Pending {
    doc: Arc<Doc>,
    /// Attempts made so far.
    attempts: u32,
}

/// How one bulk item ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    Indexed,
    Retry,
    Reject { error_type: String, reason: String },
}

/// Judges one bulk item from its status and error, as Elasticsearch
/// reports them. A `create` that conflicts means the document is already
/// there (a replay), which is a success.
pub fn judge_item(op: &str, status: u16, error: Option<(&str, &str)>) -> ItemOutcome {
    match status {
        200..=299 => ItemOutcome::Indexed,
        409 if op == "create" => ItemOutcome::Indexed,
        429 | 500..=599 => ItemOutcome::Retry,
        _ => {
            let (t, r) = error.unwrap_or(("unknown", "no reason given"));
            ItemOutcome::Reject {
                error_type: t.to_owned(),
                reason: r.to_owned(),
            }
        }
    }
}

/// Asks Elasticsearch to leave out of the bulk response what is not judged
/// (`filter_path`, a common option of its REST API): every item keeps its
/// `status`, so items still line up with documents by position, and its
/// `error` if it has one. Logstash does the same; the response shrinks
/// about sevenfold.
const BULK_RESPONSE_FILTER: [(&str, &str); 1] =
    [("filter_path", "errors,items.*.error,items.*.status")];

#[derive(Deserialize)]
struct BulkResponse {
    errors: bool,
    #[serde(default)]
    items: Vec<std::collections::HashMap<String, BulkItem>>,
}

#[derive(Deserialize)]
struct BulkItem {
    status: u16,
    error: Option<ItemError>,
}

#[derive(Deserialize)]
struct ItemError {
    #[serde(rename = "type", default)]
    error_type: String,
    #[serde(default)]
    reason: String,
}

/// Builds the client for an output from its config, reading secrets.
pub fn client(name: &str, config: &ElasticsearchConfig) -> anyhow::Result<Elasticsearch> {
    let urls = config
        .nodes
        .iter()
        .map(|n| {
            elasticsearch::http::Url::parse(n)
                .map_err(|e| anyhow::anyhow!("output \"{name}\": node \"{n}\" is not a URL: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut builder = if urls.len() == 1 {
        TransportBuilder::new(SingleNodeConnectionPool::new(urls[0].clone()))
    } else {
        TransportBuilder::new(MultiNodeConnectionPool::round_robin(urls, None))
    };
    builder = builder
        .timeout(config.request_timeout)
        .request_body_compression(config.gzip);
    if let (Some(user), Some(password)) = (&config.username, &config.password) {
        let password = password.read(&format!("output \"{name}\" password"))?;
        builder = builder.auth(Credentials::Basic(user.clone(), password));
    }
    if let Some(key) = &config.api_key {
        let key = key.read(&format!("output \"{name}\" api_key"))?;
        builder = builder.auth(Credentials::EncodedApiKey(key));
    }
    if let Some(ca) = &config.ca_file {
        let pem = std::fs::read(ca).map_err(|e| {
            anyhow::anyhow!(
                "output \"{name}\": cannot read ca_file {} ({e})",
                ca.display()
            )
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            anyhow::anyhow!(
                "output \"{name}\": ca_file {} is not a PEM certificate: {e}",
                ca.display()
            )
        })?;
        builder = builder.cert_validation(CertificateValidation::Full(cert));
    }
    let transport = builder
        .build()
        .map_err(|e| anyhow::anyhow!("output \"{name}\": cannot build the client: {e}"))?;
    Ok(Elasticsearch::new(transport))
}

/// Checks that the cluster answers `GET /` as Elasticsearch does.
pub async fn check_reachable(name: &str, client: &Elasticsearch) -> anyhow::Result<()> {
    let response = client
        .send(
            Method::Get,
            "/",
            HeaderMap::new(),
            None::<&()>,
            None::<&[u8]>,
            Some(Duration::from_secs(10)),
        )
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "output \"{name}\": cannot reach Elasticsearch ({e}); check `nodes` and that the cluster is up"
            )
        })?;
    let status = response.status_code().as_u16();
    match status {
        200 => {}
        401 | 403 => anyhow::bail!(
            "output \"{name}\": Elasticsearch refused the credentials (HTTP {status}); check username/password or api_key"
        ),
        _ => anyhow::bail!("output \"{name}\": Elasticsearch answered HTTP {status} to GET /"),
    }
    let product = response
        .headers()
        .get("x-elastic-product")
        .and_then(|v| v.to_str().ok());
    if product != Some("Elasticsearch") {
        anyhow::bail!(
            "output \"{name}\": the server is not Elasticsearch (no X-Elastic-Product header); check `nodes`"
        );
    }
    Ok(())
}

/// Writes documents for one Elasticsearch output.
pub struct BulkWriter {
    pub name: Arc<str>,
    client: Elasticsearch,
    config: ElasticsearchConfig,
    target: Target,
}

enum Target {
    Index(IndexNamer),
    DataStream(Arc<str>),
}

/// Everything a bulk request task needs, shared.
struct Shared {
    name: Arc<str>,
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
            client: client(name, config)?,
            config: config.clone(),
            target,
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
            client: self.client.clone(),
            config: self.config.clone(),
            acks,
            dead_letters,
            stats,
            retry: retry_tx,
            outstanding: AtomicUsize::new(0),
            done: tokio::sync::Notify::new(),
            docs_cap: AtomicUsize::new(self.config.bulk_max_docs),
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
                            self.push(&mut batch, Pending { doc, attempts: 0 });
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
            send_batch(&shared, ready).await;
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

/// Sends one batch and settles every document in it: ack, dead-letter, or
/// hand back for retry.
async fn send_batch(shared: &Shared, batch: Batch) {
    let Batch {
        docs,
        ops,
        body,
        bytes,
        ..
    } = batch;
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    let started = Instant::now();
    let result = shared
        .client
        .send(
            Method::Post,
            "/_bulk",
            headers,
            Some(&BULK_RESPONSE_FILTER),
            Some(Bytes::from(body)),
            Some(shared.config.request_timeout),
        )
        .await;
    {
        let now = Instant::now();
        let mut d = shared.stats.detail();
        let name = &*shared.name;
        crate::stats::record(
            &mut d.bulk_duration,
            name,
            (now - started).as_micros() as u64,
        );
        crate::stats::record(&mut d.batch_docs, name, docs.len() as u64);
        crate::stats::record(&mut d.batch_bytes, name, bytes as u64);
        let reachable = matches!(&result, Ok(r) if r.status_code().as_u16() < 500);
        d.reachable.insert(name.to_owned(), reachable);
        if let Some(h) = d.batch_wait.get_mut(name) {
            for p in docs.iter().filter(|p| p.attempts == 0) {
                h.saturating_record((started - p.doc.consumed_at).as_micros().max(1) as u64);
            }
        } else {
            crate::stats::record(&mut d.batch_wait, name, 1);
        }
    }
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            let kind = if e.is_timeout() {
                "timeout"
            } else {
                "connection_error"
            };
            tracing::warn!(output = %shared.name, error = %e, docs = docs.len(), "bulk request failed; will retry");
            shared.stats.bulk_request(&shared.name, kind);
            return retry(shared, docs);
        }
    };
    let status = response.status_code().as_u16();
    if status == 429 || status >= 500 {
        tracing::warn!(output = %shared.name, status, docs = docs.len(), "bulk request refused; will retry");
        shared.stats.bulk_request(&shared.name, "retryable_status");
        return retry(shared, docs);
    }
    let text = match response.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(output = %shared.name, error = %e, "bulk response was cut off; will retry");
            shared.stats.bulk_request(&shared.name, "connection_error");
            return retry(shared, docs);
        }
    };
    if !(200..300).contains(&status) {
        // The whole request was refused (bad request, auth): not something
        // a retry fixes for 400, but auth may be fixed by an operator, so
        // 401/403 are retried and logged loudly.
        let error = serde_json::from_slice::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v.pointer("/error/type")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        if status == 413 && docs.len() > 1 {
            let cap = (docs.len() / 2).max(1);
            shared.docs_cap.fetch_min(cap, Ordering::Relaxed);
            tracing::warn!(output = %shared.name, docs = docs.len(), new_max_docs = cap, "Elasticsearch found the bulk request too large; sending smaller batches");
            shared.stats.bulk_request(&shared.name, "too_large");
            // Not the documents' fault: resent at once, attempts not counted.
            let _ = shared.retry.send(docs);
            return;
        }
        if status == 401 || status == 403 {
            tracing::error!(output = %shared.name, status, "Elasticsearch refused the credentials; fix them, documents are kept and retried");
            shared.stats.bulk_request(&shared.name, "auth_error");
            return retry(shared, docs);
        }
        tracing::error!(output = %shared.name, status, error_type = %error, "bulk request rejected as a whole; dead-lettering its documents");
        shared.stats.bulk_request(&shared.name, "rejected");
        for p in docs {
            dead_letter(
                shared,
                p,
                "bulk_rejected",
                format!("the bulk request was rejected with HTTP {status} ({error})"),
            );
        }
        return;
    }
    // Fast path: Elasticsearch puts `"errors":false` first when every item
    // succeeded; then there is nothing item by item to judge.
    let head = &text[..text.len().min(64)];
    let all_ok = memchr::memmem::find(head, b"\"errors\":false").is_some();
    let parsed: BulkResponse = if all_ok {
        BulkResponse {
            errors: false,
            items: Vec::new(),
        }
    } else {
        match serde_json::from_slice(&text) {
            Ok(r) => r,
            Err(_) => {
                tracing::warn!(output = %shared.name, "bulk response is not the JSON Elasticsearch sends; will retry");
                shared.stats.bulk_request(&shared.name, "bad_response");
                return retry(shared, docs);
            }
        }
    };
    if parsed.errors && parsed.items.len() != docs.len() {
        tracing::warn!(output = %shared.name, items = parsed.items.len(), docs = docs.len(), "bulk response does not list every item; will retry");
        shared.stats.bulk_request(&shared.name, "bad_response");
        return retry(shared, docs);
    }
    let mut indexed = Vec::with_capacity(docs.len());
    let mut again = Vec::new();
    for (i, p) in docs.into_iter().enumerate() {
        let outcome = if !parsed.errors {
            ItemOutcome::Indexed
        } else {
            let item = parsed.items[i].values().next();
            match item {
                Some(item) => judge_item(
                    ops[i],
                    item.status,
                    item.error
                        .as_ref()
                        .map(|e| (e.error_type.as_str(), e.reason.as_str())),
                ),
                None => ItemOutcome::Retry,
            }
        };
        match outcome {
            ItemOutcome::Indexed => indexed.push(p),
            ItemOutcome::Retry => again.push(p),
            ItemOutcome::Reject { error_type, reason } => {
                tracing::warn!(output = %shared.name, error_type = %error_type, "Elasticsearch rejected a document; dead-lettering it");
                dead_letter(
                    shared,
                    p,
                    "indexing_rejected",
                    format!("Elasticsearch rejected the document: {error_type}: {reason}"),
                );
            }
        }
    }
    shared.stats.bulk_request(
        &shared.name,
        if again.is_empty() { "ok" } else { "partial" },
    );
    let now = crate::stats::Now::read();
    shared
        .stats
        .indexed(&shared.name, indexed.iter().map(|p| p.doc.age(&now)));
    let _ = shared.acks.send(
        indexed
            .iter()
            .map(|p| Ack {
                token: p.doc.token,
                dead_lettered: false,
            })
            .collect(),
    );
    shared
        .outstanding
        .fetch_sub(indexed.len(), Ordering::SeqCst);
    if !again.is_empty() {
        retry(shared, again);
    }
}

fn dead_letter(shared: &Shared, p: Pending, class: &'static str, reason: String) {
    let doc = &p.doc;
    let record = DeadLetter {
        token: doc.token,
        topic: doc.topic.clone(),
        partition: doc.partition,
        offset: doc.token.offset,
        class,
        reason,
        output: Some(shared.name.clone()),
        content: Content::Event(doc.body.clone()),
    };
    if shared.dead_letters.send(record).is_err() {
        tracing::error!(output = %shared.name, "the dead-letter output has stopped; the event stays uncommitted and will be read again");
    }
    shared.outstanding.fetch_sub(1, Ordering::SeqCst);
}

/// Hands documents back to the batcher after a backoff, or dead-letters
/// those that have used up their attempts.
fn retry(shared: &Shared, docs: Vec<Pending>) {
    let mut again = Vec::with_capacity(docs.len());
    let mut attempts = 0;
    for mut p in docs {
        p.attempts += 1;
        let max = shared.config.max_attempts;
        if max > 0 && p.attempts >= max {
            dead_letter(
                shared,
                p,
                "retries_exhausted",
                format!("Elasticsearch did not take the document after {max} attempts"),
            );
        } else {
            attempts = attempts.max(p.attempts);
            again.push(p);
        }
    }
    if again.is_empty() {
        return;
    }
    Stats::add(&shared.stats.retried_items, again.len() as u64);
    let delay = backoff(
        attempts,
        shared.config.retry_initial_backoff,
        shared.config.retry_max_backoff,
    );
    let tx = shared.retry.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        // The writer outlives its retries (it waits for `outstanding`).
        let _ = tx.send(again);
    });
}

/// Exponential backoff with jitter: a random delay between half and all of
/// `initial * 2^(attempt-1)`, capped at `max`.
pub fn backoff(attempt: u32, initial: Duration, max: Duration) -> Duration {
    let exp = initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let cap = exp.min(max);
    let half = cap / 2;
    half + cap.saturating_sub(half).mul_f64(rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_judged_as_elasticsearch_reports_them() {
        assert_eq!(judge_item("index", 201, None), ItemOutcome::Indexed);
        assert_eq!(judge_item("index", 200, None), ItemOutcome::Indexed);
        assert_eq!(
            judge_item(
                "create",
                409,
                Some(("version_conflict_engine_exception", "x"))
            ),
            ItemOutcome::Indexed
        );
        assert_eq!(judge_item("index", 429, None), ItemOutcome::Retry);
        assert_eq!(judge_item("index", 503, None), ItemOutcome::Retry);
        assert_eq!(
            judge_item("index", 400, Some(("document_parsing_exception", "bad"))),
            ItemOutcome::Reject {
                error_type: "document_parsing_exception".into(),
                reason: "bad".into()
            }
        );
        assert!(matches!(
            judge_item(
                "index",
                409,
                Some(("version_conflict_engine_exception", "x"))
            ),
            ItemOutcome::Reject { .. }
        ));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let i = Duration::from_millis(100);
        let m = Duration::from_secs(5);
        for attempt in 1..40 {
            let d = backoff(attempt, i, m);
            let cap = (i * 2u32.pow((attempt - 1).min(20))).min(m);
            assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d:?}");
        }
    }
}

//! Writes seals where they are kept: the seal index in a sealed
//! Elasticsearch output's own cluster, or `DIR/seals/` for a sealed file
//! output, and the second copy in `seal.copy_dir` when one is set.
//!
//! A seal is acknowledged to the consumer thread only once every place has
//! taken it; until then the offsets it covers are not committed. Failures
//! are retried with backoff, forever: the commit point waits, and
//! back-pressure bounds what gathers meanwhile. Seals are only created,
//! never overwritten (`create`, ids unique per segment), so the seal index
//! can be given to a role that may create documents and nothing more.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use elasticsearch::http::headers::{HeaderMap, HeaderValue, CONTENT_TYPE};
use elasticsearch::http::Method;
use elasticsearch::Elasticsearch;
use tokio::sync::mpsc;

use super::file::{action_line, RotatingFile};

/// The subdirectory of a sealed file output that holds its seals.
pub const FILE_SEALS_DIR: &str = "seals";

/// One seal to write.
#[derive(Debug, Clone)]
pub struct SealItem {
    pub slot: u32,
    pub generation: u32,
    /// The offset after the last one the seal covers.
    pub through: i64,
    pub id: String,
    pub line: Vec<u8>,
}

/// A seal stored everywhere it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealAck {
    pub slot: u32,
    pub generation: u32,
    pub output: u8,
    pub through: i64,
}

enum Store {
    Elasticsearch {
        client: Elasticsearch,
        /// The seal index, named by the day seals are stored.
        index: super::IndexNamer,
        timeout: Duration,
    },
    Dir(RotatingFile),
}

/// Writes one sealed output's seals.
pub struct SealWriter {
    name: Arc<str>,
    output: u8,
    store: Store,
    copy: Option<RotatingFile>,
}

/// Bytes of seal lines in one write at most.
const MAX_BATCH_BYTES: usize = 8 << 20;

/// Seal files rotate at this size.
const SEAL_FILE_BYTES: u64 = 256 << 20;

impl SealWriter {
    /// Seals of an Elasticsearch output, to `index` in its cluster.
    pub fn elasticsearch(
        name: &str,
        output: u8,
        client: Elasticsearch,
        index: &str,
        timeout: Duration,
        copy_dir: Option<&Path>,
    ) -> anyhow::Result<SealWriter> {
        SealWriter::new(
            name,
            output,
            Store::Elasticsearch {
                client,
                index: super::IndexNamer::new(
                    super::IndexTemplate::parse(index).map_err(|e| anyhow::anyhow!(e))?,
                ),
                timeout,
            },
            copy_dir,
        )
    }

    /// Seals of a file output, to `DIR/seals/`.
    pub fn dir(
        name: &str,
        output: u8,
        dir: &Path,
        copy_dir: Option<&Path>,
    ) -> anyhow::Result<SealWriter> {
        let dir = dir.join(FILE_SEALS_DIR);
        create_dir(name, &dir)?;
        let store = Store::Dir(RotatingFile::new(&dir, "seals", SEAL_FILE_BYTES));
        SealWriter::new(name, output, store, copy_dir)
    }

    fn new(
        name: &str,
        output: u8,
        store: Store,
        copy_dir: Option<&Path>,
    ) -> anyhow::Result<SealWriter> {
        let copy = match copy_dir {
            Some(dir) => {
                create_dir(name, dir)?;
                Some(RotatingFile::new(
                    dir,
                    &format!("seals-{name}"),
                    SEAL_FILE_BYTES,
                ))
            }
            None => None,
        };
        Ok(SealWriter {
            name: name.into(),
            output,
            store,
            copy,
        })
    }

    /// Runs until `input` closes, acknowledging each batch once stored.
    pub async fn run(
        mut self,
        mut input: mpsc::UnboundedReceiver<Vec<SealItem>>,
        acks: std::sync::mpsc::Sender<Vec<SealAck>>,
        stats: Arc<crate::stats::Stats>,
    ) {
        let mut queue: std::collections::VecDeque<SealItem> = std::collections::VecDeque::new();
        // Beats while it runs, waiting, writing or retrying, so that
        // `/health` says so if this writer stops (its seals would then hold
        // every commit back, silently). (The name has spaces: no output can
        // be named so.)
        let beat = format!("seal writer of {}", self.name);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            stats.output_heartbeat(&beat);
            if queue.is_empty() {
                tokio::select! {
                    items = input.recv() => match items {
                        Some(items) => queue.extend(items),
                        None => break,
                    },
                    _ = tick.tick() => continue,
                }
            }
            while let Ok(more) = input.try_recv() {
                queue.extend(more);
            }
            // One request stays well under `http.max_content_length`
            // however far behind the seals are (a backlog in one request
            // would be refused with 413 for ever).
            let mut batch = Vec::new();
            let mut bytes = 0;
            while let Some(item) = queue.front() {
                if !batch.is_empty() && bytes + item.line.len() > MAX_BATCH_BYTES {
                    break;
                }
                bytes += item.line.len();
                batch.extend(queue.pop_front());
            }
            let mut delay = Duration::from_millis(100);
            loop {
                // A request may take `request_timeout`: beat while it is
                // awaited.
                let result =
                    super::while_beating(self.write(&batch), &mut tick, &stats, &beat).await;
                let Err(e) = result else {
                    break;
                };
                crate::stats::Stats::add(&stats.seal_failures, 1);
                tracing::error!(output = %self.name, error = %e, "cannot store seals; retrying (the offsets they cover stay uncommitted)");
                tokio::time::sleep(delay).await;
                stats.output_heartbeat(&beat);
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            crate::stats::Stats::add(&stats.seals_stored, batch.len() as u64);
            let done = batch
                .iter()
                .map(|s| SealAck {
                    slot: s.slot,
                    generation: s.generation,
                    output: self.output,
                    through: s.through,
                })
                .collect();
            // The consumer may be gone at shutdown; nothing to do then.
            let _ = acks.send(done);
        }
    }

    /// Writes a batch everywhere it goes. Writing a batch again after a
    /// failure is safe: files may hold a seal twice (`verify` reads each
    /// id once), Elasticsearch answers 409 for a seal it has.
    async fn write(&mut self, batch: &[SealItem]) -> anyhow::Result<()> {
        if let Some(copy) = &mut self.copy {
            write_lines(copy, batch)?;
        }
        match &mut self.store {
            Store::Dir(file) => write_lines(file, batch),
            Store::Elasticsearch {
                client,
                index,
                timeout,
            } => {
                let mut body = Vec::new();
                let index = index.name(crate::stats::now_ms());
                for s in batch {
                    action_line(&mut body, "create", &index, &s.id);
                    body.extend_from_slice(&s.line);
                    body.push(b'\n');
                }
                let mut headers = HeaderMap::new();
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-ndjson"),
                );
                let response = client
                    .send(
                        Method::Post,
                        "/_bulk",
                        headers,
                        Some(&[("filter_path", "errors,items.*.status,items.*.error.type")]),
                        Some(Bytes::from(body)),
                        Some(*timeout),
                    )
                    .await?;
                let status = response.status_code().as_u16();
                let text = response.text().await?;
                if status >= 300 {
                    anyhow::bail!("the seal index answered HTTP {status}");
                }
                bulk_outcome(&text, batch.len())
            }
        }
    }
}

/// Whether every item of a bulk `create` response of `sent` seals stored
/// its seal: 201, or 409 when an earlier attempt already did. An answer
/// that does not say so for each seal sent (no `errors`, fewer items: a
/// proxy's, or a cut one) is not taken for stored: the offsets a seal
/// covers are committed only once it is.
fn bulk_outcome(text: &str, sent: usize) -> anyhow::Result<()> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("the seal index's answer is not JSON ({e})"))?;
    if !v["errors"].is_boolean() {
        anyhow::bail!("the seal index's answer is not a bulk response (no `errors`)");
    }
    let items = v["items"].as_array().map_or(0, Vec::len);
    if items != sent {
        anyhow::bail!("the seal index answered for {items} of {sent} seals");
    }
    for item in v["items"].as_array().into_iter().flatten() {
        let op = item.as_object().and_then(|o| o.values().next());
        let status = op.and_then(|o| o["status"].as_u64()).unwrap_or(0);
        if !matches!(status, 200 | 201 | 409) {
            let kind = op
                .and_then(|o| o["error"]["type"].as_str())
                .unwrap_or("unknown");
            anyhow::bail!("the seal index refused a seal: HTTP {status}, {kind}");
        }
    }
    Ok(())
}

fn write_lines(file: &mut RotatingFile, batch: &[SealItem]) -> anyhow::Result<()> {
    for s in batch {
        let mut line = Vec::with_capacity(s.line.len() + 1);
        line.extend_from_slice(&s.line);
        line.push(b'\n');
        file.write(&line)?;
    }
    // Acknowledged seals let offsets be committed: they must survive a
    // crash of the host.
    file.sync()?;
    Ok(())
}

fn create_dir(name: &str, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow::anyhow!(
            "output \"{name}\": cannot create the seal directory {} ({e}); check the path and permissions",
            dir.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_the_index_already_has_counts_as_stored() {
        assert!(bulk_outcome(r#"{"errors":false,"items":[{"create":{"status":201}}]}"#, 1).is_ok());
        assert!(bulk_outcome(
            r#"{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception"}}}]}"#,
            2
        )
        .is_ok());
        let refused = bulk_outcome(
            r#"{"errors":true,"items":[{"create":{"status":403,"error":{"type":"security_exception"}}}]}"#,
            1,
        );
        assert!(refused.unwrap_err().to_string().contains("403"));
    }

    /// An answer that does not account for every seal sent was taken for
    /// stored, and the offsets the seals covered committed.
    #[test]
    fn an_answer_that_does_not_account_for_every_seal_is_not_stored() {
        for (text, says) in [
            (r#"{}"#, "not a bulk response"),
            (r#"{"errors":false}"#, "answered for 0 of 2 seals"),
            (
                r#"{"errors":false,"items":[{"create":{"status":201}}]}"#,
                "answered for 1 of 2 seals",
            ),
        ] {
            let e = bulk_outcome(text, 2).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}

//! Judging a bulk response: the request as a whole (retry, shrink,
//! dead-letter), then item by item, as Elasticsearch reports them.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use elasticsearch::http::response::Response;
use serde::Deserialize;

use super::retry::{dead_letter, retry, Failure};
use super::{Pending, Shared};
use crate::events::{BulkProblem, BulkRequestProblem};
use crate::sink::Ack;

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
pub(super) const BULK_RESPONSE_FILTER: [(&str, &str); 1] =
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

/// Either may be missing, or `null`: Elasticsearch writes `"reason":null`
/// for an exception without a message (a null pointer in an ingest
/// processor or a plugin). A response that could not be read for it was
/// taken for an outage and its whole batch retried, forever.
#[derive(Deserialize)]
struct ItemError {
    #[serde(rename = "type", default)]
    error_type: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Why a successful (2xx) bulk answer could not be judged item by item.
#[derive(Debug, PartialEq, Eq)]
enum Unreadable {
    /// Not the JSON Elasticsearch sends.
    NotElasticsearch,
    /// It lists `items` items, not one per document.
    MissingItems { items: usize },
}

/// Reads a 2xx bulk answer for `docs` documents. Every document must have
/// its item: an answer that does not account for each one (a proxy's bare
/// `{"errors":false}`, a cut-off list) acknowledges none of them.
fn read_items(text: &[u8], docs: usize) -> Result<BulkResponse, Unreadable> {
    // Fast path: Elasticsearch puts `"errors":false` first when every item
    // succeeded; then nothing needs judging item by item, but the items are
    // still counted: each has one `"status"`, and with no errors there is
    // no error text that could hold one.
    let head = &text[..text.len().min(64)];
    if memchr::memmem::find(head, b"\"errors\":false").is_some() {
        let items = memchr::memmem::find_iter(text, b"\"status\"").count();
        return if items == docs {
            Ok(BulkResponse {
                errors: false,
                items: Vec::new(),
            })
        } else {
            Err(Unreadable::MissingItems { items })
        };
    }
    let parsed: BulkResponse =
        serde_json::from_slice(text).map_err(|_| Unreadable::NotElasticsearch)?;
    if parsed.items.len() != docs {
        return Err(Unreadable::MissingItems {
            items: parsed.items.len(),
        });
    }
    Ok(parsed)
}

/// Reports a bulk request that did not go through (one log line, one
/// count).
pub(super) fn problem(shared: &Shared, docs: usize, problem: BulkProblem<'_>) {
    BulkRequestProblem {
        output: &shared.name,
        docs,
        problem,
    }
    .emit(&shared.stats);
}

/// Settles every document of a sent batch from the response: ack,
/// dead-letter, or hand back for retry.
pub(super) async fn settle(
    shared: &Arc<Shared>,
    docs: Vec<Pending>,
    ops: Vec<&'static str>,
    response: Response,
) {
    let status = response.status_code().as_u16();
    if status == 429 || status >= 500 {
        problem(shared, docs.len(), BulkProblem::Refused { status });
        let failure = if status == 429 {
            Failure::Refused
        } else {
            Failure::ServerError
        };
        return retry(shared, docs, failure);
    }
    let text = match response.bytes().await {
        Ok(b) => b,
        Err(e) => {
            problem(shared, docs.len(), BulkProblem::CutOff { error: &e });
            return retry(shared, docs, Failure::NoAnswer);
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
            problem(
                shared,
                docs.len(),
                BulkProblem::TooLarge { new_max_docs: cap },
            );
            // Not the documents' fault: resent at once, attempts not counted.
            shared.answered();
            let _ = shared.retry.send(docs);
            return;
        }
        if status == 401 || status == 403 {
            problem(shared, docs.len(), BulkProblem::Credentials { status });
            return retry(shared, docs, Failure::Refused);
        }
        shared.answered();
        problem(
            shared,
            docs.len(),
            BulkProblem::Rejected {
                status,
                error_type: &error,
            },
        );
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
    let parsed = match read_items(&text, docs.len()) {
        Ok(parsed) => parsed,
        Err(Unreadable::NotElasticsearch) => {
            problem(shared, docs.len(), BulkProblem::NotElasticsearch);
            return retry(shared, docs, Failure::ServerError);
        }
        Err(Unreadable::MissingItems { items }) => {
            problem(shared, docs.len(), BulkProblem::MissingItems { items });
            return retry(shared, docs, Failure::ServerError);
        }
    };
    // A readable answer: any outage is over.
    shared.answered();
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
                    item.error.as_ref().map(|e| {
                        (
                            e.error_type.as_deref().unwrap_or("unknown"),
                            e.reason.as_deref().unwrap_or(""),
                        )
                    }),
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
                output: Some(shared.index),
            })
            .collect(),
    );
    shared
        .outstanding
        .fetch_sub(indexed.len(), Ordering::SeqCst);
    if !again.is_empty() {
        retry(shared, again, Failure::Items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_must_account_for_every_document() {
        let ok = |n: usize| {
            let items = vec![r#"{"index":{"status":201}}"#; n].join(",");
            format!(r#"{{"errors":false,"items":[{items}]}}"#)
        };
        assert!(read_items(ok(2).as_bytes(), 2).is_ok());
        // A proxy's bare answer, or a list cut short, acknowledges nothing.
        for (body, docs, items) in [
            (r#"{"errors":false}"#.to_owned(), 2, 0),
            (ok(1), 2, 1),
            (ok(3), 2, 3),
        ] {
            assert_eq!(
                read_items(body.as_bytes(), docs).err(),
                Some(Unreadable::MissingItems { items }),
                "{body}"
            );
        }
        // The same when `errors` is not where the fast path looks.
        let late = format!(
            r#"{{"took":1,"ingest_took":0,"x":"{}","errors":false,"items":[]}}"#,
            "y".repeat(64)
        );
        assert_eq!(
            read_items(late.as_bytes(), 1).err(),
            Some(Unreadable::MissingItems { items: 0 })
        );
        let errors = r#"{"errors":true,"items":[{"index":{"status":201}}]}"#;
        assert_eq!(
            read_items(errors.as_bytes(), 2).err(),
            Some(Unreadable::MissingItems { items: 1 })
        );
        assert_eq!(
            read_items(b"<html>bad gateway</html>", 1).err(),
            Some(Unreadable::NotElasticsearch)
        );
    }

    #[test]
    fn item_errors_without_a_reason_are_read() {
        let body = r#"{"errors":true,"items":[{"index":{"status":201}},{"index":{"status":500,"error":{"type":"null_pointer_exception","reason":null}}},{"index":{"status":400,"error":{"type":null}}}]}"#;
        let parsed: BulkResponse = serde_json::from_str(body).expect("a bulk response");
        assert_eq!(parsed.items.len(), 3);
        let error = |i: usize| parsed.items[i]["index"].error.as_ref().unwrap();
        assert_eq!(
            error(1).error_type.as_deref(),
            Some("null_pointer_exception")
        );
        assert_eq!(error(1).reason, None);
        assert_eq!(error(2).error_type, None);
    }

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
}

//! One bulk request: sent with the response filter, timed, and counted.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use elasticsearch::http::headers::{HeaderMap, HeaderValue, CONTENT_TYPE};
use elasticsearch::http::Method;

use super::response::{problem, BULK_RESPONSE_FILTER};
use super::retry::{retry, Failure};
use super::{Batch, Shared};
use crate::events::BulkProblem;

/// Sends one batch and settles every document in it: ack, dead-letter, or
/// hand back for retry.
pub(super) async fn send_batch(shared: &Arc<Shared>, batch: Batch) {
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
        // Up: answered, and not with 5xx or a refusal of our credentials
        // (which indexes nothing until an operator fixes them).
        let reachable =
            matches!(&result, Ok(r) if !matches!(r.status_code().as_u16(), 401 | 403 | 500..));
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
            problem(
                shared,
                docs.len(),
                BulkProblem::NoAnswer {
                    timeout: e.is_timeout(),
                    error: &e,
                },
            );
            return retry(shared, docs, Failure::NoAnswer);
        }
    };
    super::response::settle(shared, docs, ops, response).await;
}

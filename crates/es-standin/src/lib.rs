//! es-standin: an Elasticsearch 8 stand-in for tests, benches and the soak.
//!
//! Elasticsearch cannot run on the machines our tests run on, so this binary
//! answers the REST endpoints logredact and its tests use, the way the ES 8
//! documentation says ES does:
//!
//! - `GET /` with the `X-Elastic-Product: Elasticsearch` header (on every
//!   response, as ES sends it);
//! - `POST /_bulk` and `/{index}/_bulk`: NDJSON that must end in a newline,
//!   malformed action lines rejected as a whole request, per-item results
//!   and error objects shaped as ES returns them, `create` conflicts (409),
//!   dynamic mapping with mapping conflicts (`document_parsing_exception`),
//!   a field named twice in one object refused (`strict`),
//!   data streams (create only, `@timestamp` required), gzip bodies;
//! - `PUT/GET /_index_template/{name}`, `PUT/GET /_ilm/policy/{name}`;
//! - `_refresh`, `_count`, `_search` (match_all, term, ids; `from`, `size`,
//!   `search_after`, `track_total_hits`), `_doc/{id}`, `_mget`;
//! - points in time: `POST /{index}/_pit`, `DELETE /_pit`, and `_search`
//!   with `pit` sorted on `_shard_doc`, to read every document back.
//!
//! Every `_source` comes back byte for byte as it was indexed, as ES
//! returns it (see `verbatim`).
//!
//! Faults are injected through `POST /_standin/faults` (see `faults::Faults`), and
//! `GET /_standin/stats` / `GET /_standin/ids` let tests check what is held.
//!
//! Usage: `es-standin [--listen 127.0.0.1:0] [--no-source]`; prints
//! `listening on ADDR`. `--no-source` keeps each document's id and version
//! but not its body, as an index with `_source` disabled does: a long soak
//! holds tens of millions of documents, which would not fit in memory.

//!
//! The crate is a library so that the daemon's package can build the
//! `es-standin` binary its tests start (`tools/es-standin.rs` calls
//! [`main`]). One module per concern: `bulk`, `store`, `search`, `get`
//! (`_doc`, `_mget`), `pit`, `verbatim` (responses with sources), `admin`
//! (templates, policies, error bodies, the stand-in's own endpoints),
//! `faults`, `strict` (duplicate fields).

// Handlers return early with a whole error response; it is the rare path
// of a test tool, so its size does not matter.
#![allow(clippy::result_large_err)]

mod admin;
mod bulk;
mod faults;
mod get;
mod pit;
mod search;
mod store;
mod strict;
mod verbatim;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::routing::{get, post, put};
use axum::Router;
use rand::SeedableRng;

use crate::admin::{
    get_policy, get_template, ids, put_policy, put_template, refresh, root, stats, unknown,
};
use crate::bulk::{bulk_all, bulk_index};
use crate::faults::{product_and_outage, set_faults, Faults, OutageListener};
use crate::get::{get_doc, mget_all, mget_index};
use crate::pit::{close, open, open_without_index, Pits};
use crate::search::{count, search, search_all};
use crate::store::{Counters, Shared, Store};

/// The stand-in's command line: `es-standin [--listen ADDR] [--no-source]`.
pub fn main() -> anyhow::Result<()> {
    let mut listen = "127.0.0.1:0".to_owned();
    let mut keep_source = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().unwrap_or(listen),
            "--no-source" => keep_source = false,
            "-h" | "--help" => {
                println!("usage: es-standin [--listen ADDR] [--no-source]");
                return Ok(());
            }
            other => anyhow::bail!(
                "unknown argument {other}; usage: es-standin [--listen ADDR] [--no-source]"
            ),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(&listen, keep_source))
}

async fn serve(listen: &str, keep_source: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on {}", listener.local_addr()?);
    use std::io::Write;
    std::io::stdout().flush()?;
    serve_on(listener, keep_source).await
}

/// Serves the stand-in on `listener` until the returned future is dropped;
/// for tests that run it in their own process. `keep_source` is false for
/// `--no-source`.
pub async fn serve_on(listener: tokio::net::TcpListener, keep_source: bool) -> anyhow::Result<()> {
    let store: Shared = Arc::new(Mutex::new(Store {
        indices: HashMap::new(),
        templates: BTreeMap::new(),
        policies: BTreeMap::new(),
        faults: Faults::default(),
        outage_until: None,
        rng: rand::rngs::StdRng::seed_from_u64(0),
        counters: Counters::default(),
        keep_source,
        pits: Pits::default(),
    }));
    let app = Router::new()
        .route("/", get(root).head(root))
        .route("/_bulk", post(bulk_all).put(bulk_all))
        .route("/{index}/_bulk", post(bulk_index).put(bulk_index))
        .route(
            "/_index_template/{name}",
            put(put_template).post(put_template).get(get_template),
        )
        .route("/_ilm/policy/{name}", put(put_policy).get(get_policy))
        .route("/_refresh", post(refresh).get(refresh))
        .route("/{index}/_refresh", post(refresh).get(refresh))
        .route("/{index}/_count", get(count).post(count))
        .route("/_search", get(search_all).post(search_all))
        .route("/{index}/_search", get(search).post(search))
        .route("/{index}/_doc/{id}", get(get_doc))
        .route("/_mget", get(mget_all).post(mget_all))
        .route("/{index}/_mget", get(mget_index).post(mget_index))
        .route("/_pit", post(open_without_index).delete(close))
        .route("/{index}/_pit", post(open))
        .route("/_standin/faults", post(set_faults))
        .route("/_standin/stats", get(stats))
        .route("/_standin/ids", get(ids))
        .fallback(unknown)
        // ES's default http.max_content_length.
        .layer(axum::extract::DefaultBodyLimit::max(100 << 20))
        .layer(axum::middleware::from_fn_with_state(
            store.clone(),
            product_and_outage,
        ))
        .with_state(store.clone());
    let listener = OutageListener {
        inner: listener,
        store,
    };
    axum::serve(listener, app).await?;
    Ok(())
}

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
//!   data streams (create only, `@timestamp` required), gzip bodies;
//! - `PUT/GET /_index_template/{name}`, `PUT/GET /_ilm/policy/{name}`;
//! - `_refresh`, `_count`, `_search` (match_all, term, ids), `_doc/{id}`.
//!
//! Faults are injected through `POST /_standin/faults` (see [`Faults`]), and
//! `GET /_standin/stats` / `GET /_standin/ids` let tests check what is held.
//!
//! Usage: `es-standin [--listen 127.0.0.1:0] [--no-source]`; prints
//! `listening on ADDR`. `--no-source` keeps each document's id and version
//! but not its body, as an index with `_source` disabled does: a long soak
//! holds tens of millions of documents, which would not fit in memory.

// Handlers return early with a whole error response; it is the rare path
// of a test tool, so its size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{json, Value};

/// Faults to inject; all off by default. Replaced as a whole by
/// `POST /_standin/faults`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Faults {
    /// Fraction of bulk items answered with a per-item 429.
    item_429_rate: f64,
    /// Answer this many next bulk requests as a whole with `request_status`.
    request_failures: u64,
    /// 429 or 503 for `request_failures`.
    request_status: u16,
    /// For this many seconds from now, refuse everything: new connections
    /// are closed at once and requests on open ones get 503 and close.
    outage_seconds: f64,
    /// Added before every bulk response.
    latency_ms: u64,
    /// These fields are mapped as `long` in every index, so a document with
    /// a non-numeric value there fails with a mapping error.
    long_fields: Vec<String>,
    /// Answer 413 to bulk bodies larger than this (like a cluster with a
    /// small `http.max_content_length`); 0 means the default 100 MB.
    max_body_bytes: usize,
    /// When set, every request but the stand-in's own must carry this
    /// `Authorization` header value (e.g. `Basic dXNlcjpwYXNz`), else 401.
    require_authorization: Option<String>,
    /// Seed for the random choices, so a run can be repeated.
    seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Long,
    Double,
    Boolean,
    Keyword,
    Object,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Long => "long",
            Kind::Double => "float",
            Kind::Boolean => "boolean",
            Kind::Keyword => "keyword",
            Kind::Object => "object",
        }
    }
}

#[derive(Default)]
struct Index {
    docs: HashMap<String, (u64, Box<str>)>,
    mapping: HashMap<String, Kind>,
    seq_no: u64,
    data_stream: bool,
    /// The name ES reports in results: the index itself, or a data
    /// stream's first backing index.
    backing: String,
}

#[derive(Default)]
struct Counters {
    bulk_requests: u64,
    items: u64,
    created: u64,
    updated: u64,
    rejected: BTreeMap<String, u64>,
    refused_requests: u64,
    gzip_requests: u64,
    /// Bulk requests that asked for response filtering (`filter_path`).
    filtered_bulk_responses: u64,
}

struct Store {
    indices: HashMap<String, Index>,
    templates: BTreeMap<String, Value>,
    policies: BTreeMap<String, Value>,
    faults: Faults,
    outage_until: Option<Instant>,
    rng: rand::rngs::StdRng,
    counters: Counters,
    /// False with `--no-source`: documents are held without their bodies.
    keep_source: bool,
}

type Shared = Arc<Mutex<Store>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Store> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

fn main() -> anyhow::Result<()> {
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
    let store: Shared = Arc::new(Mutex::new(Store {
        indices: HashMap::new(),
        templates: BTreeMap::new(),
        policies: BTreeMap::new(),
        faults: Faults::default(),
        outage_until: None,
        rng: rand::rngs::StdRng::seed_from_u64(0),
        counters: Counters::default(),
        keep_source,
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
        .route("/{index}/_search", get(search).post(search))
        .route("/{index}/_doc/{id}", get(get_doc))
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
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on {}", listener.local_addr()?);
    use std::io::Write;
    std::io::stdout().flush()?;
    let listener = OutageListener {
        inner: listener,
        store,
    };
    axum::serve(listener, app).await?;
    Ok(())
}

/// Closes new connections at once while an outage is on.
struct OutageListener {
    inner: tokio::net::TcpListener,
    store: Shared,
}

impl axum::serve::Listener for OutageListener {
    type Io = tokio::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (io, addr) = match self.inner.accept().await {
                Ok(x) => x,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let down = lock(&self.store)
                .outage_until
                .is_some_and(|t| Instant::now() < t);
            if down {
                drop(io);
                continue;
            }
            let _ = io.set_nodelay(true);
            return (io, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

async fn product_and_outage(
    State(store): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_admin = request.uri().path().starts_with("/_standin");
    let (down, auth_ok, gzip_seen) = {
        let st = lock(&store);
        let given = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let auth_ok = match &st.faults.require_authorization {
            Some(want) => given == Some(want.as_str()),
            None => true,
        };
        let gzip = request
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        (
            st.outage_until.is_some_and(|t| Instant::now() < t),
            auth_ok,
            gzip,
        )
    };
    if gzip_seen {
        lock(&store).counters.gzip_requests += 1;
    }
    let mut response = if !auth_ok && !is_admin {
        let mut r = error_response(
            StatusCode::UNAUTHORIZED,
            "security_exception",
            "unable to authenticate user [logredact] for REST request [/_bulk]",
        );
        r.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Basic realm=\"security\" charset=\"UTF-8\""),
        );
        r
    } else if down && !is_admin {
        let mut r = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "cluster_block_exception",
            "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];",
        );
        r.headers_mut()
            .insert("connection", HeaderValue::from_static("close"));
        r
    } else {
        next.run(request).await
    };
    response.headers_mut().insert(
        "x-elastic-product",
        HeaderValue::from_static("Elasticsearch"),
    );
    response
}

fn error_body(error_type: &str, reason: &str, status: u16) -> Value {
    json!({
        "error": {
            "root_cause": [{"type": error_type, "reason": reason}],
            "type": error_type,
            "reason": reason,
        },
        "status": status,
    })
}

fn error_response(status: StatusCode, error_type: &str, reason: &str) -> Response {
    (
        status,
        axum::Json(error_body(error_type, reason, status.as_u16())),
    )
        .into_response()
}

async fn root() -> Response {
    axum::Json(json!({
        "name": "es-standin",
        "cluster_name": "logredact-standin",
        "cluster_uuid": "c2FuZGJveC1zdGFuZGlu",
        "version": {
            "number": "8.15.0",
            "build_flavor": "default",
            "build_type": "docker",
            "lucene_version": "9.11.1",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0"
        },
        "tagline": "You Know, for Search"
    }))
    .into_response()
}

async fn unknown(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    error_response(
        StatusCode::BAD_REQUEST,
        "illegal_argument_exception",
        &format!(
            "request [{}] contains unrecognized url or method: [{}]",
            uri.path(),
            method
        ),
    )
}

fn decode_body(headers: &HeaderMap, body: Bytes) -> Result<Vec<u8>, Response> {
    let gz = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gz {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut out)
        .map_err(|_| {
            error_response(
                StatusCode::BAD_REQUEST,
                "parse_exception",
                "request body is not valid gzip",
            )
        })?;
    Ok(out)
}

/// Query parameters every Elasticsearch API takes that the stand-in heeds.
#[derive(Deserialize, Default)]
struct CommonOptions {
    /// Response filtering: comma-separated dotted paths to keep.
    filter_path: Option<String>,
}

async fn bulk_all(
    State(s): State<Shared>,
    Query(options): Query<CommonOptions>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    bulk(s, None, options, headers, body).await
}

async fn bulk_index(
    State(s): State<Shared>,
    Path(index): Path<String>,
    Query(options): Query<CommonOptions>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    bulk(s, Some(index), options, headers, body).await
}

/// Elasticsearch's response filtering (`filter_path`): keeps the fields
/// whose dotted path matches one of the comma-separated patterns. `*` in a
/// name matches any characters, a `**` level any number of levels; arrays
/// are looked through; objects and arrays left empty are left out, and a
/// response with nothing left is `{}`.
fn filter_response(value: Value, filter_path: &str) -> Value {
    let patterns: Vec<Vec<&str>> = filter_path
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.split('.').collect())
        .collect();
    let patterns: Vec<&[&str]> = patterns.iter().map(Vec::as_slice).collect();
    keep_matching(value, &patterns).unwrap_or_else(|| json!({}))
}

fn keep_matching(value: Value, patterns: &[&[&str]]) -> Option<Value> {
    if patterns.iter().any(|p| p.is_empty()) {
        return Some(value);
    }
    match value {
        Value::Object(map) => {
            let mut kept = serde_json::Map::new();
            for (key, v) in map {
                let rest: Vec<&[&str]> = patterns.iter().flat_map(|p| after_key(p, &key)).collect();
                if rest.is_empty() {
                    continue;
                }
                if let Some(v) = keep_matching(v, &rest) {
                    kept.insert(key, v);
                }
            }
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .into_iter()
                .filter_map(|v| keep_matching(v, patterns))
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        // A value reached with part of the path still to match.
        _ => None,
    }
}

/// What is left of `pattern` to match below a field named `key`.
fn after_key<'p>(pattern: &'p [&'p str], key: &str) -> Vec<&'p [&'p str]> {
    match pattern.split_first() {
        Some((&"**", rest)) => {
            // `**` takes this level and may take more, or takes none.
            let mut left = vec![pattern];
            left.extend(after_key(rest, key));
            left
        }
        Some((name, rest)) if wildcard_match(name.as_bytes(), key.as_bytes()) => vec![rest],
        _ => Vec::new(),
    }
}

fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| wildcard_match(rest, &name[i..])),
        Some((c, rest)) => name.first() == Some(c) && wildcard_match(rest, &name[1..]),
    }
}

/// One parsed bulk operation.
struct Op {
    action: &'static str,
    index: String,
    id: Option<String>,
    source: Option<String>,
}

fn malformed(line: usize, found: &str) -> Response {
    error_response(
        StatusCode::BAD_REQUEST,
        "illegal_argument_exception",
        &format!(
            "Malformed action/metadata line [{line}], expected START_OBJECT or END_OBJECT but found [{found}]"
        ),
    )
}

/// Parses a bulk body by the ES rules: action lines, each but `delete`
/// followed by a source line; the body must end with a newline.
fn parse_bulk(body: &[u8], default_index: Option<&str>) -> Result<Vec<Op>, Response> {
    if body.is_empty() {
        return Err(error_response(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: no requests added;",
        ));
    }
    if body.last() != Some(&b'\n') {
        return Err(error_response(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            "The bulk request must be terminated by a newline [\\n]",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|_| {
        error_response(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            "Invalid UTF-8 in the request body",
        )
    })?;
    let lines: Vec<&str> = text[..text.len() - 1].split('\n').collect();
    let mut ops = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let line = lines[i].trim();
        i += 1;
        if line.is_empty() {
            continue;
        }
        let action: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(_) => {
                let found = if line.starts_with('"') {
                    "VALUE_STRING"
                } else {
                    "VALUE_NULL"
                };
                return Err(malformed(line_no, found));
            }
        };
        let Some(obj) = action.as_object() else {
            return Err(malformed(line_no, "START_ARRAY"));
        };
        if obj.len() != 1 {
            return Err(error_response(
                StatusCode::BAD_REQUEST,
                "illegal_argument_exception",
                &format!("Malformed action/metadata line [{line_no}], expected END_OBJECT but found [FIELD_NAME]"),
            ));
        }
        let (name, meta) = obj.iter().next().expect("one entry");
        let action = match name.as_str() {
            "index" => "index",
            "create" => "create",
            "update" => "update",
            "delete" => "delete",
            other => {
                return Err(error_response(
                    StatusCode::BAD_REQUEST,
                    "illegal_argument_exception",
                    &format!("Malformed action/metadata line [{line_no}], expected field [create], [delete], [index] or [update] but found [{other}]"),
                ))
            }
        };
        let Some(meta) = meta.as_object() else {
            return Err(malformed(line_no, "VALUE_STRING"));
        };
        for key in meta.keys() {
            if ![
                "_index",
                "_id",
                "routing",
                "pipeline",
                "require_alias",
                "if_seq_no",
                "if_primary_term",
                "version",
                "version_type",
                "dynamic_templates",
                "op_type",
            ]
            .contains(&key.as_str())
            {
                return Err(error_response(
                    StatusCode::BAD_REQUEST,
                    "illegal_argument_exception",
                    &format!(
                        "Action/metadata line [{line_no}] contains an unknown parameter [{key}]"
                    ),
                ));
            }
        }
        let index = match meta.get("_index").and_then(Value::as_str).or(default_index) {
            Some(i) => i.to_owned(),
            None => {
                return Err(error_response(
                    StatusCode::BAD_REQUEST,
                    "action_request_validation_exception",
                    "Validation Failed: 1: index is missing;",
                ))
            }
        };
        let id = meta.get("_id").and_then(Value::as_str).map(str::to_owned);
        let source = if action == "delete" {
            None
        } else {
            if i >= lines.len() {
                return Err(error_response(
                    StatusCode::BAD_REQUEST,
                    "illegal_argument_exception",
                    &format!("The bulk request must be terminated by a newline [\\n]; action line [{line_no}] has no source line"),
                ));
            }
            i += 1;
            Some(lines[i - 1].to_owned())
        };
        ops.push(Op {
            action,
            index,
            id,
            source,
        });
    }
    Ok(ops)
}

async fn bulk(
    s: Shared,
    default_index: Option<String>,
    options: CommonOptions,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let body = match decode_body(&headers, body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let latency = {
        let mut st = lock(&s);
        st.counters.bulk_requests += 1;
        if options.filter_path.is_some() {
            st.counters.filtered_bulk_responses += 1;
        }
        let max = st.faults.max_body_bytes;
        if max > 0 && body.len() > max {
            st.counters.refused_requests += 1;
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        if st.faults.request_failures > 0 {
            st.faults.request_failures -= 1;
            st.counters.refused_requests += 1;
            let status = StatusCode::from_u16(st.faults.request_status)
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return if status == StatusCode::TOO_MANY_REQUESTS {
                error_response(status, "es_rejected_execution_exception", "rejected execution of coordinating operation [coordinating_and_primary_bytes=104759862, max_coordinating_and_primary_bytes=107374182]")
            } else {
                error_response(
                    status,
                    "unavailable_shards_exception",
                    "[logs][0] primary shard is not active Timeout: [1m]",
                )
            };
        }
        st.faults.latency_ms
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let ops = match parse_bulk(&body, default_index.as_deref()) {
        Ok(ops) => ops,
        Err(r) => return r,
    };
    let mut st = lock(&s);
    let mut items = Vec::with_capacity(ops.len());
    let mut errors = false;
    for op in ops {
        let item = st.apply(op);
        let status = item.1["status"].as_u64().unwrap_or(500);
        if status >= 300 {
            errors = true;
            let t = item.1["error"]["type"].as_str().unwrap_or("").to_owned();
            *st.counters.rejected.entry(t).or_default() += 1;
        }
        st.counters.items += 1;
        items.push(json!({ item.0: item.1 }));
    }
    let response = json!({
        "errors": errors,
        "took": started.elapsed().as_millis() as u64,
        "items": items,
    });
    drop(st);
    match options.filter_path {
        Some(f) => axum::Json(filter_response(response, &f)).into_response(),
        None => axum::Json(response).into_response(),
    }
}

impl Store {
    fn apply(&mut self, op: Op) -> (&'static str, Value) {
        let action = op.action;
        let result = |index: &str, id: &str, status: u16, error: Value| {
            (
                action,
                json!({"_index": index, "_id": id, "status": status, "error": error}),
            )
        };
        let id = op.id.clone().unwrap_or_else(|| {
            let n: u64 = self.rng.random();
            format!("{n:016x}")
        });
        if op.index.starts_with(['_', '-', '+']) || op.index != op.index.to_lowercase() {
            let reason = format!("Invalid index name [{}], must be lowercase", op.index);
            return result(
                &op.index,
                &id,
                400,
                json!({"type": "invalid_index_name_exception", "reason": reason, "index": op.index}),
            );
        }
        if self.faults.item_429_rate > 0.0 && self.rng.random::<f64>() < self.faults.item_429_rate {
            return result(
                &op.index,
                &id,
                429,
                json!({
                    "type": "es_rejected_execution_exception",
                    "reason": "rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, primary_operation_bytes=1024, max_coordinating_and_primary_bytes=107374182]"
                }),
            );
        }
        let is_stream = self.is_data_stream(&op.index);
        if is_stream && action != "create" {
            let reason =
                "only write ops with an op_type of create are allowed in data streams".to_owned();
            return result(
                &op.index,
                &id,
                400,
                json!({"type": "illegal_argument_exception", "reason": reason}),
            );
        }
        let long_fields = self.faults.long_fields.clone();
        let index = self
            .indices
            .entry(op.index.clone())
            .or_insert_with(|| Index {
                data_stream: is_stream,
                backing: if is_stream {
                    format!(
                        ".ds-{}-{}-000001",
                        op.index,
                        chrono::Utc::now().format("%Y.%m.%d")
                    )
                } else {
                    op.index.clone()
                },
                ..Index::default()
            });
        for f in &long_fields {
            index.mapping.entry(f.clone()).or_insert(Kind::Long);
        }
        let index_name = index.backing.clone();
        match action {
            "delete" => {
                return match index.docs.remove(&id) {
                    Some((v, _)) => (
                        action,
                        json!({"_index": index_name, "_id": id, "_version": v + 1, "result": "deleted", "status": 200, "_shards": shards(), "_seq_no": index.seq_no, "_primary_term": 1}),
                    ),
                    None => (
                        action,
                        json!({"_index": index_name, "_id": id, "_version": 1, "result": "not_found", "status": 404, "_shards": shards(), "_seq_no": index.seq_no, "_primary_term": 1}),
                    ),
                };
            }
            "update" => {
                return result(
                    &index_name,
                    &id,
                    400,
                    json!({"type": "illegal_argument_exception", "reason": "the stand-in does not implement update"}),
                );
            }
            _ => {}
        }
        let source = op.source.unwrap_or_default();
        let doc: Value = match serde_json::from_str(&source) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return result(
                    &index_name,
                    &id,
                    400,
                    json!({
                        "type": "document_parsing_exception",
                        "reason": "[1:1] failed to parse: the document is not a JSON object"
                    }),
                );
            }
        };
        if index.data_stream && doc.get("@timestamp").is_none() {
            return result(
                &index_name,
                &id,
                400,
                json!({
                    "type": "document_parsing_exception",
                    "reason": "[1:1] failed to parse: data stream timestamp field [@timestamp] is missing"
                }),
            );
        }
        let mut new_fields = Vec::new();
        if let Err(reason) = check_mapping(&index.mapping, &mut new_fields, "", &doc, &id) {
            return result(
                &index_name,
                &id,
                400,
                json!({
                    "type": "document_parsing_exception",
                    "reason": reason,
                    "caused_by": {"type": "illegal_argument_exception", "reason": "mapping conflict"}
                }),
            );
        }
        index.mapping.extend(new_fields);
        let existing = index.docs.get(&id).map(|(v, _)| *v);
        if action == "create" {
            if let Some(v) = existing {
                return result(
                    &index_name,
                    &id,
                    409,
                    json!({
                        "type": "version_conflict_engine_exception",
                        "reason": format!("[{id}]: version conflict, document already exists (current version [{v}])"),
                        "index_uuid": "c3RhbmRpbg",
                        "shard": "0",
                        "index": index_name,
                    }),
                );
            }
        }
        let version = existing.map_or(1, |v| v + 1);
        index.seq_no += 1;
        let seq_no = index.seq_no - 1;
        // Without sources, a document is its id and version; an empty
        // body stands for "no `_source`" (a kept body is a JSON object).
        let kept = if self.keep_source {
            source.into_boxed_str()
        } else {
            Box::default()
        };
        index.docs.insert(id.clone(), (version, kept));
        let created = existing.is_none();
        if created {
            self.counters.created += 1;
        } else {
            self.counters.updated += 1;
        }
        (
            action,
            json!({
                "_index": index_name,
                "_id": id,
                "_version": version,
                "result": if created { "created" } else { "updated" },
                "_shards": shards(),
                "_seq_no": seq_no,
                "_primary_term": 1,
                "status": if created { 201 } else { 200 },
            }),
        )
    }

    fn is_data_stream(&self, name: &str) -> bool {
        if let Some(i) = self.indices.get(name) {
            return i.data_stream;
        }
        self.templates.values().any(|t| {
            t.get("data_stream").is_some()
                && t["index_patterns"].as_array().is_some_and(|ps| {
                    ps.iter()
                        .filter_map(Value::as_str)
                        .any(|p| matches(p, name))
                })
        })
    }

    /// Index names a request path names: comma lists and `*` patterns.
    fn resolve(&self, expr: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .indices
            .keys()
            .filter(|name| expr.split(',').any(|p| p == "_all" || matches(p, name)))
            .cloned()
            .collect();
        names.sort();
        names
    }
}

fn shards() -> Value {
    json!({"total": 2, "successful": 1, "failed": 0})
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters.
fn matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Dynamic mapping as ES does it, in short: the first value of a field
/// fixes its type; later values must fit it.
fn check_mapping(
    mapping: &HashMap<String, Kind>,
    new: &mut Vec<(String, Kind)>,
    prefix: &str,
    value: &Value,
    id: &str,
) -> Result<(), String> {
    let Value::Object(map) = value else {
        return Ok(());
    };
    for (key, v) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let kind = match v {
            Value::Null => continue,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => Kind::Long,
            Value::Number(_) => Kind::Double,
            Value::String(_) => Kind::Keyword,
            Value::Array(items) => match items.iter().find(|x| !x.is_null()) {
                Some(Value::Object(_)) => Kind::Object,
                Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Kind::Long,
                Some(Value::Number(_)) => Kind::Double,
                Some(Value::Bool(_)) => Kind::Boolean,
                Some(_) => Kind::Keyword,
                None => continue,
            },
            Value::Object(_) => Kind::Object,
        };
        let mapped = mapping
            .get(&path)
            .copied()
            .or_else(|| new.iter().find(|(p, _)| *p == path).map(|(_, k)| *k));
        match mapped {
            None => new.push((path.clone(), kind)),
            Some(m) if m == kind => {}
            Some(Kind::Keyword) if kind != Kind::Object => {}
            Some(Kind::Double) if kind == Kind::Long => {}
            Some(Kind::Long | Kind::Double)
                if v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok()) => {}
            Some(Kind::Object) => {
                return Err(format!("[1:2] object mapping for [{path}] tried to parse field [{key}] as object, but found a concrete value"));
            }
            Some(m) => {
                return Err(format!(
                    "[1:2] failed to parse field [{path}] of type [{}] in document with id '{id}'. Preview of field's value: '{}'",
                    m.name(),
                    preview(v)
                ));
            }
        }
        if let Value::Object(_) = v {
            check_mapping(mapping, new, &path, v, id)?;
        }
        if let Value::Array(items) = v {
            for item in items {
                if item.is_object() {
                    check_mapping(mapping, new, &path, item, id)?;
                }
            }
        }
    }
    Ok(())
}

fn preview(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    s.chars().take(20).collect()
}

async fn put_template(State(s): State<Shared>, Path(name): Path<String>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "x_content_parse_exception",
            "[1:1] failed to parse the template",
        );
    };
    if !v["index_patterns"].is_array() && !v["index_patterns"].is_string() {
        return error_response(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: index patterns are missing;",
        );
    }
    lock(&s).templates.insert(name, v);
    axum::Json(json!({"acknowledged": true})).into_response()
}

async fn get_template(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    match lock(&s).templates.get(&name) {
        Some(t) => axum::Json(json!({"index_templates": [{"name": name, "index_template": t}]}))
            .into_response(),
        None => error_response(
            StatusCode::NOT_FOUND,
            "resource_not_found_exception",
            &format!("index template matching [{name}] not found"),
        ),
    }
}

async fn put_policy(State(s): State<Shared>, Path(name): Path<String>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "x_content_parse_exception",
            "[1:1] failed to parse the policy",
        );
    };
    if !v["policy"]["phases"].is_object() {
        return error_response(
            StatusCode::BAD_REQUEST,
            "x_content_parse_exception",
            "[1:2] [put_lifecycle_request] failed to parse field [policy]: phases are required",
        );
    }
    lock(&s).policies.insert(name, v);
    axum::Json(json!({"acknowledged": true})).into_response()
}

async fn get_policy(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    match lock(&s).policies.get(&name) {
        Some(p) => axum::Json(json!({ name.clone(): {"version": 1, "policy": p["policy"]} }))
            .into_response(),
        None => error_response(
            StatusCode::NOT_FOUND,
            "resource_not_found_exception",
            &format!("Lifecycle policy not found: {name}"),
        ),
    }
}

async fn refresh() -> Response {
    axum::Json(json!({"_shards": {"total": 1, "successful": 1, "failed": 0}})).into_response()
}

#[derive(Deserialize, Default)]
struct SearchBody {
    query: Option<Value>,
    size: Option<usize>,
}

/// Evaluates match_all, term and ids queries.
fn query_matches(query: Option<&Value>, id: &str, source: &str) -> Result<bool, String> {
    let Some(q) = query else { return Ok(true) };
    if q.get("match_all").is_some() {
        return Ok(true);
    }
    if let Some(ids) = q.get("ids") {
        return Ok(ids["values"]
            .as_array()
            .is_some_and(|v| v.iter().any(|x| x.as_str() == Some(id))));
    }
    if let Some(term) = q.get("term").and_then(Value::as_object) {
        let (field, want) = term.iter().next().ok_or("term query needs a field")?;
        let want = want.get("value").unwrap_or(want);
        let doc: Value = serde_json::from_str(source).unwrap_or(Value::Null);
        let mut at = &doc;
        for part in field.split('.') {
            at = &at[part];
        }
        return Ok(at == want || at.as_array().is_some_and(|a| a.contains(want)));
    }
    Err("the stand-in supports match_all, ids and term queries".into())
}

async fn count(State(s): State<Shared>, Path(index): Path<String>, body: Bytes) -> Response {
    let body: SearchBody = serde_json::from_slice(&body).unwrap_or_default();
    let st = lock(&s);
    let mut n = 0u64;
    for name in st.resolve(&index) {
        for (id, (_, src)) in &st.indices[&name].docs {
            match query_matches(body.query.as_ref(), id, src) {
                Ok(true) => n += 1,
                Ok(false) => {}
                Err(e) => return error_response(StatusCode::BAD_REQUEST, "parsing_exception", &e),
            }
        }
    }
    axum::Json(
        json!({"count": n, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}}),
    )
    .into_response()
}

async fn search(State(s): State<Shared>, Path(index): Path<String>, body: Bytes) -> Response {
    let body: SearchBody = serde_json::from_slice(&body).unwrap_or_default();
    let st = lock(&s);
    let size = body.size.unwrap_or(10);
    let mut hits = Vec::new();
    let mut total = 0u64;
    for name in st.resolve(&index) {
        let mut ids: Vec<&String> = st.indices[&name].docs.keys().collect();
        ids.sort();
        for id in ids {
            let (_, src) = &st.indices[&name].docs[id];
            match query_matches(body.query.as_ref(), id, src) {
                Ok(true) => {
                    total += 1;
                    if hits.len() < size {
                        let backing = &st.indices[&name].backing;
                        let mut hit = json!({"_index": backing, "_id": id, "_score": 1.0});
                        if let Some(source) = stored_source(src) {
                            hit["_source"] = source;
                        }
                        hits.push(hit);
                    }
                }
                Ok(false) => {}
                Err(e) => return error_response(StatusCode::BAD_REQUEST, "parsing_exception", &e),
            }
        }
    }
    axum::Json(json!({
        "took": 1, "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": total, "relation": "eq"}, "max_score": 1.0, "hits": hits}
    }))
    .into_response()
}

/// A held document's `_source`; `None` when the stand-in runs without
/// sources (`--no-source`), where ES leaves the field out.
fn stored_source(src: &str) -> Option<Value> {
    (!src.is_empty()).then(|| serde_json::from_str(src).unwrap_or(Value::Null))
}

async fn get_doc(State(s): State<Shared>, Path((index, id)): Path<(String, String)>) -> Response {
    let st = lock(&s);
    match st.indices.get(&index).and_then(|i| i.docs.get(&id)) {
        Some((v, src)) => {
            let mut doc = json!({"_index": index, "_id": id, "_version": v, "_seq_no": 0, "_primary_term": 1, "found": true});
            if let Some(source) = stored_source(src) {
                doc["_source"] = source;
            }
            axum::Json(doc).into_response()
        }
        None if st.indices.contains_key(&index) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"_index": index, "_id": id, "found": false})),
        )
            .into_response(),
        None => error_response(
            StatusCode::NOT_FOUND,
            "index_not_found_exception",
            &format!("no such index [{index}]"),
        ),
    }
}

async fn set_faults(State(s): State<Shared>, body: Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "parse_exception",
                &format!("faults: {e}"),
            )
        }
    };
    let mut st = lock(&s);
    st.outage_until = (faults.outage_seconds > 0.0)
        .then(|| Instant::now() + Duration::from_secs_f64(faults.outage_seconds));
    st.rng = rand::rngs::StdRng::seed_from_u64(faults.seed);
    st.faults = faults;
    axum::Json(json!({"acknowledged": true})).into_response()
}

async fn stats(State(s): State<Shared>) -> Response {
    let st = lock(&s);
    let docs: BTreeMap<&String, usize> =
        st.indices.iter().map(|(k, v)| (k, v.docs.len())).collect();
    let overwritten: u64 = st
        .indices
        .values()
        .flat_map(|i| i.docs.values())
        .map(|(v, _)| v - 1)
        .sum();
    axum::Json(json!({
        "bulk_requests": st.counters.bulk_requests,
        "refused_requests": st.counters.refused_requests,
        "gzip_requests": st.counters.gzip_requests,
        "filtered_bulk_responses": st.counters.filtered_bulk_responses,
        "items": st.counters.items,
        "created": st.counters.created,
        "updated": st.counters.updated,
        "overwritten": overwritten,
        "rejected": st.counters.rejected,
        "docs": docs,
        "templates": st.templates.keys().collect::<Vec<_>>(),
        "policies": st.policies.keys().collect::<Vec<_>>(),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct IdsQuery {
    index: String,
}

/// Every `_id` in the indices matching `index`, one per line.
async fn ids(State(s): State<Shared>, Query(q): Query<IdsQuery>) -> Response {
    let st = lock(&s);
    let mut out = String::new();
    let mut seen = HashSet::new();
    for name in st.resolve(&q.index) {
        for id in st.indices[&name].docs.keys() {
            if seen.insert(id.clone()) {
                out.push_str(id);
                out.push('\n');
            }
        }
    }
    out.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response() -> Value {
        json!({
            "errors": true,
            "took": 3,
            "items": [
                {"index": {"_index": "logs", "_id": "a", "_version": 1, "result": "created", "status": 201}},
                {"create": {"_index": "logs", "_id": "b", "status": 400,
                    "error": {"type": "document_parsing_exception", "reason": "failed to parse field [n]"}}},
            ]
        })
    }

    #[test]
    fn filter_path_keeps_what_logstash_and_logredact_ask_for() {
        let filtered = filter_response(response(), "errors,items.*.error,items.*.status");
        assert_eq!(
            filtered,
            json!({
                "errors": true,
                "items": [
                    {"index": {"status": 201}},
                    {"create": {"status": 400,
                        "error": {"type": "document_parsing_exception", "reason": "failed to parse field [n]"}}},
                ]
            })
        );
    }

    #[test]
    fn filter_path_leaves_out_what_ends_up_empty() {
        let mut ok = response();
        ok["items"][1] = json!({"create": {"_index": "logs", "_id": "b", "status": 201}});
        assert_eq!(filter_response(ok, "items.*.error"), json!({}));
        assert_eq!(
            filter_response(response(), "items.*.error.type"),
            json!({"items": [{"create": {"error": {"type": "document_parsing_exception"}}}]})
        );
    }

    #[test]
    fn filter_path_wildcards_in_names_and_any_depth() {
        assert_eq!(
            filter_response(response(), "**.status"),
            json!({"items": [{"index": {"status": 201}}, {"create": {"status": 400}}]})
        );
        assert_eq!(
            filter_response(response(), "err*, t*"),
            json!({"errors": true, "took": 3})
        );
    }
}

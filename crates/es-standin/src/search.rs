//! `_search` (over indices, or over a point in time) and `_count`.
//!
//! What it guarantees, as ES does:
//! - hits come in `_shard_doc` order: each index is one shard, shards by
//!   name, documents by id (score order is the same, every score being 1.0);
//! - `from + size` may not pass `index.max_result_window` (10,000), a
//!   failure of every shard (400);
//! - `hits.total` counts every match, `search_after` or not, up to
//!   `track_total_hits` (10,000 by default, then `"relation": "gte"`);
//! - `_source` is the document's text as indexed (see `verbatim`);
//! - with a point in time (`POST /_search`, no index in the path) hits carry
//!   `"sort": [<_shard_doc>]` when sorted on `_shard_doc`, and the response
//!   carries `pit_id`.
//!
//! Queries: match_all, ids, term. Sorts: `_shard_doc`, which ES allows only
//! with a point in time. Any other body field is refused (400) rather than
//! ignored, so that no test passes on a feature the stand-in lacks.

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::admin::{all_shards_failed, error_response, token_name, validation_failed};
use crate::pit;
use crate::store::{lock, Shared, Store};
use crate::verbatim::{json_reply, raw_source};

/// ES's `index.max_result_window` default.
const MAX_RESULT_WINDOW: usize = 10_000;
/// ES's default `track_total_hits`.
const TRACK_TOTAL_HITS: u64 = 10_000;

/// A search body, checked.
pub(crate) struct SearchRequest {
    query: Option<Value>,
    from: usize,
    size: usize,
    /// `Some(descending)` when sorted on `_shard_doc`.
    shard_doc_sort: Option<bool>,
    search_after: Option<Vec<Value>>,
    pit: Option<PitRef>,
    /// Count matches up to this many; `None` when not counted at all.
    track_total_hits: Option<u64>,
}

struct PitRef {
    id: String,
    keep_alive: Option<String>,
}

/// A query as the stand-in evaluates it: match_all, ids or term, read
/// once per request (an `ids` query may list tens of thousands of ids).
pub(crate) enum DocQuery<'q> {
    All,
    Ids(HashSet<&'q str>),
    Term(&'q str, &'q Value),
}

impl<'q> DocQuery<'q> {
    pub(crate) fn read(query: Option<&'q Value>) -> Result<DocQuery<'q>, String> {
        let Some(q) = query else {
            return Ok(DocQuery::All);
        };
        if q.get("match_all").is_some() {
            return Ok(DocQuery::All);
        }
        if let Some(ids) = q.get("ids") {
            let values = ids["values"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            return Ok(DocQuery::Ids(
                values.iter().filter_map(Value::as_str).collect(),
            ));
        }
        if let Some(term) = q.get("term").and_then(Value::as_object) {
            let (field, want) = term.iter().next().ok_or("term query needs a field")?;
            return Ok(DocQuery::Term(field, want.get("value").unwrap_or(want)));
        }
        Err("the stand-in supports match_all, ids and term queries".into())
    }

    pub(crate) fn matches(&self, id: &str, source: &str) -> bool {
        match self {
            DocQuery::All => true,
            DocQuery::Ids(ids) => ids.contains(id),
            DocQuery::Term(field, want) => {
                let doc: Value = serde_json::from_str(source).unwrap_or(Value::Null);
                let mut at = &doc;
                for part in field.split('.') {
                    at = &at[part];
                }
                at == *want || at.as_array().is_some_and(|a| a.contains(want))
            }
        }
    }
}

/// Evaluates match_all, term and ids queries.
pub(crate) fn query_matches(query: Option<&Value>, id: &str, source: &str) -> Result<bool, String> {
    Ok(DocQuery::read(query)?.matches(id, source))
}

fn bad_request(error_type: &str, reason: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, error_type, reason)
}

impl SearchRequest {
    /// Reads a body and the URL's `size` and `from` (which win, as in ES).
    fn parse(body: &[u8], params: &HashMap<String, String>) -> Result<SearchRequest, Response> {
        let map = if body.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice(body) {
                Ok(Value::Object(map)) => map,
                Ok(other) => {
                    return Err(bad_request(
                        "parsing_exception",
                        &format!("Expected [START_OBJECT] but found [{}]", token_name(&other)),
                    ))
                }
                Err(e) => {
                    return Err(bad_request(
                        "x_content_parse_exception",
                        &format!("[search] {e}"),
                    ))
                }
            }
        };
        let mut req = SearchRequest {
            query: None,
            from: 0,
            size: 10,
            shard_doc_sort: None,
            search_after: None,
            pit: None,
            track_total_hits: Some(TRACK_TOTAL_HITS),
        };
        for (key, value) in map {
            match key.as_str() {
                "query" => req.query = Some(value),
                "size" => req.size = non_negative("size", value.as_i64())?,
                "from" => req.from = non_negative("from", value.as_i64())?,
                "sort" => req.shard_doc_sort = Some(parse_sort(&value)?),
                "search_after" => match value {
                    Value::Array(values) => req.search_after = Some(values),
                    _ => {
                        return Err(bad_request(
                            "parsing_exception",
                            "[search_after] must be an array",
                        ))
                    }
                },
                "pit" => req.pit = Some(parse_pit(&value)?),
                "track_total_hits" => {
                    req.track_total_hits = match value {
                        Value::Bool(true) => Some(u64::MAX),
                        Value::Bool(false) => None,
                        n => Some(non_negative("track_total_hits", n.as_i64())? as u64),
                    }
                }
                // Sources are returned anyway.
                "_source" if value == Value::Bool(true) => {}
                other => {
                    return Err(bad_request(
                        "illegal_argument_exception",
                        &format!("the stand-in does not implement [{other}] in a search body"),
                    ))
                }
            }
        }
        for (name, at) in [("size", &mut req.size), ("from", &mut req.from)] {
            if let Some(v) = params.get(name) {
                *at = non_negative(name, v.parse().ok())?;
            }
        }
        // Refuse an unsupported query even when there is nothing to match.
        query_matches(req.query.as_ref(), "", "")
            .map_err(|e| bad_request("parsing_exception", &e))?;
        Ok(req)
    }

    /// The checks ES makes on the whole request before any shard sees it,
    /// all reported at once.
    fn validate(&self) -> Result<(), Response> {
        let mut problems = Vec::new();
        if self.from > 0 && self.search_after.as_ref().is_some_and(|a| !a.is_empty()) {
            problems.push("[from] parameter must be set to 0 when [search_after] is used");
        }
        if self.pit.is_none() && self.shard_doc_sort.is_some() {
            problems.push("[_shard_doc] sort field cannot be used without [point in time]");
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(validation_failed(&problems))
        }
    }
}

fn non_negative(name: &str, n: Option<i64>) -> Result<usize, Response> {
    match n {
        Some(n) if n >= 0 => Ok(n as usize),
        Some(n) => Err(bad_request(
            "illegal_argument_exception",
            &format!("[{name}] parameter cannot be negative, found [{n}]"),
        )),
        None => Err(bad_request(
            "parsing_exception",
            &format!("[{name}] must be a whole number"),
        )),
    }
}

/// `"_shard_doc"`, `["_shard_doc"]`, `[{"_shard_doc": "desc"}]` or
/// `[{"_shard_doc": {"order": "desc"}}]`: whether it is descending.
fn parse_sort(value: &Value) -> Result<bool, Response> {
    let one = match value {
        Value::Array(items) if items.len() == 1 => &items[0],
        Value::Array(_) => &Value::Null,
        single => single,
    };
    let order = match one {
        Value::String(field) if field == "_shard_doc" => Some("asc"),
        Value::Object(m) if m.len() == 1 => match m.get("_shard_doc") {
            Some(Value::String(order)) => Some(order.as_str()),
            Some(Value::Object(o)) => o.get("order").and_then(Value::as_str).or(Some("asc")),
            _ => None,
        },
        _ => None,
    };
    match order {
        Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(other) => Err(bad_request(
            "illegal_argument_exception",
            &format!("Unknown SortOrder [{other}]"),
        )),
        None => Err(bad_request(
            "illegal_argument_exception",
            "the stand-in sorts on [_shard_doc] only",
        )),
    }
}

fn parse_pit(value: &Value) -> Result<PitRef, Response> {
    let id = value.get("id").and_then(Value::as_str).ok_or_else(|| {
        bad_request(
            "x_content_parse_exception",
            "[pit] failed to parse field [id]: required",
        )
    })?;
    let keep_alive = match value.get("keep_alive") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => {
            return Err(bad_request(
                "x_content_parse_exception",
                "[pit] failed to parse field [keep_alive]",
            ))
        }
    };
    Ok(PitRef {
        id: id.to_owned(),
        keep_alive,
    })
}

/// One shard's documents (id, source) in `_shard_doc` order.
struct ShardView<'a> {
    index: &'a str,
    docs: Vec<(&'a str, Option<&'a str>)>,
}

/// The live documents of the indices `expr` names.
fn live_shards<'a>(st: &'a Store, expr: &str) -> Vec<ShardView<'a>> {
    st.resolve(expr)
        .into_iter()
        .map(|name| {
            let index = &st.indices[&name];
            let mut docs: Vec<(&str, Option<&str>)> = index
                .docs
                .iter()
                .map(|(id, doc)| (id.as_str(), doc.source.as_deref()))
                .collect();
            docs.sort_unstable_by_key(|d| d.0);
            ShardView {
                index: &index.backing,
                docs,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct SearchResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pit_id: Option<&'a str>,
    took: u64,
    timed_out: bool,
    #[serde(rename = "_shards")]
    shards: Value,
    hits: Hits<'a>,
}

#[derive(Serialize)]
struct Hits<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<Value>,
    max_score: Option<f64>,
    hits: Vec<Hit<'a>>,
}

#[derive(Serialize)]
struct Hit<'a> {
    #[serde(rename = "_index")]
    index: &'a str,
    #[serde(rename = "_id")]
    id: &'a str,
    /// `null` when sorted on a field, as ES leaves scores untracked then.
    #[serde(rename = "_score")]
    score: Option<f64>,
    #[serde(rename = "_source", skip_serializing_if = "Option::is_none")]
    source: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort: Option<[u64; 1]>,
}

/// Runs `req` over `shards`.
fn run(shards: &[ShardView<'_>], req: &SearchRequest, pit_id: Option<&str>) -> Response {
    let names: Vec<&str> = shards.iter().map(|s| s.index).collect();
    // ES makes these checks on each shard; with none, nothing fails.
    let mut after = None;
    if !shards.is_empty() {
        let window = req.from.saturating_add(req.size);
        if window > MAX_RESULT_WINDOW {
            return all_shards_failed(
                StatusCode::BAD_REQUEST,
                "illegal_argument_exception",
                &format!("Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] but was [{window}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting."),
                &names,
            );
        }
        if let Some(values) = req.search_after.as_ref().filter(|v| !v.is_empty()) {
            match search_after_key(values, req.shard_doc_sort.is_some()) {
                Ok(key) => after = Some(key),
                Err(reason) => {
                    return all_shards_failed(
                        StatusCode::BAD_REQUEST,
                        "illegal_argument_exception",
                        &reason,
                        &names,
                    )
                }
            }
        }
    }
    let descending = req.shard_doc_sort == Some(true);
    let query = match DocQuery::read(req.query.as_ref()) {
        Ok(q) => q,
        Err(e) => return bad_request("parsing_exception", &e),
    };
    let mut matched: Vec<(u64, &str, &str, Option<&str>)> = Vec::new();
    for (shard, view) in shards.iter().enumerate() {
        for (doc, &(id, source)) in view.docs.iter().enumerate() {
            if query.matches(id, source.unwrap_or("")) {
                matched.push((((shard as u64) << 32) | doc as u64, view.index, id, source))
            }
        }
    }
    let total = matched.len() as u64;
    if descending {
        matched.reverse();
    }
    let sorted = req.shard_doc_sort.is_some();
    let hits: Vec<Hit> = matched
        .into_iter()
        .filter(|&(key, ..)| match after {
            None => true,
            Some(a) if descending => (key as i128) < a,
            Some(a) => (key as i128) > a,
        })
        .skip(req.from)
        .take(req.size)
        .map(|(key, index, id, source)| Hit {
            index,
            id,
            score: (!sorted).then_some(1.0),
            source: raw_source(source),
            sort: sorted.then_some([key]),
        })
        .collect();
    let n = shards.len();
    let response = SearchResponse {
        pit_id,
        took: 1,
        timed_out: false,
        shards: json!({"total": n, "successful": n, "skipped": 0, "failed": 0}),
        hits: Hits {
            total: req.track_total_hits.map(|up_to| {
                if total > up_to {
                    json!({"value": up_to, "relation": "gte"})
                } else {
                    json!({"value": total, "relation": "eq"})
                }
            }),
            max_score: (!sorted && !hits.is_empty()).then_some(1.0),
            hits,
        },
    };
    json_reply(StatusCode::OK, &response)
}

/// The `_shard_doc` value `search_after` names, read as ES reads a long
/// sort value (a number, or a string holding one).
fn search_after_key(values: &[Value], sorted: bool) -> Result<i128, String> {
    if !sorted {
        return Err("Sort must contain at least one field.".into());
    }
    if values.len() != 1 {
        return Err(format!(
            "search_after has {} value(s) but sort has 1.",
            values.len()
        ));
    }
    let key = match &values[0] {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    key.map(i128::from)
        .ok_or_else(|| "Failed to parse search_after value for field [_shard_doc].".into())
}

/// `GET|POST /{index}/_search`
pub(crate) async fn search(
    State(s): State<Shared>,
    Path(index): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let req = match SearchRequest::parse(&body, &params) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.pit.is_some() {
        // A point in time names its own indices.
        return validation_failed(&[
            "[indices] cannot be used with point in time. Do not specify any index with point in time.",
        ]);
    }
    if let Err(r) = req.validate() {
        return r;
    }
    let st = lock(&s);
    run(&live_shards(&st, &index), &req, None)
}

/// `GET|POST /_search`: every index, or a point in time's.
pub(crate) async fn search_all(
    State(s): State<Shared>,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let req = match SearchRequest::parse(&body, &params) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if let Err(r) = req.validate() {
        return r;
    }
    let mut st = lock(&s);
    let Some(pit) = &req.pit else {
        return run(&live_shards(&st, "_all"), &req, None);
    };
    let frozen = match pit::view(&mut st, &pit.id, pit.keep_alive.as_deref()) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let shards: Vec<ShardView> = frozen
        .iter()
        .map(|f| ShardView {
            index: &f.index,
            docs: f
                .docs
                .iter()
                .map(|(id, src)| (id.as_str(), src.as_deref()))
                .collect(),
        })
        .collect();
    run(&shards, &req, Some(&pit.id))
}

pub(crate) async fn count(
    State(s): State<Shared>,
    Path(index): Path<String>,
    body: Bytes,
) -> Response {
    let query: Option<Value> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b.get("query").cloned());
    let st = lock(&s);
    let mut n = 0u64;
    for name in st.resolve(&index) {
        for (id, doc) in &st.indices[&name].docs {
            match query_matches(query.as_ref(), id, doc.source.as_deref().unwrap_or("")) {
                Ok(true) => n += 1,
                Ok(false) => {}
                Err(e) => return bad_request("parsing_exception", &e),
            }
        }
    }
    axum::Json(
        json!({"count": n, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}}),
    )
    .into_response()
}

//! `_count`, `_search` (match_all, term, ids) and `_doc/{id}`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::admin::error_response;
use crate::store::{lock, stored_source, Shared};

#[derive(Deserialize, Default)]
pub(crate) struct SearchBody {
    pub(crate) query: Option<Value>,
    pub(crate) size: Option<usize>,
}

/// Evaluates match_all, term and ids queries.
pub(crate) fn query_matches(query: Option<&Value>, id: &str, source: &str) -> Result<bool, String> {
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

pub(crate) async fn count(
    State(s): State<Shared>,
    Path(index): Path<String>,
    body: Bytes,
) -> Response {
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

pub(crate) async fn search(
    State(s): State<Shared>,
    Path(index): Path<String>,
    body: Bytes,
) -> Response {
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

pub(crate) async fn get_doc(
    State(s): State<Shared>,
    Path((index, id)): Path<(String, String)>,
) -> Response {
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

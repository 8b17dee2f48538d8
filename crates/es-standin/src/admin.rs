//! `GET /`, index templates, ILM policies, `_refresh`, error bodies, and the
//! stand-in's own `/_standin/stats` and `/_standin/ids`.

use std::collections::{BTreeMap, HashSet};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::store::{lock, Shared};

pub(crate) fn error_body(error_type: &str, reason: &str, status: u16) -> Value {
    json!({
        "error": {
            "root_cause": [{"type": error_type, "reason": reason}],
            "type": error_type,
            "reason": reason,
        },
        "status": status,
    })
}

pub(crate) fn error_response(status: StatusCode, error_type: &str, reason: &str) -> Response {
    (
        status,
        axum::Json(error_body(error_type, reason, status.as_u16())),
    )
        .into_response()
}

/// ES's `index_not_found_exception` object, with the metadata ES adds
/// (`resource.*`, `index_uuid`, `index`) to the cause and its root cause.
pub(crate) fn index_not_found_error(name: &str) -> Value {
    let cause = json!({
        "type": "index_not_found_exception",
        "reason": format!("no such index [{name}]"),
        "resource.type": "index_or_alias",
        "resource.id": name,
        "index_uuid": "_na_",
        "index": name,
    });
    let mut error = cause.clone();
    error["root_cause"] = json!([cause]);
    error
}

/// 404 for a request that names a concrete index that does not exist.
pub(crate) fn index_not_found(name: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": index_not_found_error(name), "status": 404})),
    )
        .into_response()
}

/// ES's `action_request_validation_exception`: every problem found,
/// numbered, in one reason.
pub(crate) fn validation_failed(problems: &[&str]) -> Response {
    let mut reason = String::from("Validation Failed: ");
    for (i, p) in problems.iter().enumerate() {
        reason.push_str(&format!("{}: {p};", i + 1));
    }
    error_response(
        StatusCode::BAD_REQUEST,
        "action_request_validation_exception",
        &reason,
    )
}

/// A search-phase failure on every shard (`indices`, one shard each), as ES
/// reports a problem each shard found: a `search_phase_execution_exception`
/// whose root cause is the shards' own error. No shard id is known for a
/// missing search context, which ES reports as shard -1 of no index.
pub(crate) fn all_shards_failed(
    status: StatusCode,
    cause_type: &str,
    reason: &str,
    indices: &[&str],
) -> Response {
    let cause = json!({"type": cause_type, "reason": reason});
    let failed: Vec<Value> = if indices.is_empty() {
        vec![json!({"shard": -1, "index": null, "reason": cause})]
    } else {
        indices
            .iter()
            .map(|i| json!({"shard": 0, "index": i, "node": NODE_ID, "reason": cause}))
            .collect()
    };
    (
        status,
        axum::Json(json!({
            "error": {
                "root_cause": [cause],
                "type": "search_phase_execution_exception",
                "reason": "all shards failed",
                "phase": "query",
                "grouped": true,
                "failed_shards": failed,
                "caused_by": cause,
            },
            "status": status.as_u16(),
        })),
    )
        .into_response()
}

/// The name ES's JSON parser gives the token a value starts with, as its
/// parse errors quote it.
pub(crate) fn token_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "VALUE_NULL",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Number(_) => "VALUE_NUMBER",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

/// The stand-in's one node, as shard failures name it.
const NODE_ID: &str = "c3RhbmRpbi1ub2Rl";

pub(crate) async fn root() -> Response {
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

pub(crate) async fn unknown(method: axum::http::Method, uri: axum::http::Uri) -> Response {
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

pub(crate) async fn put_template(
    State(s): State<Shared>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
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

pub(crate) async fn get_template(State(s): State<Shared>, Path(name): Path<String>) -> Response {
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

pub(crate) async fn put_policy(
    State(s): State<Shared>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
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

pub(crate) async fn get_policy(State(s): State<Shared>, Path(name): Path<String>) -> Response {
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

pub(crate) async fn refresh() -> Response {
    axum::Json(json!({"_shards": {"total": 1, "successful": 1, "failed": 0}})).into_response()
}

pub(crate) async fn stats(State(s): State<Shared>) -> Response {
    let st = lock(&s);
    let docs: BTreeMap<&String, usize> =
        st.indices.iter().map(|(k, v)| (k, v.docs.len())).collect();
    let overwritten: u64 = st
        .indices
        .values()
        .flat_map(|i| i.docs.values())
        .map(|d| u64::from(d.version) - 1)
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
pub(crate) struct IdsQuery {
    pub(crate) index: String,
}

/// Every `_id` in the indices matching `index`, one per line.
pub(crate) async fn ids(State(s): State<Shared>, Query(q): Query<IdsQuery>) -> Response {
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

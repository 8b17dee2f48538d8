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

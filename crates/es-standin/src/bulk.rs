//! `POST /_bulk` and `/{index}/_bulk`: NDJSON parsed and judged as ES does
//! (malformed action lines refuse the whole request; per-item results and
//! errors shaped as ES returns them), gzip bodies, `filter_path`.

use std::io::Read;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::admin::error_response;
use crate::store::{lock, Shared};

pub(crate) fn decode_body(headers: &HeaderMap, body: Bytes) -> Result<Vec<u8>, Response> {
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
pub(crate) struct CommonOptions {
    /// Response filtering: comma-separated dotted paths to keep.
    pub(crate) filter_path: Option<String>,
}

pub(crate) async fn bulk_all(
    State(s): State<Shared>,
    Query(options): Query<CommonOptions>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    bulk(s, None, options, headers, body).await
}

pub(crate) async fn bulk_index(
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
pub(crate) fn filter_response(value: Value, filter_path: &str) -> Value {
    let patterns: Vec<Vec<&str>> = filter_path
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.split('.').collect())
        .collect();
    let patterns: Vec<&[&str]> = patterns.iter().map(Vec::as_slice).collect();
    keep_matching(value, &patterns).unwrap_or_else(|| json!({}))
}

pub(crate) fn keep_matching(value: Value, patterns: &[&[&str]]) -> Option<Value> {
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
pub(crate) fn after_key<'p>(pattern: &'p [&'p str], key: &str) -> Vec<&'p [&'p str]> {
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

pub(crate) fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| wildcard_match(rest, &name[i..])),
        Some((c, rest)) => name.first() == Some(c) && wildcard_match(rest, &name[1..]),
    }
}

/// One parsed bulk operation.
pub(crate) struct Op {
    pub(crate) action: &'static str,
    pub(crate) index: String,
    pub(crate) id: Option<String>,
    pub(crate) source: Option<String>,
}

pub(crate) fn malformed(line: usize, found: &str) -> Response {
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
pub(crate) fn parse_bulk(body: &[u8], default_index: Option<&str>) -> Result<Vec<Op>, Response> {
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
            // ES drops the `\r` of a CRLF line end from the source it keeps.
            let line = lines[i - 1];
            Some(line.strip_suffix('\r').unwrap_or(line).to_owned())
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

pub(crate) async fn bulk(
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

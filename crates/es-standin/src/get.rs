//! Documents by id: `GET /{index}/_doc/{id}` and `_mget`, `_source`
//! verbatim (see `verbatim`).
//!
//! `_mget` follows ES: each item names one concrete index. Wildcards are
//! not expanded (so `logs-*` is no index), a data stream's name is refused
//! (its backing index must be named, as search hits report it), and a
//! missing index is that item's error, not the request's. The response has
//! one entry per item, in order: the document, `"found": false`, or
//! `{"_index", "_id", "error"}`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::admin::{
    error_body, error_response, index_not_found, index_not_found_error, token_name,
    validation_failed,
};
use crate::store::{lock, Doc, Index, Shared, Store};
use crate::verbatim::{json_reply, raw_source};

/// A found document, as GET and mget show it.
#[derive(Serialize)]
struct Found<'a> {
    #[serde(rename = "_index")]
    index: &'a str,
    #[serde(rename = "_id")]
    id: &'a str,
    #[serde(rename = "_version")]
    version: u32,
    #[serde(rename = "_seq_no")]
    seq_no: u32,
    #[serde(rename = "_primary_term")]
    primary_term: u32,
    found: bool,
    #[serde(rename = "_source", skip_serializing_if = "Option::is_none")]
    source: Option<&'a RawValue>,
}

impl<'a> Found<'a> {
    fn new(index: &'a str, id: &'a str, doc: &'a Doc) -> Found<'a> {
        Found {
            index,
            id,
            version: doc.version,
            seq_no: doc.seq_no,
            primary_term: 1,
            found: true,
            source: raw_source(doc.source.as_deref()),
        }
    }
}

/// One `_mget` answer.
#[derive(Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Found(Found<'a>),
    Missing {
        #[serde(rename = "_index")]
        index: &'a str,
        #[serde(rename = "_id")]
        id: &'a str,
        found: bool,
    },
    Failed {
        #[serde(rename = "_index")]
        index: &'a str,
        #[serde(rename = "_id")]
        id: &'a str,
        error: Value,
    },
}

pub(crate) async fn get_doc(
    State(s): State<Shared>,
    Path((index, id)): Path<(String, String)>,
) -> Response {
    let st = lock(&s);
    let Some(held) = st.indices.get(&index) else {
        return index_not_found(&index);
    };
    match held.docs.get(&id) {
        Some(doc) => json_reply(StatusCode::OK, &Found::new(&index, &id, doc)),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"_index": index, "_id": id, "found": false})),
        )
            .into_response(),
    }
}

/// `GET|POST /_mget`
pub(crate) async fn mget_all(State(s): State<Shared>, body: Bytes) -> Response {
    mget(&s, None, &body)
}

/// `GET|POST /{index}/_mget`: `index` is the default for items without one.
pub(crate) async fn mget_index(
    State(s): State<Shared>,
    Path(index): Path<String>,
    body: Bytes,
) -> Response {
    mget(&s, Some(&index), &body)
}

fn mget(s: &Shared, default_index: Option<&str>, body: &[u8]) -> Response {
    let items = match parse_items(body, default_index) {
        Ok(items) => items,
        Err(r) => return r,
    };
    let mut problems = Vec::new();
    if items.is_empty() {
        problems.push("no documents to get".to_owned());
    }
    for (i, (index, id)) in items.iter().enumerate() {
        if index.is_none() {
            problems.push(format!("index is missing for doc {i}"));
        }
        if id.is_none() {
            problems.push(format!("id is missing for doc {i}"));
        }
    }
    if !problems.is_empty() {
        let problems: Vec<&str> = problems.iter().map(String::as_str).collect();
        return validation_failed(&problems);
    }
    let st = lock(s);
    let docs: Vec<Item> = items
        .iter()
        .map(|(index, id)| {
            let (index, id) = (index.as_deref().unwrap_or(""), id.as_deref().unwrap_or(""));
            match single_index(&st, index) {
                Err(error) => Item::Failed { index, id, error },
                Ok(held) => match held.docs.get(id) {
                    Some(doc) => Item::Found(Found::new(&held.backing, id, doc)),
                    None => Item::Missing {
                        index: &held.backing,
                        id,
                        found: false,
                    },
                },
            }
        })
        .collect();
    json_reply(StatusCode::OK, &Docs { docs })
}

#[derive(Serialize)]
struct Docs<'a> {
    docs: Vec<Item<'a>>,
}

/// The one concrete index `name` names, or the error ES gives that item.
fn single_index<'s>(st: &'s Store, name: &str) -> Result<&'s Index, Value> {
    match st.indices.get(name) {
        Some(index) if index.data_stream => Err(error_body(
            "illegal_argument_exception",
            &format!("The provided expression [{name}] matches a data stream, specify the corresponding concrete indices instead."),
            400,
        )["error"]
            .take()),
        Some(index) => Ok(index),
        // A data stream is held under its own name; its backing index is
        // found by the name hits report.
        None => st
            .indices
            .values()
            .find(|i| i.data_stream && i.backing == name)
            .ok_or_else(|| index_not_found_error(name)),
    }
}

/// The (index, id) of each item, before the checks that need them all.
type Items = Vec<(Option<String>, Option<String>)>;

/// Reads `{"docs": [{"_index", "_id"}, …]}` and/or `{"ids": [..]}` as ES's
/// parser does, with its messages.
fn parse_items(body: &[u8], default_index: Option<&str>) -> Result<Items, Response> {
    let bad = |t: &str, reason: &str| error_response(StatusCode::BAD_REQUEST, t, reason);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad(
            "parse_exception",
            "request body or source parameter is required",
        ));
    }
    let map = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            return Err(bad(
                "parsing_exception",
                &format!(
                    "unexpected token [{}], expected [START_OBJECT]",
                    token_name(&other)
                ),
            ))
        }
        Err(e) => return Err(bad("x_content_parse_exception", &format!("[mget] {e}"))),
    };
    let mut items = Items::new();
    for (key, value) in &map {
        let Value::Array(entries) = value else {
            return Err(bad(
                "parsing_exception",
                &format!(
                    "unexpected token [{}], expected [FIELD_NAME] or [START_ARRAY]",
                    token_name(value)
                ),
            ));
        };
        match key.as_str() {
            "docs" => {
                for entry in entries {
                    let Value::Object(fields) = entry else {
                        return Err(bad(
                            "illegal_argument_exception",
                            "docs array element should include an object",
                        ));
                    };
                    let mut index = default_index.map(str::to_owned);
                    let mut id = None;
                    for (field, v) in fields {
                        match field.as_str() {
                            "_index" => index = v.as_str().map(str::to_owned),
                            "_id" => id = text(v),
                            // One shard per index: routing changes nothing.
                            "routing" => {}
                            "_source" | "stored_fields" | "version" | "version_type" => {
                                return Err(bad(
                                    "illegal_argument_exception",
                                    &format!(
                                        "the stand-in does not implement [{field}] in mget docs"
                                    ),
                                ))
                            }
                            other => {
                                return Err(bad(
                                    "parse_exception",
                                    &format!(
                                    "failed to parse multi get request. unknown field [{other}]"
                                ),
                                ))
                            }
                        }
                    }
                    items.push((index, id));
                }
            }
            "ids" => {
                for entry in entries {
                    let Some(id) = text(entry) else {
                        return Err(bad(
                            "illegal_argument_exception",
                            "ids array element should only contain ids",
                        ));
                    };
                    items.push((default_index.map(str::to_owned), Some(id)));
                }
            }
            other => {
                return Err(bad(
                    "parsing_exception",
                    &format!("unknown key [{other}] for a START_ARRAY, expected [docs] or [ids]"),
                ))
            }
        }
    }
    Ok(items)
}

/// An id as ES reads one: a string, or a number's text.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

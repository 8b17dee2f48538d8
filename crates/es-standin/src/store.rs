//! What the stand-in holds: indices and their documents, templates, ILM
//! policies, points in time, counters; and the mapping checks ES makes on
//! each document.
//!
//! A document's source is held as the exact text it was indexed with, never
//! re-serialised, so that every endpoint can return it byte for byte as ES
//! does.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::Rng;
use serde_json::{json, Value};

use crate::bulk::Op;
use crate::faults::Faults;
use crate::pit::Pits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
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

/// One held document.
///
/// 24 bytes besides its id: a long soak holds tens of millions of these, so
/// the version and sequence number are 32-bit (no test writes four billion
/// times to one index; they saturate rather than wrap if one did).
pub(crate) struct Doc {
    pub(crate) version: u32,
    /// The `_seq_no` of the write that made this version, as GET reports it.
    pub(crate) seq_no: u32,
    /// The source exactly as indexed (already checked to be a JSON object),
    /// or `None` with `--no-source`, where ES would leave `_source` out.
    /// Shared, so that a point in time holds it without a copy.
    pub(crate) source: Option<Arc<str>>,
}

#[derive(Default)]
pub(crate) struct Index {
    pub(crate) docs: HashMap<String, Doc>,
    pub(crate) mapping: HashMap<String, Kind>,
    pub(crate) seq_no: u64,
    pub(crate) data_stream: bool,
    /// The name ES reports in results: the index itself, or a data
    /// stream's first backing index.
    pub(crate) backing: String,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) bulk_requests: u64,
    pub(crate) items: u64,
    pub(crate) created: u64,
    pub(crate) updated: u64,
    pub(crate) rejected: BTreeMap<String, u64>,
    pub(crate) refused_requests: u64,
    pub(crate) gzip_requests: u64,
    /// Bulk requests that asked for response filtering (`filter_path`).
    pub(crate) filtered_bulk_responses: u64,
}

pub(crate) struct Store {
    pub(crate) indices: HashMap<String, Index>,
    pub(crate) templates: BTreeMap<String, Value>,
    pub(crate) policies: BTreeMap<String, Value>,
    pub(crate) faults: Faults,
    pub(crate) outage_until: Option<Instant>,
    pub(crate) rng: rand::rngs::StdRng,
    pub(crate) counters: Counters,
    /// False with `--no-source`: documents are held without their bodies.
    pub(crate) keep_source: bool,
    /// Open points in time: frozen views searched with `pit`.
    pub(crate) pits: Pits,
}

pub(crate) type Shared = Arc<Mutex<Store>>;

pub(crate) fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Store> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl Store {
    pub(crate) fn apply(&mut self, op: Op) -> (&'static str, Value) {
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
                    Some(doc) => (
                        action,
                        json!({"_index": index_name, "_id": id, "_version": doc.version + 1, "result": "deleted", "status": 200, "_shards": shards(), "_seq_no": index.seq_no, "_primary_term": 1}),
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
        let doc: Value = match crate::strict::parse(&source) {
            Ok(v @ Value::Object(_)) => v,
            Err(crate::strict::Refusal::Duplicate(reason)) => {
                let cause = json!({"type": "json_parse_exception", "reason": reason});
                return result(&index_name, &id, 400, parsing_failed(&reason, Some(cause)));
            }
            _ => {
                let reason = "[1:1] failed to parse: the document is not a JSON object";
                return result(&index_name, &id, 400, parsing_failed(reason, None));
            }
        };
        if index.data_stream && doc.get("@timestamp").is_none() {
            let reason =
                "[1:1] failed to parse: data stream timestamp field [@timestamp] is missing";
            return result(&index_name, &id, 400, parsing_failed(reason, None));
        }
        let mut new_fields = Vec::new();
        if let Err(reason) = check_mapping(&index.mapping, &mut new_fields, "", &doc, &id) {
            let cause = json!({"type": "illegal_argument_exception", "reason": "mapping conflict"});
            return result(&index_name, &id, 400, parsing_failed(&reason, Some(cause)));
        }
        index.mapping.extend(new_fields);
        let existing = index.docs.get(&id).map(|d| d.version);
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
        let version = existing.map_or(1, |v| v.saturating_add(1));
        index.seq_no += 1;
        let seq_no = index.seq_no - 1;
        // Without sources, a document is its id, version and sequence number.
        let kept = self.keep_source.then(|| Arc::from(source));
        index.docs.insert(
            id.clone(),
            Doc {
                version,
                seq_no: u32::try_from(seq_no).unwrap_or(u32::MAX),
                source: kept,
            },
        );
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
    pub(crate) fn resolve(&self, expr: &str) -> Vec<String> {
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

pub(crate) fn shards() -> Value {
    json!({"total": 2, "successful": 1, "failed": 0})
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
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
pub(crate) fn check_mapping(
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

pub(crate) fn preview(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    s.chars().take(20).collect()
}

/// The error body ES gives for a document it cannot parse or map.
fn parsing_failed(reason: &str, caused_by: Option<Value>) -> Value {
    let mut error = json!({"type": "document_parsing_exception", "reason": reason});
    if let Some(cause) = caused_by {
        error["caused_by"] = cause;
    }
    error
}

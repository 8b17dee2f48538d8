//! Points in time: `POST /{index}/_pit?keep_alive=…` opens one, `DELETE
//! /_pit` closes it, and `_search` with `"pit": {"id": …}` reads it (see
//! `search`).
//!
//! What it guarantees, as ES does:
//! - a point in time sees the documents (index, id, source) held when it
//!   was opened; later writes and deletes do not change what searches with
//!   it return;
//! - each of its indices is one shard, as an ES 8 index is by default; its
//!   `_shard_doc` numbers are `(shard << 32) | doc`, shards in index-name
//!   order and documents in id order, and do not change while it is open;
//! - it lives `keep_alive` past its last use (a search may give a new
//!   `keep_alive`), at most `search.max_keep_alive` (24h); once expired or
//!   closed, searches with it fail with 404 `search_context_missing_exception`
//!   and closing it again answers 404 `{"succeeded": false, "num_freed": 0}`.
//!
//! Where the stand-in differs from ES: its id is its own (base64url, as
//! ES's, but holding only a context number and a shard count); expiry is
//! checked lazily, on each point-in-time request; and it holds at most
//! [`MAX_OPEN`] open at once. ES 8 sets no such limit (the
//! `search.max_open_pit_context` setting, default 300, is OpenSearch's);
//! the bound is there so that a client that never closes its points in
//! time fails a test rather than growing the stand-in without end.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::admin::{all_shards_failed, error_response, index_not_found, validation_failed};
use crate::store::{lock, Shared, Store};

/// Points in time the stand-in holds open at once (see the module doc).
pub(crate) const MAX_OPEN: usize = 300;

/// ES's `search.max_keep_alive` default.
const MAX_KEEP_ALIVE: Duration = Duration::from_secs(24 * 3600);

/// The open points in time.
#[derive(Default)]
pub(crate) struct Pits {
    open: HashMap<u64, Pit>,
    /// The last context number given out; numbers are never reused, so a
    /// closed point in time's id stays unknown for good.
    last_context: u64,
}

struct Pit {
    shards: Vec<FrozenShard>,
    keep_alive: Duration,
    expires: Instant,
}

/// One index as it was when a point in time was opened.
pub(crate) struct FrozenShard {
    /// The name hits report: the index, or a data stream's backing index.
    pub(crate) index: String,
    /// Ids and sources in `_shard_doc` order (by id).
    pub(crate) docs: Vec<(String, Option<Arc<str>>)>,
}

impl Pits {
    fn forget_expired(&mut self, now: Instant) {
        self.open.retain(|_, pit| pit.expires > now);
    }
}

/// `POST /_pit`: ES requires indices.
pub(crate) async fn open_without_index() -> Response {
    validation_failed(&["[index] is not specified"])
}

/// `POST /{index}/_pit?keep_alive=…`
pub(crate) async fn open(
    State(s): State<Shared>,
    Path(index): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(keep_alive) = params.get("keep_alive") else {
        return validation_failed(&["[keep_alive] is not specified"]);
    };
    let keep_alive = match parse_time("keep_alive", keep_alive) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let mut st = lock(&s);
    let names = match resolve_existing(&st, &index) {
        Ok(names) => names,
        Err(missing) => return index_not_found(&missing),
    };
    // ES checks the limit on each shard it opens a reader on: a point in
    // time over no index has nothing to refuse.
    if !names.is_empty() {
        let backing: Vec<&str> = names
            .iter()
            .map(|n| st.indices[n].backing.as_str())
            .collect();
        if let Err(r) = check_keep_alive(keep_alive, &backing) {
            return r;
        }
    }
    let now = Instant::now();
    st.pits.forget_expired(now);
    if st.pits.open.len() >= MAX_OPEN {
        return error_response(
            StatusCode::TOO_MANY_REQUESTS,
            "es_rejected_execution_exception",
            &format!(
                "the stand-in holds at most [{MAX_OPEN}] open points in time (ES itself sets no such limit); close those no longer used with DELETE /_pit"
            ),
        );
    }
    let shards = freeze(&st, &names);
    let id = PitId {
        context: st.pits.last_context + 1,
        shards: shards.len(),
    };
    st.pits.last_context = id.context;
    st.pits.open.insert(
        id.context,
        Pit {
            shards,
            keep_alive,
            expires: now + keep_alive,
        },
    );
    let n = id.shards;
    axum::Json(json!({
        "id": id.encode(),
        "_shards": {"total": n, "successful": n, "skipped": 0, "failed": 0},
    }))
    .into_response()
}

/// `DELETE /_pit` with `{"id": …}`.
pub(crate) async fn close(State(s): State<Shared>, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(text) = body.get("id").and_then(Value::as_str) else {
        return validation_failed(&["id is empty"]);
    };
    let id = match PitId::decode(text) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let mut st = lock(&s);
    st.pits.forget_expired(Instant::now());
    let freed = st
        .pits
        .open
        .remove(&id.context)
        .map_or(0, |p| p.shards.len());
    // ES frees each shard's reader; it succeeded when all were still there,
    // and answers 404 when none was freed and not all succeeded.
    let succeeded = freed == id.shards;
    let status = if succeeded || freed > 0 {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    (
        status,
        axum::Json(json!({"succeeded": succeeded, "num_freed": freed})),
    )
        .into_response()
}

/// The frozen shards a search with point in time `id` reads, its life
/// extended by `keep_alive` (or by the last one given).
pub(crate) fn view<'s>(
    st: &'s mut Store,
    id: &str,
    keep_alive: Option<&str>,
) -> Result<&'s [FrozenShard], Response> {
    let id = PitId::decode(id)?;
    let keep_alive = keep_alive
        .map(|k| parse_time("keep_alive", k))
        .transpose()?;
    let now = Instant::now();
    st.pits.forget_expired(now);
    let Some(pit) = st.pits.open.get_mut(&id.context) else {
        if id.shards == 0 {
            // Nothing to search, so nothing ES could miss.
            return Ok(&[]);
        }
        return Err(all_shards_failed(
            StatusCode::NOT_FOUND,
            "search_context_missing_exception",
            &format!("No search context found for id [{}]", id.context),
            &[],
        ));
    };
    if let Some(k) = keep_alive {
        let backing: Vec<&str> = pit.shards.iter().map(|s| s.index.as_str()).collect();
        check_keep_alive(k, &backing)?;
        pit.keep_alive = k;
    }
    pit.expires = now + pit.keep_alive;
    Ok(&pit.shards)
}

/// Index names `expr` names, as ES resolves a search's indices by default:
/// a comma list where each `*` pattern may match nothing but each plain
/// name must exist (`Err` holds the first missing name).
fn resolve_existing(st: &Store, expr: &str) -> Result<Vec<String>, String> {
    for part in expr.split(',') {
        if part != "_all" && !part.contains('*') && !st.indices.contains_key(part) {
            return Err(part.to_owned());
        }
    }
    Ok(st.resolve(expr))
}

/// The documents of `names` as they are now; sources are shared, not copied.
fn freeze(st: &Store, names: &[String]) -> Vec<FrozenShard> {
    names
        .iter()
        .map(|name| {
            let index = &st.indices[name];
            let mut docs: Vec<(String, Option<Arc<str>>)> = index
                .docs
                .iter()
                .map(|(id, doc)| (id.clone(), doc.source.clone()))
                .collect();
            docs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            FrozenShard {
                index: index.backing.clone(),
                docs,
            }
        })
        .collect()
}

fn check_keep_alive(keep_alive: Duration, indices: &[&str]) -> Result<(), Response> {
    if keep_alive <= MAX_KEEP_ALIVE {
        return Ok(());
    }
    Err(all_shards_failed(
        StatusCode::BAD_REQUEST,
        "illegal_argument_exception",
        &format!(
            "Keep alive for request ({}) is too large. It must be less than ({}). This limit can be set by changing the [search.max_keep_alive] cluster level setting.",
            human_time(keep_alive),
            human_time(MAX_KEEP_ALIVE)
        ),
        indices,
    ))
}

/// What a point-in-time id stands for. The text is base64url, like ES's, so
/// that a client that mangles ids (`-`, `_`, `=`) fails here as it would
/// there.
#[derive(Debug, PartialEq)]
struct PitId {
    context: u64,
    /// How many shards (indices) it covers, which closing and searching an
    /// unknown id need, as ES reads them from its own ids.
    shards: usize,
}

impl PitId {
    fn encode(&self) -> String {
        base64url(format!("es-standin point in time:{}:{}", self.context, self.shards).as_bytes())
    }

    fn decode(text: &str) -> Result<PitId, Response> {
        let parsed = unbase64url(text)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| {
                let rest = t.strip_prefix("es-standin point in time:")?;
                let (context, shards) = rest.split_once(':')?;
                Some(PitId {
                    context: context.parse().ok()?,
                    shards: shards.parse().ok()?,
                })
            });
        parsed.ok_or_else(|| {
            error_response(
                StatusCode::BAD_REQUEST,
                "illegal_argument_exception",
                &format!("invalid id: [{text}]"),
            )
        })
    }
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url with `=` padding, as Java's `Base64.getUrlEncoder()` writes.
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64URL[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64url(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u32> = text
        .trim_end_matches('=')
        .bytes()
        .map(|c| BASE64URL.iter().position(|&d| d == c).map(|p| p as u32))
        .collect::<Option<_>>()?;
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (d << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// ES's time values (`TimeValue.parseTimeValue`): a whole number and a
/// unit, `d`, `h`, `m`, `s`, `ms`, `micros` or `nanos`.
pub(crate) fn parse_time(setting: &str, text: &str) -> Result<Duration, Response> {
    let t = text.trim().to_lowercase();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let fail = |why: &str| {
        error_response(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            &format!(
                "failed to parse setting [{setting}] with value [{text}] as a time value: {why}"
            ),
        )
    };
    // Longest suffixes first: `ms` and `nanos` also end in `s`.
    let units: [(&str, u64); 7] = [
        ("nanos", 1),
        ("micros", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
        ("d", 86_400_000_000_000),
    ];
    let Some((number, nanos)) = units
        .iter()
        .find_map(|(unit, nanos)| t.strip_suffix(unit).map(|n| (n.trim(), *nanos)))
    else {
        return Err(fail("unit is missing or unrecognized"));
    };
    match number.parse::<u64>() {
        Ok(n) => Ok(Duration::from_nanos(n.saturating_mul(nanos))),
        Err(_) if number.parse::<f64>().is_ok() => Err(error_response(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            &format!("failed to parse [{text}], fractional time values are not supported"),
        )),
        Err(_) => Err(fail("not a whole number")),
    }
}

/// A duration as ES prints one in messages (`TimeValue.toString`): in the
/// largest unit it reaches, with at most one decimal, cut not rounded.
fn human_time(d: Duration) -> String {
    let nanos = d.as_nanos() as f64;
    let units: [(&str, f64); 6] = [
        ("d", 86_400e9),
        ("h", 3_600e9),
        ("m", 60e9),
        ("s", 1e9),
        ("ms", 1e6),
        ("micros", 1e3),
    ];
    let (unit, size) = units
        .iter()
        .copied()
        .find(|&(_, size)| nanos >= size)
        .unwrap_or(("nanos", 1.0));
    let tenths = (nanos / size * 10.0).floor() as u64;
    if tenths % 10 == 0 {
        format!("{}{unit}", tenths / 10)
    } else {
        format!("{}.{}{unit}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back_as_written() {
        for (context, shards) in [(1, 0), (7, 1), (u64::MAX, 3)] {
            let id = PitId { context, shards };
            let text = id.encode();
            assert!(text.ends_with('=') || text.len() % 4 == 0, "{text}");
            assert_eq!(PitId::decode(&text).unwrap(), id);
        }
        assert!(PitId::decode("not an id!").is_err());
        assert!(PitId::decode(&base64url(b"something else:1:1")).is_err());
    }

    #[test]
    fn base64url_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg==");
        assert_eq!(base64url(b"fo"), "Zm8=");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8=");
        assert_eq!(unbase64url("-_8=").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn time_values_as_es_reads_and_prints_them() {
        assert_eq!(parse_time("k", "1m").unwrap(), Duration::from_secs(60));
        assert_eq!(
            parse_time("k", "250ms").unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(parse_time("k", "2H").unwrap(), Duration::from_secs(7200));
        assert_eq!(
            parse_time("k", "10nanos").unwrap(),
            Duration::from_nanos(10)
        );
        assert!(parse_time("k", "10").is_err());
        assert!(parse_time("k", "1.5m").is_err());
        assert!(parse_time("k", "m").is_err());
        assert_eq!(human_time(Duration::from_secs(25 * 3600)), "1d");
        assert_eq!(human_time(Duration::from_secs(36 * 3600)), "1.5d");
        assert_eq!(human_time(Duration::from_secs(90)), "1.5m");
        assert_eq!(human_time(Duration::from_millis(5)), "5ms");
    }
}

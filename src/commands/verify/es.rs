//! Reads an Elasticsearch output back for `verify`: every document of its
//! indices and every seal of the seal index, each through a point in time
//! paged with `search_after` (10,000 hits a request, never one request per
//! document). Sources are taken as the bytes Elasticsearch returns, which
//! are the bytes that were indexed.

use std::time::Duration;

use elasticsearch::http::headers::{HeaderMap, HeaderValue, CONTENT_TYPE};
use elasticsearch::http::Method;
use elasticsearch::Elasticsearch;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::seal::check::{HeldDocs, Problem};
use crate::seal::doc_hash;
use crate::seal::record::{parse_line, ReadSeal};

const PAGE: usize = 10_000;
const KEEP_ALIVE: &str = "2m";

#[derive(Deserialize)]
struct Page<'a> {
    pit_id: Option<String>,
    #[serde(borrow)]
    hits: Hits<'a>,
}

#[derive(Deserialize)]
struct Hits<'a> {
    #[serde(borrow)]
    hits: Vec<Hit<'a>>,
}

#[derive(Deserialize)]
struct Hit<'a> {
    _index: String,
    _id: String,
    #[serde(borrow)]
    _source: Option<&'a RawValue>,
    #[serde(default)]
    sort: Vec<serde_json::Value>,
}

async fn send(
    client: &Elasticsearch,
    method: Method,
    path: &str,
    query: &[(&str, &str)],
    body: Option<String>,
    timeout: Duration,
) -> anyhow::Result<(u16, String)> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let r = client
        .send(method, path, headers, Some(&query), body, Some(timeout))
        .await
        .map_err(|e| anyhow::anyhow!("no answer from Elasticsearch for {path}: {e}"))?;
    let status = r.status_code().as_u16();
    Ok((status, r.text().await?))
}

/// Calls `each` with every hit of `index` (a pattern), a page at a time;
/// with `query`, only the hits it matches.
async fn scan(
    client: &Elasticsearch,
    index: &str,
    timeout: Duration,
    query: Option<&serde_json::Value>,
    mut each: impl FnMut(&str, &str, &[u8]),
) -> anyhow::Result<()> {
    let (status, text) = send(
        client,
        Method::Post,
        &format!("/{index}/_pit"),
        &[("keep_alive", KEEP_ALIVE)],
        None,
        timeout,
    )
    .await?;
    if status == 404 {
        return Ok(()); // No such index: nothing held.
    }
    if status != 200 {
        anyhow::bail!(
            "Elasticsearch refused to open a point in time on {index}: HTTP {status}: {}",
            first_line(&text)
        );
    }
    let mut pit: String = serde_json::from_str::<serde_json::Value>(&text)?["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the point in time answer has no id"))?
        .to_owned();
    let mut after: Option<Vec<serde_json::Value>> = None;
    let result = loop {
        let mut body = serde_json::json!({
            "size": PAGE,
            "pit": {"id": pit, "keep_alive": KEEP_ALIVE},
            "sort": [{"_shard_doc": "asc"}],
            "track_total_hits": false,
        });
        if let Some(a) = &after {
            body["search_after"] = serde_json::Value::Array(a.clone());
        }
        if let Some(q) = query {
            body["query"] = q.clone();
        }
        let (status, text) = send(
            client,
            Method::Post,
            "/_search",
            &[],
            Some(body.to_string()),
            timeout,
        )
        .await?;
        if status != 200 {
            break Err(anyhow::anyhow!(
                "a search of {index} failed: HTTP {status}: {}",
                first_line(&text)
            ));
        }
        let page: Page<'_> = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!("a search answer is not what Elasticsearch sends ({e})")
        })?;
        if let Some(id) = page.pit_id {
            pit = id;
        }
        let n = page.hits.hits.len();
        for hit in &page.hits.hits {
            let source = hit._source.map(|s| s.get().as_bytes()).unwrap_or_default();
            each(&hit._index, &hit._id, source);
        }
        match page.hits.hits.last() {
            Some(last) if n == PAGE => after = Some(last.sort.clone()),
            _ => break Ok(()),
        }
    };
    let _ = send(
        client,
        Method::Delete,
        "/_pit",
        &[],
        Some(serde_json::json!({ "id": pit }).to_string()),
        timeout,
    )
    .await;
    result
}

/// The first line of an answer, at most 300 bytes, cut at a character
/// boundary (an error page or a reason may be in any language).
fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or("");
    let mut end = line.len().min(300);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

/// The documents of the output's indices (`pattern`) that `wants` keeps.
pub async fn documents(
    client: &Elasticsearch,
    pattern: &str,
    timeout: Duration,
    wants: &dyn Fn(&str) -> bool,
    progress: &dyn Fn(u64),
) -> anyhow::Result<HeldDocs> {
    let mut docs = HeldDocs::default();
    let mut n = 0u64;
    scan(client, pattern, timeout, None, |index, id, source| {
        if wants(id) {
            docs.add(id, index, None, doc_hash(source));
        } else {
            docs.pass_over();
        }
        n += 1;
        if n % 10_000 == 0 {
            progress(n);
        }
    })
    .await?;
    Ok(docs)
}

/// The documents with these ids, in the output's indices (`pattern`),
/// asked for 10,000 ids at a time: a time window's documents, without
/// reading the whole output.
pub async fn documents_with_ids(
    client: &Elasticsearch,
    pattern: &str,
    timeout: Duration,
    ids: impl Iterator<Item = String>,
    progress: &dyn Fn(u64),
) -> anyhow::Result<HeldDocs> {
    let mut docs = HeldDocs::default();
    let mut n = 0u64;
    let mut ids = ids.peekable();
    while ids.peek().is_some() {
        let chunk: Vec<String> = ids.by_ref().take(PAGE).collect();
        let query = serde_json::json!({ "ids": { "values": chunk } });
        scan(
            client,
            pattern,
            timeout,
            Some(&query),
            |index, id, source| {
                docs.add(id, index, None, doc_hash(source));
                n += 1;
                if n % 10_000 == 0 {
                    progress(n);
                }
            },
        )
        .await?;
    }
    Ok(docs)
}

/// Every seal in the seal index, handed to `each` as read; what is not a
/// seal is a problem.
pub async fn seals(
    client: &Elasticsearch,
    index: &str,
    timeout: Duration,
    each: &mut dyn FnMut(ReadSeal),
    problems: &mut Vec<Problem>,
) -> anyhow::Result<()> {
    scan(
        client,
        index,
        timeout,
        None,
        |_, id, source| match parse_line(source, id.to_owned()) {
            Ok(s) => each(s),
            Err(why) => problems.push(Problem::Malformed {
                seal: id.to_owned(),
                why,
            }),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::first_line;

    #[test]
    fn a_long_first_line_is_cut_between_characters() {
        // 299 bytes, then a three-byte character across byte 300.
        let text = format!("{}索引不存在\nsecond", "x".repeat(299));
        assert_eq!(first_line(&text), "x".repeat(299));
        assert_eq!(first_line("短\nb"), "短");
        assert_eq!(first_line(""), "");
    }
}

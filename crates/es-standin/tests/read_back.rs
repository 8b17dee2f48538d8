//! Reading documents back: `_source` byte for byte on every endpoint that
//! returns it, and `_mget` as ES answers it.

mod support;

use serde_json::json;
use support::{index_op, StandIn};

/// Keys out of order, numbers written as ES would never write them, an
/// escape and odd spacing: all must come back as sent.
const ODD_SOURCE: &str = r#"{"z":1.50,"a":1e3, "m":{"y":true,"b":[3,1.0]},"s":"caf\u00e9","n":-0}"#;

#[tokio::test]
async fn sources_come_back_byte_for_byte_from_get_search_mget_and_a_point_in_time() {
    let es = StandIn::start().await;
    es.bulk(&index_op("logs", "odd", ODD_SOURCE)).await;
    let want = format!(r#""_source":{ODD_SOURCE}"#);

    let (status, get) = es.call("GET", "/logs/_doc/odd", "").await;
    assert_eq!(status, 200, "{get}");
    assert!(get.contains(&want), "GET _doc: {get}");

    let (status, search) = es
        .call(
            "POST",
            "/logs/_search",
            r#"{"query":{"ids":{"values":["odd"]}}}"#,
        )
        .await;
    assert_eq!(status, 200, "{search}");
    assert!(search.contains(&want), "_search: {search}");

    let (status, mget) = es
        .call(
            "POST",
            "/_mget",
            r#"{"docs":[{"_index":"logs","_id":"odd"}]}"#,
        )
        .await;
    assert_eq!(status, 200, "{mget}");
    assert!(mget.contains(&want), "_mget: {mget}");

    let pit = es.open_pit("logs").await;
    let body = json!({"pit": {"id": pit}, "sort": ["_shard_doc"]}).to_string();
    let (status, paged) = es.call("POST", "/_search", &body).await;
    assert_eq!(status, 200, "{paged}");
    assert!(paged.contains(&want), "_search with pit: {paged}");
}

#[tokio::test]
async fn a_crlf_line_end_in_a_bulk_body_is_not_part_of_the_source() {
    let es = StandIn::start().await;
    let body = "{\"index\":{\"_index\":\"logs\",\"_id\":\"1\"}}\r\n{\"b\":2,\"a\":1}\r\n";
    let (status, text) = es.call("POST", "/_bulk", body).await;
    assert_eq!(status, 200, "{text}");
    let (_, get) = es.call("GET", "/logs/_doc/1", "").await;
    assert!(get.contains(r#""_source":{"b":2,"a":1}}"#), "{get}");
}

#[tokio::test]
async fn without_sources_no_endpoint_returns_a_source() {
    let es = StandIn::start_with(false).await;
    es.bulk(&index_op("logs", "a", r#"{"n":1}"#)).await;
    let (_, get) = es.json("GET", "/logs/_doc/a", "").await;
    assert_eq!(get["found"], true);
    assert!(get.get("_source").is_none(), "{get}");
    let (_, mget) = es.json("POST", "/logs/_mget", r#"{"ids":["a"]}"#).await;
    assert!(mget["docs"][0].get("_source").is_none(), "{mget}");
    let (_, search) = es.json("POST", "/logs/_search", "").await;
    assert!(
        search["hits"]["hits"][0].get("_source").is_none(),
        "{search}"
    );
}

#[tokio::test]
async fn mget_answers_found_not_found_and_missing_index_item_by_item() {
    let es = StandIn::start().await;
    let mut ops = Vec::new();
    ops.extend(index_op("logs", "a", r#"{"n":1}"#));
    ops.extend(index_op("logs", "a", r#"{"n":2}"#));
    ops.extend(index_op("logs", "b", r#"{"n":3}"#));
    es.bulk(&ops).await;

    let body = r#"{"docs":[
        {"_index":"logs","_id":"a"},
        {"_index":"logs","_id":"nope"},
        {"_index":"gone","_id":"a"},
        {"_index":"log*","_id":"a"}
    ]}"#;
    let (status, text) = es.call("POST", "/_mget", body).await;
    assert_eq!(status, 200, "{text}");
    let mget: serde_json::Value = serde_json::from_str(&text).unwrap();
    let docs = mget["docs"].as_array().unwrap();
    assert_eq!(docs.len(), 4);
    assert_eq!(
        docs[0],
        json!({"_index": "logs", "_id": "a", "_version": 2, "_seq_no": 1,
               "_primary_term": 1, "found": true, "_source": {"n": 2}})
    );
    assert_eq!(
        docs[1],
        json!({"_index": "logs", "_id": "nope", "found": false})
    );
    assert_eq!(docs[2]["_index"], "gone");
    assert_eq!(docs[2]["_id"], "a");
    assert_eq!(docs[2]["error"]["type"], "index_not_found_exception");
    assert_eq!(docs[2]["error"]["reason"], "no such index [gone]");
    assert_eq!(docs[2]["error"]["root_cause"][0]["index"], "gone");
    assert!(docs[2].get("found").is_none(), "{}", docs[2]);
    // mget names one concrete index: wildcards are not expanded.
    assert_eq!(docs[3]["error"]["reason"], "no such index [log*]");

    // With the index in the path, bare ids; the order of the ids is kept.
    let (status, mget) = es.json("GET", "/logs/_mget", r#"{"ids":["b","a"]}"#).await;
    assert_eq!(status, 200, "{mget}");
    assert_eq!(mget["docs"][0]["_id"], "b");
    assert_eq!(mget["docs"][0]["_seq_no"], 2);
    assert_eq!(mget["docs"][1]["_source"], json!({"n": 2}));

    let (status, gone) = es.json("POST", "/gone/_mget", r#"{"ids":["a"]}"#).await;
    assert_eq!(status, 200, "{gone}");
    assert_eq!(
        gone["docs"][0]["error"]["type"],
        "index_not_found_exception"
    );
}

#[tokio::test]
async fn mget_refuses_what_es_refuses() {
    let es = StandIn::start().await;
    let cases = [
        (
            "/_mget",
            r#"{"docs":[]}"#,
            "Validation Failed: 1: no documents to get;",
        ),
        (
            "/_mget",
            r#"{"ids":["a"]}"#,
            "Validation Failed: 1: index is missing for doc 0;",
        ),
        (
            "/_mget",
            r#"{"docs":[{"_index":"logs"}]}"#,
            "Validation Failed: 1: id is missing for doc 0;",
        ),
        (
            "/_mget",
            r#"{"documents":[]}"#,
            "unknown key [documents] for a START_ARRAY, expected [docs] or [ids]",
        ),
        ("/_mget", "", "request body or source parameter is required"),
    ];
    for (path, body, reason) in cases {
        let (status, response) = es.json("POST", path, body).await;
        assert_eq!(status, 400, "{body}: {response}");
        assert_eq!(response["error"]["reason"], reason, "{body}");
    }
}

#[tokio::test]
async fn a_data_stream_is_read_through_its_backing_index() {
    let es = StandIn::start().await;
    let template = r#"{"index_patterns":["events-*"],"data_stream":{}}"#;
    let (status, text) = es.call("PUT", "/_index_template/events", template).await;
    assert_eq!(status, 200, "{text}");
    es.bulk(&[
        r#"{"create":{"_index":"events-web","_id":"e1"}}"#.to_owned(),
        r#"{"@timestamp":"2024-05-01T00:00:00Z","n":1}"#.to_owned(),
    ])
    .await;
    let (_, search) = es.json("POST", "/events-*/_search", "").await;
    let backing = search["hits"]["hits"][0]["_index"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(backing.starts_with(".ds-events-web-"), "{backing}");

    let body =
        json!({"docs": [{"_index": backing, "_id": "e1"}, {"_index": "events-web", "_id": "e1"}]});
    let (_, mget) = es.json("POST", "/_mget", &body.to_string()).await;
    assert_eq!(mget["docs"][0]["found"], true, "{mget}");
    assert_eq!(mget["docs"][0]["_index"], backing.as_str());
    assert_eq!(
        mget["docs"][1]["error"]["type"], "illegal_argument_exception",
        "{mget}"
    );
}

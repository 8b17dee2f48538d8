//! Points in time: a frozen view, paged through with `search_after` on
//! `_shard_doc`, closed or expired like ES's, and the request checks ES
//! makes around them.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};
use support::{hit_ids, index_op, StandIn};

fn pit_search(pit: &str, size: usize, after: Option<&Value>) -> String {
    let mut body = json!({"pit": {"id": pit, "keep_alive": "1m"}, "size": size, "sort": [{"_shard_doc": "asc"}]});
    if let Some(after) = after {
        body["search_after"] = after.clone();
    }
    body.to_string()
}

#[tokio::test]
async fn a_point_in_time_sees_neither_later_writes_nor_later_deletes() {
    let es = StandIn::start().await;
    let mut ops = Vec::new();
    ops.extend(index_op("logs", "a", r#"{"v":"a1"}"#));
    ops.extend(index_op("logs", "b", r#"{"v":"b1"}"#));
    es.bulk(&ops).await;
    let pit = es.open_pit("logs").await;

    let mut later = Vec::new();
    later.extend(index_op("logs", "c", r#"{"v":"c1"}"#));
    later.extend(index_op("logs", "b", r#"{"v":"b2"}"#));
    later.push(r#"{"delete":{"_index":"logs","_id":"a"}}"#.to_owned());
    later.extend(index_op("other", "x", r#"{"v":"x1"}"#));
    es.bulk(&later).await;

    let (status, frozen) = es
        .json("POST", "/_search", &pit_search(&pit, 10, None))
        .await;
    assert_eq!(status, 200, "{frozen}");
    assert_eq!(hit_ids(&frozen), ["a", "b"], "{frozen}");
    assert_eq!(frozen["hits"]["hits"][1]["_source"], json!({"v": "b1"}));
    assert_eq!(
        frozen["hits"]["total"],
        json!({"value": 2, "relation": "eq"})
    );
    assert_eq!(frozen["pit_id"], pit.as_str());
    let hit = &frozen["hits"]["hits"][0];
    assert_eq!(hit["_index"], "logs");
    assert_eq!(hit["_score"], Value::Null, "sorted hits carry no score");
    assert!(hit["sort"][0].is_u64(), "{hit}");
    assert_eq!(frozen["hits"]["max_score"], Value::Null);

    let (_, live) = es.json("POST", "/logs/_search", "").await;
    assert_eq!(hit_ids(&live), ["b", "c"]);
    assert_eq!(live["hits"]["hits"][0]["_source"], json!({"v": "b2"}));
}

#[tokio::test]
async fn paging_25000_documents_in_pages_of_10000_returns_each_exactly_once() {
    let es = StandIn::start().await;
    let mut ops = Vec::new();
    for i in 0..25_000 {
        // Two indices, so the pages cross from one shard to the next.
        let index = if i % 3 == 0 { "logs-b" } else { "logs-a" };
        ops.extend(index_op(
            index,
            &format!("doc-{i}"),
            &format!(r#"{{"i":{i}}}"#),
        ));
    }
    es.bulk(&ops).await;
    let pit = es.open_pit("logs-*").await;

    let mut seen = HashSet::new();
    let mut pages = Vec::new();
    let mut after: Option<Value> = None;
    loop {
        let (status, page) = es
            .json(
                "POST",
                "/_search",
                &pit_search(&pit, 10_000, after.as_ref()),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        // ES counts up to 10,000 by default, whatever the page.
        assert_eq!(
            page["hits"]["total"],
            json!({"value": 10000, "relation": "gte"})
        );
        let hits = page["hits"]["hits"].as_array().unwrap();
        pages.push(hits.len());
        let Some(last) = hits.last() else { break };
        for hit in hits {
            let id = hit["_id"].as_str().unwrap().to_owned();
            let i: u64 = id.strip_prefix("doc-").unwrap().parse().unwrap();
            assert_eq!(hit["_source"]["i"], i, "{hit}");
            assert!(seen.insert(id), "{hit} returned twice");
        }
        after = Some(last["sort"].clone());
    }
    assert_eq!(pages, [10_000, 10_000, 5_000, 0]);
    assert_eq!(seen.len(), 25_000);
}

#[tokio::test]
async fn shard_doc_descending_is_the_ascending_order_reversed() {
    let es = StandIn::start().await;
    let mut ops = Vec::new();
    for id in ["a", "b", "c"] {
        ops.extend(index_op("logs", id, "{}"));
    }
    es.bulk(&ops).await;
    let pit = es.open_pit("logs").await;
    let body = json!({"pit": {"id": pit}, "size": 2, "sort": [{"_shard_doc": {"order": "desc"}}]});
    let (_, first) = es.json("POST", "/_search", &body.to_string()).await;
    assert_eq!(hit_ids(&first), ["c", "b"]);
    let mut next = body.clone();
    next["search_after"] = first["hits"]["hits"][1]["sort"].clone();
    let (_, second) = es.json("GET", "/_search", &next.to_string()).await;
    assert_eq!(hit_ids(&second), ["a"]);
}

#[tokio::test]
async fn a_closed_point_in_time_is_gone() {
    let es = StandIn::start().await;
    es.bulk(&index_op("logs", "a", "{}")).await;
    let pit = es.open_pit("logs").await;
    let close = json!({"id": pit}).to_string();

    let (status, closed) = es.json("DELETE", "/_pit", &close).await;
    assert_eq!(status, 200);
    assert_eq!(closed, json!({"succeeded": true, "num_freed": 1}));

    let (status, again) = es.json("DELETE", "/_pit", &close).await;
    assert_eq!(status, 404);
    assert_eq!(again, json!({"succeeded": false, "num_freed": 0}));

    let (status, search) = es
        .json("POST", "/_search", &pit_search(&pit, 10, None))
        .await;
    assert_eq!(status, 404, "{search}");
    assert_eq!(search["error"]["type"], "search_phase_execution_exception");
    assert_eq!(
        search["error"]["root_cause"][0]["type"],
        "search_context_missing_exception"
    );

    let (status, garbled) = es.json("DELETE", "/_pit", r#"{"id":"not-an-id"}"#).await;
    assert_eq!(status, 400, "{garbled}");
}

#[tokio::test]
async fn a_point_in_time_expires_after_its_keep_alive() {
    let es = StandIn::start().await;
    es.bulk(&index_op("logs", "a", "{}")).await;
    let (_, opened) = es.json("POST", "/logs/_pit?keep_alive=30ms", "").await;
    let pit = opened["id"].as_str().unwrap();
    // A search without keep_alive keeps the last one.
    let body = json!({"pit": {"id": pit}}).to_string();
    let (status, _) = es.json("POST", "/_search", &body).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, expired) = es.json("POST", "/_search", &body).await;
    assert_eq!(status, 404, "{expired}");
}

#[tokio::test]
async fn a_point_in_time_over_a_pattern_that_matches_nothing_is_empty() {
    let es = StandIn::start().await;
    let (status, opened) = es.json("POST", "/nothing-*/_pit?keep_alive=1m", "").await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["_shards"]["total"], 0);
    let pit = opened["id"].as_str().unwrap();
    let (status, search) = es
        .json("POST", "/_search", &pit_search(pit, 10, None))
        .await;
    assert_eq!(status, 200, "{search}");
    assert_eq!(hit_ids(&search), Vec::<String>::new());
}

#[tokio::test]
async fn requests_es_refuses_are_refused() {
    let es = StandIn::start().await;
    es.bulk(&index_op("logs", "a", "{}")).await;
    let pit = es.open_pit("logs").await;
    let cases: [(&str, &str, String, u16, &str); 9] = [
        ("POST", "/logs/_pit", String::new(), 400, "Validation Failed: 1: [keep_alive] is not specified;"),
        ("POST", "/missing/_pit?keep_alive=1m", String::new(), 404, "no such index [missing]"),
        (
            "POST",
            "/logs/_pit?keep_alive=25h",
            String::new(),
            400,
            "all shards failed",
        ),
        (
            "POST",
            "/logs/_search",
            json!({"pit": {"id": pit}}).to_string(),
            400,
            "Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;",
        ),
        (
            "POST",
            "/logs/_search",
            json!({"sort": ["_shard_doc"]}).to_string(),
            400,
            "Validation Failed: 1: [_shard_doc] sort field cannot be used without [point in time];",
        ),
        (
            "POST",
            "/_search",
            json!({"pit": {"id": pit}, "from": 1, "sort": ["_shard_doc"], "search_after": [0]}).to_string(),
            400,
            "Validation Failed: 1: [from] parameter must be set to 0 when [search_after] is used;",
        ),
        (
            "POST",
            "/_search",
            pit_search(&pit, 10_001, None),
            400,
            "all shards failed",
        ),
        (
            "POST",
            "/logs/_search?size=9999",
            json!({"from": 2}).to_string(),
            400,
            "all shards failed",
        ),
        (
            "POST",
            "/_search",
            json!({"pit": {"id": pit}, "sort": ["_shard_doc"], "search_after": [1, 2]}).to_string(),
            400,
            "all shards failed",
        ),
    ];
    for (method, path, body, status, reason) in cases {
        let (got, response) = es.json(method, path, &body).await;
        assert_eq!(got, status, "{path} {body}: {response}");
        assert_eq!(response["error"]["reason"], reason, "{path} {body}");
    }
    let (_, window) = es
        .json("POST", "/_search", &pit_search(&pit, 10_001, None))
        .await;
    assert_eq!(
        window["error"]["root_cause"][0]["reason"],
        "Result window is too large, from + size must be less than or equal to: [10000] but was [10001]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting."
    );
    let (_, keep) = es.json("POST", "/logs/_pit?keep_alive=25h", "").await;
    assert_eq!(
        keep["error"]["root_cause"][0]["reason"],
        "Keep alive for request (1d) is too large. It must be less than (1d). This limit can be set by changing the [search.max_keep_alive] cluster level setting."
    );
}

#[tokio::test]
async fn open_points_in_time_are_bounded_and_closing_one_makes_room() {
    let es = StandIn::start().await;
    es.bulk(&index_op("logs", "a", "{}")).await;
    let mut first = None;
    for _ in 0..300 {
        let id = es.open_pit("logs").await;
        first.get_or_insert(id);
    }
    let (status, refused) = es.json("POST", "/logs/_pit?keep_alive=1m", "").await;
    assert_eq!(status, 429, "{refused}");
    assert_eq!(refused["error"]["type"], "es_rejected_execution_exception");
    let close = json!({"id": first.unwrap()}).to_string();
    let (status, _) = es.json("DELETE", "/_pit", &close).await;
    assert_eq!(status, 200);
    es.open_pit("logs").await;
}

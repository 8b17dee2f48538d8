//! The pipeline in-process, against librdkafka's mock cluster and the
//! Elasticsearch stand-in, with faults injected in the sink.

// The forms generator belongs to the rule engine's tests; the pipeline test
// plants the same values.
#[path = "../crates/logredact-rules/tests/forms/mod.rs"]
mod forms;
mod support;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use logredact::pipeline;
use logredact::stats::Stats;
use rdkafka::mocking::MockCluster;
use support::inproc::*;
use support::*;

const TOPIC: &str = "access";

#[test]
fn item_429s_and_refused_requests_are_retried_until_every_event_is_in_both_outputs() {
    let dir = TempDir::new("retry");
    let es = StandIn::start();
    es.faults(r#"{"item_429_rate": 0.1, "request_failures": 3, "request_status": 503, "seed": 7}"#);
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 4, 1).unwrap();
    let n = produce(&cluster.bootstrap_servers(), TOPIC, sample_events(5000));
    let c = config(&cluster.bootstrap_servers(), &es.url, dir.path(), "");
    let stats = run_until(&c, rules(dir.path(), ""), n);

    assert_eq!(stats.consumed.load(Relaxed), n);
    assert_eq!(stats.completed_indexed.load(Relaxed), n);
    assert!(
        stats.retried_items.load(Relaxed) > 0,
        "faults were injected"
    );
    let mut hot = es.ids("logs-hot-*");
    let mut cold = es.ids("logs-cold");
    hot.sort();
    cold.sort();
    assert_eq!(hot.len() as u64, n, "every event in hot exactly once");
    assert_eq!(hot, cold, "the same events in cold");
    let s = es.stats();
    assert!(
        s["rejected"]["es_rejected_execution_exception"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(s["refused_requests"], 3);
    assert!(dead_letters(&dir.path().join("dead")).is_empty());
}

/// A pretty-printed event (as a Kafka message may be) went into the bulk
/// body with its line breaks, which end a document there: Elasticsearch
/// refused the whole request, and every event of the batch was
/// dead-lettered. Each event is one line now, in every output.
#[test]
fn pretty_printed_events_are_indexed_as_one_line() {
    let dir = TempDir::new("pretty");
    let es = StandIn::start();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 1, 1).unwrap();
    let mut events = sample_events(50);
    events.insert(
        20,
        b"{\n  \"user\": {\r\n    \"phone\": \"13812345678\"\n  },\n  \"n\": 1\n}".to_vec(),
    );
    let n = produce(&cluster.bootstrap_servers(), TOPIC, events);
    let c = config(&cluster.bootstrap_servers(), &es.url, dir.path(), "");
    let stats = run_until(&c, rules(dir.path(), ""), n);
    assert_eq!(stats.completed_indexed.load(Relaxed), n);
    assert_eq!(stats.completed_dead_lettered.load(Relaxed), 0);
    assert!(dead_letters(&dir.path().join("dead")).is_empty());
    assert_eq!(es.ids("logs-hot-*").len() as u64, n);
    assert_eq!(es.ids("logs-cold").len() as u64, n);
}

#[test]
fn consumed_equals_indexed_plus_dead_lettered_plus_dropped() {
    let dir = TempDir::new("accounting");
    let es = StandIn::start();
    // `code` is mapped as a number; events carrying text there are refused.
    es.faults(r#"{"long_fields": ["code"]}"#);
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 4, 1).unwrap();
    let events: Vec<Vec<u8>> = sample_events(3000)
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let code = match i % 10 {
                0 => "\"E42\"".to_owned(),
                1 => "\"healthcheck\"".to_owned(),
                _ => i.to_string(),
            };
            let kind = if i % 10 == 1 { "probe" } else { "real" };
            format!(
                "{{\"code\":{code},\"kind\":\"{kind}\",{}",
                &String::from_utf8(e).unwrap()[1..]
            )
            .into_bytes()
        })
        .collect();
    let n = produce(&cluster.bootstrap_servers(), TOPIC, events);
    let drop_rule = r#"
version = 1
[[route]]
id = "drop-probes"
when = { field = "kind", equals = "probe" }
drop = true
"#;
    let c = config(&cluster.bootstrap_servers(), &es.url, dir.path(), "");
    let stats = run_until(&c, rules(dir.path(), drop_rule), n);

    let consumed = stats.consumed.load(Relaxed);
    let indexed = stats.completed_indexed.load(Relaxed);
    let dead = stats.completed_dead_lettered.load(Relaxed);
    let dropped = stats.dropped_by_rule.load(Relaxed);
    assert_eq!(consumed, n);
    assert_eq!(dropped, 300);
    assert_eq!(
        stats.detail().drops.get("drop-probes"),
        Some(&300),
        "counted per rule too"
    );
    assert_eq!(
        dead, 300,
        "events with code \"E42\" are refused by both outputs"
    );
    assert_eq!(consumed, indexed + dead + dropped);
    assert_eq!(es.ids("logs-hot-*").len() as u64, indexed);
    assert_eq!(es.ids("logs-cold").len() as u64, indexed);
    // The outputs ask for filtered bulk responses (errors, status and error
    // per item); the rejections above were judged from those.
    let es_stats = es.stats();
    assert!(es_stats["bulk_requests"].as_u64().unwrap() > 0);
    assert_eq!(
        es_stats["filtered_bulk_responses"],
        es_stats["bulk_requests"]
    );

    let records = dead_letters(&dir.path().join("dead"));
    assert_eq!(records.len(), 600, "one record per refusing output");
    for r in &records {
        assert_eq!(r["class"], "indexing_rejected");
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains("document_parsing_exception"), "{reason}");
        assert!(
            r["event"]["redaction"].is_object(),
            "the redacted event is kept"
        );
        assert_eq!(r["event"]["code"], "E42");
    }
    let outputs: std::collections::BTreeSet<_> = records
        .iter()
        .map(|r| r["output"].as_str().unwrap())
        .collect();
    assert_eq!(outputs.into_iter().collect::<Vec<_>>(), ["cold", "hot"]);
}

#[test]
fn bad_input_is_dead_lettered_with_reasons_and_without_personal_data() {
    let dir = TempDir::new("bad");
    let es = StandIn::start();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 1, 1).unwrap();
    let mut deep = "{\"a\":".repeat(100_000);
    deep.push('1');
    deep.push_str(&"}".repeat(100_000));
    let mut not_utf8 = b"{\"phone\":\"13912345678\",\"x\":\"".to_vec();
    not_utf8.extend_from_slice(&[0xff, 0xfe, b'"', b'}']);
    let mut big = String::from("{\"pad\":\"");
    big.push_str(&"x".repeat(2 << 20));
    big.push_str("\"}");
    let inputs: Vec<Vec<u8>> = vec![
        b"not json at all, call 13812345678".to_vec(),
        not_utf8,
        big.into_bytes(),
        deep.into_bytes(),
        b"{\"id\":\"11010519491231002X\",\"cut".to_vec(),
        br#"{"ok":"a good event"}"#.to_vec(),
    ];
    let n = produce(&cluster.bootstrap_servers(), TOPIC, inputs);
    let c = config(&cluster.bootstrap_servers(), &es.url, dir.path(), "");
    let stats = run_until(&c, rules(dir.path(), ""), n);

    assert_eq!(stats.completed_indexed.load(Relaxed), 1);
    assert_eq!(stats.completed_dead_lettered.load(Relaxed), 5);
    let records = dead_letters(&dir.path().join("dead"));
    let classes: Vec<&str> = records
        .iter()
        .map(|r| r["class"].as_str().unwrap())
        .collect();
    assert_eq!(
        classes,
        ["not_json", "not_utf8", "too_large", "too_deep", "not_json"]
    );
    let all = records
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    for planted in ["13812345678", "13912345678", "11010519491231002X"] {
        assert!(
            !all.contains(planted),
            "{planted} leaked into a dead letter"
        );
    }
    assert_eq!(records[2]["truncated"], true);
    assert!(records[2]["raw_masked"].as_str().unwrap().len() <= pipeline::MAX_DEAD_LETTER_TEXT);
}

/// Elasticsearch refuses a document that names a field twice in one object
/// (the stand-in does too). Names that mask alike stay distinct (`#2`), so
/// such an event is indexed; an event that arrived with a field twice is
/// dead-lettered with the reason, by each output, and counted.
#[test]
fn a_field_named_twice_is_refused_but_names_that_mask_alike_are_indexed() {
    let dir = TempDir::new("duplicates");
    let es = StandIn::start();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 1, 1).unwrap();
    let inputs: Vec<Vec<u8>> = vec![
        br#"{"seen":{"13812345678":1,"13800005678":2}}"#.to_vec(),
        br#"{"dup":1,"dup":2}"#.to_vec(),
    ];
    let n = produce(&cluster.bootstrap_servers(), TOPIC, inputs);
    let c = config(&cluster.bootstrap_servers(), &es.url, dir.path(), "");
    let stats = run_until(&c, rules(dir.path(), ""), n);

    assert_eq!(stats.completed_indexed.load(Relaxed), 1);
    assert_eq!(stats.completed_dead_lettered.load(Relaxed), 1);
    let records = dead_letters(&dir.path().join("dead"));
    assert_eq!(records.len(), 2, "one record per refusing output");
    for r in &records {
        assert_eq!(r["class"], "indexing_rejected");
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains("Duplicate field 'dup'"), "{reason}");
    }
    assert_eq!(es.ids("logs-cold").len(), 1);
}

/// The daemon masks what `apply` masks: the forms corpus (personal data in
/// every encoding and place, and decoys) leaves nothing readable in either
/// output, and broken lines holding the same forms leave nothing readable
/// in their dead-letter records, not even one cut at the size limit.
#[test]
fn the_forms_corpus_leaves_nothing_readable_in_outputs_or_dead_letters() {
    let dir = TempDir::new("forms");
    let es = StandIn::start();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 2, 1).unwrap();
    let mut dice = forms::Dice::new(20261130);
    let (mut inputs, mut plants) = (Vec::new(), Vec::new());
    for seq in 0..600 {
        let (line, planted, _) = forms::event(seq, &mut dice);
        inputs.push(line.into_bytes());
        plants.push(planted);
    }
    let mut broken = Vec::new();
    for (i, p) in plants.iter().flatten().take(90).enumerate() {
        let e = forms::ENCODINGS[i % forms::ENCODINGS.len()];
        let text = forms::encode(&p.written, e, &mut dice);
        inputs.push(format!("not json {{ {}{text} }}", p.context).into_bytes());
        broken.push(p.clone());
    }
    // An ID that straddles the dead-letter record's size limit.
    let cut_at = pipeline::MAX_DEAD_LETTER_TEXT - 9;
    inputs.push(format!("{} 11010519491231002X and more", "x".repeat(cut_at)).into_bytes());
    let n = produce(&cluster.bootstrap_servers(), TOPIC, inputs);
    let c = config(&cluster.bootstrap_servers(), &es.url, dir.path(), "");
    let stats = run_until(&c, rules(dir.path(), ""), n);
    // The forms put text, objects, lists and numbers under the same field
    // names, as real services do, so Elasticsearch's dynamic mapping
    // refuses some events: those are dead-lettered with the event, which
    // must be as unreadable as what is indexed.
    assert_eq!(stats.consumed.load(Relaxed), n);
    let indexed = stats.completed_indexed.load(Relaxed);
    let dead = stats.completed_dead_lettered.load(Relaxed);
    assert_eq!(indexed + dead, n);
    assert!(
        indexed >= 100,
        "enough events are indexed to judge: {indexed}"
    );

    let unreadable = |what: &str, doc: &serde_json::Value, plants: &[forms::Planted]| {
        let mut texts = Vec::new();
        forms::texts(doc, &mut texts);
        let read: Vec<String> = texts
            .iter()
            .map(|t| forms::squeezed(&forms::reads(t)))
            .collect();
        for p in plants {
            assert!(
                !read.iter().any(|r| r.contains(&p.secret)),
                "{:?} {:?} readable in {what}: {doc}",
                p.kind,
                p.written
            );
        }
    };
    for index in ["logs-hot-*", "logs-cold"] {
        let found = es.search(index, r#"{"size": 1000, "query": {"match_all": {}}}"#);
        let hits = found["hits"]["hits"].as_array().unwrap();
        assert_eq!(hits.len() as u64, indexed, "{index}");
        for hit in hits {
            let doc = &hit["_source"];
            let seq = doc["seq"].as_u64().unwrap() as usize;
            unreadable(index, doc, &plants[seq]);
        }
    }
    let records = dead_letters(&dir.path().join("dead"));
    let mut broken_records = 0;
    for record in &records {
        match record["event"]["seq"].as_u64() {
            // Refused by Elasticsearch: the redacted event.
            Some(seq) => unreadable("a dead letter", record, &plants[seq as usize]),
            None => {
                broken_records += 1;
                unreadable("a dead letter", record, &broken);
            }
        }
    }
    assert_eq!(broken_records, 91);
    let cut: Vec<_> = records.iter().filter(|r| r["truncated"] == true).collect();
    assert_eq!(cut.len(), 1, "only the long line is cut");
    let text = cut[0]["raw_masked"].as_str().unwrap();
    assert!(text.len() <= pipeline::MAX_DEAD_LETTER_TEXT);
    assert!(!text.contains("110105"), "part of the ID survived the cut");
}

#[test]
fn a_cluster_that_finds_batches_too_large_gets_smaller_ones_and_loses_nothing() {
    let dir = TempDir::new("413");
    let es = StandIn::start();
    // About 200 events per request at most; the writer starts at 500.
    es.faults(r#"{"max_body_bytes": 200000}"#);
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 2, 1).unwrap();
    let n = produce(&cluster.bootstrap_servers(), TOPIC, sample_events(3000));
    let c = config(&cluster.bootstrap_servers(), &es.url, dir.path(), "");
    let stats = run_until(&c, rules(dir.path(), ""), n);
    assert_eq!(stats.completed_indexed.load(Relaxed), n);
    assert_eq!(es.ids("logs-hot-*").len() as u64, n);
    assert!(
        es.stats()["refused_requests"].as_u64().unwrap() > 0,
        "413s were answered"
    );
    assert!(dead_letters(&dir.path().join("dead")).is_empty());
}

#[test]
fn basic_auth_from_the_environment_gzip_and_a_dead_letter_topic() {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::Message;

    let dir = TempDir::new("auth");
    let es = StandIn::start();
    es.faults(r#"{"require_authorization": "Basic bG9ncmVkYWN0OnMzY3JldC1wYXNz"}"#);
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 2, 1).unwrap();
    cluster.create_topic("dead-letters", 1, 1).unwrap();
    let mut events = sample_events(500);
    events.push(b"not json, call 13812345678".to_vec());
    let n = produce(&cluster.bootstrap_servers(), TOPIC, events);
    let auth = r#"username = "logredact"
password = "env:LR_PIPELINE_TEST_ES_PASSWORD"
gzip = true"#;
    // A wrong password stops start-up with a sentence that says what to fix.
    // (Set before the config is read: reading it checks that it is set.)
    std::env::set_var("LR_PIPELINE_TEST_ES_PASSWORD", "wrong");
    let good = config(&cluster.bootstrap_servers(), &es.url, dir.path(), auth);
    let stats = Arc::new(Stats::default());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let err = runtime
        .block_on(pipeline::run(&good, rules(dir.path(), ""), stats, async {}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(!err.contains("wrong"), "the secret is not echoed: {err}");

    std::env::set_var("LR_PIPELINE_TEST_ES_PASSWORD", "s3cret-pass");
    let mut with_topic = good.clone();
    with_topic.dead_letter.topic = Some("dead-letters".into());
    let stats = run_until(&with_topic, rules(dir.path(), ""), n);
    assert_eq!(stats.completed_indexed.load(Relaxed), n - 1);
    assert_eq!(stats.completed_dead_lettered.load(Relaxed), 1);
    assert_eq!(es.ids("logs-hot-*").len() as u64, n - 1);
    assert!(es.stats()["gzip_requests"].as_u64().unwrap() > 0);

    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", "check-dead-letters")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&["dead-letters"]).unwrap();
    let start = std::time::Instant::now();
    let record = loop {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            break serde_json::from_slice::<serde_json::Value>(m.payload().unwrap()).unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no dead letter on the topic"
        );
    };
    assert_eq!(record["class"], "not_json");
    assert!(record["raw_masked"]
        .as_str()
        .unwrap()
        .contains("[cn_mobile]"));
}

/// The soak's stand-in (`--no-source`) holds ids and versions only, and
/// answers as ES does for an index with `_source` disabled.
#[test]
fn the_stand_in_without_sources_keeps_ids_and_versions_but_no_bodies() {
    let es = StandIn::start_with(&["--no-source"]);
    let body = concat!(
        r#"{"index":{"_index":"logs","_id":"a"}}"#,
        "\n",
        r#"{"n":1}"#,
        "\n",
        r#"{"index":{"_index":"logs","_id":"a"}}"#,
        "\n",
        r#"{"n":2}"#,
        "\n",
        r#"{"create":{"_index":"logs","_id":"b"}}"#,
        "\n",
        r#"{"n":3}"#,
        "\n",
    );
    let (status, text) = http(es.port, "POST", "/_bulk", body);
    assert_eq!(status, 200, "{text}");
    let bulk: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(bulk["errors"], false, "{text}");
    assert_eq!(es.docs("logs"), 2);

    let (status, text) = http(es.port, "GET", "/logs/_doc/a", "");
    assert_eq!(status, 200, "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["found"], true);
    assert_eq!(doc["_version"], 2, "the overwrite is counted");
    assert!(doc.get("_source").is_none(), "no body is kept: {text}");

    let hits = es.search("logs", r#"{"query":{"match_all":{}}}"#);
    assert_eq!(hits["hits"]["total"]["value"], 2);
    assert!(hits["hits"]["hits"][0].get("_source").is_none());

    // With sources (the default), the body comes back.
    let full = StandIn::start();
    let (status, _) = http(full.port, "POST", "/_bulk", body);
    assert_eq!(status, 200);
    let (_, text) = http(full.port, "GET", "/logs/_doc/a", "");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["_source"], serde_json::json!({"n": 2}));
}

/// Records Kafka's retention deletes before the daemon reads them are
/// lost upstream: they are counted and reported, never passed over as if
/// they had held no message. Here the group's committed offset falls
/// behind the log's start while the daemon is down (the mock cluster keeps
/// the newest 5 MB of a partition): every offset after the commit point is
/// either consumed or counted lost, none both.
#[test]
fn records_deleted_before_they_were_read_are_counted_lost() {
    let dir = TempDir::new("retention");
    let es = StandIn::start();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 1, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    // The second run joins the group the first left: no long session. The
    // cold output is sealed: the seals say which offsets were lost.
    let key = dir.path().join("seal.pem");
    logredact::commands::keys::generate(&key, &mut std::io::sink()).unwrap();
    let test_config = base_config(&bootstrap, &es.url)
        .property("session.timeout.ms", "6000")
        .property("heartbeat.interval.ms", "200")
        .cold_extra("seal = true")
        .metrics_extra(&format!("[seal]\nkey = \"file:{}\"", key.display()));
    let c = parse(dir.path(), &test_config);
    std::fs::write(dir.path().join("c.toml"), test_config.toml()).unwrap();
    let first = produce(&bootstrap, TOPIC, sample_events(1_000));
    let stats = run_until(&c, rules(dir.path(), ""), first);
    assert_eq!(stats.consumed.load(Relaxed), first);
    assert_eq!(stats.lost_before_read.load(Relaxed), 0);

    // About 8 MB more: the oldest unread records are deleted.
    let more = produce(&bootstrap, TOPIC, sample_events(10_000));
    let watermarks: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let (low, high) = rdkafka::consumer::Consumer::fetch_watermarks(
        &watermarks,
        TOPIC,
        0,
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(high as u64, first + more);
    assert!(
        low as u64 > first,
        "the mock cluster deleted nothing: {low}"
    );

    let stats = run_while(
        &c,
        rules(dir.path(), ""),
        Duration::from_secs(60),
        move |s| s.completed() + s.lost_before_read.load(Relaxed) >= more,
    );
    let (consumed, lost) = (
        stats.consumed.load(Relaxed),
        stats.lost_before_read.load(Relaxed),
    );
    assert_eq!(lost, low as u64 - first, "the offsets before the log start");
    assert_eq!(consumed + lost, more, "each offset consumed or lost, once");
    let metrics = logredact::telemetry::render(&stats);
    assert!(
        metrics.contains(&format!("logredact_kafka_lost_before_read_total {lost}")),
        "{metrics}"
    );

    // `verify` names the lost offsets, and nothing else.
    let mut report = Vec::new();
    let holds = logredact::commands::verify::run(
        &logredact::commands::verify::Options {
            config: dir.path().join("c.toml"),
            output: None,
            since_ms: None,
            until_ms: None,
            public_keys: Vec::new(),
            json: true,
        },
        &mut report,
    )
    .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
    assert!(!holds, "{report}");
    let problems = report["outputs"][0]["problems"].as_array().unwrap();
    assert_eq!(
        problems,
        &[serde_json::json!({
            "kind": "lost_before_read",
            "topic": TOPIC,
            "partition": 0,
            "first": first,
            "last": low - 1,
        })],
        "{report}"
    );
    assert_eq!(
        report["outputs"][0]["documents_verified"].as_u64(),
        Some(first + consumed),
        "{report}"
    );
}

/// The same loss in the middle of reading: the daemon's consumption is
/// paused (the outputs are down, in-flight bytes at their bound) while
/// producers fill the partition past what the mock cluster keeps, so the
/// records at the daemon's position are deleted before it fetches them;
/// when the outputs come back, reading jumps to the log's start, and the
/// jump is counted lost.
#[test]
fn records_deleted_while_reading_is_paused_are_counted_lost() {
    let dir = TempDir::new("retention-live");
    let es = StandIn::start();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 1, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let c = parse(
        dir.path(),
        &base_config(&bootstrap, &es.url)
            .property("queued.max.messages.kbytes", "256")
            .property("fetch.message.max.bytes", "65536")
            .pipeline_extra("max_in_flight_bytes = 262144\nmax_event_bytes = 65536")
            .outputs_extra("retry_initial_backoff = \"10ms\"\nretry_max_backoff = \"200ms\""),
    );
    let first = produce(&bootstrap, TOPIC, sample_events(2_000));
    es.faults(r#"{"outage_seconds": 8}"#);
    let mut more = 0;
    let producer = bootstrap.clone();
    let stats = run_while(
        &c,
        rules(dir.path(), ""),
        Duration::from_secs(90),
        move |s| {
            if more == 0 && s.consumed.load(Relaxed) > 0 && s.completed() == 0 {
                // Reading is paused behind the outage by now (its bound is a
                // few hundred events): about 8.5 MB more.
                std::thread::sleep(Duration::from_secs(2));
                more = produce(&producer, TOPIC, sample_events(10_000));
            }
            more > 0 && s.completed() + s.lost_before_read.load(Relaxed) >= first + more
        },
    );
    let (consumed, lost) = (
        stats.consumed.load(Relaxed),
        stats.lost_before_read.load(Relaxed),
    );
    assert!(lost > 0, "nothing was deleted under the paused reader");
    assert_eq!(
        consumed + lost,
        first + 10_000,
        "each offset consumed or lost, once"
    );
    assert_eq!(stats.completed(), consumed);
}

//! Seals and `verify` (docs/audit.md), in-process against librdkafka's mock
//! cluster and the Elasticsearch stand-in: clean after a run, and each kind
//! of tampering reported with the right `_id`, and nothing else.

mod support;

use std::path::Path;

use logredact::commands::verify;
use logredact::config::Config;
use logredact::seal::check::Problem;
use rdkafka::mocking::MockCluster;
use serde_json::{json, Value};
use support::inproc::*;
use support::*;

const TOPIC: &str = "access";
/// The seal indices (one a day).
const SEALS: &str = "logredact-seals-*";

/// A sealed cold output: writes the config and a new signing key into
/// `dir`, returns the config's path.
fn sealed_config(dir: &Path, bootstrap: &str, es: &str) -> std::path::PathBuf {
    logredact::commands::keys::generate(&dir.join("seal.pem"), &mut std::io::sink()).unwrap();
    let text = format!(
        "{}\n[seal]\nkey = \"file:seal.pem\"\nmax_events = 500\ncopy_dir = \"seal-copy\"\n",
        base_config(bootstrap, es)
            .topic(TOPIC)
            .cold_extra("seal = true")
            .toml()
    );
    let path = dir.join("c.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn verify(config: &Path) -> (bool, Vec<Problem>) {
    verify_with(config, Vec::new())
}

fn verify_with(config: &Path, public_keys: Vec<std::path::PathBuf>) -> (bool, Vec<Problem>) {
    verify_window(config, public_keys, None)
}

fn verify_window(
    config: &Path,
    public_keys: Vec<std::path::PathBuf>,
    since_ms: Option<i64>,
) -> (bool, Vec<Problem>) {
    let mut out = Vec::new();
    let options = verify::Options {
        config: config.to_owned(),
        output: None,
        since_ms,
        until_ms: None,
        public_keys,
        json: true,
    };
    let clean = verify::run(&options, &mut out).unwrap();
    let report: Value = serde_json::from_slice(&out).unwrap();
    let problems = report["outputs"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(problem)
        .collect();
    (clean, problems)
}

/// A problem from the JSON report (the report's own encoding, read back).
fn problem(v: &Value) -> Problem {
    let s = |k: &str| v[k].as_str().unwrap().to_owned();
    let n = |k: &str| v[k].as_i64().unwrap();
    match v["kind"].as_str().unwrap() {
        "deleted" => Problem::Deleted {
            id: s("id"),
            seal: s("seal"),
        },
        "modified" => Problem::Modified {
            id: s("id"),
            place: s("place"),
            seal: s("seal"),
        },
        "inserted" => Problem::Inserted {
            id: s("id"),
            place: s("place"),
        },
        "forged" => Problem::Forged { seal: s("seal") },
        "missing_seal" => Problem::MissingSeal {
            topic: s("topic"),
            partition: n("partition") as i32,
            segment: s("segment"),
            seq: n("seq") as u64,
        },
        "gap" => Problem::Gap {
            topic: s("topic"),
            partition: n("partition") as i32,
            first: n("first"),
            last: n("last"),
        },
        "unverified" => Problem::Unverified {
            topic: s("topic"),
            partition: n("partition") as i32,
            first: n("first"),
            last: n("last"),
            documents: n("documents") as u64,
        },
        "removed_seal" => Problem::RemovedSeal {
            seal: s("seal"),
            copy: s("copy"),
        },
        other => panic!("unexpected problem {other}: {v}"),
    }
}

/// Every seal in the seal indices, as (`_id`, source, `_index`).
fn seals(es: &StandIn) -> Vec<(String, Value, String)> {
    let r = es.search(SEALS, r#"{"size": 10000, "query": {"match_all": {}}}"#);
    r["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["_id"].as_str().unwrap().to_owned(),
                h["_source"].clone(),
                h["_index"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn bulk(es: &StandIn, lines: &[Value]) {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let (status, text) = http(es.port, "POST", "/_bulk?refresh=true", &body);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"errors\":false"), "{text}");
}

#[test]
fn verify_is_clean_after_a_run_and_names_each_tampering_and_nothing_else() {
    let dir = TempDir::new("seal");
    let es = StandIn::start();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 4, 1).unwrap();
    let n = produce(&cluster.bootstrap_servers(), TOPIC, sample_events(20_000));
    let path = sealed_config(dir.path(), &cluster.bootstrap_servers(), &es.url);
    let config = Config::load(&path).unwrap();
    let stats = run_until(&config, rules(dir.path(), ""), n);
    assert_eq!(stats.completed(), n);

    let (clean, problems) = verify(&path);
    assert!(clean, "untouched, yet: {problems:?}");
    assert!(
        std::fs::read_dir(dir.path().join("seal-copy"))
            .unwrap()
            .count()
            > 0,
        "the second copy of the seals is written"
    );
    // The checks below without the second copy, then with it.
    let with_copy = path.clone();
    let path = dir.path().join("no-copy.toml");
    std::fs::write(
        &path,
        std::fs::read_to_string(&with_copy)
            .unwrap()
            .replace("copy_dir = \"seal-copy\"\n", ""),
    )
    .unwrap();

    // An auditor without the signing key checks with its public key.
    let public = dir.path().join("seal.pub");
    let mut text = Vec::new();
    logredact::commands::keys::public(None, Some(&dir.path().join("seal.pem")), &mut text).unwrap();
    std::fs::write(&public, text).unwrap();
    let audit = dir.path().join("audit.toml");
    let config_text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &audit,
        config_text.replace("file:seal.pem", "env:LOGREDACT_TEST_NO_SUCH_VARIABLE"),
    )
    .unwrap();
    let (clean, problems) = verify_with(&audit, vec![public]);
    assert!(clean, "with the public key only: {problems:?}");

    // Pick the victims: a seal in the middle of a chain on partition 1 (to
    // delete), one on partition 2 (to edit), documents on partition 3.
    let all = seals(&es);
    let middle = |p: i64| {
        all.iter()
            .filter(|(_, s, _)| s["seal"]["partition"] == p && s["seal"]["seq"] == 1)
            .find(|(_, s, _)| {
                all.iter().any(|(_, t, _)| {
                    t["seal"]["segment"] == s["seal"]["segment"] && t["seal"]["seq"] == 2
                })
            })
            .cloned()
            .unwrap_or_else(|| panic!("partition {p} has a seal with a successor"))
    };
    let (deleted_seal, deleted, deleted_index) = middle(1);
    let (edited_seal, mut edited, edited_index) = middle(2);
    let indexed_in = |s: &Value| {
        s["seal"]["fates"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f.as_str().unwrap().starts_with("i:"))
            .count() as u64
    };
    let range = |s: &Value| {
        (
            s["seal"]["first_offset"].as_i64().unwrap(),
            s["seal"]["last_offset"].as_i64().unwrap(),
        )
    };
    // Two documents partition 3's first seal says were written.
    let (_, first3, _) = all
        .iter()
        .find(|(_, s, _)| s["seal"]["partition"] == 3 && s["seal"]["seq"] == 0)
        .unwrap();
    let written: Vec<i64> = first3["seal"]["fates"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.as_str().unwrap().starts_with("i:"))
        .map(|(i, _)| range(first3).0 + i as i64)
        .take(2)
        .collect();
    let (gone_id, changed_id) = (
        format!("{TOPIC}-3-{}", written[0]),
        format!("{TOPIC}-3-{}", written[1]),
    );
    let changed = es.search(
        "logs-cold",
        &format!(r#"{{"query":{{"ids":{{"values":["{changed_id}"]}}}}}}"#),
    );
    let mut changed = changed["hits"]["hits"][0]["_source"].clone();
    changed["level"] = json!("TAMPERED");
    let edited_docs = indexed_in(&edited);
    // An edited seal: one fate changed, signature kept.
    let fates = edited["seal"]["fates"].as_array_mut().unwrap();
    fates[0] = json!("r");
    bulk(
        &es,
        &[
            json!({"delete": {"_index": "logs-cold", "_id": gone_id}}),
            json!({"index": {"_index": "logs-cold", "_id": changed_id}}),
            changed,
            json!({"index": {"_index": "logs-cold", "_id": "forged-doc"}}),
            json!({"level": "INFO", "message": "never happened"}),
            json!({"delete": {"_index": deleted_index, "_id": deleted_seal}}),
            json!({"index": {"_index": edited_index, "_id": edited_seal}}),
            edited.clone(),
        ],
    );

    let (clean, mut problems) = verify(&path);
    assert!(!clean);
    let (d_first, d_last) = range(&deleted);
    let (e_first, e_last) = range(&edited);
    let mut expected = vec![
        Problem::Deleted {
            id: gone_id,
            seal: String::new(),
        },
        Problem::Modified {
            id: changed_id,
            place: "logs-cold".into(),
            seal: String::new(),
        },
        Problem::Inserted {
            id: "forged-doc".into(),
            place: "logs-cold".into(),
        },
        Problem::MissingSeal {
            topic: TOPIC.into(),
            partition: 1,
            segment: deleted["seal"]["segment"].as_str().unwrap().into(),
            seq: 1,
        },
        Problem::Gap {
            topic: TOPIC.into(),
            partition: 1,
            first: d_first,
            last: d_last,
        },
        Problem::Unverified {
            topic: TOPIC.into(),
            partition: 1,
            first: d_first,
            last: d_last,
            documents: indexed_in(&deleted),
        },
        Problem::Forged { seal: edited_seal },
        Problem::Unverified {
            topic: TOPIC.into(),
            partition: 2,
            first: e_first,
            last: e_last,
            documents: edited_docs,
        },
    ];
    // Which seal a document belongs to is checked apart: the test does not
    // know the seal ids of partition 3.
    for p in &mut problems {
        if let Problem::Deleted { seal, .. } | Problem::Modified { seal, .. } = p {
            assert!(seal.starts_with(&format!("cold-{TOPIC}-3-")), "{seal}");
            seal.clear();
        }
    }
    let key = |p: &Problem| format!("{p:?}");
    problems.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(problems, expected);

    // With the second copy, the deleted seal is found there: reported as
    // removed, and its documents are checked against the copy, so its
    // gap and unverified documents are no longer problems.
    let (clean, mut copied) = verify(&with_copy);
    assert!(!clean);
    for p in &mut copied {
        match p {
            Problem::Deleted { seal, .. } | Problem::Modified { seal, .. } => seal.clear(),
            Problem::RemovedSeal { copy, .. } => {
                assert!(copy.starts_with("seals-cold."), "{copy}");
                copy.clear();
            }
            _ => {}
        }
    }
    copied.sort_by_key(key);
    let mut expected_with_copy: Vec<Problem> = expected
        .iter()
        .filter(|p| {
            !matches!(p, Problem::MissingSeal { .. } | Problem::Gap { .. })
                && !matches!(p, Problem::Unverified { partition: 1, .. })
        })
        .cloned()
        .collect();
    expected_with_copy.push(Problem::RemovedSeal {
        seal: deleted_seal.clone(),
        copy: String::new(),
    });
    expected_with_copy.sort_by_key(key);
    assert_eq!(copied, expected_with_copy);

    // A scheduled run over the last day checks every seal made in it and
    // the documents they cover: the same tampering, except what only a
    // whole run can tell (documents no seal covers).
    let now_ms = logredact::stats::now_ms();
    let (clean, mut windowed) = verify_window(&path, Vec::new(), Some(now_ms - 86_400_000));
    assert!(!clean);
    for p in &mut windowed {
        if let Problem::Deleted { seal, .. } | Problem::Modified { seal, .. } = p {
            seal.clear();
        }
    }
    windowed.sort_by_key(key);
    expected.retain(|p| !matches!(p, Problem::Inserted { .. } | Problem::Unverified { .. }));
    assert_eq!(windowed, expected);
    // A window with no seal in it checks nothing, and finds nothing.
    let (clean, none) = verify_window(&path, Vec::new(), Some(now_ms + 86_400_000));
    assert!(clean, "{none:?}");
}

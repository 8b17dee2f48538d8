//! Acceptance tests: the daemon as a process, a real Kafka-protocol broker
//! (tansu, SQLite storage) and the Elasticsearch stand-in.

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::*;

const TOPIC: &str = "access";

struct Rig {
    dir: TempDir,
    tansu: Tansu,
    es: StandIn,
}

impl Rig {
    fn start(tag: &str, partitions: u32) -> Rig {
        let dir = TempDir::new(tag);
        let tansu = Tansu::start();
        tansu.create_topic(TOPIC, partitions);
        let es = StandIn::start();
        Rig { dir, tansu, es }
    }

    /// A config with hot (a data stream, or a dated index) and cold
    /// outputs, fast retries, and ILM setup files for `setup-es`.
    fn config(&self, hot_data_stream: bool, pipeline: &str) -> std::path::PathBuf {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut config = TestConfig::new(&self.tansu.bootstrap, &self.es.url)
            .property("session.timeout.ms", "6000")
            .property("heartbeat.interval.ms", "500")
            .outputs_extra("retry_initial_backoff = \"50ms\"\nretry_max_backoff = \"1s\"")
            .pipeline_extra("shutdown_timeout = \"20s\"")
            .pipeline_extra(pipeline);
        if hot_data_stream {
            config = config.hot_target("data_stream = \"logs-access-hot\"");
        }
        config
            .hot_extra(&format!("setup = {{ ilm_policy = \"{root}/es/ilm-hot.json\", index_template = \"{root}/es/template-hot.json\" }}"))
            .cold_extra(&format!("setup = {{ ilm_policy = \"{root}/es/ilm-cold.json\", index_template = \"{root}/es/template-cold.json\" }}"))
            .write(self.dir.path())
    }

    fn daemon(&self, config: &Path, name: &str) -> Daemon {
        Daemon::start(config, &self.dir.path().join(format!("{name}.log")))
    }

    /// Writes the public half of the signing key `key` to `name` in the
    /// rig's folder, as an auditor keeps it.
    fn public_half(&self, key: &Path, name: &str) -> PathBuf {
        let public = self.dir.path().join(name);
        let mut text = Vec::new();
        logredact::commands::keys::public(None, Some(key), &mut text).unwrap();
        std::fs::write(&public, &text).unwrap();
        public
    }

    fn docs(&self, pattern: &str) -> u64 {
        let stats = self.es.stats();
        stats["docs"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| {
                let prefix = pattern.trim_end_matches('*');
                k.starts_with(prefix)
            })
            .map(|(_, v)| v.as_u64().unwrap())
            .sum()
    }

    /// The ids Kafka handed out: `access-PARTITION-OFFSET` for every message.
    fn expected_ids(&self, n: u64) -> usize {
        n as usize
    }
}

fn id_set(ids: Vec<String>) -> HashSet<String> {
    let n = ids.len();
    let set: HashSet<String> = ids.into_iter().collect();
    assert_eq!(
        set.len(),
        n,
        "the stand-in lists each id once per index pattern"
    );
    set
}

/// Summary fields from the daemon's last "logredact stopped" log line.
fn stopped_summary(log: &str) -> serde_json::Value {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .rfind(|v| v["fields"]["message"] == "logredact stopped")
        .unwrap_or_else(|| panic!("no summary line in the log:\n{log}"))["fields"]
        .clone()
}

#[test]
fn every_event_reaches_hot_and_cold_exactly_once() {
    let rig = Rig::start("both", 4);
    let config = rig.config(true, "");
    seal_cold(&config, "seal", "");
    let setup = std::process::Command::new(env!("CARGO_BIN_EXE_logredact"))
        .args(["setup-es", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let n = produce(&rig.tansu.bootstrap, TOPIC, sample_events(100_000));
    let mut daemon = rig.daemon(&config, "d");
    let done = wait_until(Duration::from_secs(240), || {
        rig.docs("logs-access-hot") >= n && rig.docs("logs-cold-*") >= n
    });
    assert!(
        done,
        "hot {} cold {} of {n}",
        rig.docs("logs-access-hot"),
        rig.docs("logs-cold-*")
    );
    assert!(daemon.terminate().success());

    let hot = id_set(rig.es.ids("logs-access-hot"));
    let cold = id_set(rig.es.ids("logs-cold-*"));
    assert_eq!(hot.len(), rig.expected_ids(n));
    assert_eq!(hot, cold);
    let stats = rig.es.stats();
    assert_eq!(stats["overwritten"], 0, "no event was sent twice");
    assert!(stats["rejected"].as_object().unwrap().is_empty(), "{stats}");
    // Hot, cold, and cold's seal index.
    assert!(stats["templates"].as_array().unwrap().len() == 3, "{stats}");
    let summary = stopped_summary(&daemon.log_text());
    assert_eq!(summary["consumed"], n);
    assert_eq!(summary["indexed"], n);
    // The hot output is a data stream, written with `create`.
    let hit = &rig.es.search("logs-access-hot", r#"{"size":1}"#)["hits"]["hits"][0];
    assert!(hit["_index"]
        .as_str()
        .unwrap()
        .starts_with(".ds-logs-access-hot-"));
    assert!(hit["_source"]["redaction"].is_object());
    // Untouched, the 100,000 sealed documents verify.
    assert_verify_clean(&config);
}

#[test]
fn kill_9_three_times_loses_nothing_and_replays_only_overwrite() {
    let rig = Rig::start("crash", 4);
    let config = rig.config(false, "");
    seal_cold(&config, "seal", "");
    let total = 60_000usize;
    let bootstrap = rig.tansu.bootstrap.clone();
    let producer = std::thread::spawn(move || {
        let events = sample_events(total);
        let mut sent = 0;
        for chunk in events.chunks(5_000) {
            sent += produce(&bootstrap, TOPIC, chunk.to_vec());
            std::thread::sleep(Duration::from_millis(300));
        }
        sent
    });
    let mut daemon = rig.daemon(&config, "d");
    for (round, at) in [8_000u64, 20_000, 35_000].into_iter().enumerate() {
        assert!(
            wait_until(Duration::from_secs(120), || rig.docs("logs-cold-*") >= at),
            "round {round}: stuck at {}",
            rig.docs("logs-cold-*")
        );
        daemon.kill9();
        daemon = rig.daemon(&config, "d");
    }
    let n = producer.join().unwrap();
    assert!(
        wait_until(Duration::from_secs(240), || {
            rig.docs("logs-hot-*") >= n && rig.docs("logs-cold-*") >= n
        }),
        "hot {} cold {} of {n}",
        rig.docs("logs-hot-*"),
        rig.docs("logs-cold-*")
    );
    assert!(daemon.terminate().success());
    let hot = id_set(rig.es.ids("logs-hot-*"));
    let cold = id_set(rig.es.ids("logs-cold-*"));
    assert_eq!(hot.len() as u64, n, "no loss");
    assert_eq!(hot, cold);
    let stats = rig.es.stats();
    assert_eq!(
        stats["created"].as_u64().unwrap() - rig.docs("logredact-seals"),
        2 * n,
        "replays never add documents (seals are created once each)"
    );
    // The replays started new segments over the same offsets; the seals
    // still account for every document.
    assert_verify_clean(&config);
}

#[test]
fn verify_follows_a_key_rotation_and_refuses_seals_of_a_key_it_does_not_trust() {
    let rig = Rig::start("rotate", 2);
    let config = rig.config(false, "");
    let old = seal_cold(&config, "old", "");
    let n = produce(&rig.tansu.bootstrap, TOPIC, sample_events(6_000));
    let mut daemon = rig.daemon(&config, "d1");
    assert!(wait_until(Duration::from_secs(60), || rig
        .docs("logs-cold-*")
        >= n));
    assert!(daemon.terminate().success());

    // Rotate: the old key's public half is trusted, the new key signs.
    let public = rig.public_half(&old, "old.pub");
    seal_cold(
        &config,
        "new",
        &format!("trusted_keys = [\"{}\"]", public.display()),
    );
    let m = produce(&rig.tansu.bootstrap, TOPIC, sample_events(6_000));
    let mut daemon = rig.daemon(&config, "d2");
    assert!(wait_until(Duration::from_secs(60), || rig
        .docs("logs-cold-*")
        >= n + m));
    assert!(daemon.terminate().success());
    assert_verify_clean(&config);

    // Without the old key trusted, its seals are named, and nothing passes.
    seal_cold(&config, "new", "");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logredact"))
        .args(["verify", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("unknown key"), "{text}");
    assert!(!text.contains("forged"), "{text}");
}

/// Rotating the signing key needs no restart: a new key written over the
/// key file and a reload (SIGHUP) make the seals cut from then on name the
/// new key, mid-stream; `verify` follows, trusting the old key's public
/// half.
#[test]
fn a_reload_rotates_the_seal_key_mid_stream() {
    let rig = Rig::start("rotate-reload", 2);
    let config = rig.config(false, "");
    let key = seal_cold(&config, "seal", "");
    let n = produce(&rig.tansu.bootstrap, TOPIC, sample_events(6_000));
    let mut daemon = rig.daemon(&config, "d");
    assert!(wait_until(Duration::from_secs(60), || rig
        .docs("logs-cold-*")
        >= n));
    let key_ids = || -> std::collections::BTreeSet<String> {
        let r = rig.es.search(
            "logredact-seals-*",
            r#"{"size": 10000, "query": {"match_all": {}}}"#,
        );
        r["hits"]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["_source"]["seal"]["key_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(wait_until(Duration::from_secs(30), || !key_ids().is_empty()));
    let first = key_ids();
    assert_eq!(first.len(), 1);

    // The old key's public half is trusted; a new key replaces the file.
    let public = rig.public_half(&key, "old.pub");
    let fresh = rig.dir.path().join("fresh.pem");
    logredact::commands::keys::generate(&fresh, &mut std::io::sink()).unwrap();
    std::fs::rename(&fresh, &key).unwrap();
    seal_cold(
        &config,
        "seal",
        &format!("trusted_keys = [\"{}\"]", public.display()),
    );
    daemon.reload();
    assert!(
        wait_until(Duration::from_secs(30), || daemon
            .log_text()
            .contains("seal signing key rotated")),
        "{}",
        daemon.log_text()
    );
    let m = produce(&rig.tansu.bootstrap, TOPIC, sample_events(6_000));
    assert!(wait_until(Duration::from_secs(60), || rig
        .docs("logs-cold-*")
        >= n + m));
    assert!(daemon.terminate().success());
    let both = key_ids();
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(both.is_superset(&first));
    assert_verify_clean(&config);
}

#[test]
fn an_outage_and_item_rejections_lose_nothing_and_memory_stays_bounded() {
    let rig = Rig::start("outage", 4);
    let config = rig.config(false, "max_in_flight_bytes = 16_777_216");
    seal_cold(&config, "seal", "");
    let n = produce(&rig.tansu.bootstrap, TOPIC, sample_events(30_000));
    let mut daemon = rig.daemon(&config, "d");
    assert!(wait_until(Duration::from_secs(60), || rig
        .docs("logs-cold-*")
        >= 2_000));
    rig.es
        .faults(r#"{"outage_seconds": 30, "item_429_rate": 0.1, "seed": 3}"#);
    let started = Instant::now();
    let mut peak_rss = 0;
    while started.elapsed() < Duration::from_secs(30) {
        peak_rss = peak_rss.max(daemon.rss_kib());
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(daemon.is_running());
    assert!(
        wait_until(Duration::from_secs(180), || {
            peak_rss = peak_rss.max(daemon.rss_kib());
            rig.docs("logs-hot-*") >= n && rig.docs("logs-cold-*") >= n
        }),
        "the daemon did not resume by itself: hot {} cold {} of {n}",
        rig.docs("logs-hot-*"),
        rig.docs("logs-cold-*")
    );
    // With 16 MiB in flight allowed, the daemon's whole resident set stays
    // under 200 MiB through the outage.
    assert!(peak_rss < 200 * 1024, "peak RSS {peak_rss} KiB");
    assert!(daemon.terminate().success());
    assert_eq!(id_set(rig.es.ids("logs-hot-*")).len() as u64, n);
    assert_eq!(id_set(rig.es.ids("logs-cold-*")).len() as u64, n);
    assert!(
        rig.es.stats()["rejected"]["es_rejected_execution_exception"]
            .as_u64()
            .unwrap()
            > 0
    );
    let log = daemon.log_text();
    assert!(
        log.contains("bulk request failed; will retry") || log.contains("bulk request refused")
    );
    // Seals written through the outage (retried until stored) hold.
    assert_verify_clean(&config);
}

#[test]
fn a_second_daemon_takes_over_the_partitions_of_one_that_stops() {
    let rig = Rig::start("group", 4);
    let config = rig.config(false, "");
    let total = 40_000usize;
    let bootstrap = rig.tansu.bootstrap.clone();
    let producer = std::thread::spawn(move || {
        let events = sample_events(total);
        let mut sent = 0;
        for chunk in events.chunks(4_000) {
            sent += produce(&bootstrap, TOPIC, chunk.to_vec());
            std::thread::sleep(Duration::from_millis(500));
        }
        sent
    });
    let mut a = rig.daemon(&config, "a");
    let mut b = rig.daemon(&config, "b");
    assert!(wait_until(Duration::from_secs(120), || rig
        .docs("logs-cold-*")
        >= 15_000));
    assert!(b.terminate().success(), "b stops cleanly");
    let n = producer.join().unwrap();
    assert!(
        wait_until(Duration::from_secs(240), || {
            rig.docs("logs-hot-*") >= n && rig.docs("logs-cold-*") >= n
        }),
        "hot {} cold {} of {n}",
        rig.docs("logs-hot-*"),
        rig.docs("logs-cold-*")
    );
    assert!(a.terminate().success());
    assert_eq!(id_set(rig.es.ids("logs-hot-*")).len() as u64, n);
    assert_eq!(id_set(rig.es.ids("logs-cold-*")).len() as u64, n);
    let a_summary = stopped_summary(&a.log_text());
    let b_summary = stopped_summary(&b.log_text());
    assert!(
        b_summary["consumed"].as_u64().unwrap() > 0,
        "b had partitions before it stopped"
    );
    assert!(a_summary["consumed"].as_u64().unwrap() > 0);
}

#[test]
fn bad_input_never_crashes_the_daemon_and_no_personal_data_reaches_its_log() {
    let rig = Rig::start("bad", 2);
    let config = rig.config(false, "max_event_bytes = 1_048_576");
    rig.es.faults(r#"{"long_fields": ["ts_ms"]}"#);
    let mut deep = "{\"a\":".repeat(100_000);
    deep.push('1');
    deep.push_str(&"}".repeat(100_000));
    let mut not_utf8 = b"{\"phone\":\"13912345678\",\"x\":\"".to_vec();
    not_utf8.extend_from_slice(&[0xc3, 0x28, b'"', b'}']);
    let mut five_mb = String::from("{\"card\":\"6222021234567890128\",\"pad\":\"");
    // 5 MB (decimal): tansu does not serve a message above 5 MiB to
    // librdkafka (the fetch returns nothing), which real Kafka does.
    five_mb.push_str(&"y".repeat(5_000_000 - five_mb.len() - 2));
    five_mb.push_str("\"}");
    let mut inputs: Vec<Vec<u8>> = vec![
        b"garbage 13812345678 alice@example.com".to_vec(),
        not_utf8,
        five_mb.into_bytes(),
        deep.into_bytes(),
        // A mapping error for the sink: `ts_ms` is mapped as a number.
        br#"{"ts_ms":"not a number","email":"bob@example.org"}"#.to_vec(),
    ];
    inputs.extend(sample_events(1_000));
    let n = produce(&rig.tansu.bootstrap, TOPIC, inputs);
    let mut daemon = rig.daemon(&config, "d");
    let dead_dir = rig.dir.path().join("dead");
    assert!(
        wait_until(Duration::from_secs(120), || {
            rig.docs("logs-cold-*") >= n - 5 && dead_letters(&dead_dir).len() >= 6
        }),
        "cold {} dead {}",
        rig.docs("logs-cold-*"),
        dead_letters(&dead_dir).len()
    );
    assert!(daemon.is_running(), "bad input never stops the daemon");
    assert!(daemon.terminate().success());
    let records = dead_letters(&dead_dir);
    let mut classes: Vec<&str> = records
        .iter()
        .map(|r| r["class"].as_str().unwrap())
        .collect();
    classes.sort();
    assert_eq!(
        classes,
        [
            "indexing_rejected",
            "indexing_rejected",
            "not_json",
            "not_utf8",
            "too_deep",
            "too_large"
        ]
    );
    let summary = stopped_summary(&daemon.log_text());
    assert_eq!(summary["consumed"], n);
    assert_eq!(summary["dead_lettered"], 5);
    assert_eq!(summary["indexed"], n - 5);

    let planted = [
        "13812345678",
        "13912345678",
        "alice@example.com",
        "bob@example.org",
        "6222021234567890128",
    ];
    let everything = format!(
        "{}\n{}",
        daemon.log_text(),
        records
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for p in planted {
        assert!(
            !everything.contains(p),
            "{p} appears in the log or a dead letter"
        );
    }
    // The samples' own PII must not be in the log either.
    for line in sample_events(50) {
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        if let Some(email) = v["user"]["email"].as_str() {
            assert!(!daemon.log_text().contains(email));
        }
    }
}

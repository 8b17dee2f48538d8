//! Operating the daemon: metrics that reconcile with what was stored,
//! health and readiness, hot rule reload under load, systemd notifications.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::*;

const TOPIC: &str = "access";

fn config(dir: &Path, bootstrap: &str, es: &str, rules: &Path) -> PathBuf {
    TestConfig::new(bootstrap, es)
        .group("ops-test")
        .rules(rules)
        .write(dir)
}

fn copy_rules(dir: &Path) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), rules.join(e.file_name())).unwrap();
    }
    rules
}

#[test]
fn metrics_reconcile_with_what_the_outputs_hold_and_health_answers() {
    let dir = TempDir::new("metrics");
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, 4);
    let es = StandIn::start();
    es.faults(r#"{"long_fields": ["code"], "item_429_rate": 0.05}"#);
    let mut events = sample_events(4_000);
    for i in 0..40 {
        events.push(format!(r#"{{"code":"E{i}","phone":"13812345678"}}"#).into_bytes());
    }
    events.push(b"not json".to_vec());
    let n = produce(&tansu.bootstrap, TOPIC, events);
    let cfg = config(
        dir.path(),
        &tansu.bootstrap,
        &es.url,
        &copy_rules(dir.path()),
    );
    let mut daemon = Daemon::start(&cfg, &dir.path().join("d.log"));
    let port = daemon.metrics_port();
    assert!(wait_until(Duration::from_secs(60), || {
        let m = scrape(port);
        get(&m, "logredact_events_consumed_total") == n as f64
            && get(&m, "logredact_in_flight_events") == 0.0
    }));
    let m = scrape(port);
    let completed = get(&m, r#"logredact_events_completed_total{outcome="indexed"}"#)
        + get(
            &m,
            r#"logredact_events_completed_total{outcome="dead_lettered"}"#,
        )
        + get(&m, r#"logredact_events_completed_total{outcome="dropped"}"#);
    assert_eq!(
        completed, n as f64,
        "consumed = indexed + dead-lettered + dropped"
    );
    assert_eq!(
        get(&m, r#"logredact_documents_indexed_total{output="hot"}"#),
        es.ids("logs-hot-*").len() as f64
    );
    assert_eq!(
        get(&m, r#"logredact_documents_indexed_total{output="cold"}"#),
        es.ids("logs-cold-*").len() as f64
    );
    let dead = dead_letters(&dir.path().join("dead")).len() as f64;
    let dead_metric: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("logredact_dead_letters_total{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(dead_metric, dead);
    assert_eq!(
        get(
            &m,
            r#"logredact_dead_letters_total{class="indexing_rejected"}"#
        ),
        80.0
    );
    assert_eq!(
        get(&m, r#"logredact_dead_letters_total{class="not_json"}"#),
        1.0
    );
    assert!(get(&m, "logredact_retried_items_total") > 0.0);
    assert!(
        get(
            &m,
            r#"logredact_masked_values_total{rule="mask-cn-mobile",detector="cn_mobile"}"#
        ) > 0.0
    );
    assert!(
        get(
            &m,
            r#"logredact_end_to_end_latency_seconds_count{output="hot"}"#
        ) > 0.0
    );
    assert!(get(&m, "logredact_rule_duration_seconds_count") > 0.0);
    // Bounded labels: nothing per document, per dated index or per value.
    for key in m.keys() {
        assert!(
            !key.contains("logs-hot-2"),
            "a dated index in a label: {key}"
        );
        assert!(!key.contains("13812345678"), "a value in a label: {key}");
        assert!(!key.contains("access-"), "a document id in a label: {key}");
    }
    let (status, body) = http(port, "GET", "/health", "");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, _) = http(port, "GET", "/ready", "");
    assert_eq!(status, 200);
    // `logredact health`, the container health check, agrees.
    let health = std::process::Command::new(env!("CARGO_BIN_EXE_logredact"))
        .args(["health", "--address", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert!(health.status.success(), "{health:?}");
    dashboard_queries_only_exported_metrics(port);
    assert!(daemon.terminate().success());
}

/// Every metric the Grafana dashboard (deploy/grafana) queries is in a
/// live scrape: as a metric family, or as a histogram's _bucket, _sum or
/// _count series.
fn dashboard_queries_only_exported_metrics(port: u16) {
    let (_, exposition) = http(port, "GET", "/metrics", "");
    let families: Vec<&str> = exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/grafana/dashboards/logredact.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut queried = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("logredact_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[at + name.len()..];
                queried.push(name);
            }
        }
    }
    assert!(queried.len() >= 20, "the dashboard queries {queried:?}");
    // Labels the dashboard groups by exist on the series it groups (where
    // this run produced series of that metric).
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let names: Vec<&str> = queried
                .iter()
                .filter(|n| expr.contains(n.as_str()))
                .map(String::as_str)
                .collect();
            let series: Vec<&str> = exposition
                .lines()
                .filter(|l| names.iter().any(|n| l.starts_with(&format!("{n}{{"))))
                .collect();
            if series.is_empty() {
                continue;
            }
            for group in expr.split("by (").skip(1) {
                let labels = group.split(')').next().unwrap();
                for label in labels.split(',').map(str::trim) {
                    assert!(
                        series.iter().any(|l| l.contains(&format!("{label}=\""))),
                        "the dashboard groups {names:?} by {label}, a label they do not have"
                    );
                }
            }
        }
    }
    for name in &queried {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|base| families.contains(base))
            })
            .unwrap_or(name);
        assert!(
            families.contains(&family),
            "the dashboard queries {name}, which /metrics does not export"
        );
    }
}

#[test]
fn readiness_fails_with_a_reason_while_an_output_is_down() {
    let dir = TempDir::new("ready");
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, 2);
    let es = StandIn::start();
    produce(&tansu.bootstrap, TOPIC, sample_events(200));
    let cfg = config(
        dir.path(),
        &tansu.bootstrap,
        &es.url,
        &copy_rules(dir.path()),
    );
    let mut daemon = Daemon::start(&cfg, &dir.path().join("d.log"));
    let port = daemon.metrics_port();
    assert!(wait_until(Duration::from_secs(30), || http(
        port, "GET", "/ready", ""
    )
    .0 == 200));
    es.faults(r#"{"outage_seconds": 8}"#);
    produce(&tansu.bootstrap, TOPIC, sample_events(200));
    assert!(wait_until(Duration::from_secs(8), || http(
        port, "GET", "/ready", ""
    )
    .0 == 503));
    let (_, body) = http(port, "GET", "/ready", "");
    assert!(body.contains("is not reachable"), "{body}");
    // Alive all along: health stays ok through the outage.
    assert_eq!(http(port, "GET", "/health", "").0, 200);
    assert!(wait_until(Duration::from_secs(30), || http(
        port, "GET", "/ready", ""
    )
    .0 == 200));
    assert!(daemon.terminate().success());
}

/// While Elasticsearch refuses the credentials, nothing is indexed: the
/// output is down for `/ready` and `logredact_output_up`, as in an outage
/// (it used to say "ok" and 1 all along).
#[test]
fn readiness_fails_while_the_credentials_are_refused() {
    let dir = TempDir::new("ready-auth");
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, 2);
    let es = StandIn::start();
    produce(&tansu.bootstrap, TOPIC, sample_events(100));
    let cfg = config(
        dir.path(),
        &tansu.bootstrap,
        &es.url,
        &copy_rules(dir.path()),
    );
    let mut daemon = Daemon::start(&cfg, &dir.path().join("d.log"));
    let port = daemon.metrics_port();
    assert!(wait_until(Duration::from_secs(30), || http(
        port, "GET", "/ready", ""
    )
    .0 == 200));
    es.faults(r#"{"require_authorization": "Basic bm90OnVz"}"#);
    produce(&tansu.bootstrap, TOPIC, sample_events(100));
    assert!(wait_until(Duration::from_secs(15), || http(
        port, "GET", "/ready", ""
    )
    .0 == 503));
    let (_, body) = http(port, "GET", "/ready", "");
    assert!(body.contains("credentials refused"), "{body}");
    let metrics = scrape(port);
    assert_eq!(
        metrics.get("logredact_output_up{output=\"hot\"}"),
        Some(&0.0),
        "{metrics:?}"
    );
    es.faults("{}");
    assert!(wait_until(Duration::from_secs(60), || http(
        port, "GET", "/ready", ""
    )
    .0 == 200));
    assert!(daemon.terminate().success());
}

/// Started while Elasticsearch is down, the daemon runs (it does not exit,
/// which under `Restart=on-failure` would be a restart loop), says what it
/// waits for, consumes nothing, and starts once the cluster answers.
#[test]
fn started_during_an_outage_it_waits_consumes_nothing_then_starts() {
    let dir = TempDir::new("start-down");
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, 2);
    let es = StandIn::start();
    let n = produce(&tansu.bootstrap, TOPIC, sample_events(500));
    let cfg = config(
        dir.path(),
        &tansu.bootstrap,
        &es.url,
        &copy_rules(dir.path()),
    );
    es.faults(r#"{"outage_seconds": 12}"#);
    let mut daemon = Daemon::start(&cfg, &dir.path().join("d.log"));
    let port = daemon.metrics_port();
    std::thread::sleep(Duration::from_secs(4));
    assert!(daemon.is_running(), "{}", daemon.log_text());
    let (status, body) = http(port, "GET", "/ready", "");
    assert_eq!(status, 503, "{body}");
    let reasons = serde_json::from_str::<serde_json::Value>(&body).unwrap()["reasons"].clone();
    assert!(
        reasons
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "output \"hot\" is not reachable (its last request failed, got 5xx, or had its credentials refused with 401 or 403)"),
        "{body}"
    );
    assert_eq!(http(port, "GET", "/health", "").0, 200);
    assert_eq!(get(&scrape(port), "logredact_events_consumed_total"), 0.0);
    let log = daemon.log_text();
    assert!(
        log.contains("waiting for it before consuming anything"),
        "{log}"
    );
    // (The stand-in answers nothing, its own statistics included, until
    // the outage ends.)
    assert!(wait_until(Duration::from_secs(60), || http(
        port, "GET", "/ready", ""
    )
    .0 == 200));
    assert!(wait_until(Duration::from_secs(60), || es.docs("logs-hot")
        >= n
        && es.docs("logs-cold") >= n));
    assert!(daemon.terminate().success());
}

#[test]
fn reload_under_load_loses_nothing_doubles_nothing_and_new_events_use_new_rules() {
    let dir = TempDir::new("reload");
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, 4);
    let es = StandIn::start();
    let rules = copy_rules(dir.path());
    let cfg = config(dir.path(), &tansu.bootstrap, &es.url, &rules);
    seal_cold(&cfg, "seal", "");
    let mut daemon = Daemon::start(&cfg, &dir.path().join("d.log"));
    let port = daemon.metrics_port();
    let bootstrap = tansu.bootstrap.clone();
    let total = 30_000usize;
    let producer = std::thread::spawn(move || {
        let mut p = TestProducer::new(&bootstrap, 5);
        let mut sent = 0;
        for chunk in sample_events(total).chunks(1_000) {
            sent += p.send(TOPIC, chunk.to_vec());
            std::thread::sleep(Duration::from_millis(100));
        }
        sent
    });
    assert!(wait_until(Duration::from_secs(60), || es
        .ids("logs-cold-*")
        .len()
        >= 5_000));

    // A broken file: refused with file:line:column, the old rules stay.
    std::fs::write(
        rules.join("40-broken.toml"),
        "version = 1\n[[tag]]\nid = \"x\"\nwhen = { field = \"a\", equalz = 1 }\n\
         [[mask]]\nid = \"y\"\ndetector = \"regex\"\npattern = '13987654321('\naction = \"full\"\n",
    )
    .unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        get(
            &scrape(port),
            r#"logredact_rule_reloads_total{result="error"}"#,
        ) >= 1.0
    }));
    assert!(
        daemon.log_text().contains("40-broken.toml:4:"),
        "errors carry file:line:column"
    );
    // Positions and kinds only: authors write PII-like digits into rules,
    // and the log must not echo them.
    assert!(
        daemon
            .log_text()
            .contains("the pattern is not a valid regular expression"),
        "{}",
        daemon.log_text()
    );
    assert!(
        !daemon.log_text().contains("13987654321"),
        "a refused reload echoed rule text into the log"
    );
    std::fs::remove_file(rules.join("40-broken.toml")).unwrap();

    // A valid new tag rule, sent by SIGHUP as well as the file watcher.
    std::fs::write(
        rules.join("25-reloaded.toml"),
        "version = 1\n[[tag]]\nid = \"mark-reloaded\"\nwhen = { field = \"service\", exists = true }\nadd_tags = [\"reloaded\"]\n",
    )
    .unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        daemon.log_text().contains("\"rules reloaded\"")
            || daemon.log_text().contains("rules reloaded\"")
    }));
    let n = producer.join().unwrap();
    assert!(wait_until(Duration::from_secs(120), || {
        es.ids("logs-hot-*").len() as u64 >= n && es.ids("logs-cold-*").len() as u64 >= n
    }));
    assert!(daemon.terminate().success());
    assert_eq!(es.ids("logs-hot-*").len() as u64, n, "nothing lost");
    assert_eq!(es.stats()["overwritten"], 0, "nothing processed twice");
    // Seals made under both rule sets hold.
    assert_verify_clean(&cfg);
    // The last events were produced after the swap and carry the new tag.
    let last = es.search("logs-hot-*", r#"{"query":{"term":{"seq":29999}}}"#);
    let hit = &last["hits"]["hits"][0]["_source"];
    assert!(
        hit["tags"]
            .as_array()
            .is_some_and(|t| t.contains(&"reloaded".into())),
        "{hit}"
    );
    let first = es.search("logs-hot-*", r#"{"query":{"term":{"seq":0}}}"#);
    let hit = &first["hits"]["hits"][0]["_source"];
    assert!(
        !hit["tags"]
            .as_array()
            .is_some_and(|t| t.contains(&"reloaded".into())),
        "{hit}"
    );
    // Reloads, good and bad, log no event content.
    let log = daemon.log_text();
    for line in sample_events(total) {
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        for value in [
            &v["user"]["phone"],
            &v["user"]["email"],
            &v["user"]["id_no"],
        ] {
            if let Some(pii) = value.as_str() {
                assert!(!log.contains(pii), "{pii} is in the log");
            }
        }
    }
}

/// Starts the daemon as systemd would with `Type=notify` and a 0.6 s
/// watchdog; returns the socket its notifications arrive on (reads time
/// out after `read_timeout`).
fn under_systemd(
    dir: &Path,
    cfg: &Path,
    read_timeout: Duration,
) -> (std::os::unix::net::UnixDatagram, Daemon) {
    let socket_path = dir.join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(read_timeout)).unwrap();
    let daemon = Daemon::start_with_env(
        cfg,
        &dir.join("d.log"),
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "600000"),
            ("WATCHDOG_PID", "self"),
        ],
    );
    (socket, daemon)
}

#[test]
fn systemd_hears_ready_watchdog_status_and_stopping() {
    let dir = TempDir::new("notify");
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, 1);
    let es = StandIn::start();
    let cfg = config(
        dir.path(),
        &tansu.bootstrap,
        &es.url,
        &copy_rules(dir.path()),
    );
    let (socket, mut daemon) = under_systemd(dir.path(), &cfg, Duration::from_secs(30));
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    let started = std::time::Instant::now();
    while !(seen.iter().any(|m: &String| m.contains("READY=1"))
        && seen.iter().filter(|m| m.contains("WATCHDOG=1")).count() >= 3
        && seen.iter().any(|m| m.starts_with("STATUS=")))
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "heard only {seen:?}"
        );
        let n = socket.recv(&mut buf).expect("a notification within 30 s");
        seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(daemon.terminate().success());
    loop {
        let n = socket.recv(&mut buf).expect("STOPPING=1 before exit");
        if String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1") {
            break;
        }
    }
}

#[test]
fn a_misspelt_topic_is_ready_for_systemd_not_for_traffic_and_the_log_says_why() {
    // systemd must not kill and restart a daemon that runs but has no
    // partitions (a misspelt topic, a replica beyond the partition count):
    // READY=1 once it runs; /ready and the log say what it waits for.
    let dir = TempDir::new("no-partitions");
    let tansu = Tansu::start();
    let es = StandIn::start();
    let cfg = TestConfig::new(&tansu.bootstrap, &es.url)
        .group("no-partitions")
        .topic("acess-logs")
        .rules(&copy_rules(dir.path()))
        .write(dir.path());
    let (socket, mut daemon) = under_systemd(dir.path(), &cfg, Duration::from_secs(30));
    let mut buf = [0u8; 512];
    let started = std::time::Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(30), "no READY=1");
        let n = socket.recv(&mut buf).expect("a notification within 30 s");
        let message = String::from_utf8_lossy(&buf[..n]).into_owned();
        if message.contains("READY=1") {
            assert!(
                message.contains("waiting for Kafka partitions"),
                "{message}"
            );
            break;
        }
    }
    // Keep reading, as systemd does.
    std::thread::spawn(move || while socket.recv(&mut buf).is_ok() {});
    let (status, body) = http(daemon.metrics_port(), "GET", "/ready", "");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("no Kafka partitions are assigned yet"),
        "{body}"
    );
    assert!(
        wait_until(Duration::from_secs(40), || daemon
            .log_text()
            .contains("waiting for Kafka partitions of topics acess-logs")),
        "{}",
        daemon.log_text()
    );
    assert!(daemon.terminate().success());
}

#[test]
fn heap_profile_is_served_in_pprof_format_only_when_asked_for() {
    use std::io::Read;
    let dir = TempDir::new("heap");
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, 1);
    let es = StandIn::start();
    produce(&tansu.bootstrap, TOPIC, sample_events(2_000));
    let plain = TestConfig::new(&tansu.bootstrap, &es.url).group("heap-off");
    let mut daemon = Daemon::start(&plain.write(dir.path()), &dir.path().join("off.log"));
    let (status, _) = http(daemon.metrics_port(), "GET", "/debug/pprof/heap", "");
    assert_eq!(status, 404, "no profile unless the flag is set");
    assert!(daemon.terminate().success());

    let cfg = TestConfig::new(&tansu.bootstrap, &es.url)
        .group("heap-on")
        .metrics_extra("heap_profile = true")
        .write(dir.path());
    let mut daemon = Daemon::start(&cfg, &dir.path().join("on.log"));
    let port = daemon.metrics_port();
    assert!(wait_until(Duration::from_secs(60), || es
        .ids("logs-cold-*")
        .len()
        >= 2_000));
    let (status, body) = http_bytes(port, "GET", "/debug/pprof/heap", "");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(&body[..2], [0x1f, 0x8b], "gzipped");
    let mut profile = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut profile)
        .unwrap();
    // pprof's string table names the sample types and the mapped binary.
    let text = String::from_utf8_lossy(&profile);
    assert!(
        text.contains("space") && text.contains("bytes"),
        "sample type"
    );
    assert!(text.contains("logredact"), "the binary's mapping");
    assert!(daemon.terminate().success());
}

/// A pipeline that stops turning (here: Elasticsearch accepts requests and
/// never answers) stops the watchdog pings, so systemd restarts the
/// service, and `/health` says which part is stuck.
#[test]
fn a_stuck_output_stops_the_watchdog_pings_and_health_says_why() {
    use std::time::Instant;
    let dir = TempDir::new("stuck");
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, 1);
    let es = StandIn::start();
    let cfg = TestConfig::new(&tansu.bootstrap, &es.url)
        .group("stuck")
        .outputs_extra("request_timeout = \"10m\"\nconcurrency = 1\nbulk_max_docs = 100")
        .write(dir.path());
    let (socket, mut daemon) = under_systemd(dir.path(), &cfg, Duration::from_millis(500));
    let port = daemon.metrics_port();
    let mut buf = [0u8; 512];
    let mut last_ping = None;
    // Healthy first: pings arrive.
    let started = Instant::now();
    while last_ping.is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "no pings");
        if let Ok(n) = socket.recv(&mut buf) {
            if String::from_utf8_lossy(&buf[..n]).contains("WATCHDOG=1") {
                last_ping = Some(Instant::now());
            }
        }
    }
    es.faults(r#"{"latency_ms": 600000}"#);
    produce(&tansu.bootstrap, TOPIC, sample_events(2_000));
    // The pings must stop: wait for a silence of three ping periods after
    // the stall threshold (30 s) passes.
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the watchdog kept being pinged while the output was stuck"
        );
        if let Ok(n) = socket.recv(&mut buf) {
            if String::from_utf8_lossy(&buf[..n]).contains("WATCHDOG=1") {
                last_ping = Some(Instant::now());
            }
        }
        if last_ping.is_some_and(|t| t.elapsed() > Duration::from_secs(3)) {
            break;
        }
    }
    let (status, body) = http(port, "GET", "/health", "");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("has not turned"), "{body}");
    daemon.kill9();
}

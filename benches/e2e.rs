//! End-to-end bench: tansu → logredact run → Elasticsearch stand-in.
//!
//! Phase 1 (capacity): N events are produced first, then the daemon indexes
//! them into hot and cold as fast as it can. Reports throughput, CPU
//! seconds of each process, and the daemon's CPU µs per event twice: over
//! the whole run, and over the steady state (from a fifth of the events
//! indexed to four fifths, CPU and events over the same window).
//!
//! Phase 2 (latency): a fresh daemon run while events are produced at half
//! the rate phase 1 sustained, with a 50 ms flush interval. Reports
//! end-to-end latency P50/P99/P99.9 (Kafka timestamp to Elasticsearch
//! acknowledgement), as the daemon measured it.
//!
//! With `E2E_SEAL=1` the cold output is sealed (docs/audit.md), and after
//! phase 1 `logredact verify` checks it, timed (documents per second).
//!
//! Run with `scripts/bench-e2e` (or `cargo bench --bench e2e`). Knobs:
//! `E2E_EVENTS` (default 100000), `E2E_LATENCY_SECONDS` (default 20). Under
//! `cargo test` it runs as a small smoke test (2,000 events, 2 s).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::*;

const TOPIC: &str = "access";

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    (ticks(11) + ticks(12)) / 100.0
}

/// `properties`: extra librdkafka properties.
fn config(
    dir: &std::path::Path,
    bootstrap: &str,
    es: &str,
    group: &str,
    properties: &[(String, String)],
) -> std::path::PathBuf {
    let mut config = TestConfig::new(bootstrap, es)
        .group(group)
        .commit_interval("500ms");
    for (k, v) in properties {
        config = config.property(k, v);
    }
    config.write(dir)
}

fn latency_lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("end-to-end latency"))
        })
        .map(|v| v["fields"].clone())
        .collect()
}

fn main() {
    // `cargo bench` passes --bench; under `cargo test` this runs as a quick
    // smoke test of the whole rig instead.
    let full = std::env::args().any(|a| a == "--bench");
    let knob = |name: &str, bench: u64, smoke: u64| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if full { bench } else { smoke })
    };
    let n = knob("E2E_EVENTS", 100_000, 2_000) as usize;
    let latency_secs = knob("E2E_LATENCY_SECONDS", 20, 2);
    let dir = TempDir::new("bench-e2e");
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, 4);
    let es = StandIn::start();

    // Phase 1: capacity.
    let events = sample_events(n);
    let bytes: usize = events.iter().map(Vec::len).sum();
    println!(
        "producing {n} events ({:.1} MB) into tansu…",
        bytes as f64 / 1e6
    );
    produce(&tansu.bootstrap, TOPIC, events);
    let (tansu_cpu0, es_cpu0) = (cpu_seconds(tansu.proc.0.id()), cpu_seconds(es.proc.0.id()));
    // E2E_KAFKA_PROPERTIES adds librdkafka properties (`key=value`,
    // comma-separated) to the daemon's config, to try tunings.
    let props: Vec<(String, String)> = std::env::var("E2E_KAFKA_PROPERTIES")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let cfg = config(
        dir.path(),
        &tansu.bootstrap,
        &es.url,
        "bench-capacity",
        &props,
    );
    let sealed = std::env::var("E2E_SEAL").is_ok_and(|v| v == "1");
    if sealed {
        seal_cold(&cfg, "seal", "");
        println!("the cold output is sealed");
    }
    let started = Instant::now();
    let mut daemon = Daemon::start(&cfg, &dir.path().join("capacity.log"));
    let pid = daemon.proc.0.id();
    let port = daemon.metrics_port();
    let mut first_doc = None;
    // The steady-state window: from when a fifth of the events are in both
    // outputs to when four fifths are. CPU and events are counted over the
    // same window, and the daemon's own counters say how many it consumed
    // in it: the window is steady when that matches the events indexed.
    let (from, to) = (n as u64 / 5, n as u64 * 4 / 5);
    let mut window: [Option<(f64, u64, f64)>; 2] = [None, None];
    loop {
        let (hot, cold) = (es.docs("logs-hot-"), es.docs("logs-cold-"));
        let done = hot.min(cold);
        if first_doc.is_none() && hot > 0 {
            first_doc = Some(started.elapsed());
        }
        for (slot, mark) in window.iter_mut().zip([from, to]) {
            if slot.is_none() && done >= mark {
                let consumed = get(&scrape(port), "logredact_events_consumed_total");
                *slot = Some((cpu_seconds(pid), done, consumed));
            }
        }
        if hot >= n as u64 && cold >= n as u64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "stuck at hot {hot} cold {cold}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = started.elapsed() - first_doc.unwrap_or_default();
    let daemon_cpu = cpu_seconds(pid);
    let tansu_cpu = cpu_seconds(tansu.proc.0.id()) - tansu_cpu0;
    let es_cpu = cpu_seconds(es.proc.0.id()) - es_cpu0;
    assert!(daemon.terminate().success());
    let rate = n as f64 / wall.as_secs_f64();
    println!();
    println!("capacity: {n} events into hot and cold");
    println!(
        "  throughput      {:>10.0} events/s  {:>6.1} MB/s  (wall {:.2} s from first ack)",
        rate,
        bytes as f64 / 1e6 / wall.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "  CPU seconds     daemon {daemon_cpu:.2}   tansu {tansu_cpu:.2}   es-standin {es_cpu:.2}"
    );
    println!(
        "  daemon CPU      {:>10.2} µs per event over the whole run (start-up, consume → rules → bulk → ack → commit, shutdown)",
        daemon_cpu * 1e6 / n as f64
    );
    if let [Some((cpu1, done1, consumed1)), Some((cpu2, done2, consumed2))] = window {
        println!(
            "                  {:>10.2} µs per event in the steady state ({} events indexed and {:.0} consumed while {:.2} s of CPU were spent)",
            (cpu2 - cpu1) * 1e6 / (done2 - done1).max(1) as f64,
            done2 - done1,
            consumed2 - consumed1,
            cpu2 - cpu1
        );
    }

    if sealed {
        let started = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_logredact"))
            .args(["verify", "--config"])
            .arg(&cfg)
            .output()
            .unwrap();
        let secs = started.elapsed().as_secs_f64();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "verify: {text}");
        println!(
            "  verify          {:>10.0} documents per second ({n} documents and their seals in {secs:.2} s, wall, the stand-in included)",
            n as f64 / secs
        );
    }

    // Phase 2: latency at half the sustained rate.
    let half = (rate / 2.0).max(100.0);
    let cfg = config(
        dir.path(),
        &tansu.bootstrap,
        &es.url,
        "bench-latency",
        &[
            &[("auto.offset.reset".to_owned(), "latest".to_owned())],
            &props[..],
        ]
        .concat(),
    );
    let log = dir.path().join("latency.log");
    // A new group starts at the end of the topic: only paced events count.
    let mut daemon = Daemon::start(&cfg, &log);
    std::thread::sleep(Duration::from_secs(8)); // joins the group
    let before = (es.docs("logs-hot-"), es.docs("logs-cold-"));
    let paced = (half as u64 * latency_secs) as usize;
    println!();
    println!("latency: producing {paced} events at {half:.0} events/s (half of capacity), flush interval 50 ms");
    let events = sample_events(paced);
    let start = Instant::now();
    let batch = (half / 20.0).max(1.0) as usize;
    let mut producer = TestProducer::new(&tansu.bootstrap, 1);
    for (i, chunk) in events.chunks(batch).enumerate() {
        producer.send(TOPIC, chunk.to_vec());
        let due = Duration::from_secs_f64((i + 1) as f64 * batch as f64 / half);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    let target = (before.0 + paced as u64, before.1 + paced as u64);
    assert!(wait_until(Duration::from_secs(120), || {
        es.docs("logs-hot-") >= target.0 && es.docs("logs-cold-") >= target.1
    }));
    assert!(daemon.terminate().success());
    for l in latency_lines(&daemon.log_text()) {
        println!(
            "  {:<5} {:>8} docs   P50 {:>7.1} ms   P99 {:>7.1} ms   P99.9 {:>7.1} ms",
            l["output"].as_str().unwrap_or("?"),
            l["indexed"],
            l["p50_ms"].as_f64().unwrap_or(0.0),
            l["p99_ms"].as_f64().unwrap_or(0.0),
            l["p999_ms"].as_f64().unwrap_or(0.0),
        );
    }
}

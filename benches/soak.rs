//! Soak: tansu → daemon → stand-in at half the rig's capacity for a long
//! time, under churn, recording memory. Run it with `scripts/soak`.
//!
//! While it runs it:
//! - rewrites a rule file and sends SIGHUP every `--reload-every` (10 s);
//! - starts a second daemon in the same consumer group every
//!   `--rebalance-every` (1 min) and stops it 20 s later: two rebalances;
//! - has the stand-in refuse 5% of bulk items with 429, and half of them
//!   in a 30-second storm every 5 minutes.
//!
//! Every 5 s it records the daemon's RSS (from /proc) and jemalloc's
//! allocated/active/resident figures (from /metrics) into `soak.csv`, plots
//! them into `soak.png` (with gnuplot, when installed), and at the end
//! prints the RSS growth after warm-up and checks that every produced event
//! is in both outputs. Under `cargo test` it runs for 20 s as a smoke test.
//!
//! Options: --duration 30m  --warmup 5m  --rate N (default: half the
//! measured capacity)  --out DIR (default soak-out).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::*;

const TOPIC: &str = "access";

struct Options {
    duration: Duration,
    warmup: Duration,
    reload_every: Duration,
    rebalance_every: Duration,
    rate: Option<u64>,
    out: PathBuf,
    smoke: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let smoke = !args.iter().any(|a| a == "--bench");
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let duration = |name: &str, default: &str| {
        humantime::parse_duration(&value(name).unwrap_or_else(|| default.to_owned()))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    if smoke {
        return Options {
            duration: Duration::from_secs(20),
            warmup: Duration::from_secs(5),
            reload_every: Duration::from_secs(5),
            rebalance_every: Duration::from_secs(8),
            rate: Some(500),
            out: std::env::temp_dir().join(format!("logredact-soak-smoke-{}", std::process::id())),
            smoke,
        };
    }
    Options {
        duration: duration("--duration", "30m"),
        warmup: duration("--warmup", "5m"),
        reload_every: duration("--reload-every", "10s"),
        rebalance_every: duration("--rebalance-every", "1m"),
        rate: value("--rate").map(|r| r.parse().expect("--rate is events per second")),
        out: PathBuf::from(value("--out").unwrap_or_else(|| "soak-out".to_owned())),
        smoke,
    }
}

/// Events per second the rig sustains end to end, producer included (the
/// broker is the bottleneck here, and the soak produces while it consumes):
/// `logredact gen` sends 60,000 events as fast as it can while a daemon
/// consumes them; the rate is counted from the first acknowledged document
/// to the last.
fn capacity(dir: &Path, tansu: &Tansu, es: &StandIn) -> f64 {
    let n = 60_000u64;
    let cfg = TestConfig::new(&tansu.bootstrap, &es.url)
        .group("soak-probe")
        .topic("probe")
        .hot_target(r#"index = "probe-hot""#)
        .cold_target(r#"index = "probe-cold""#)
        .write(&dir.join("probe"));
    let mut daemon = Daemon::start(&cfg, &dir.join("probe.log"));
    let mut generator = Command::new(env!("CARGO_BIN_EXE_logredact"))
        .args(["gen", "--brokers", &tansu.bootstrap, "--topic", "probe"])
        .args(["--rate", "0", "--count", &n.to_string(), "--seed", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start logredact gen");
    let mut first = None;
    loop {
        let docs = es.docs("probe-cold");
        if first.is_none() && docs > 0 {
            first = Some((Instant::now(), docs));
        }
        if docs >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(generator.wait().unwrap().success());
    assert!(daemon.terminate().success());
    let (t, d) = first.expect("the probe indexed something");
    (n - d) as f64 / t.elapsed().as_secs_f64()
}

fn rule_text(generation: u64) -> String {
    format!(
        "version = 1\n[[tag]]\nid = \"soak-generation\"\nwhen = {{ field = \"service\", exists = true }}\nset = {{ soak_generation = {generation} }}\n"
    )
}

struct Sample {
    at: f64,
    rss_kib: u64,
    allocated: f64,
    active: f64,
    resident: f64,
    consumed: f64,
    indexed: f64,
    in_flight: f64,
    fetch_queue: f64,
}

fn main() {
    let opts = options();
    std::fs::create_dir_all(&opts.out).unwrap();
    let dir = TempDir::new("soak");
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, 4);
    tansu.create_topic("probe", 4);
    // Without sources: the stand-in holds every document the soak sends
    // (two per event), and 30 minutes at this machine's rate is ~23 million
    // documents; with their bodies that is over 20 GB.
    let es = StandIn::start_with(&["--no-source"]);
    std::fs::create_dir_all(dir.path().join("probe")).unwrap();

    let rate = opts.rate.unwrap_or_else(|| {
        let max = capacity(dir.path(), &tansu, &es);
        println!("capacity probe: {max:.0} events/s; soaking at half");
        (max / 2.0) as u64
    });
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), rules.join(e.file_name())).unwrap();
    }
    std::fs::write(rules.join("25-soak.toml"), rule_text(0)).unwrap();
    let config = TestConfig::new(&tansu.bootstrap, &es.url)
        .group("soak")
        .rules(&rules)
        .property("session.timeout.ms", "6000")
        .property("heartbeat.interval.ms", "500")
        .outputs_extra("retry_initial_backoff = \"50ms\"\nretry_max_backoff = \"2s\"");
    let main_cfg = config.write(dir.path());
    std::fs::create_dir_all(dir.path().join("second")).unwrap();
    let second_cfg = config.write(&dir.path().join("second"));
    es.faults(r#"{"item_429_rate": 0.05}"#);

    let daemon = Daemon::start(&main_cfg, &dir.path().join("daemon.log"));
    let port = daemon.metrics_port();
    let total = (rate as f64 * opts.duration.as_secs_f64()) as u64;
    println!(
        "soaking for {} at {rate} events/s ({total} events); reload every {}, rebalance every {}, 5% of items refused with 429 (50% in a storm every 5 min)",
        humantime::format_duration(opts.duration),
        humantime::format_duration(opts.reload_every),
        humantime::format_duration(opts.rebalance_every),
    );
    let mut generator = Command::new(env!("CARGO_BIN_EXE_logredact"))
        .args(["gen", "--brokers", &tansu.bootstrap, "--topic", TOPIC])
        .args(["--rate", &rate.to_string(), "--count", &total.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start logredact gen");

    let started = Instant::now();
    let (mut next_reload, mut next_rebalance, mut next_sample) =
        (opts.reload_every, opts.rebalance_every, Duration::ZERO);
    let mut second: Option<(Daemon, Instant)> = None;
    let (mut reloads, mut rebalances, mut storms) = (0u64, 0u64, 0u64);
    let mut storming = false;
    let mut samples = Vec::new();
    let mut csv = std::fs::File::create(opts.out.join("soak.csv")).unwrap();
    writeln!(
        csv,
        "seconds,rss_kib,allocated_bytes,active_bytes,resident_bytes,consumed,indexed,in_flight_bytes,fetch_queue_bytes"
    )
    .unwrap();
    while started.elapsed() < opts.duration {
        let now = started.elapsed();
        if now >= next_sample {
            let m = scrape(port);
            let s = Sample {
                at: now.as_secs_f64(),
                rss_kib: daemon.rss_kib(),
                allocated: get(&m, r#"logredact_allocator_bytes{kind="allocated"}"#),
                active: get(&m, r#"logredact_allocator_bytes{kind="active"}"#),
                resident: get(&m, r#"logredact_allocator_bytes{kind="resident"}"#),
                consumed: get(&m, "logredact_events_consumed_total"),
                indexed: get(&m, r#"logredact_documents_indexed_total{output="cold"}"#),
                in_flight: get(&m, "logredact_in_flight_bytes"),
                fetch_queue: get(&m, "logredact_kafka_fetch_queue_bytes"),
            };
            writeln!(
                csv,
                "{:.0},{},{},{},{},{},{},{},{}",
                s.at,
                s.rss_kib,
                s.allocated,
                s.active,
                s.resident,
                s.consumed,
                s.indexed,
                s.in_flight,
                s.fetch_queue
            )
            .unwrap();
            if !opts.smoke && samples.len() % 12 == 0 {
                println!(
                    "  {:>6.0} s  RSS {:>7.1} MiB  allocated {:>7.1} MiB  consumed {:>10.0}",
                    s.at,
                    s.rss_kib as f64 / 1024.0,
                    s.allocated / 1048576.0,
                    s.consumed
                );
            }
            samples.push(s);
            next_sample += Duration::from_secs(if opts.smoke { 1 } else { 5 });
        }
        if now >= next_reload {
            reloads += 1;
            std::fs::write(rules.join("25-soak.toml"), rule_text(reloads)).unwrap();
            daemon.reload();
            next_reload += opts.reload_every;
        }
        if now >= next_rebalance {
            rebalances += 1;
            second = Some((
                Daemon::start(
                    &second_cfg,
                    &dir.path().join(format!("second-{rebalances}.log")),
                ),
                Instant::now(),
            ));
            next_rebalance += opts.rebalance_every;
        }
        // A 429 storm: 30 s of every 300 s (4 of 20 in the smoke run).
        let (period, storm) = if opts.smoke {
            (20.0, 4.0)
        } else {
            (300.0, 30.0)
        };
        let in_storm = now.as_secs_f64() % period >= period - storm;
        if in_storm != storming {
            storming = in_storm;
            storms += u64::from(in_storm);
            es.faults(if in_storm {
                r#"{"item_429_rate": 0.5}"#
            } else {
                r#"{"item_429_rate": 0.05}"#
            });
        }
        let stay = if opts.smoke { 4 } else { 20 };
        if second
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() >= Duration::from_secs(stay))
        {
            let (mut d, _) = second.take().unwrap();
            assert!(d.terminate().success(), "the second daemon stops cleanly");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    if let Some((mut d, _)) = second.take() {
        assert!(d.terminate().success());
    }
    assert!(generator.wait().unwrap().success(), "logredact gen failed");
    es.faults(r#"{"item_429_rate": 0.0}"#);
    let mut daemon = daemon;
    let catch_up = Duration::from_secs(300).max(opts.duration / 2);
    assert!(
        wait_until(catch_up, || {
            es.docs("logs-hot-") >= total && es.docs("logs-cold-") >= total
        }),
        "the daemon did not catch up: hot {} cold {} of {total}",
        es.docs("logs-hot-"),
        es.docs("logs-cold-")
    );
    assert!(daemon.terminate().success());
    let (hot, cold) = (es.docs("logs-hot-"), es.docs("logs-cold-"));
    assert_eq!(
        (hot, cold),
        (total, total),
        "every event in both outputs, once"
    );

    let after: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= opts.warmup.as_secs_f64())
        .collect();
    let window = (after.len() / 10).max(1);
    let mean = |xs: &[&Sample]| xs.iter().map(|s| s.rss_kib as f64).sum::<f64>() / xs.len() as f64;
    let (first, last) = (mean(&after[..window]), mean(&after[after.len() - window..]));
    let growth = (last - first) / first * 100.0;
    let peak = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let most = |f: fn(&Sample) -> f64| samples.iter().map(f).fold(0.0, f64::max) / 1048576.0;
    let (peak_in_flight, peak_fetch) = (most(|s| s.in_flight), most(|s| s.fetch_queue));
    println!();
    println!(
        "soak: {} at {rate} events/s, {total} events, {reloads} reloads, {rebalances} forced rebalances, 5% items 429, {storms} storms of 50%",
        humantime::format_duration(opts.duration)
    );
    println!("  every event in hot and cold once: {hot} / {cold}");
    println!(
        "  RSS after warm-up ({}): first {:.1} MiB, last {:.1} MiB (means of {window} samples), peak {:.1} MiB",
        humantime::format_duration(opts.warmup),
        first / 1024.0,
        last / 1024.0,
        peak as f64 / 1024.0
    );
    if opts.smoke {
        // 15 one-second samples after warm-up are too few to judge growth by.
        println!("  RSS growth after warm-up: {growth:+.2}% (smoke run: the under-2% goal is judged by the full soak, `cargo bench --bench soak`)");
    } else {
        println!("  RSS growth after warm-up: {growth:+.2}% (goal: under 2%)");
        println!(
            "  peak RSS: {:.1} MiB (goal: at most 128 MiB)",
            peak as f64 / 1024.0
        );
    }
    println!(
        "  peaks: in flight {peak_in_flight:.1} MiB, librdkafka fetch queue {peak_fetch:.1} MiB"
    );
    println!("  samples: {}", opts.out.join("soak.csv").display());
    if !opts.smoke {
        plot(&opts.out, opts.warmup);
    }
}

/// soak.png from soak.csv, when gnuplot is installed.
fn plot(out: &Path, warmup: Duration) {
    let script = format!(
        "set terminal png size 1200,600\n\
         set output '{png}'\n\
         set datafile separator ','\n\
         set key autotitle columnhead left top\n\
         set xlabel 'seconds'\nset ylabel 'MiB'\n\
         set title 'logredact soak: memory over time'\n\
         set arrow from {w},graph 0 to {w},graph 1 nohead dashtype 2\n\
         set label 'end of warm-up' at {w},graph 0.95 offset 1,0\n\
         plot '{csv}' using 1:($2/1024) with lines lw 2 title 'RSS', \
         '' using 1:($3/1048576) with lines title 'jemalloc allocated', \
         '' using 1:($4/1048576) with lines title 'jemalloc active', \
         '' using 1:($5/1048576) with lines title 'jemalloc resident', \
         '' using 1:($8/1048576) with lines title 'in flight', \
         '' using 1:($9/1048576) with lines title 'librdkafka fetch queue'\n",
        png = out.join("soak.png").display(),
        csv = out.join("soak.csv").display(),
        w = warmup.as_secs(),
    );
    match Command::new("gnuplot")
        .stdin(std::process::Stdio::piped())
        .spawn()
    {
        Ok(mut child) => {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            if child.wait().is_ok_and(|s| s.success()) {
                println!("  plot: {}", out.join("soak.png").display());
            }
        }
        Err(_) => println!("  no plot: install gnuplot (apt-get install gnuplot-nox) for soak.png"),
    }
}

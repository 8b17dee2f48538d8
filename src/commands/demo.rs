//! `logredact demo`: the whole pipeline with no external services.
//!
//! librdkafka's built-in mock cluster is the broker. The bundled sample
//! access logs are produced into it, consumed by the same pipeline `run`
//! uses, and written to `file` outputs for hot and cold. The mock cluster
//! keeps only the newest 100,000 messages (or 5 MB) per partition, so the
//! demo produces while it consumes, never more than `MAX_BACKLOG_BYTES`
//! ahead of the pipeline: any `--events` count runs through.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use arc_swap::ArcSwap;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

use crate::config::Config;
use crate::pipeline::{self, ActiveRules};
use crate::rules::{KeyRing, RuleSet};
use crate::stats::Stats;

/// The samples, compiled in (with the shipped rules) so the demo runs
/// anywhere.
const EMBEDDED_SAMPLES: &str = include_str!("../../samples/access.ndjson");

const TOPIC: &str = "access-logs";
const PARTITIONS: i32 = 4;
/// The config and signing key the demo writes into its output folder.
const DEMO_CONFIG: &str = "demo.toml";
const DEMO_KEY: &str = "seal-key.pem";
/// Most bytes produced but not yet consumed: a fifth of what the mock
/// cluster keeps of each of the partitions (5 MB), so that even a
/// partition the keys favour twice over keeps everything until it is read.
const MAX_BACKLOG_BYTES: u64 = PARTITIONS as u64 * 1_000_000;

pub struct Options {
    /// A rules directory; `None` uses the rules compiled into the binary.
    pub rules: Option<PathBuf>,
    pub events: usize,
    pub out: PathBuf,
}

pub fn run(options: &Options, out: &mut dyn Write) -> anyhow::Result<()> {
    let set = match &options.rules {
        Some(dir) => RuleSet::load(dir, &KeyRing::new()),
        None => RuleSet::compile(&crate::rules::shipped::files(), &KeyRing::new()),
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let samples: Vec<&str> = EMBEDDED_SAMPLES.lines().collect();

    clear_previous_output(&options.out)?;
    let cluster = MockCluster::new(1).context("cannot start the mock Kafka cluster")?;
    cluster
        .create_topic(TOPIC, PARTITIONS, 1)
        .context("cannot create the demo topic")?;
    let bootstrap = cluster.bootstrap_servers();
    let config = demo_config(&bootstrap, &options.out)?;
    let rules = ActiveRules::new(set, &config.output_names()).map_err(|e| anyhow::anyhow!(e))?;
    let fingerprint = rules.set.fingerprint().to_owned();
    let rules = Arc::new(ArcSwap::from_pointee(rules));
    let stats = Arc::new(Stats::default());

    writeln!(
        out,
        "logredact demo: {} events from samples/access.ndjson through an in-process Kafka ({PARTITIONS} partitions) into {}",
        options.events,
        options.out.display()
    )?;
    let (masks, tags, routes) = rules.load().set.counts();
    let which = match &options.rules {
        Some(dir) => format!("the rule files in {}", dir.display()),
        None => {
            "the built-in rules (the shipped rules/ folder, compiled in; --rules DIR uses others)"
                .to_owned()
        }
    };
    writeln!(
        out,
        "rules: {which}: {masks} mask, {tags} tag and {routes} route rules, set {fingerprint}"
    )?;
    let total = options.events as u64;
    let started = Instant::now();
    let producer = produce_in_background(&bootstrap, samples, options.events, stats.clone());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Drawn at once and redrawn on a timer, so it moves from the start:
    // first it says what start-up waits for (the group join takes a few
    // seconds), then it counts settled events, its rate and time left
    // measured from the first partition assignment.
    let progress = indicatif::ProgressBar::new(total);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg}{bar:30} {pos}/{len} events  {per_sec}  eta {eta}",
        )
        .expect("static template"),
    );
    progress.set_message("joining the consumer group ");
    progress.enable_steady_tick(Duration::from_millis(100));
    let done = {
        let (stats, progress) = (stats.clone(), progress.clone());
        async move {
            let mut joined = false;
            while stats.completed() < total {
                if !joined && stats.assigned_partitions.load(Relaxed) > 0 {
                    joined = true;
                    progress.set_message("");
                    progress.reset_elapsed();
                    progress.reset_eta();
                }
                progress.set_position(stats.completed());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            progress.finish_and_clear();
        }
    };
    runtime.block_on(pipeline::run(&config, rules, stats.clone(), done))?;
    let produced = producer
        .join()
        .map_err(|_| anyhow::anyhow!("the demo producer panicked"))??;
    let secs = started.elapsed().as_secs_f64();
    drop(cluster);
    summary(out, &stats, produced, secs, &fingerprint, &options.out)?;
    // The binary as this shell can run it (`cargo run` leaves it in
    // target/), so the line can be pasted as it is.
    let exe = std::env::current_exe()
        .ok()
        .and_then(|e| {
            let cwd = std::env::current_dir().ok()?;
            Some(e.strip_prefix(&cwd).map(|p| p.to_owned()).unwrap_or(e))
        })
        .map_or_else(|| "logredact".to_owned(), |e| e.display().to_string());
    writeln!(
        out,
        "  the cold output is sealed: check that it holds exactly what was written with\n    {exe} verify --config {}",
        options.out.join(DEMO_CONFIG).display()
    )?;
    Ok(())
}

/// Removes the output of an earlier demo run (only directories that hold
/// nothing but NDJSON files), so the files show this run alone.
fn clear_previous_output(out: &Path) -> anyhow::Result<()> {
    for sub in ["hot", "cold", "dead-letter"] {
        let dir = out.join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        let ndjson = |p: &PathBuf| p.extension().is_some_and(|x| x == "ndjson");
        // The cold output's seals are in `seals/`, NDJSON files too.
        let seals = |p: &PathBuf| {
            p.file_name()
                .is_some_and(|n| n == crate::sink::seals::FILE_SEALS_DIR)
                && std::fs::read_dir(p)
                    .is_ok_and(|d| d.filter_map(|e| e.ok()).all(|e| ndjson(&e.path())))
        };
        if names.iter().all(|p| ndjson(p) || seals(p)) {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
    }
    Ok(())
}

/// The demo's config, written to `OUT/demo.toml` so that `verify` can
/// read it afterwards; the cold output is sealed with a key made for the
/// demo (`OUT/seal-key.pem`, kept between runs).
fn demo_config(bootstrap: &str, out: &Path) -> anyhow::Result<Config> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let key = out.join(DEMO_KEY);
    if !key.exists() {
        super::keys::generate(&key, &mut std::io::sink())?;
    }
    let path = out.join(DEMO_CONFIG);
    let text = format!(
        r#"
version = 1
[kafka]
bootstrap_servers = "{bootstrap}"
topics = ["{TOPIC}"]
group_id = "logredact-demo"
[outputs.hot]
type = "file"
dir = "hot"
index = "logs-hot-%Y.%m.%d"
[outputs.cold]
type = "file"
dir = "cold"
index = "logs-cold-%Y.%m.%d"
seal = true
[dead_letter]
dir = "dead-letter"
[seal]
key = "file:{DEMO_KEY}"
[pipeline]
commit_interval = "200ms"
shutdown_timeout = "10s"
[log]
level = "warn"
[metrics]
enabled = false
"#
    );
    std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    Config::parse(&path, &text).map_err(|errors| {
        anyhow::anyhow!(
            "the demo config is broken: {}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

/// Produces `count` events, cycling through the samples, keeping the
/// amount not yet consumed below what the mock cluster retains.
fn produce_in_background(
    bootstrap: &str,
    samples: Vec<&'static str>,
    count: usize,
    stats: Arc<Stats>,
) -> std::thread::JoinHandle<anyhow::Result<u64>> {
    let bootstrap = bootstrap.to_owned();
    std::thread::spawn(move || {
        let producer: ThreadedProducer<DefaultProducerContext> = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("linger.ms", "5")
            .create()
            .context("cannot create the demo producer")?;
        // Wait for the pipeline to join its group, so latency figures show
        // the pipeline rather than the group's start-up delay.
        let waiting = Instant::now();
        while stats.assigned_partitions.load(Relaxed) == 0
            && waiting.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut sent = 0u64;
        let mut sent_bytes = 0u64;
        for i in 0..count {
            let line = samples[i % samples.len()];
            // Stay well under the mock's per-partition retention: what it
            // drops before the pipeline reads it would never arrive.
            while (sent_bytes + line.len() as u64)
                .saturating_sub(stats.consumed_bytes.load(Relaxed))
                > MAX_BACKLOG_BYTES
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            let key = (i % 997).to_string();
            let mut record = BaseRecord::to(TOPIC).key(&key).payload(line);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((e, r)) => {
                        if !matches!(
                            e.rdkafka_error_code(),
                            Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
                        ) {
                            anyhow::bail!("cannot produce demo events: {e}");
                        }
                        record = r;
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
            }
            sent += 1;
            sent_bytes += line.len() as u64;
        }
        producer
            .flush(Duration::from_secs(30))
            .context("cannot flush the demo producer")?;
        Ok(sent)
    })
}

fn summary(
    out: &mut dyn Write,
    stats: &Stats,
    produced: u64,
    secs: f64,
    fingerprint: &str,
    dir: &Path,
) -> std::io::Result<()> {
    let consumed = stats.consumed.load(Relaxed);
    let d = stats.detail();
    writeln!(
        out,
        "done in {secs:.2} s: {consumed} events consumed ({:.0} events/s), rule set {fingerprint}",
        consumed as f64 / secs.max(1e-9)
    )?;
    writeln!(out, "  produced          {produced:>8}")?;
    writeln!(
        out,
        "  indexed (all outputs) {:>4}",
        stats.completed_indexed.load(Relaxed)
    )?;
    let dead: Vec<String> = d
        .dead_letters
        .iter()
        .map(|(c, n)| format!("{c}: {n}"))
        .collect();
    writeln!(
        out,
        "  dead-lettered     {:>8}  {}",
        stats.completed_dead_lettered.load(Relaxed),
        if dead.is_empty() {
            String::new()
        } else {
            format!("({})", dead.join(", "))
        }
    )?;
    writeln!(
        out,
        "  dropped by rule   {:>8}",
        stats.dropped_by_rule.load(Relaxed)
    )?;
    writeln!(
        out,
        "  residual hits     {:>8}",
        stats.residual_hits.load(Relaxed)
    )?;
    writeln!(out, "  masked values by rule:")?;
    for ((rule, _), n) in &d.masks {
        writeln!(out, "    {rule:<28} {n:>8}")?;
    }
    writeln!(out, "  tags by rule:")?;
    for (rule, n) in &d.tags {
        writeln!(out, "    {rule:<28} {n:>8}")?;
    }
    writeln!(
        out,
        "  per output (docs; latency from Kafka timestamp to write, p50 / p99 / max):"
    )?;
    for (name, n) in &d.indexed {
        let h = &d.end_to_end[name];
        writeln!(
            out,
            "    {name:<8} {n:>8}   {:.1} / {:.1} / {:.1} ms   -> {}",
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0,
            dir.join(name).display()
        )?;
    }
    writeln!(
        out,
        "  rule engine: {:.1} µs per event",
        stats.rule_nanos.load(Relaxed) as f64 / 1000.0 / consumed.max(1) as f64
    )?;
    Ok(())
}

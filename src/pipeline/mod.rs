//! Wires the source, the rules and the sinks together.
//!
//! One consumer thread polls Kafka, applies the rules (a plain synchronous
//! function) and hands each event to the outputs it was routed to over
//! bounded channels. The sinks run on tokio and send acknowledgements back
//! to the consumer thread, which owns the offset tracker and commits. The
//! consumer handles pending acks before it takes new messages.

//!
//! - `active`: the rule set in use and what the pipeline derives from it.
//! - `reload`: replacing it on SIGHUP and when the rule files change.
//! - `consumer`: the consumer loop (poll, apply, hand over, acknowledge,
//!   commit).
//! - `counts`: per-rule counts, gathered without a lock per event.
//! - `sealing`: the consumer's side of seals (docs/audit.md).

mod active;
mod consumer;
mod counts;
mod handover;
pub mod reload;
mod sealing;

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rdkafka::consumer::Consumer;
use rdkafka::producer::FutureProducer;
use tokio::sync::mpsc;

pub use active::{key_ring, load_rules, note_active, ActiveRules, LoadError};
use consumer::ConsumerLoop;

use crate::config::{Config, OutputConfig};
use crate::sink::{self, Ack, DeadLetterWriter};
use crate::source::{self, SourceContext};
use crate::stats::Stats;

/// Bytes of an unprocessable message kept (masked) in its dead-letter
/// record; the original stays in Kafka at the recorded offset.
pub const MAX_DEAD_LETTER_TEXT: usize = 64 << 10;

/// Batches queued per output before the consumer waits.
const OUTPUT_QUEUE: usize = 64;

/// Documents the consumer gathers for an output before handing them over;
/// a partial batch is handed over when the consumer is idle or after
/// `HANDOVER_DELAY`.
const HANDOVER_DOCS: usize = 256;
const HANDOVER_DELAY: Duration = Duration::from_millis(2);

/// An output's input queue.
enum OutputTask {
    Elasticsearch(Box<sink::elasticsearch::BulkWriter>),
    File(sink::file::FileWriter),
}

/// Runs the pipeline until `shutdown` completes, then drains: stops
/// fetching, flushes, waits for acknowledgements up to the configured
/// timeout, commits, and returns.
pub async fn run(
    config: &Config,
    rules: Arc<ArcSwap<ActiveRules>>,
    stats: Arc<Stats>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    // Build everything first, so a bad setting fails before any IO.
    let mut tasks = Vec::new();
    let mut seal_writers = Vec::new();
    let seal_key = match &config.seal {
        Some(seal) if config.outputs.values().any(OutputConfig::sealed) => {
            // The key read with the rules (start-up reads it there), or,
            // for a set made without the config, from the config now.
            match &rules.load().seal_key {
                Some(key) => Some(Arc::clone(key)),
                None => Some(Arc::new(crate::seal::SealKey::read(&seal.key.0)?)),
            }
        }
        _ => None,
    };
    for (i, (name, output)) in config.outputs.iter().enumerate() {
        anyhow::ensure!(
            i < crate::config::MAX_OUTPUTS,
            "more than {} outputs",
            crate::config::MAX_OUTPUTS
        );
        let index = i as u8;
        let seal = config.seal.as_ref().filter(|_| output.sealed());
        tasks.push(match output {
            OutputConfig::Elasticsearch(es) => {
                let mut w = sink::elasticsearch::BulkWriter::new(name, es)?;
                w.index = index;
                if let Some(seal) = seal {
                    seal_writers.push((
                        index,
                        sink::seals::SealWriter::elasticsearch(
                            name,
                            index,
                            w.client().clone(),
                            &seal.index,
                            es.request_timeout,
                            seal.copy_dir.as_deref(),
                        )?,
                    ));
                }
                OutputTask::Elasticsearch(Box::new(w))
            }
            OutputConfig::File(f) => {
                let mut w = sink::file::FileWriter::new(name, f)?;
                w.index = index;
                if let Some(seal) = seal {
                    seal_writers.push((
                        index,
                        sink::seals::SealWriter::dir(
                            name,
                            index,
                            &f.dir,
                            seal.copy_dir.as_deref(),
                        )?,
                    ));
                }
                OutputTask::File(w)
            }
        });
    }
    let producer: Option<FutureProducer> = match &config.dead_letter.topic {
        Some(_) => Some(
            source::client_config(&config.kafka)?
                .set("enable.idempotence", "true")
                .create()
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot create the dead-letter producer: {}",
                        crate::config::kafka_error_text(&e)
                    )
                })?,
        ),
        None => None,
    };
    let dead_letter_writer = DeadLetterWriter::new(&config.dead_letter, producer)?;
    let consumer = source::consumer(&config.kafka, SourceContext::new(stats.clone()))?;
    tokio::pin!(shutdown);

    let telemetry = if config.metrics.enabled {
        let listener = tokio::net::TcpListener::bind(&config.metrics.listen)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen on metrics.listen = \"{}\" ({e}); choose a free address or set metrics.enabled = false",
                    config.metrics.listen
                )
            })?;
        tracing::info!(address = %listener.local_addr()?, "metrics, health and readiness endpoints listening");
        let heap_profile = config.metrics.heap_profile && crate::alloc::start_heap_profile();
        Some(tokio::spawn(crate::telemetry::serve(
            listener,
            stats.clone(),
            heap_profile,
        )))
    } else {
        None
    };

    // Start-up checks: Kafka, then every output, each failure named.
    let consumer = tokio::task::spawn_blocking({
        let kafka = config.kafka.clone();
        move || source::check_reachable(&consumer, &kafka).map(|()| consumer)
    })
    .await??;
    note_active(&stats, &rules.load());
    let clusters: Vec<_> = tasks
        .iter()
        .filter_map(|t| match t {
            OutputTask::Elasticsearch(w) => Some((w.name.clone(), w.client().clone())),
            OutputTask::File(_) => None,
        })
        .collect();
    if !wait_for_clusters(&clusters, &stats, shutdown.as_mut()).await? {
        tracing::info!("shut down while waiting for Elasticsearch; nothing was consumed");
        if let Some(t) = telemetry {
            t.abort();
        }
        return Ok(());
    }
    let sealing = match seal_key {
        Some(key) => {
            let (seal_ack_tx, seal_ack_rx) = std::sync::mpsc::channel();
            let mut writers = Vec::new();
            let mut sealed = Vec::new();
            let mut sealed_mask = 0u64;
            for (index, writer) in seal_writers {
                let (tx, rx) = mpsc::unbounded_channel();
                writers.push((index, tx));
                sealed_mask |= 1 << index;
                let name = config
                    .outputs
                    .keys()
                    .nth(index as usize)
                    .expect("output exists");
                sealed.push((index, name.clone()));
                tokio::spawn(writer.run(rx, seal_ack_tx.clone(), stats.clone()));
            }
            consumer.context().tracker().seal_outputs(sealed);
            tracing::info!(key_id = key.id(), "sealing what sealed outputs write");
            Some(sealing::Sealing {
                key,
                max_events: config.seal.as_ref().map_or(10_000, |s| s.max_events),
                sealed_mask,
                writers,
                acks: seal_ack_rx,
            })
        }
        None => None,
    };
    // Only now join the group: a member that cannot deliver would hold
    // partitions other members could serve.
    source::subscribe(&consumer, &config.kafka)?;

    let (ack_tx, ack_rx) = std::sync::mpsc::channel::<Vec<Ack>>();
    let (dl_tx, dl_rx) = mpsc::unbounded_channel();
    let mut senders = Vec::new();
    let mut handles = Vec::new();
    let generations = consumer.context().tracker().generations();
    for mut task in tasks {
        if let OutputTask::Elasticsearch(w) = &mut task {
            w.generations = Some(generations.clone());
        }
        let (tx, rx) = mpsc::channel(OUTPUT_QUEUE);
        senders.push(tx);
        let (acks, stats) = (ack_tx.clone(), stats.clone());
        handles.push(match task {
            OutputTask::Elasticsearch(w) => tokio::spawn(w.run(rx, acks, dl_tx.clone(), stats)),
            OutputTask::File(w) => tokio::spawn(w.run(rx, acks, stats)),
        });
    }
    handles.push(tokio::spawn(dead_letter_writer.run(
        dl_rx,
        ack_tx.clone(),
        stats.clone(),
    )));
    drop(ack_tx);

    let stop = Arc::new(AtomicBool::new(false));
    let needs_event_time = config.outputs.values().any(|o| match o {
        OutputConfig::Elasticsearch(es) => es.index.as_deref().is_some_and(|i| i.contains('%')),
        OutputConfig::File(f) => f.index.contains('%'),
    });
    let mut consumer_loop = ConsumerLoop {
        committer: source::Committer::new(&consumer),
        consumer,
        rules,
        outputs: senders,
        dead_letters: dl_tx,
        acks: ack_rx,
        stop: stop.clone(),
        config: config.pipeline.clone(),
        stats: stats.clone(),
        needs_event_time,
        sealing,
    };
    let mut consumer_thread = tokio::task::spawn_blocking(move || consumer_loop.run());
    tracing::info!("pipeline running");
    stats.running.store(true, Relaxed);
    let waiting = tokio::spawn(say_what_it_waits_for(config.kafka.clone(), stats.clone()));
    let result = tokio::select! {
        r = &mut consumer_thread => Some(r),
        () = &mut shutdown => None,
    };
    waiting.abort();
    let result = match result {
        Some(r) => r,
        None => {
            tracing::info!("shutting down: no new events are taken; waiting for outputs");
            stop.store(true, Relaxed);
            consumer_thread.await
        }
    };
    // The consumer thread has dropped its senders; outputs finish what
    // they hold. Whatever is still unacknowledged was not committed and
    // will be read again after a restart.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    for h in handles {
        if tokio::time::timeout_at(deadline, async { h.await.ok() })
            .await
            .is_err()
        {
            tracing::warn!(
                "an output did not finish in time; its unacknowledged events will be read again"
            );
        }
    }
    if let Some(t) = telemetry {
        t.abort();
    }
    // A panic's own text may quote an event; the panic hook has already
    // logged what of it can be shown, with where it happened.
    result.map_err(|e| {
        if e.is_panic() {
            anyhow::anyhow!("the consumer thread stopped on an internal error (logged above)")
        } else {
            anyhow::anyhow!("the consumer thread was cancelled")
        }
    })?
}

/// Start-up waits for unavailable clusters, asking again after this long at
/// first, then less often (exponential, with jitter), up to
/// [`CLUSTER_WAIT_MAX`].
const CLUSTER_WAIT_FIRST: Duration = Duration::from_millis(500);
const CLUSTER_WAIT_MAX: Duration = Duration::from_secs(5);
/// How long a start-up check of one cluster may take: short, so that a
/// round over every output stays well inside the health check's 30 s.
const CLUSTER_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Waits until every Elasticsearch cluster answers as Elasticsearch does.
/// What waiting cannot fix (refused credentials, not Elasticsearch) fails
/// at once; what may pass (no answer, 5xx, 429) is waited out: the daemon
/// runs meanwhile (systemd hears `READY=1`, `/health` is ok), `/ready` and
/// the status line say what it waits for, and nothing is consumed. Returns
/// `true` once all answer, `false` when `shutdown` completes first.
async fn wait_for_clusters<F: std::future::Future<Output = ()>>(
    clusters: &[(Arc<str>, elasticsearch::Elasticsearch)],
    stats: &Stats,
    mut shutdown: std::pin::Pin<&mut F>,
) -> anyhow::Result<bool> {
    let mut attempt = 0;
    let mut last_said: Option<std::time::Instant> = None;
    // Alive, and doing what it should: waiting.
    let beat = || {
        stats
            .consumer_heartbeat_ms
            .store(crate::stats::now_ms() as u64, Relaxed)
    };
    loop {
        let mut down = Vec::new();
        for (name, client) in clusters {
            beat();
            let check = tokio::time::timeout(
                CLUSTER_CHECK_TIMEOUT,
                sink::elasticsearch::check_cluster(name, client),
            );
            // The first round always finishes, so that what is wrong with
            // the config is reported even when a stop is already asked for.
            let answer = if attempt == 0 {
                check.await
            } else {
                tokio::select! {
                    a = check => a,
                    () = &mut shutdown => return Ok(false),
                }
            };
            let up = match answer {
                Ok(Ok(())) => true,
                Ok(Err(sink::elasticsearch::NotReady::Wrong(e))) => return Err(e),
                Ok(Err(sink::elasticsearch::NotReady::Unavailable(e))) => {
                    down.push(e);
                    false
                }
                Err(_) => {
                    down.push(anyhow::anyhow!(
                        "output \"{name}\": Elasticsearch did not answer GET / within {} s",
                        CLUSTER_CHECK_TIMEOUT.as_secs()
                    ));
                    false
                }
            };
            stats.detail().reachable.insert(name.to_string(), up);
        }
        beat();
        if down.is_empty() {
            stats.detail().waiting_for = None;
            if attempt > 0 {
                tracing::info!("every Elasticsearch output answers; starting to consume");
            }
            return Ok(true);
        }
        stats.detail().waiting_for = Some("Elasticsearch outputs to answer (see the log)".into());
        // READY=1 now: a unit waiting for its cluster is running, not failed.
        stats.running.store(true, Relaxed);
        if last_said.is_none_or(|t| t.elapsed() >= PARTITIONS_PATIENCE) {
            for e in &down {
                tracing::warn!("{e:#}; waiting for it before consuming anything");
            }
            last_said = Some(std::time::Instant::now());
        }
        attempt += 1;
        let pause = sink::elasticsearch::backoff(attempt, CLUSTER_WAIT_FIRST, CLUSTER_WAIT_MAX);
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = &mut shutdown => return Ok(false),
        }
    }
}

/// How long without partitions before the daemon says what it waits for.
const PARTITIONS_PATIENCE: Duration = Duration::from_secs(15);

/// While no partition is assigned, says so plainly now and then: the daemon
/// runs (systemd heard `READY=1`; `/ready` answers 503), but consumes
/// nothing until the group gives it partitions.
async fn say_what_it_waits_for(kafka: crate::config::KafkaConfig, stats: Arc<Stats>) {
    let topics = match &kafka.topic_regex {
        Some(re) => format!("topics matching {re}"),
        None => format!("topics {}", kafka.topics.join(", ")),
    };
    loop {
        tokio::time::sleep(PARTITIONS_PATIENCE).await;
        if stats.assigned_partitions.load(Relaxed) == 0 {
            tracing::warn!(
                group = %kafka.group_id,
                "waiting for Kafka partitions of {topics}: check that the topics exist and are spelt right, \
                 and that the group has no more members than the topics have partitions"
            );
        }
    }
}

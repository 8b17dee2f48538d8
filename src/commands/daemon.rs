//! `logredact run`, `check-config` and `setup-es`: the daemon's commands.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;

use crate::config::{Config, ConfigError, LogConfig, LogFormat, OutputConfig};
use crate::pipeline::{self, ActiveRules};
use crate::stats::Stats;

/// Prints config errors, one per line.
pub(crate) fn config_errors(errors: &[ConfigError]) -> anyhow::Error {
    let mut text = String::new();
    for e in errors {
        text.push_str(&format!("{e}\n"));
    }
    anyhow::anyhow!(
        "{}the config has {} problem(s); fix them and run `logredact check-config` again",
        text,
        errors.len()
    )
}

/// Loads the config and its rules: the one path used by `run`,
/// `check-config` and reload. `in_full`: rule problems with the rule text
/// they point at (for `check-config`, which a person reads), or only their
/// positions and kinds (for `run`, whose output goes to the journal, and
/// rule files may hold PII-like digits).
pub fn load(path: &Path, in_full: bool) -> anyhow::Result<(Config, ActiveRules)> {
    let config = Config::load(path).map_err(|e| config_errors(&e))?;
    let keys = pipeline::key_ring(&config)?;
    let rules = pipeline::load_rules(&config, &keys).map_err(|e| {
        // (Only problems in the rule files are `check`'s to show: a route
        // to an output the config lacks is the config's and the rules'
        // together, and `check` alone finds nothing wrong.)
        if in_full || !matches!(e, pipeline::LoadError::Rules(_)) {
            anyhow::anyhow!("{e}")
        } else {
            anyhow::anyhow!(
                "{}\nthe rules in {} cannot be used; `logredact check --rules {}` shows each problem in full",
                e.log_lines().join("\n"),
                config.rules.dir.display(),
                config.rules.dir.display()
            )
        }
    })?;
    Ok((config, rules))
}

/// `logredact check-config FILE`: no network IO. Rule problems are shown
/// with the rule text they point at only to a person at a terminal: under
/// systemd (`ExecStartPre`) standard error is the journal, and rule files
/// may hold PII-like digits; there they are shown as `run` shows them.
pub fn check_config(path: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let (config, rules) = load(path, std::io::stderr().is_terminal())?;
    let (m, t, r) = rules.set.counts();
    writeln!(
        out,
        "{}: ok; outputs: {}; rules in {}: {m} mask, {t} tag, {r} route (set {})",
        path.display(),
        config.output_names().join(", "),
        config.rules.dir.display(),
        rules.set.fingerprint()
    )?;
    Ok(())
}

/// Sets up `tracing` as the config asks. Logs go to stderr (journald
/// picks them up under systemd).
pub fn init_logging(log: &LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_new(&log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal: the journal and log files would show the
    // escape codes as text (`^[[2m`).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// `logredact run --config FILE`: runs until SIGTERM or SIGINT.
pub fn run(path: &Path) -> anyhow::Result<()> {
    let (config, rules) = load(path, false)?;
    init_logging(&config.log);
    tracing::info!(
        config = %path.display(),
        rules = rules.set.fingerprint(),
        "logredact starting"
    );
    let rules = Arc::new(ArcSwap::from_pointee(rules));
    let stats = Arc::new(Stats::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let reloader = tokio::spawn(crate::pipeline::reload::watch(
            config.clone(),
            rules.clone(),
            stats.clone(),
        ));
        let notifier_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let notifier = std::thread::Builder::new()
            .name("systemd-notify".into())
            .spawn({
                let (stats, stop) = (stats.clone(), notifier_stop.clone());
                move || crate::systemd::run(stats, stop)
            })
            .context("cannot start the thread that reports to systemd")?;
        let shutdown = async {
            shutdown_signal().await;
            crate::systemd::stopping();
        };
        let result = pipeline::run(&config, rules, stats.clone(), shutdown).await;
        reloader.abort();
        // Not joined: a notification blocked on a systemd slow to read
        // must not hold up the exit.
        notifier_stop.store(true, std::sync::atomic::Ordering::Relaxed);
        drop(notifier);
        result
    })?;
    let n = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    tracing::info!(
        consumed = n(&stats.consumed),
        indexed = n(&stats.completed_indexed),
        dead_lettered = n(&stats.completed_dead_lettered),
        dropped = n(&stats.dropped_by_rule),
        released = n(&stats.released),
        commit_failures = n(&stats.commit_failures),
        "logredact stopped"
    );
    for (output, h) in &stats.detail().end_to_end {
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        tracing::info!(
            output = %output,
            indexed = h.len(),
            p50_ms = ms(0.5),
            p99_ms = ms(0.99),
            p999_ms = ms(0.999),
            "end-to-end latency, Kafka timestamp to acknowledgement"
        );
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}

/// `logredact setup-es --config FILE`: installs the ILM policy and index
/// template each Elasticsearch output names.
pub fn setup_es(path: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let config = Config::load(path).map_err(|e| config_errors(&e))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut seals_installed = false;
    for (name, output) in &config.outputs {
        let OutputConfig::Elasticsearch(es) = output else {
            continue;
        };
        let Some(setup) = &es.setup else {
            writeln!(out, "output \"{name}\": no `setup` files named; skipped")?;
            continue;
        };
        let installed =
            runtime.block_on(crate::sink::elasticsearch::setup::install(name, es, setup))?;
        writeln!(out, "output \"{name}\": {installed}")?;
        if let (true, Some(seal), false) = (es.seal, &config.seal, seals_installed) {
            seals_installed = true;
            let installed = runtime.block_on(
                crate::sink::elasticsearch::setup::install_seal_index(name, es, &seal.index),
            )?;
            writeln!(out, "output \"{name}\": {installed}")?;
        }
    }
    Ok(())
}

/// `logredact health`: GET /health on `address`; prints the answer and
/// returns whether it was 200.
pub fn health(address: &str, out: &mut dyn Write) -> anyhow::Result<bool> {
    use std::io::Read;
    use std::net::{TcpStream, ToSocketAddrs};
    let timeout = std::time::Duration::from_secs(5);
    let addr = address
        .to_socket_addrs()
        .with_context(|| format!("{address} is not a host:port"))?
        .next()
        .with_context(|| format!("{address} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).with_context(|| {
        format!("nothing answers on {address}; is the daemon running with [metrics] enabled there?")
    })?;
    stream.set_read_timeout(Some(timeout))?;
    // One write: the request is small, and a server may answer (and
    // close) as soon as it has the first segment.
    stream.write_all(
        format!("GET /health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).unwrap_or("no status");
    let body = body.trim();
    if !body.starts_with('{') || !body.contains("\"status\"") {
        anyhow::bail!(
            "{address} answered HTTP {status} without logredact's health report; is another service listening there?"
        );
    }
    writeln!(out, "{body}")?;
    Ok(status == "200")
}

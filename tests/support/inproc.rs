//! The pipeline in-process: a config with fast flushes and retries, the
//! shipped rules (plus extra ones), and runs that end on a condition.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use logredact::config::Config;
use logredact::pipeline::{self, ActiveRules};
use logredact::rules::{KeyRing, RuleSet};
use logredact::stats::Stats;

use super::TestConfig;

/// Fast flushes, the cold output in one undated index, a consumer group of
/// its own; no retry settings.
pub fn base_config(bootstrap: &str, es: &str) -> TestConfig {
    TestConfig::new(bootstrap, es)
        .group("pipeline-test")
        .cold_target(r#"index = "logs-cold""#)
        .flush_interval("20ms")
        .commit_interval("100ms")
        .hot_extra("bulk_max_docs = 500")
        .pipeline_extra("shutdown_timeout = \"10s\"")
}

/// Parses a test config as if it were `dir/c.toml`.
pub fn parse(dir: &Path, config: &TestConfig) -> Config {
    Config::parse(&dir.join("c.toml"), &config.toml()).unwrap()
}

/// Fast flushes and retries; `extra_es` is added to both outputs. The cold
/// output writes to one undated index.
pub fn config(bootstrap: &str, es: &str, dir: &Path, extra_es: &str) -> Config {
    let config = base_config(bootstrap, es)
        .outputs_extra("retry_initial_backoff = \"10ms\"\nretry_max_backoff = \"200ms\"")
        .outputs_extra(extra_es);
    parse(dir, &config)
}

pub fn rules(dir: &Path, extra: &str) -> Arc<ArcSwap<ActiveRules>> {
    let rules_dir = dir.join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), rules_dir.join(entry.file_name())).unwrap();
    }
    if !extra.is_empty() {
        std::fs::write(rules_dir.join("25-extra.toml"), extra).unwrap();
    }
    let set = RuleSet::load(&rules_dir, &KeyRing::new()).unwrap();
    Arc::new(ArcSwap::from_pointee(
        ActiveRules::new(set, &["cold", "hot"]).unwrap(),
    ))
}

/// Runs the pipeline until `expected` events are complete (or 60 s pass).
pub fn run_until(config: &Config, rules: Arc<ArcSwap<ActiveRules>>, expected: u64) -> Arc<Stats> {
    run_while(config, rules, Duration::from_secs(60), move |s| {
        s.completed() >= expected
    })
}

/// Runs the pipeline until `stop` says so (or `limit` passes); returns
/// its stats once it has drained.
pub fn run_while(
    config: &Config,
    rules: Arc<ArcSwap<ActiveRules>>,
    limit: Duration,
    mut stop: impl FnMut(&Stats) -> bool + Send + 'static,
) -> Arc<Stats> {
    let stats = Arc::new(Stats::default());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let done = {
        let stats = stats.clone();
        async move {
            let start = std::time::Instant::now();
            while !stop(&stats) && start.elapsed() < limit {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    runtime
        .block_on(pipeline::run(config, rules, stats.clone(), done))
        .unwrap();
    stats
}

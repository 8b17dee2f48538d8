//! The daemon's configuration file: parsed, then checked without any IO.
//!
//! Unknown keys are errors with line and column. Secrets are never written
//! in the file: a password or API key is named as `env:VARIABLE` or
//! `file:PATH` and read only when the daemon builds its outputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::secrets::{KeySource, KeySpec};

/// The newest config format this build reads.
pub const CONFIG_VERSION: u32 = 1;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Config format version; must be 1.
    pub version: u32,
    pub kafka: KafkaConfig,
    #[serde(default)]
    pub rules: RulesConfig,
    /// Named outputs; route rules refer to these names.
    pub outputs: BTreeMap<String, OutputConfig>,
    pub dead_letter: DeadLetterConfig,
    #[serde(default)]
    pub pipeline: PipelineConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `/metrics`, `/health` and `/ready`.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Address to listen on; keep it on localhost unless a firewall guards it.
    #[serde(default = "default_metrics_listen")]
    pub listen: String,
    /// Sample allocations and serve `/debug/pprof/heap` (pprof format).
    #[serde(default)]
    pub heap_profile: bool,
}

impl Default for MetricsConfig {
    fn default() -> MetricsConfig {
        MetricsConfig {
            enabled: true,
            listen: default_metrics_listen(),
            heap_profile: false,
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_metrics_listen() -> String {
    "127.0.0.1:9464".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `host:port[,host:port…]`.
    pub bootstrap_servers: String,
    /// Topics to consume. Either this or `topic_regex`.
    #[serde(default)]
    pub topics: Vec<String>,
    /// A regular expression over topic names, e.g. `^access-.*`.
    pub topic_regex: Option<String>,
    pub group_id: String,
    /// Any librdkafka property, passed through unchanged (security, SASL, TLS…).
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Directory of rule files, relative to the config file.
    #[serde(default = "default_rules_dir")]
    pub dir: PathBuf,
    /// Hash keys by name: `env:VARIABLE` or `file:PATH`.
    #[serde(default)]
    pub hash_keys: BTreeMap<String, SecretSource>,
}

impl Default for RulesConfig {
    fn default() -> RulesConfig {
        RulesConfig {
            dir: default_rules_dir(),
            hash_keys: BTreeMap::new(),
        }
    }
}

fn default_rules_dir() -> PathBuf {
    PathBuf::from("rules")
}

/// Where a secret is read from. Never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSource(pub KeySource);

impl<'de> Deserialize<'de> for SecretSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SecretSource, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(SecretSource).map_err(|()| {
            serde::de::Error::custom(
                "write where the secret is, as \"env:VARIABLE\" or \"file:PATH\"; secrets are not written in the config file",
            )
        })
    }
}

impl SecretSource {
    /// Reads the secret, trimming one trailing newline from files.
    pub fn read(&self, what: &str) -> anyhow::Result<String> {
        let spec = KeySpec {
            name: what.to_owned(),
            source: self.0.clone(),
        };
        let bytes = spec.read_raw()?;
        String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{what}: the secret is not UTF-8"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutputConfig {
    Elasticsearch(Box<ElasticsearchConfig>),
    File(FileOutputConfig),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchConfig {
    /// Node URLs, e.g. `["http://es1:9200", "http://es2:9200"]`.
    pub nodes: Vec<String>,
    /// Index name; `%Y`, `%m`, `%d` take the event's `@timestamp` (UTC),
    /// or the Kafka timestamp when it has none.
    pub index: Option<String>,
    /// A data stream to write with the `create` op, instead of `index`.
    pub data_stream: Option<String>,
    pub username: Option<String>,
    pub password: Option<SecretSource>,
    /// An API key in its encoded form (`id:key` base64), from env or file.
    pub api_key: Option<SecretSource>,
    /// PEM file of the CA that signed the cluster's certificate.
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_bulk_max_bytes")]
    pub bulk_max_bytes: usize,
    #[serde(default = "default_bulk_max_docs")]
    pub bulk_max_docs: usize,
    #[serde(default = "default_flush_interval", with = "humantime_serde")]
    pub flush_interval: Duration,
    /// Bulk requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default)]
    pub gzip: bool,
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    #[serde(default = "default_retry_initial", with = "humantime_serde")]
    pub retry_initial_backoff: Duration,
    #[serde(default = "default_retry_max", with = "humantime_serde")]
    pub retry_max_backoff: Duration,
    /// Attempts per document before it is dead-lettered; 0 retries until
    /// the cluster takes it (back-pressure keeps memory bounded meanwhile).
    #[serde(default)]
    pub max_attempts: u32,
    /// Files `logredact setup-es` installs for this output.
    pub setup: Option<EsSetup>,
}

/// The ILM policy and index template for one Elasticsearch output, as
/// JSON files (the request bodies Elasticsearch documents).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EsSetup {
    pub ilm_policy: PathBuf,
    pub index_template: PathBuf,
}

fn default_bulk_max_bytes() -> usize {
    5 << 20
}
fn default_bulk_max_docs() -> usize {
    2000
}
fn default_flush_interval() -> Duration {
    Duration::from_millis(200)
}
fn default_concurrency() -> usize {
    2
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_retry_initial() -> Duration {
    Duration::from_millis(100)
}
fn default_retry_max() -> Duration {
    Duration::from_secs(30)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOutputConfig {
    /// Directory for the NDJSON files, one per index name.
    pub dir: PathBuf,
    /// Index name template, as for Elasticsearch outputs.
    pub index: String,
    /// A file is closed and a new one started past this size.
    #[serde(default = "default_rotate_bytes")]
    pub rotate_bytes: u64,
}

fn default_rotate_bytes() -> u64 {
    256 << 20
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterConfig {
    /// Directory for dead-letter NDJSON files.
    pub dir: Option<PathBuf>,
    /// Kafka topic for dead-letter records, on the same cluster.
    pub topic: Option<String>,
    #[serde(default = "default_rotate_bytes")]
    pub rotate_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Events larger than this are dead-lettered without being parsed.
    #[serde(default = "default_max_event_bytes")]
    pub max_event_bytes: usize,
    /// Consumption pauses while more than this many bytes are in flight.
    #[serde(default = "default_max_in_flight_bytes")]
    pub max_in_flight_bytes: usize,
    /// How often completed offsets are committed.
    #[serde(default = "default_commit_interval", with = "humantime_serde")]
    pub commit_interval: Duration,
    /// On SIGTERM, how long to wait for in-flight events before exiting.
    #[serde(default = "default_shutdown_timeout", with = "humantime_serde")]
    pub shutdown_timeout: Duration,
}

impl Default for PipelineConfig {
    fn default() -> PipelineConfig {
        PipelineConfig {
            max_event_bytes: default_max_event_bytes(),
            max_in_flight_bytes: default_max_in_flight_bytes(),
            commit_interval: default_commit_interval(),
            shutdown_timeout: default_shutdown_timeout(),
        }
    }
}

fn default_max_event_bytes() -> usize {
    1 << 20
}
fn default_max_in_flight_bytes() -> usize {
    256 << 20
}
fn default_commit_interval() -> Duration {
    Duration::from_secs(1)
}
fn default_shutdown_timeout() -> Duration {
    Duration::from_secs(30)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (suits journald) or `json`.
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `logredact=debug`.
    #[serde(default = "default_log_level")]
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            format: LogFormat::Text,
            level: default_log_level(),
        }
    }
}

fn default_log_level() -> String {
    "info".to_owned()
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A problem with the config file, with where it is when known.
#[derive(Debug, thiserror::Error)]
#[error("{}{message}", location.as_deref().map(|l| format!("{l}: ")).unwrap_or_default())]
pub struct ConfigError {
    pub location: Option<String>,
    pub message: String,
}

impl ConfigError {
    fn at(path: &Path, message: impl Into<String>) -> ConfigError {
        ConfigError {
            location: Some(path.display().to_string()),
            message: message.into(),
        }
    }
}

/// For an unknown key inside a table that serde had to buffer (a typed
/// output), toml reports the whole table; find the key's own line in it.
fn unknown_key_position(text: &str, span: std::ops::Range<usize>, message: &str) -> Option<usize> {
    let key = message.strip_prefix("unknown field `")?.split('`').next()?;
    // The span may be just the table header: look until the next header.
    let region = text.get(span.start..)?;
    let mut offset = span.start;
    for (n, line) in region.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if n > 0 && trimmed.starts_with('[') && offset >= span.end {
            break;
        }
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return Some(offset + (line.len() - trimmed.len()));
            }
        }
        offset += line.len();
    }
    None
}

impl Config {
    /// Reads and checks the config at `path`. Relative paths in it are
    /// taken relative to the file's directory.
    pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![ConfigError::at(
                path,
                format!("cannot read the config file ({e}); check the path"),
            )]
        })?;
        Config::parse(path, &text)
    }

    /// Parses config text; `path` is used for messages and relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Vec<ConfigError>> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let location = match e.span() {
                Some(span) => {
                    let at =
                        unknown_key_position(text, span.clone(), e.message()).unwrap_or(span.start);
                    let (line, col) = crate::rules::line_column(text, at);
                    format!("{}:{line}:{col}", path.display())
                }
                None => path.display().to_string(),
            };
            vec![ConfigError {
                location: Some(location),
                message: e.message().trim_end().to_owned(),
            }]
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        let errors = config.validate(path);
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.rules.dir);
        for source in self.rules.hash_keys.values_mut() {
            if let KeySource::File(p) = &mut source.0 {
                fix(p);
            }
        }
        for output in self.outputs.values_mut() {
            match output {
                OutputConfig::Elasticsearch(es) => {
                    if let Some(p) = &mut es.ca_file {
                        fix(p);
                    }
                    if let Some(setup) = &mut es.setup {
                        fix(&mut setup.ilm_policy);
                        fix(&mut setup.index_template);
                    }
                    for s in [&mut es.password, &mut es.api_key].into_iter().flatten() {
                        if let KeySource::File(p) = &mut s.0 {
                            fix(p);
                        }
                    }
                }
                OutputConfig::File(f) => fix(&mut f.dir),
            }
        }
        if let Some(p) = &mut self.dead_letter.dir {
            fix(p);
        }
    }

    /// Checks what serde cannot: every problem at once.
    fn validate(&self, path: &Path) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let mut err = |m: String| errors.push(ConfigError::at(path, m));
        if self.version != CONFIG_VERSION {
            err(format!(
                "version = {} is not a config format this build reads; write version = {CONFIG_VERSION}",
                self.version
            ));
        }
        let k = &self.kafka;
        if k.bootstrap_servers.trim().is_empty() {
            err("kafka.bootstrap_servers is empty; give host:port of at least one broker".into());
        }
        if k.group_id.trim().is_empty() {
            err("kafka.group_id is empty; name the consumer group".into());
        }
        match (&k.topics.is_empty(), &k.topic_regex) {
            (true, None) => err("kafka: give `topics = [...]` or `topic_regex`".into()),
            (false, Some(_)) => {
                err("kafka: give either `topics` or `topic_regex`, not both".into())
            }
            (_, Some(re)) => {
                if let Err(e) = regex::Regex::new(re) {
                    err(format!("kafka.topic_regex is not a valid regex: {e}"));
                }
            }
            _ => {}
        }
        for key in k.properties.keys() {
            if RESERVED_KAFKA_PROPERTIES.contains(&key.as_str()) {
                err(format!(
                    "kafka.properties.\"{key}\" is set by logredact itself and cannot be changed here"
                ));
            }
        }
        if self.outputs.is_empty() {
            err("no outputs: add at least one [outputs.NAME] table".into());
        }
        for (name, output) in &self.outputs {
            if !crate::rules::valid_name(name) {
                err(format!(
                    "outputs.{name}: output names use lower-case letters, digits, '-' and '_' only (as route rules write them)"
                ));
            }
            match output {
                OutputConfig::Elasticsearch(es) => {
                    if es.nodes.is_empty() {
                        err(format!("outputs.{name}.nodes is empty; give at least one URL such as \"http://localhost:9200\""));
                    }
                    for node in &es.nodes {
                        if let Err(e) = url_check(node) {
                            err(format!("outputs.{name}.nodes: \"{node}\" {e}"));
                        }
                    }
                    match (&es.index, &es.data_stream) {
                        (None, None) => err(format!(
                            "outputs.{name}: give `index` (e.g. \"logs-hot-%Y.%m.%d\") or `data_stream`"
                        )),
                        (Some(_), Some(_)) => err(format!(
                            "outputs.{name}: give either `index` or `data_stream`, not both"
                        )),
                        (Some(t), None) => {
                            if let Err(e) = crate::sink::IndexTemplate::parse(t) {
                                err(format!("outputs.{name}.index: {e}"));
                            }
                        }
                        _ => {}
                    }
                    if es.password.is_some() != es.username.is_some() {
                        err(format!(
                            "outputs.{name}: `username` and `password` go together"
                        ));
                    }
                    if es.password.is_some() && es.api_key.is_some() {
                        err(format!(
                            "outputs.{name}: use basic auth or an API key, not both"
                        ));
                    }
                    if es.bulk_max_docs == 0 || es.bulk_max_bytes < 1024 {
                        err(format!("outputs.{name}: bulk_max_docs must be at least 1 and bulk_max_bytes at least 1024"));
                    }
                    if es.concurrency == 0 || es.concurrency > 64 {
                        err(format!(
                            "outputs.{name}.concurrency must be between 1 and 64"
                        ));
                    }
                }
                OutputConfig::File(f) => {
                    if let Err(e) = crate::sink::IndexTemplate::parse(&f.index) {
                        err(format!("outputs.{name}.index: {e}"));
                    }
                }
            }
        }
        if self.dead_letter.dir.is_none() && self.dead_letter.topic.is_none() {
            err("dead_letter: give `dir`, `topic`, or both; events that cannot be indexed must go somewhere".into());
        }
        if self.pipeline.max_in_flight_bytes < self.pipeline.max_event_bytes {
            err("pipeline.max_in_flight_bytes must be at least pipeline.max_event_bytes".into());
        }
        if self.metrics.listen.parse::<std::net::SocketAddr>().is_err() {
            err(format!(
                "metrics.listen = \"{}\" is not an address like \"127.0.0.1:9464\"",
                self.metrics.listen
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            err(format!("log.level: {e}"));
        }
        errors
    }

    /// Output names in a fixed order; indices into this are output ids.
    pub fn output_names(&self) -> Vec<&str> {
        self.outputs.keys().map(String::as_str).collect()
    }
}

/// Properties the daemon sets itself, because its guarantees rest on them.
pub const RESERVED_KAFKA_PROPERTIES: &[&str] = &[
    "enable.auto.commit",
    "enable.auto.offset.store",
    "group.id",
    "bootstrap.servers",
];

fn url_check(node: &str) -> Result<(), String> {
    match node.split_once("://") {
        Some(("http" | "https", rest)) if !rest.is_empty() => Ok(()),
        _ => Err("is not an http:// or https:// URL".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
version = 1
[kafka]
bootstrap_servers = "localhost:9092"
topics = ["access"]
group_id = "logredact"
[outputs.hot]
type = "elasticsearch"
nodes = ["http://localhost:9200"]
index = "logs-hot-%Y.%m.%d"
[outputs.cold]
type = "file"
dir = "out/cold"
index = "logs-cold-%Y.%m"
[dead_letter]
dir = "dead"
"#;

    #[test]
    fn good_config_parses_and_paths_are_relative_to_the_file() {
        let c = Config::parse(Path::new("/etc/logredact/l.toml"), GOOD).unwrap();
        assert_eq!(c.rules.dir, Path::new("/etc/logredact/rules"));
        assert_eq!(c.output_names(), ["cold", "hot"]);
        match &c.outputs["cold"] {
            OutputConfig::File(f) => assert_eq!(f.dir, Path::new("/etc/logredact/out/cold")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let text = GOOD.replace("group_id", "group_idd");
        let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
        let msg = e[0].to_string();
        assert!(msg.starts_with("c.toml:6:1: "), "{msg}");
        assert!(msg.contains("group_idd"), "{msg}");
    }

    #[test]
    fn unknown_key_inside_a_typed_output_names_its_line() {
        let text = GOOD.replace("dir = \"out/cold\"", "dri = \"out/cold\"");
        let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
        let msg = e[0].to_string();
        assert!(msg.contains("dri"), "{msg}");
        assert!(msg.starts_with("c.toml:13:"), "{msg}");
    }

    #[test]
    fn an_output_name_no_route_rule_could_write_is_refused() {
        // Rule files name outputs in lower case only; an output named `Hot`
        // would pass here and be unreachable from every route rule.
        let text = GOOD.replace("[outputs.hot]", "[outputs.Hot]");
        let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
        let msg = e[0].to_string();
        assert!(
            msg.contains(
                "outputs.Hot: output names use lower-case letters, digits, '-' and '_' only"
            ),
            "{msg}"
        );
    }

    #[test]
    fn literal_secrets_are_refused() {
        let text = GOOD.replace(
            "index = \"logs-hot-%Y.%m.%d\"",
            "index = \"x\"\nusername = \"elastic\"\npassword = \"hunter2\"",
        );
        let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
        let msg = e[0].to_string();
        assert!(msg.contains("env:VARIABLE"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn all_semantic_problems_are_reported_together() {
        let text = GOOD
            .replace("version = 1", "version = 2")
            .replace("topics = [\"access\"]", "")
            .replace("[dead_letter]\ndir = \"dead\"", "[dead_letter]");
        let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
    }
}

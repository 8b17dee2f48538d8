//! The daemon's configuration file: parsed, then checked without any IO.
//!
//! Unknown keys are errors with line and column. Secrets are never written
//! in the file: a password or API key is named as `env:VARIABLE` or
//! `file:PATH` and read only when the daemon builds its outputs.
//!
//! - this file: the settings, as serde structs with a doc comment each.
//! - `load.rs`: reading, parsing and checking a file (every problem at once).
//! - `diagnose.rs`: when serde refuses a file, every problem it would find,
//!   each at its key, in plain words.
//! - `error.rs`: `ConfigError`, positioned at the key.
//! - `index_name.rs`: the grammar of index names (`logs-hot-%Y.%m.%d`),
//!   checked here and rendered by the sinks.

mod diagnose;
mod error;
pub mod es_template;
pub mod index_name;
mod load;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

pub use error::ConfigError;

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
    /// Signed seals over what sealed outputs wrote (docs/audit.md).
    pub seal: Option<SealConfig>,
}

/// How seals are made and where they go (docs/audit.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealConfig {
    /// Where the Ed25519 signing key is: `file:PATH`, `env:VARIABLE` or
    /// `credential:NAME` (a systemd credential); never the key itself.
    pub key: SecretSource,
    /// The index Elasticsearch outputs write their seals to, in their own
    /// cluster; `%Y`, `%m`, `%d` take the day the seal is stored, so that
    /// ILM deletes old seals with the documents they cover.
    #[serde(default = "default_seal_index")]
    pub index: String,
    /// A directory for a second copy of every seal (append-only NDJSON
    /// files), ideally where no Elasticsearch administrator can reach.
    pub copy_dir: Option<PathBuf>,
    /// Fates (offsets) in one seal at most.
    #[serde(default = "default_seal_max_events")]
    pub max_events: usize,
    /// Public key files (`logredact keys public`) of earlier signing keys,
    /// which `verify` trusts besides the current key.
    #[serde(default)]
    pub trusted_keys: Vec<PathBuf>,
    /// How long outputs keep documents (their ILM policy): `verify` calls
    /// a range older than this whose documents are all gone expired, not
    /// tampered with.
    #[serde(default = "default_seal_retention", with = "humantime_serde")]
    pub retention: Duration,
}

fn default_seal_index() -> String {
    "logredact-seals-%Y.%m.%d".to_owned()
}

fn default_seal_max_events() -> usize {
    10_000
}

fn default_seal_retention() -> Duration {
    Duration::from_secs(180 * 86_400)
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
    /// Those in [`SECRET_KAFKA_PROPERTIES`] say where the secret is
    /// (`env:`, `file:`, `credential:`), never the secret itself.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

/// How many outputs one config may define: an event's routes, and what
/// each output made of it, are kept as the bits of a `u64`.
pub const MAX_OUTPUTS: usize = 64;

/// The longest duration a pipeline or output setting may be: longer ones
/// are mistakes, and one long enough overflows a clock reading. Every
/// `Duration` setting is listed in `load::validate` (a new one must be
/// added there) but `seal.retention`, bounded by [`MAX_RETENTION`].
pub const MAX_SETTING_DURATION: std::time::Duration = std::time::Duration::from_secs(366 * 86_400);

/// The longest seal retention, 1,000 years: "keep them forever" fits,
/// and its milliseconds fit the `i64` times are kept in.
pub const MAX_RETENTION: std::time::Duration = std::time::Duration::from_secs(1000 * 366 * 86_400);

/// librdkafka properties that hold secrets: written as `env:VARIABLE`,
/// `file:PATH` or `credential:NAME`, like the Elasticsearch ones.
pub const SECRET_KAFKA_PROPERTIES: &[&str] = &[
    "sasl.password",
    "ssl.key.password",
    "ssl.keystore.password",
    "ssl.truststore.password",
    "ssl.key.pem",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.client.credentials.client.secret",
    "sasl.oauthbearer.assertion.private.key.pem",
    "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.config",
];

/// A librdkafka error in words that never repeat a property's value:
/// librdkafka's own message for a refused setting ends with the value,
/// which may be a secret read from where the config says.
pub fn kafka_error_text(e: &rdkafka::error::KafkaError) -> String {
    match e {
        rdkafka::error::KafkaError::ClientConfig(_, description, key, _value) => {
            format!("{description} (property \"{key}\")")
        }
        other => other.to_string(),
    }
}

/// Where the user name and password written into a node URL end (the
/// last `@`, anywhere: a password may hold an unencoded `/`), if it has
/// them, and where they start (after `scheme://`, or at 0).
pub fn node_userinfo(node: &str) -> Option<std::ops::Range<usize>> {
    let start = node.find("://").map_or(0, |i| i + 3);
    let end = node[start..].rfind('@')? + start;
    Some(start..end)
}

/// A node URL as messages show it: without a user name or password
/// written into it (`https://user:pass@host` shows as `https://…@host`).
pub fn node_for_messages(node: &str) -> std::borrow::Cow<'_, str> {
    match node_userinfo(node) {
        Some(r) => format!("{}…{}", &node[..r.start], &node[r.end..]).into(),
        None => node.into(),
    }
}

impl KafkaConfig {
    /// The librdkafka properties, with secrets read from where they are.
    /// Errors name the property and where its secret was looked for.
    pub fn resolved_properties(&self) -> anyhow::Result<Vec<(String, String)>> {
        self.properties
            .iter()
            .map(|(key, value)| {
                if !SECRET_KAFKA_PROPERTIES.contains(&key.as_str()) {
                    return Ok((key.clone(), value.clone()));
                }
                let source: KeySource = value.parse().map_err(|()| {
                    anyhow::anyhow!(
                        "kafka.properties.\"{key}\": write where the secret is, as \"env:VARIABLE\", \"file:PATH\" or \"credential:NAME\"; secrets are not written in the config file"
                    )
                })?;
                let secret = SecretSource(source).read(&format!("kafka.properties.\"{key}\""))?;
                Ok((key.clone(), secret))
            })
            .collect()
    }
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

impl OutputConfig {
    /// Whether this output's writes are sealed.
    pub fn sealed(&self) -> bool {
        match self {
            OutputConfig::Elasticsearch(es) => es.seal,
            OutputConfig::File(f) => f.seal,
        }
    }
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
    /// Seal what this output writes (needs a `[seal]` section).
    #[serde(default)]
    pub seal: bool,
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
    /// Seal what this output writes (needs a `[seal]` section); the seals
    /// go to `DIR/seals/`.
    #[serde(default)]
    pub seal: bool,
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
    32 << 20
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

//! Reading, parsing and checking a config file. Every problem is reported
//! at once; no network IO.

use std::path::{Path, PathBuf};

use super::{Config, ConfigError, OutputConfig, CONFIG_VERSION};
use crate::secrets::KeySource;

/// How every problem with the seal signing key begins (`SealKey::read`
/// names it so), which `load_for_audit` leaves out.
const SEAL_KEY: &str = "seal.key";

/// The text of the config file at `path`.
fn read_config(path: &Path) -> Result<String, Vec<ConfigError>> {
    std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError::at(
            path,
            format!("cannot read the config file ({e}); check the path"),
        )]
    })
}

impl Config {
    /// Reads and checks the config at `path`. Relative paths in it are
    /// taken relative to the file's directory.
    pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
        Config::parse(path, &read_config(path)?)
    }

    /// As `load`, but the seal signing key need not be readable: for
    /// `verify`, which auditors run with public keys only.
    pub fn load_for_audit(path: &Path) -> Result<Config, Vec<ConfigError>> {
        Config::parse_checked(path, &read_config(path)?, false)
    }

    /// Parses config text; `path` is used for messages and relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Vec<ConfigError>> {
        Config::parse_checked(path, text, true)
    }

    fn parse_checked(
        path: &Path,
        text: &str,
        need_seal_key: bool,
    ) -> Result<Config, Vec<ConfigError>> {
        let mut config: Config =
            toml::from_str(text).map_err(|first| super::diagnose::problems(path, text, &first))?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        let mut errors = config.validate(path);
        if !need_seal_key {
            errors.retain(|e| !e.message.starts_with(SEAL_KEY));
        }
        super::diagnose::position(path, text, &mut errors);
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    pub(super) fn resolve_paths(&mut self, base: &Path) {
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
        if let Some(seal) = &mut self.seal {
            if let KeySource::File(p) = &mut seal.key.0 {
                fix(p);
            }
            if let Some(p) = &mut seal.copy_dir {
                fix(p);
            }
            seal.trusted_keys.iter_mut().for_each(fix);
        }
        // Kafka secrets in files, like the others: relative to this file.
        for (key, value) in self.kafka.properties.iter_mut() {
            if super::SECRET_KAFKA_PROPERTIES.contains(&key.as_str()) {
                if let Ok(KeySource::File(mut p)) = value.parse::<KeySource>() {
                    fix(&mut p);
                    *value = format!("file:{}", p.display());
                }
            }
        }
    }

    /// Checks what serde cannot: every problem at once.
    pub(super) fn validate(&self, path: &Path) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let mut err = |m: String| errors.push(ConfigError::at(path, m));
        if self.version != CONFIG_VERSION {
            err(format!(
                "version = {} is not a config format this build reads; write version = {CONFIG_VERSION}",
                self.version
            ));
        }
        if let Err(problem) = check_log_level(&self.log.level) {
            err(problem);
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
        for (key, value) in &k.properties {
            if RESERVED_KAFKA_PROPERTIES.contains(&key.as_str()) {
                err(format!(
                    "kafka.properties.\"{key}\" is set by logredact itself and cannot be changed here"
                ));
            } else if super::SECRET_KAFKA_PROPERTIES.contains(&key.as_str()) {
                // The secret itself is read below, with the others; here
                // only whether this build of librdkafka takes the property
                // (one without curl takes no OAuth/OIDC settings).
                if let Err(problem) = check_kafka_property(key, "placeholder") {
                    err(problem);
                }
            } else if let Err(problem) = check_kafka_property(key, value) {
                err(problem);
            }
        }
        if let Err(e) = k.resolved_properties() {
            err(format!("{e:#}"));
        }
        // Secrets are read now, as `run` reads them: a variable that is not
        // set or a file that cannot be read fails here, not at start-up.
        for (name, source) in &self.rules.hash_keys {
            let spec = crate::secrets::KeySpec {
                name: name.clone(),
                source: source.0.clone(),
            };
            if let Err(e) = spec.read() {
                err(format!("rules.hash_keys.{name}: {e:#}"));
            }
        }
        if self.outputs.is_empty() {
            err("no outputs: add at least one [outputs.NAME] table".into());
        }
        if self.outputs.len() > super::MAX_OUTPUTS {
            err(format!(
                "outputs: {} outputs are defined, and at most {} are allowed; route events to fewer outputs",
                self.outputs.len(),
                super::MAX_OUTPUTS
            ));
        }
        let mut durations = vec![
            (
                "pipeline.commit_interval".to_owned(),
                self.pipeline.commit_interval,
            ),
            (
                "pipeline.shutdown_timeout".to_owned(),
                self.pipeline.shutdown_timeout,
            ),
        ];
        for (name, output) in &self.outputs {
            if let OutputConfig::Elasticsearch(es) = output {
                for (what, d) in [
                    ("flush_interval", es.flush_interval),
                    ("request_timeout", es.request_timeout),
                    ("retry_initial_backoff", es.retry_initial_backoff),
                    ("retry_max_backoff", es.retry_max_backoff),
                ] {
                    durations.push((format!("outputs.{name}.{what}"), d));
                }
                // A request given no time at all fails at once, every time,
                // and is retried forever.
                for (what, d) in [
                    ("request_timeout", es.request_timeout),
                    ("retry_max_backoff", es.retry_max_backoff),
                ] {
                    if d.is_zero() {
                        err(format!(
                            "outputs.{name}.{what} is 0s; give it a length, such as \"30s\""
                        ));
                    }
                }
                if es.retry_initial_backoff > es.retry_max_backoff {
                    err(format!(
                        "outputs.{name}.retry_initial_backoff ({}) is longer than retry_max_backoff ({}); the first wait cannot be longer than the longest",
                        humantime_serde::re::humantime::format_duration(es.retry_initial_backoff),
                        humantime_serde::re::humantime::format_duration(es.retry_max_backoff)
                    ));
                }
            }
        }
        for (what, d) in durations {
            if d > super::MAX_SETTING_DURATION {
                err(format!(
                    "{what} is {}; a setting like this may be at most a year (366 days): write a shorter one, such as \"30s\"",
                    humantime_serde::re::humantime::format_duration(d)
                ));
            }
        }
        match &self.seal {
            Some(seal) => {
                if let Err(e) = crate::seal::SealKey::read(&seal.key.0) {
                    let text = format!("{e:#}");
                    debug_assert!(text.starts_with(SEAL_KEY), "{text}");
                    err(text);
                }
                if seal.retention > super::MAX_RETENTION {
                    err(format!(
                        "seal.retention is {}; it may be at most 1000 years (\"1000y\" keeps seals for good)",
                        humantime_serde::re::humantime::format_duration(seal.retention)
                    ));
                }
                if seal.max_events == 0 {
                    err("seal.max_events is 0; give how many offsets one seal may cover, e.g. 10000".into());
                }
                if let Err(e) = super::index_name::IndexTemplate::parse(&seal.index) {
                    err(format!("seal.index: {e}"));
                }
                for path in &seal.trusted_keys {
                    let text = std::fs::read_to_string(path);
                    if let Err(e) = text
                        .map_err(anyhow::Error::from)
                        .and_then(|t| crate::seal::key::parse_public_keys(&t))
                    {
                        err(format!("seal.trusted_keys: {}: {e:#}", path.display()));
                    }
                }
            }
            None => {
                for (name, output) in &self.outputs {
                    if output.sealed() {
                        err(format!("outputs.{name}.seal = true needs a [seal] section with the signing key (see docs/audit.md)"));
                    }
                }
            }
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
                            let node = super::node_for_messages(node);
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
                            if let Err(e) = super::index_name::IndexTemplate::parse(t) {
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
                    for (what, secret) in [("password", &es.password), ("api_key", &es.api_key)] {
                        if let Some(Err(e)) = secret.as_ref().map(|s| s.read(what)) {
                            err(format!("outputs.{name}.{what}: {e:#}"));
                        }
                    }
                    if let Some(setup) = &es.setup {
                        for (what, file) in [
                            ("ilm_policy", &setup.ilm_policy),
                            ("index_template", &setup.index_template),
                        ] {
                            match check_json_file(file) {
                                Err(e) => err(format!("outputs.{name}.setup.{what}: {e}")),
                                Ok(mut json) if what == "index_template" => {
                                    // The same filling in `setup-es` does.
                                    if let Err(e) =
                                        super::es_template::fill(&mut json, "*", "policy")
                                    {
                                        err(format!(
                                            "outputs.{name}.setup.{what}: {}: {e}",
                                            file.display()
                                        ));
                                    }
                                }
                                Ok(_) => {}
                            }
                        }
                    }
                }
                OutputConfig::File(f) => {
                    if let Err(e) = super::index_name::IndexTemplate::parse(&f.index) {
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
        Some(("http" | "https", rest)) if !rest.is_empty() => {
            if super::node_userinfo(node).is_some() {
                return Err("holds a user name or password; give them as `username` and `password` (or `api_key`), with env:, file: or credential:, not in the URL".into());
            }
            Ok(())
        }
        _ => Err("is not an http:// or https:// URL".into()),
    }
}

/// Checks one librdkafka property the way librdkafka itself does when a
/// client is made (its name and its value), without making a client or
/// connecting to anything.
fn check_kafka_property(key: &str, value: &str) -> Result<(), String> {
    let mut config = rdkafka::ClientConfig::new();
    config.set(key, value);
    match config.create_native_config() {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "kafka.properties.\"{key}\": librdkafka refuses it ({}); see librdkafka's CONFIGURATION.md for the names and values it takes",
            super::kafka_error_text(&e)
        )),
    }
}

/// Checks that a file `setup-es` will install can be read and is JSON.
fn check_json_file(file: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {} ({e}); check the path", file.display()))?;
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("{} is not valid JSON ({e})", file.display()))
}

/// The levels a log filter names.
const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Checks `log.level`: a level, or comma-separated `target=level`
/// directives. A word that is no level (`verbose`) would be read as a
/// target and silence every log line, errors included.
fn check_log_level(level: &str) -> Result<(), String> {
    let fix = "write one of off, error, warn, info, debug, trace, or target=level such as logredact=debug";
    if level.trim().is_empty() {
        return Err(format!("log.level is empty; {fix}"));
    }
    for directive in level.split(',').map(str::trim) {
        let word = directive.rsplit_once('=').map_or(directive, |(_, l)| l);
        if !LOG_LEVELS.contains(&word.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "log.level = \"{level}\": \"{word}\" is not a log level; {fix}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

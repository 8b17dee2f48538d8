//! The rule set in use, and what the pipeline derives from it (each route
//! rule's outputs as a bit mask), with the seal signing key read alongside
//! it. Start-up and reload load it through the same path, so a reload also
//! takes a new signing key (key rotation without a restart).

use std::fmt;
use std::sync::Arc;

use crate::config::Config;
use crate::rules::{KeyRing, Routes, RuleErrors, RuleKind, RuleSet};
use crate::seal::SealKey;
use crate::stats::Stats;

/// A compiled rule set plus what the pipeline derives from it.
pub struct ActiveRules {
    pub set: RuleSet,
    /// Per rule index, for route rules: bitmask of output ids.
    routes: Vec<u64>,
    /// Every output.
    all: u64,
    /// The key seals are signed with, as read with these rules; `None`
    /// when nothing is sealed, or when the set was made without a config
    /// (the pipeline then signs with the key it read at start).
    pub seal_key: Option<Arc<SealKey>>,
}

impl ActiveRules {
    /// Checks the set against the configured outputs.
    pub fn new(set: RuleSet, outputs: &[&str]) -> Result<ActiveRules, String> {
        let mut routes = vec![0u64; set.rule_ids().len()];
        // Every unknown output at once, one line each.
        let mut unknown = Vec::new();
        for (i, mask) in routes.iter_mut().enumerate() {
            if set.kind_of(i) != RuleKind::Route {
                continue;
            }
            for name in set.route_outputs(Routes::Rule(i)).unwrap_or_default() {
                match outputs.iter().position(|o| *o == name) {
                    Some(id) => *mask |= 1 << id,
                    None => unknown.push(format!(
                        "rule \"{}\" routes to output \"{name}\", which the config does not define (its outputs: {}); add that output to the config, or change the rule's outputs",
                        set.rule_ids()[i],
                        outputs.join(", ")
                    )),
                }
            }
        }
        if !unknown.is_empty() {
            return Err(unknown.join("\n"));
        }
        Ok(ActiveRules {
            set,
            routes,
            all: all_outputs(outputs.len())?,
            seal_key: None,
        })
    }

    /// The outputs an event goes to, as a bit mask of output ids.
    pub(super) fn outputs(&self, routes: Routes) -> u64 {
        match routes {
            Routes::Default => self.all,
            Routes::Rule(i) => self.routes[i],
            Routes::Dropped(_) => 0,
        }
    }
}

/// Reads the hash keys the config names.
pub fn key_ring(config: &Config) -> anyhow::Result<KeyRing> {
    let specs: Vec<_> = config
        .rules
        .hash_keys
        .iter()
        .map(|(name, source)| crate::secrets::KeySpec {
            name: name.clone(),
            source: source.0.clone(),
        })
        .collect();
    crate::secrets::key_ring(&specs)
}

/// Why a rule set could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// Problems in the rule files.
    Rules(RuleErrors),
    /// The rules and the config disagree (a route to an unknown output),
    /// or a hash key or the seal signing key cannot be read.
    Other(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Rules(e) => e.fmt(f),
            LoadError::Other(e) => f.write_str(e),
        }
    }
}

impl LoadError {
    /// One line per problem, for logs: positions and kinds, never the text
    /// of a rule (see `RuleError::headline`).
    pub fn log_lines(&self) -> Vec<String> {
        match self {
            LoadError::Rules(e) => e.0.iter().map(|e| e.headline()).collect(),
            LoadError::Other(e) => e.lines().map(str::to_owned).collect(),
        }
    }
}

/// Loads and checks the rules a config points to, and reads the seal
/// signing key when an output is sealed.
pub fn load_rules(config: &Config, keys: &KeyRing) -> Result<ActiveRules, LoadError> {
    let set = RuleSet::load(&config.rules.dir, keys).map_err(LoadError::Rules)?;
    for w in set.warnings() {
        // Positions and kinds only, like errors (see `RuleError::headline`).
        tracing::warn!(
            "rule warning: {}; `logredact check` shows it in full",
            w.headline()
        );
    }
    let mut active = ActiveRules::new(set, &config.output_names()).map_err(LoadError::Other)?;
    if let Some(seal) = config.seal.as_ref().filter(|_| {
        config
            .outputs
            .values()
            .any(crate::config::OutputConfig::sealed)
    }) {
        let key = SealKey::read(&seal.key.0).map_err(|e| LoadError::Other(format!("{e:#}")))?;
        active.seal_key = Some(Arc::new(key));
    }
    Ok(active)
}

/// Notes the active set in the stats (fingerprint and load time).
pub fn note_active(stats: &Stats, rules: &ActiveRules) {
    let mut d = stats.detail();
    d.rules_fingerprint = rules.set.fingerprint().to_owned();
    d.rules_loaded_at = crate::stats::now_ms() as f64 / 1000.0;
}

/// The bit mask of every one of `n` outputs.
fn all_outputs(n: usize) -> Result<u64, String> {
    match n {
        0 => Ok(0),
        1..=crate::config::MAX_OUTPUTS => Ok(u64::MAX >> (64 - n)),
        _ => Err(format!(
            "{n} outputs are defined, and at most {} are allowed",
            crate::config::MAX_OUTPUTS
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::all_outputs;

    #[test]
    fn the_mask_of_every_output_holds_each_one() {
        assert_eq!(all_outputs(0), Ok(0));
        assert_eq!(all_outputs(1), Ok(1));
        assert_eq!(all_outputs(2), Ok(0b11));
        // `(1 << 64) - 1` wrapped to 0 here: every event went nowhere.
        assert_eq!(all_outputs(64), Ok(u64::MAX));
        assert!(all_outputs(65).is_err());
    }
}

//! `logredact check` and `logredact test`.

use std::io::Write;
use std::path::Path;

use crate::rules::{KeyRing, RuleSet, TEST_HASH_KEY};

/// Validates the rules. Prints every problem; returns whether they are valid.
///
/// Without keys, hash rules are checked against a placeholder key: `check`
/// validates the files, not the secrets.
pub fn check(
    rules: &Path,
    keys: KeyRing,
    given_keys: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<bool> {
    let keys = if given_keys {
        keys
    } else {
        keys.with_fallback(TEST_HASH_KEY)
    };
    match RuleSet::load(rules, &keys) {
        Ok(set) => {
            let (m, t, r) = set.counts();
            writeln!(
                out,
                "rules are valid: {m} mask, {t} tag and {r} route rules, {} examples (rule set {})",
                set.examples().len(),
                set.fingerprint()
            )?;
            Ok(true)
        }
        Err(errors) => {
            writeln!(err, "{errors}")?;
            Ok(false)
        }
    }
}

/// Runs every embedded example. Hash rules use the built-in example key
/// unless a key is given, so expected hashes in examples stay stable.
pub fn test(
    rules: &Path,
    keys: KeyRing,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<bool> {
    let set = match RuleSet::load(rules, &keys.with_fallback(TEST_HASH_KEY)) {
        Ok(set) => set,
        Err(errors) => {
            writeln!(err, "{errors}")?;
            return Ok(false);
        }
    };
    let (mut passed, mut failed) = (0, 0);
    for example in set.examples() {
        let failures = set.check_example(example);
        if failures.is_empty() {
            passed += 1;
            writeln!(out, "PASS  {} / {}", example.rule, example.name)?;
        } else {
            failed += 1;
            writeln!(
                out,
                "FAIL  {} / {}  ({})",
                example.rule, example.name, example.location
            )?;
            for f in failures {
                writeln!(out, "      {f}")?;
            }
        }
    }
    let uncovered: Vec<&String> = set
        .rule_ids()
        .iter()
        .filter(|id| !set.examples().iter().any(|e| &e.rule == *id))
        .collect();
    if !uncovered.is_empty() {
        let names: Vec<&str> = uncovered.iter().map(|s| s.as_str()).collect();
        writeln!(
            out,
            "note: these rules have no examples: {}",
            names.join(", ")
        )?;
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(failed == 0)
}

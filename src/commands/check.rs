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
            say_files_read(rules, out)?;
            write!(err, "{}", crate::rules::render(set.warnings(), "warning: "))?;
            let (m, t, r) = set.counts();
            let warned = match set.warnings().len() {
                0 => String::new(),
                1 => "; 1 warning above".to_owned(),
                n => format!("; {n} warnings above"),
            };
            writeln!(
                out,
                "rules are valid: {m} mask, {t} tag and {r} route rules, {} examples (rule set {}){warned}",
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

/// Names the rule files read, in the order their rules apply.
fn say_files_read(rules: &Path, out: &mut dyn Write) -> std::io::Result<()> {
    let Ok(files) = crate::rules::load_dir(rules) else {
        return Ok(());
    };
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            Path::new(&f.name)
                .file_name()
                .map_or_else(|| f.name.clone(), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    writeln!(
        out,
        "read {} rule file{} in {}, in this order: {}",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        rules.display(),
        names.join(", ")
    )
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
    write!(err, "{}", crate::rules::render(set.warnings(), "warning: "))?;
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for example in set.examples() {
        if !example.enabled {
            skipped += 1;
            writeln!(
                out,
                "SKIP  {} / {}  (the rule is off: enabled = false)",
                example.rule, example.name
            )?;
            continue;
        }
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
    if skipped > 0 {
        writeln!(out, "{passed} passed, {failed} failed, {skipped} skipped")?;
    } else {
        writeln!(out, "{passed} passed, {failed} failed")?;
    }
    Ok(failed == 0)
}

//! The module layers ARCHITECTURE.md describes, checked: each top-level
//! module of the daemon and of the rules crate refers only to modules in
//! layers below it, so there is no import loop. A new module must be
//! placed in a layer here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Lowest first. A module may use any module listed before it.
const DAEMON: &[&str] = &[
    "alloc",
    "secrets",
    "seal",
    "stats",
    "events",
    "config",
    "sink",
    "source",
    "telemetry",
    "systemd",
    "pipeline",
    "commands",
];

const RULES: &[&str] = &[
    "bytes",
    "calendar",
    "error",
    "text",
    "path",
    "json",
    "reject",
    "normalize",
    "detect",
    "condition",
    "engine",
    "examples",
    "compile",
    "shipped",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module names a file refers to as `crate::NAME` (or
/// `super::NAME` from a file directly below the crate root), outside its
/// tests.
fn references(src: &Path, file: &Path, modules: &[&str]) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap();
    let depth = file.strip_prefix(src).unwrap().components().count();
    let top_file = depth == 1 || (depth == 2 && file.ends_with("mod.rs"));
    let mut found = BTreeSet::new();
    for prefix in ["crate::", "super::"] {
        if prefix == "super::" && !top_file {
            continue;
        }
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            let mut names = vec![];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                names.extend(
                    group
                        .split(',')
                        .map(|n| n.trim().split("::").next().unwrap()),
                );
            } else {
                names.push(
                    rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                        .next()
                        .unwrap(),
                );
            }
            found.extend(
                names
                    .into_iter()
                    .filter(|n| modules.contains(n))
                    .map(str::to_owned),
            );
        }
    }
    found
}

fn check(src: &Path, layers: &[&str]) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs");
        let Some(level) = layers.iter().position(|m| *m == module) else {
            if !["lib", "main"].contains(&module) {
                problems.push(format!("{}: module {module} is in no layer", rel.display()));
            }
            continue;
        };
        for used in references(src, file, layers) {
            let used_level = layers.iter().position(|m| *m == used).unwrap();
            if used != module && used_level > level {
                problems.push(format!(
                    "{}: {module} uses {used}, a layer above it",
                    rel.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_daemon_modules_use_only_the_layers_below_them() {
    check(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), DAEMON);
}

#[test]
fn the_rule_engine_modules_use_only_the_layers_below_them() {
    check(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/logredact-rules/src"),
        RULES,
    );
}

//! `logredact verify`: reads back what sealed outputs hold and checks it
//! against their seals (docs/audit.md). Exit 0 only when everything holds.
//!
//! - `files.rs`: a file output's documents and seals.
//! - `es.rs`: an Elasticsearch output's documents and seal index, through
//!   a point in time.
//!
//! The checking itself is `seal::check`, which does no IO.

mod es;
mod files;

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;

use crate::config::{Config, OutputConfig};
use crate::seal::check::{self, Inputs, Problem, Report};
use crate::seal::key::{key_id, parse_public_keys};
use crate::seal::record::ReadSeal;
use crate::seal::SealKey;

pub struct Options {
    pub config: PathBuf,
    /// One output; by default every sealed output.
    pub output: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// More public key files to trust.
    pub public_keys: Vec<PathBuf>,
    pub json: bool,
}

/// Runs `verify`; returns whether everything holds.
pub fn run(options: &Options, out: &mut dyn Write) -> anyhow::Result<bool> {
    // The signing key need not be readable: auditors check with public keys.
    let config =
        Config::load_for_audit(&options.config).map_err(|e| super::daemon::config_errors(&e))?;
    let Some(seal) = &config.seal else {
        anyhow::bail!("the config has no [seal] section: nothing is sealed, so there is nothing to verify (see docs/audit.md)");
    };
    let keys = trusted_keys(&config, &options.public_keys)?;
    let outputs: Vec<(&String, &OutputConfig)> = config
        .outputs
        .iter()
        .filter(|(name, o)| match &options.output {
            Some(want) => *name == want,
            None => o.sealed(),
        })
        .collect();
    if outputs.is_empty() {
        match &options.output {
            Some(name) if config.outputs.contains_key(name) => {
                anyhow::bail!("output \"{name}\" is not sealed (set seal = true on it)")
            }
            Some(name) => anyhow::bail!(
                "no output \"{name}\" in the config; its outputs are: {}",
                config
                    .outputs
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => anyhow::bail!("no output has seal = true"),
        }
    }
    let tty = std::io::stderr().is_terminal();
    let progress = move |n: u64| {
        if tty && n % 100_000 == 0 {
            eprint!("\rread {n} documents…");
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut reports = Vec::new();
    for (name, output) in outputs {
        let mut read_problems = Vec::new();
        let (mut seals, docs) = match output {
            OutputConfig::File(f) => (
                files::seals(&files::seal_dir(&f.dir), &mut read_problems)?,
                files::documents(&f.dir, &progress)?,
            ),
            OutputConfig::Elasticsearch(e) => {
                let client = crate::sink::elasticsearch::client(name, e)?;
                let pattern = match (&e.index, &e.data_stream) {
                    (Some(t), _) => crate::sink::elasticsearch::setup::index_pattern(t),
                    (None, Some(ds)) => ds.clone(),
                    (None, None) => anyhow::bail!("output \"{name}\": no index or data_stream"),
                };
                runtime.block_on(async {
                    let seals =
                        es::seals(&client, &seal.index, e.request_timeout, &mut read_problems)
                            .await?;
                    let docs =
                        es::documents(&client, &pattern, e.request_timeout, &progress).await?;
                    anyhow::Ok((seals, docs))
                })?
            }
        };
        if tty {
            eprint!("\r");
        }
        if let Some(copy) = &seal.copy_dir {
            compare_copy(name, copy, &mut seals, &mut read_problems)?;
        }
        let mut report = check::check(Inputs {
            output: name,
            keys: &keys,
            seals,
            docs,
            since_ms: options.since_ms,
            until_ms: options.until_ms,
            now_ms: crate::stats::now_ms(),
            retention_ms: seal.retention.as_millis() as i64,
            doc_id: crate::sink::doc_id,
        });
        read_problems.append(&mut report.problems);
        report.problems = read_problems;
        reports.push(report);
    }
    let clean = reports.iter().all(Report::clean);
    if options.json {
        serde_json::to_writer_pretty(
            &mut *out,
            &serde_json::json!({ "clean": clean, "outputs": reports }),
        )?;
        writeln!(out)?;
    } else {
        for r in &reports {
            write_report(r, out)?;
        }
    }
    Ok(clean)
}

/// The keys `verify` trusts: the configured signing key's public half (if
/// this user can read it), the config's `trusted_keys`, and `--public-key`.
fn trusted_keys(
    config: &Config,
    extra: &[PathBuf],
) -> anyhow::Result<HashMap<String, VerifyingKey>> {
    let mut keys = HashMap::new();
    let seal = config.seal.as_ref().expect("checked by the caller");
    if let Ok(k) = SealKey::read(&seal.key.0) {
        keys.insert(k.id().to_owned(), k.public());
    }
    for path in seal.trusted_keys.iter().chain(extra) {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("cannot read the public key file {} ({e})", path.display())
        })?;
        for k in parse_public_keys(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))? {
            keys.insert(key_id(&k), k);
        }
    }
    if keys.is_empty() {
        anyhow::bail!(
            "no key to check seals with: pass --public-key FILE (from `logredact keys public`)"
        );
    }
    Ok(keys)
}

/// Compares the store's seals with the second copy: a seal the copy holds
/// and the store lacks was removed; it is checked from the copy.
fn compare_copy(
    output: &str,
    copy: &Path,
    seals: &mut Vec<ReadSeal>,
    problems: &mut Vec<Problem>,
) -> anyhow::Result<()> {
    let mut ignored = Vec::new();
    let copies = files::seals_with_prefix(copy, &format!("seals-{output}."), &mut ignored)?;
    let held: std::collections::HashSet<String> = seals.iter().map(|s| s.body.id()).collect();
    for c in copies {
        if !held.contains(&c.body.id()) {
            problems.push(Problem::RemovedSeal {
                seal: c.body.id(),
                copy: c.place.clone(),
            });
            seals.push(c);
        }
    }
    Ok(())
}

/// Problems listed in the text report; `--json` has them all.
const SHOWN: usize = 50;

fn write_report(r: &Report, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "output \"{}\": {} seals checked, {} offsets covered, {} of {} sealed documents verified, {} documents held",
        r.output, r.seals_checked, r.offsets_covered, r.documents_verified, r.documents_sealed, r.documents_held
    )?;
    if r.seals_expired > 0 {
        writeln!(
            out,
            "  {} seals are past retention and their documents are gone: expired, not tampered with",
            r.seals_expired
        )?;
    }
    if r.clean() {
        writeln!(out, "  everything holds")?;
        return Ok(());
    }
    writeln!(out, "  {} problems:", r.problems.len())?;
    for p in r.problems.iter().take(SHOWN) {
        writeln!(out, "  - {}", describe(p))?;
    }
    if r.problems.len() > SHOWN {
        writeln!(
            out,
            "  … and {} more (--json lists every one)",
            r.problems.len() - SHOWN
        )?;
    }
    Ok(())
}

/// One problem in plain words.
fn describe(p: &Problem) -> String {
    match p {
        Problem::Deleted { id, seal } => format!("deleted: document {id} is sealed (seal {seal}) but no longer held"),
        Problem::Modified { id, place, seal } => format!("modified: document {id} in {place} differs from what was written (seal {seal})"),
        Problem::Inserted { id, place } => format!("inserted: document {id} in {place} was not written by logredact, or is a second copy"),
        Problem::Forged { seal } => format!("forged: the signature of seal {seal} does not hold; it was edited or not made by logredact"),
        Problem::UnknownKey { seal, key_id } => format!("unknown key: seal {seal} is signed by key {key_id}, which is not trusted (add its public key with --public-key or seal.trusted_keys)"),
        Problem::Malformed { seal, why } => format!("malformed seal {seal}: {why}"),
        Problem::MissingSeal { topic, partition, segment, seq } => format!("missing seal: seal {seq} of segment {segment} of {topic}/{partition} is gone"),
        Problem::RemovedSeal { seal, copy } => format!("removed seal: {seal} is in the second copy ({copy}) but not in the store"),
        Problem::BrokenLink { seal, why } => format!("broken chain at seal {seal}: {why}"),
        Problem::Unverified { topic, partition, first, last, documents } => format!("unverified: {documents} documents of {topic}/{partition} offsets {first}–{last} have no valid seal to check them against (see the problem above)"),
        Problem::Unsealed { topic, partition, first, last, documents } => format!("unsealed: {documents} documents of {topic}/{partition} offsets {first}–{last} are in no seal: their seals were deleted, or they were inserted"),
        Problem::Gap { topic, partition, first, last } => format!("gap: offsets {first}–{last} of {topic}/{partition} are in no seal"),
    }
}

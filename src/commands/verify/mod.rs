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

use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use ed25519_dalek::VerifyingKey;

use crate::config::{Config, OutputConfig};
use crate::seal::check::{Checker, Problem, Report, Seal, Window};
use crate::seal::key::{key_id, parse_public_keys};
use crate::seal::record::{ReadSeal, SealBody};
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
        .filter(|(name, o)| o.sealed() && options.output.as_ref().is_none_or(|w| *name == w))
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
    let window = Window {
        since_ms: options.since_ms,
        until_ms: options.until_ms,
        now_ms: crate::stats::now_ms(),
        retention_ms: seal.retention.as_millis() as i64,
    };
    let mut reports = Vec::new();
    for (name, output) in outputs {
        let mut read_problems = Vec::new();
        // The second copy, then the store's seals, then the documents. The
        // writer writes a seal to the copy first, then to the store: a seal
        // the copy holds and the store lacks is either in flight (past the
        // store's last seal of its partition) or was removed. A seal is
        // written after every document it covers was acknowledged, so
        // those documents are there when read after it; documents written
        // since are past the last seal and count as not sealed yet.
        // Reading the seals first also lets a time window keep only the
        // documents its seals cover. Only the seals checked (this output's,
        // in the window) are judged and kept with their fates.
        let checked = |b: &SealBody| b.output == **name && window.holds(b.sealed_at_ms);
        let mut copies = Vec::new();
        read_copies(
            name,
            seal,
            &mut |r| {
                if checked(&r.body) {
                    copies.push(Seal::judge(r, &keys));
                }
            },
            &mut read_problems,
        )?;
        let mut store = StoreSeals::new(name);
        let mut report = match output {
            OutputConfig::File(f) => {
                files::seals(
                    &files::seal_dir(&f.dir),
                    &mut |r| store.add(r, &checked, &keys),
                    &mut read_problems,
                )?;
                let seals = store.compare_copy(copies, window.now_ms, &mut read_problems);
                let checker = Checker::new(name, seals, &window);
                let wants = |id: &str| checker.wants(id);
                let docs = files::documents(&f.dir, &wants, &progress, &mut read_problems)?;
                checker.finish(&docs, crate::sink::doc_id)
            }
            OutputConfig::Elasticsearch(e) => {
                let client = crate::sink::elasticsearch::client(name, e)?;
                let pattern = match (&e.index, &e.data_stream) {
                    (Some(t), _) => crate::sink::elasticsearch::setup::index_pattern(t),
                    (None, Some(ds)) => ds.clone(),
                    (None, None) => anyhow::bail!("output \"{name}\": no index or data_stream"),
                };
                let seal_pattern = crate::sink::elasticsearch::setup::index_pattern(&seal.index);
                runtime.block_on(async {
                    es::seals(
                        &client,
                        &seal_pattern,
                        e.request_timeout,
                        &mut |r| store.add(r, &checked, &keys),
                        &mut read_problems,
                    )
                    .await?;
                    let seals = store.compare_copy(copies, window.now_ms, &mut read_problems);
                    let checker = Checker::new(name, seals, &window);
                    let wants = |id: &str| checker.wants(id);
                    // A window asks for its documents by id; a whole run
                    // reads the whole output.
                    let docs = match checker.covered_ids(crate::sink::doc_id) {
                        Some(ids) => {
                            es::documents_with_ids(
                                &client,
                                &pattern,
                                e.request_timeout,
                                ids,
                                &progress,
                            )
                            .await?
                        }
                        None => {
                            es::documents(&client, &pattern, e.request_timeout, &wants, &progress)
                                .await?
                        }
                    };
                    anyhow::Ok(checker.finish(&docs, crate::sink::doc_id))
                })?
            }
        };
        report.seals = store.read;
        if tty {
            eprint!("\r");
        }
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

/// The output's seals in the second copy (`seal.copy_dir`), if one is
/// kept, handed to `each`.
fn read_copies(
    output: &str,
    seal: &crate::config::SealConfig,
    each: &mut dyn FnMut(ReadSeal),
    problems: &mut Vec<Problem>,
) -> anyhow::Result<()> {
    match &seal.copy_dir {
        Some(dir) => files::seals_with_prefix(dir, &format!("seals-{output}."), each, problems),
        None => Ok(()),
    }
}

/// How long after it was made a seal the second copy holds may still be
/// on its way to the store: the writer writes the copy first, then the
/// store, retrying through outages for as long as it takes.
const IN_FLIGHT_MS: i64 = 15 * 60 * 1000;

/// An output's partition: (output, topic, partition).
type OutputPartition = (String, String, i32);

/// The store's seals as read: every one's id, the offsets each segment's
/// seals reach and each seal's range (to compare with the second copy),
/// and the seals checked, judged, with their fates.
struct StoreSeals {
    output: String,
    /// How many seals of the output were read.
    read: u64,
    ids: HashSet<String>,
    /// Per (output, topic, partition, segment): the last offset sealed.
    segment_last: HashMap<(String, String, i32, String), i64>,
    /// Per (output, topic, partition): each seal's segment start time,
    /// first and last offset.
    ranges: HashMap<OutputPartition, Vec<(i64, i64, i64)>>,
    checked: Vec<Seal>,
}

impl StoreSeals {
    fn new(output: &str) -> StoreSeals {
        StoreSeals {
            output: output.to_owned(),
            read: 0,
            ids: HashSet::new(),
            segment_last: HashMap::new(),
            ranges: HashMap::new(),
            checked: Vec::new(),
        }
    }

    fn add(
        &mut self,
        r: ReadSeal,
        checked: &dyn Fn(&SealBody) -> bool,
        keys: &HashMap<String, VerifyingKey>,
    ) {
        let b = &r.body;
        let last = self
            .segment_last
            .entry((
                b.output.clone(),
                b.topic.clone(),
                b.partition,
                b.segment.clone(),
            ))
            .or_insert(i64::MIN);
        *last = (*last).max(b.last_offset);
        self.ranges
            .entry((b.output.clone(), b.topic.clone(), b.partition))
            .or_default()
            .push((b.segment_started_ms, b.first_offset, b.last_offset));
        self.ids.insert(b.id());
        if b.output == self.output {
            self.read += 1;
        }
        if checked(b) {
            self.checked.push(Seal::judge(r, keys));
        }
    }

    /// Whether seals of segments newer than `b`'s, in the store, cover all
    /// of `b`'s offsets: then `b` was superseded by a replay (a seal
    /// written to the copy just before a crash, never stored), and its
    /// absence from the store hides nothing.
    fn superseded(&self, b: &SealBody) -> bool {
        let Some(ranges) = self
            .ranges
            .get(&(b.output.clone(), b.topic.clone(), b.partition))
        else {
            return false;
        };
        let mut newer: Vec<(i64, i64)> = ranges
            .iter()
            .filter(|(started, first, last)| {
                *started > b.segment_started_ms
                    && *first <= b.last_offset
                    && *last >= b.first_offset
            })
            .map(|&(_, first, last)| (first, last))
            .collect();
        newer.sort_unstable();
        let mut need = b.first_offset;
        for (first, last) in newer {
            if first > need {
                return false;
            }
            if last >= b.last_offset {
                return true;
            }
            need = need.max(last + 1);
        }
        false
    }

    /// Compares the store's seals with the second copy: a seal the copy
    /// holds and the store lacks was removed (it is checked from the
    /// copy), unless a newer segment superseded it, or it may still be in
    /// flight: made within `IN_FLIGHT_MS` of `now_ms` and past the store's
    /// last seal of its segment. Returns the seals to check.
    fn compare_copy(
        &mut self,
        copies: Vec<Seal>,
        now_ms: i64,
        problems: &mut Vec<Problem>,
    ) -> Vec<Seal> {
        let mut seals = std::mem::take(&mut self.checked);
        for c in copies {
            let b = &c.body;
            if self.ids.contains(&b.id()) {
                continue;
            }
            let fresh = b.sealed_at_ms > now_ms.saturating_sub(IN_FLIGHT_MS);
            let past_segment = self
                .segment_last
                .get(&(
                    b.output.clone(),
                    b.topic.clone(),
                    b.partition,
                    b.segment.clone(),
                ))
                .is_none_or(|l| b.first_offset > *l);
            if (fresh && past_segment) || self.superseded(b) {
                continue;
            }
            problems.push(Problem::RemovedSeal {
                seal: b.id(),
                copy: c.place.clone(),
            });
            seals.push(c);
        }
        seals
    }
}

/// Problems listed in the text report; `--json` has them all.
const SHOWN: usize = 50;

fn write_report(r: &Report, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "output \"{}\": {} checked, {} covered, {} of {} sealed documents verified, {} held",
        r.output,
        super::count(r.seals_checked, "seal"),
        super::count(r.offsets_covered, "offset"),
        r.documents_verified,
        r.documents_sealed,
        super::count(r.documents_held, "document")
    )?;
    if r.seals_checked == 0 {
        writeln!(
            out,
            "  note: no seal to check{}",
            if r.documents_held > 0 {
                ""
            } else {
                " and no document: nothing was written yet, or this is the wrong config"
            }
        )?;
    }
    if r.duplicate_copies > 0 {
        writeln!(
            out,
            "  {} second copies of sealed documents, byte for byte (replays): no news",
            r.duplicate_copies
        )?;
    }
    if r.written_before_replay > 0 {
        writeln!(
            out,
            "  {} documents were written and sealed by an earlier run, then given another fate by a replay after a crash (the rules, routes or the output's answer changed in between): what logredact wrote first, not tampering; --json lists the first {} _ids",
            r.written_before_replay,
            crate::seal::check::MAX_LISTED
        )?;
    }
    if r.not_yet_sealed > 0 {
        writeln!(
            out,
            "  {} documents are past the last seal of their partition: written after the seals were read (the daemon seals within a commit interval), or inserted; the next run checks them",
            r.not_yet_sealed
        )?;
    }
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
    let n = r.problems.len();
    writeln!(out, "  {n} problem{}:", if n == 1 { "" } else { "s" })?;
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
        Problem::Damaged { place } => format!("damaged: {place} is not the action line of a document pair (a line was removed or cut off)"),
        Problem::RemovedSeal { seal, copy } => format!("removed seal: {seal} is in the second copy ({copy}) but not in the store"),
        Problem::BrokenLink { seal, why } => format!("broken chain at seal {seal}: {why}"),
        Problem::Unverified { topic, partition, first, last, documents } => format!("unverified: {documents} documents of {topic}/{partition} offsets {first}–{last} have no valid seal to check them against (see the problem above)"),
        Problem::Unsealed { topic, partition, first, last, documents } => format!("unsealed: {documents} documents of {topic}/{partition} offsets {first}–{last} are in no seal: their seals were deleted, or they were inserted"),
        Problem::Gap { topic, partition, first, last } => format!("gap: offsets {first}–{last} of {topic}/{partition} are in no seal"),
        Problem::LostBeforeRead { topic, partition, first, last } => format!("lost before read: offsets {first}–{last} of {topic}/{partition} were deleted by Kafka's retention before logredact read them; those events were never written (not tampering: consumer lag outgrew retention)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::record::{encode_line, parse_line, test_body, write_fates, Fate};

    const NOW: i64 = 100 * 60 * 1000;

    /// A seal of `cold`, partition 0 of `t`, over `first..=last`.
    fn seal(key: &SealKey, segment: &str, started: i64, range: (i64, i64), at: i64) -> ReadSeal {
        let fates = vec![Fate::Elsewhere; (range.1 - range.0 + 1) as usize];
        let mut json = Vec::new();
        write_fates(&mut json, &fates);
        let mut body = test_body(key, range.0, range.1, &json);
        body.segment = segment.into();
        body.segment_started_ms = started;
        body.sealed_at_ms = at;
        let (line, _) = encode_line(&body, &json, key);
        parse_line(&line, format!("copy:{segment}-{}", range.0)).unwrap()
    }

    /// What `compare_copy` reports removed, by first offset, for a store
    /// holding `stored` and a copy holding those and `copy_only`.
    fn removed(key: &SealKey, stored: &[ReadSeal], copy_only: Vec<ReadSeal>) -> Vec<i64> {
        let keys = HashMap::from([(key.id().to_owned(), key.public())]);
        let mut store = StoreSeals::new("cold");
        for r in stored {
            store.add(r.clone(), &|_| false, &keys);
        }
        let copies = copy_only
            .into_iter()
            .map(|r| Seal::judge(r, &keys))
            .collect();
        let mut problems = Vec::new();
        store.compare_copy(copies, NOW, &mut problems);
        problems
            .iter()
            .map(|p| match p {
                Problem::RemovedSeal { seal, .. } => {
                    seal.rsplit('-').nth(1).unwrap().parse().unwrap()
                }
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_seal_missing_from_the_store_is_removed_unless_in_flight_or_superseded() {
        let key = SealKey::generate();
        let old = NOW - IN_FLIGHT_MS - 1;
        let fresh = NOW - 1_000;
        let a = seal(&key, "aa", 1, (0, 9), old);
        let b = seal(&key, "aa", 1, (10, 19), old);
        // The newest seal of a segment, deleted from the store long after
        // it was made: removed (it used to pass as in flight).
        assert_eq!(removed(&key, std::slice::from_ref(&a), vec![b]), [10]);
        // The same, made a moment ago: it may still be on its way.
        let b_fresh = seal(&key, "aa", 1, (10, 19), fresh);
        assert!(removed(&key, std::slice::from_ref(&a), vec![b_fresh]).is_empty());
        // A seal in the middle of a segment is removed however fresh.
        let c = seal(&key, "aa", 1, (20, 29), fresh);
        let b_fresh = seal(&key, "aa", 1, (10, 19), fresh);
        assert_eq!(removed(&key, &[a, c], vec![b_fresh]), [10]);
        // Written to the copy just before a crash and never stored, then
        // replayed by a newer segment whose seals cover its offsets.
        let orphan = seal(&key, "aa", 1, (10, 19), old);
        let kept = seal(&key, "aa", 1, (0, 9), old);
        let stored = [
            kept,
            seal(&key, "bb", 5, (5, 14), old),
            seal(&key, "bb", 5, (15, 30), old),
        ];
        assert!(removed(&key, &stored, vec![orphan]).is_empty());
        // Only partly covered by the newer segment: removed.
        let orphan = seal(&key, "aa", 1, (10, 19), old);
        let partial = [seal(&key, "bb", 5, (12, 30), old)];
        assert_eq!(removed(&key, &partial, vec![orphan]), [10]);
    }
}

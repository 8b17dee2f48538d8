//! Checking seals against what an output holds: the heart of `verify`.
//!
//! Pure: the caller reads the seals and the documents (from Elasticsearch
//! or files) and hands them in; this says what does not hold. It checks
//! every seal's signature against the trusted keys, every link of every
//! chain (numbering, `prev`, the chain value, contiguous offsets), that the
//! seals of a partition leave no gap, and every document against the fate
//! its offset was sealed with. When two segments cover the same offsets (a
//! replay after a crash or a rebalance), the newer segment's word counts.

use std::collections::{BTreeMap, HashMap};

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use super::key::signature_holds;
use super::record::{fold_chain, seal_digest, seal_hash, Fate, ReadSeal, SEAL_VERSION};

/// A document as the output holds it.
#[derive(Debug, Clone)]
pub struct HeldDoc {
    /// Where it is: an index name, or a file and line.
    pub place: String,
    pub hash: [u8; 32],
}

/// What to check, and against what.
pub struct Inputs<'a> {
    pub output: &'a str,
    pub keys: &'a HashMap<String, VerifyingKey>,
    pub seals: Vec<ReadSeal>,
    /// Documents by `_id`; an id held in several places has several.
    pub docs: HashMap<String, Vec<HeldDoc>>,
    /// Only seals made in this window (ms since the epoch) are checked;
    /// documents outside what they cover are then not judged.
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub now_ms: i64,
    pub retention_ms: i64,
    /// The output's document id for an offset (`sink::doc_id`).
    pub doc_id: fn(&str, i32, i64) -> String,
}

/// One thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// A sealed document is gone.
    Deleted { id: String, seal: String },
    /// A sealed document's bytes changed.
    Modified {
        id: String,
        place: String,
        seal: String,
    },
    /// A document no seal accounts for (or a second copy of one).
    Inserted { id: String, place: String },
    /// A seal's signature does not hold: forged or edited.
    Forged { seal: String },
    /// A seal names a key `verify` does not trust.
    UnknownKey { seal: String, key_id: String },
    /// A seal that is not a seal record, or whose fields contradict
    /// themselves.
    Malformed { seal: String, why: String },
    /// A seal the chain needs is not there.
    MissingSeal {
        topic: String,
        partition: i32,
        segment: String,
        seq: u64,
    },
    /// A line of a file output that is not an action line where one must
    /// be (a line deleted, a torn end).
    Damaged { place: String },
    /// A seal the second copy holds is gone from the store.
    RemovedSeal { seal: String, copy: String },
    /// A seal does not follow the one before it.
    BrokenLink { seal: String, why: String },
    /// Documents in a range whose seal failed (forged, unknown key) or
    /// that no seal covers: they cannot be verified, one line per range.
    Unverified {
        topic: String,
        partition: i32,
        first: i64,
        last: i64,
        documents: u64,
    },
    /// A run of documents with consecutive offsets that no seal covers:
    /// their seals were deleted, or they were inserted.
    Unsealed {
        topic: String,
        partition: i32,
        first: i64,
        last: i64,
        documents: u64,
    },
    /// Offsets no seal covers, between offsets that are covered.
    Gap {
        topic: String,
        partition: i32,
        first: i64,
        last: i64,
    },
}

/// What `verify` found for one output.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub output: String,
    pub seals: u64,
    pub seals_checked: u64,
    pub offsets_covered: u64,
    pub documents_sealed: u64,
    pub documents_held: u64,
    pub documents_verified: u64,
    /// Seals past retention whose documents are all gone: expired, not
    /// tampered with.
    pub seals_expired: u64,
    /// Second copies of a sealed document with the sealed bytes (a replay
    /// into a file output, or into a new backing index): no news.
    pub duplicate_copies: u64,
    /// Documents past the last seal of their partition: written after the
    /// seals were read (a live daemon seals within a commit interval), or
    /// inserted. The next run judges them.
    pub not_yet_sealed: u64,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A seal that holds, with its fates.
type Judged<'a> = (&'a ReadSeal, Vec<Fate>);

/// A run of consecutive offsets no seal covers: its last offset, its
/// documents, and the first document (named when the run is one long).
type Run<'a> = (i64, u64, &'a String, &'a HeldDoc);

/// The authoritative fate of one offset, and the seal that gave it.
struct Covered<'a> {
    fate: Fate,
    seal: &'a ReadSeal,
}

/// Indices are deleted by ILM a little before or after their seals turn
/// `retention` old (a daily index goes by its creation, ILM runs now and
/// then): seals this close to the edge may have lost their documents.
const RETENTION_MARGIN_MS: i64 = 2 * 86_400_000;

pub fn check(mut input: Inputs<'_>) -> Report {
    let mut report = Report {
        output: input.output.to_owned(),
        documents_held: input.docs.values().map(|v| v.len() as u64).sum(),
        ..Report::default()
    };
    input.seals.retain(|s| s.body.output == input.output);
    report.seals = input.seals.len() as u64;
    let in_window = |s: &ReadSeal| {
        input.since_ms.is_none_or(|t| s.body.sealed_at_ms >= t)
            && input.until_ms.is_none_or(|t| s.body.sealed_at_ms <= t)
    };
    let windowed = input.since_ms.is_some() || input.until_ms.is_some();

    // 1. Each seal on its own: format, signature, fates.
    let mut good: Vec<Judged<'_>> = Vec::new();
    // Ranges whose documents cannot be verified: failed seals, gaps.
    let mut shadows: Vec<(String, i32, i64, i64)> = Vec::new();
    // Failed seals by place in their chain: reported once, as what they are,
    // not again as missing links.
    let mut failed = std::collections::HashSet::new();
    let mut seen_ids = std::collections::HashSet::new();
    for s in input.seals.iter().filter(|s| in_window(s)) {
        report.seals_checked += 1;
        // The same seal read twice (a file write retried) counts once.
        if !seen_ids.insert((s.body.id(), s.bytes.clone())) {
            continue;
        }
        match judge_seal(s, input.keys) {
            Ok(fates) => good.push((s, fates)),
            Err(p) => {
                report.problems.push(p);
                let b = &s.body;
                shadows.push((b.topic.clone(), b.partition, b.first_offset, b.last_offset));
                failed.insert((b.topic.clone(), b.partition, b.segment.clone(), b.seq));
            }
        }
    }

    // 2. Chains: per partition, per segment, by seq.
    let mut partitions: BTreeMap<(String, i32), Vec<&Judged<'_>>> = BTreeMap::new();
    for g in &good {
        partitions
            .entry((g.0.body.topic.clone(), g.0.body.partition))
            .or_default()
            .push(g);
    }
    let mut covered: HashMap<(String, i32), BTreeMap<i64, Covered<'_>>> = HashMap::new();
    for ((topic, partition), seals) in &partitions {
        let mut segments: BTreeMap<(i64, &str), Vec<&Judged<'_>>> = BTreeMap::new();
        for s in seals {
            segments
                .entry((s.0.body.segment_started_ms, &s.0.body.segment))
                .or_default()
                .push(s);
        }
        let offsets = covered.entry((topic.clone(), *partition)).or_default();
        let retention_edge = input.now_ms - input.retention_ms + RETENTION_MARGIN_MS;
        for ((_, segment), mut chain) in segments {
            chain.sort_by_key(|s| s.0.body.seq);
            // Seals before the first one left went with their indices when
            // that one is itself at the retention edge.
            let expired_start = chain
                .first()
                .is_some_and(|s| s.0.body.sealed_at_ms < retention_edge);
            let mut before: Option<&ReadSeal> = None;
            for (seal, fates) in chain {
                let known = |seq: u64| {
                    failed.contains(&(topic.clone(), *partition, segment.to_owned(), seq))
                };
                let at = ChainAt {
                    topic,
                    partition: *partition,
                    segment,
                    may_lack_start: windowed || expired_start,
                    failed: &known,
                };
                link(seal, before, &at, &mut report);
                before = Some(seal);
                for (offset, fate) in (seal.body.first_offset..).zip(fates) {
                    // Newer segments come later and overwrite.
                    offsets.insert(
                        offset,
                        Covered {
                            fate: fate.clone(),
                            seal,
                        },
                    );
                }
            }
        }
    }

    // 3. Gaps, then every covered offset against the documents.
    // Per seal at the retention edge: its documents gone, and whether any is
    // left (then the missing ones were deleted, not expired).
    let mut edge_seals: HashMap<String, (Vec<String>, bool)> = HashMap::new();
    let retention_edge = input.now_ms - input.retention_ms + RETENTION_MARGIN_MS;
    let mut covered_ids = std::collections::HashSet::new();
    for ((topic, partition), offsets) in &covered {
        let mut last: Option<i64> = None;
        for (&offset, c) in offsets {
            if let Some(l) = last {
                let (first, last) = (l + 1, offset - 1);
                // A gap a failed seal claims is reported as that seal.
                let claimed = shadows
                    .iter()
                    .any(|(t, p, f, e)| t == topic && p == partition && *f <= first && last <= *e);
                if offset > l + 1 && !claimed {
                    shadows.push((topic.clone(), *partition, first, last));
                    report.problems.push(Problem::Gap {
                        topic: topic.clone(),
                        partition: *partition,
                        first,
                        last,
                    });
                }
            }
            last = Some(offset);
            report.offsets_covered += 1;
            let id = (input.doc_id)(topic, *partition, offset);
            let held = input.docs.get(&id);
            covered_ids.insert(id.clone());
            match (&c.fate, held) {
                (Fate::Indexed(want), held) => {
                    report.documents_sealed += 1;
                    let held = held.map(Vec::as_slice).unwrap_or_default();
                    let at_edge = c.seal.body.sealed_at_ms < retention_edge;
                    if at_edge {
                        edge_seals.entry(c.seal.place.clone()).or_default().1 |= !held.is_empty();
                    }
                    if held.is_empty() {
                        if at_edge {
                            edge_seals
                                .entry(c.seal.place.clone())
                                .or_default()
                                .0
                                .push(id);
                        } else {
                            report.problems.push(Problem::Deleted {
                                id,
                                seal: c.seal.place.clone(),
                            });
                        }
                        continue;
                    }
                    let mut matched = false;
                    for d in held {
                        if d.hash == *want && !matched {
                            matched = true;
                            report.documents_verified += 1;
                        } else if d.hash == *want {
                            report.duplicate_copies += 1;
                        } else {
                            report.problems.push(Problem::Modified {
                                id: id.clone(),
                                place: d.place.clone(),
                                seal: c.seal.place.clone(),
                            });
                        }
                    }
                }
                (_, Some(held)) => {
                    for d in held {
                        report.problems.push(Problem::Inserted {
                            id: id.clone(),
                            place: d.place.clone(),
                        });
                    }
                }
                (_, None) => {}
            }
        }
    }
    // A seal counts as expired only if none of its documents is left.
    let mut edge: Vec<_> = edge_seals.into_iter().collect();
    edge.sort();
    for (seal, (gone, any_left)) in edge {
        if any_left {
            for id in gone {
                report.problems.push(Problem::Deleted {
                    id,
                    seal: seal.clone(),
                });
            }
        } else {
            report.seals_expired += 1;
        }
    }
    // The last sealed offset of each partition: documents past it are not
    // sealed yet.
    let last_sealed: HashMap<(&str, i32), i64> = covered
        .iter()
        .filter_map(|((t, p), offsets)| Some(((t.as_str(), *p), *offsets.keys().next_back()?)))
        .collect();

    // 4. Documents no seal covers.
    if !windowed {
        let mut stray: Vec<(&String, &HeldDoc)> = input
            .docs
            .iter()
            .filter(|(id, _)| !covered_ids.contains(*id))
            .flat_map(|(id, v)| v.iter().map(move |d| (id, d)))
            .collect();
        stray.sort_by(|a, b| a.0.cmp(b.0));
        let mut unverified = vec![0u64; shadows.len()];
        // Runs of consecutive offsets no seal covers, by partition.
        let mut runs: BTreeMap<(&str, i32, i64), Run<'_>> = BTreeMap::new();
        for (id, d) in stray {
            let Some((t, p, o)) = parse_doc_id(id) else {
                report.problems.push(Problem::Inserted {
                    id: id.clone(),
                    place: d.place.clone(),
                });
                continue;
            };
            if last_sealed.get(&(t, p)).is_some_and(|last| o > *last) {
                report.not_yet_sealed += 1;
                continue;
            }
            match shadows
                .iter()
                .position(|(st, sp, f, l)| st == t && *sp == p && (*f..=*l).contains(&o))
            {
                Some(i) => unverified[i] += 1,
                None => {
                    runs.insert((t, p, o), (o, 1, id, d));
                }
            }
        }
        let mut merged: Vec<(&str, i32, i64, i64, u64, &String, &HeldDoc)> = Vec::new();
        for ((t, p, o), (_, n, id, d)) in runs {
            match merged.last_mut() {
                Some(m) if m.0 == t && m.1 == p && m.3 + 1 >= o => {
                    m.3 = o;
                    m.4 += n;
                }
                _ => merged.push((t, p, o, o, n, id, d)),
            }
        }
        for (topic, partition, first, last, documents, id, d) in merged {
            report.problems.push(if documents == 1 {
                Problem::Inserted {
                    id: id.clone(),
                    place: d.place.clone(),
                }
            } else {
                Problem::Unsealed {
                    topic: topic.to_owned(),
                    partition,
                    first,
                    last,
                    documents,
                }
            });
        }
        for ((topic, partition, first, last), documents) in shadows.into_iter().zip(unverified) {
            if documents > 0 {
                report.problems.push(Problem::Unverified {
                    topic,
                    partition,
                    first,
                    last,
                    documents,
                });
            }
        }
    }
    report
}

/// The (topic, partition, offset) of a document id logredact writes
/// (`topic-partition-offset`; the topic may hold `-`).
fn parse_doc_id(id: &str) -> Option<(&str, i32, i64)> {
    let mut parts = id.rsplitn(3, '-');
    let offset = parts.next()?.parse().ok()?;
    let partition = parts.next()?.parse().ok()?;
    Some((parts.next()?, partition, offset))
}

/// Checks one seal on its own; its fates when it holds.
fn judge_seal(s: &ReadSeal, keys: &HashMap<String, VerifyingKey>) -> Result<Vec<Fate>, Problem> {
    let b = &s.body;
    let Some(key) = keys.get(&b.key_id) else {
        return Err(Problem::UnknownKey {
            seal: s.place.clone(),
            key_id: b.key_id.clone(),
        });
    };
    if !signature_holds(key, &seal_digest(&s.bytes), &s.signature) {
        return Err(Problem::Forged {
            seal: s.place.clone(),
        });
    }
    let malformed = |why: &str| Problem::Malformed {
        seal: s.place.clone(),
        why: why.to_owned(),
    };
    if b.v != SEAL_VERSION {
        return Err(malformed("a seal format this build does not read"));
    }
    let mut fates = Vec::with_capacity(b.fates.len());
    for f in &b.fates {
        match Fate::decode(f).ok_or_else(|| malformed("a fate is not readable"))? {
            // Offsets with no message (compacted away, transaction markers):
            // no document may be there.
            Fate::Skipped(n) if n <= b.last_offset - b.first_offset + 1 => {
                fates.extend((0..n).map(|_| Fate::Elsewhere));
            }
            Fate::Skipped(_) => return Err(malformed("its fates do not fill its offset range")),
            fate => fates.push(fate),
        }
    }
    if b.last_offset - b.first_offset + 1 != fates.len() as i64 {
        return Err(malformed("its fates do not fill its offset range"));
    }
    Ok(fates)
}

/// Where in which chain a seal is being linked.
struct ChainAt<'a> {
    topic: &'a str,
    partition: i32,
    segment: &'a str,
    /// The seals before the first one may be missing for good reason (a
    /// time window, retention).
    may_lack_start: bool,
    /// Seals of this segment already reported as failed, by seq.
    failed: &'a dyn Fn(u64) -> bool,
}

/// Checks that `seal` follows `before` in its segment (or starts it).
fn link(seal: &ReadSeal, before: Option<&ReadSeal>, at: &ChainAt<'_>, report: &mut Report) {
    let ChainAt {
        topic,
        partition,
        segment,
        may_lack_start: windowed,
        failed,
    } = *at;
    let b = &seal.body;
    let broken = |why: String| Problem::BrokenLink {
        seal: seal.place.clone(),
        why,
    };
    let start = match before {
        None if b.seq == 0 => Some([0u8; 32]),
        None => {
            // The seals before it are outside the window, or gone.
            if !windowed && !failed(b.seq - 1) {
                report.problems.push(Problem::MissingSeal {
                    topic: topic.to_owned(),
                    partition,
                    segment: segment.to_owned(),
                    seq: b.seq - 1,
                });
            }
            None
        }
        Some(p) if p.body.seq + 1 != b.seq => {
            for seq in (p.body.seq + 1..b.seq).filter(|s| !failed(*s)) {
                report.problems.push(Problem::MissingSeal {
                    topic: topic.to_owned(),
                    partition,
                    segment: segment.to_owned(),
                    seq,
                });
            }
            None
        }
        Some(p) => {
            if b.prev.as_deref() != Some(seal_hash(&p.bytes).as_str()) {
                report.problems.push(broken(
                    "its `prev` is not the hash of the seal before it".into(),
                ));
            }
            if b.first_offset != p.body.last_offset + 1 {
                report.problems.push(broken(format!(
                    "it starts at offset {} but the seal before it ends at {}",
                    b.first_offset, p.body.last_offset
                )));
            }
            let mut start = [0u8; 32];
            match hex::decode_to_slice(&p.body.chain, &mut start) {
                Ok(()) => Some(start),
                Err(_) => None,
            }
        }
    };
    if let Some(start) = start {
        let fates_json = serde_json::to_vec(&b.fates).expect("texts always encode");
        let chain = fold_chain(start, &fates_json);
        if hex::encode(chain) != b.chain {
            report.problems.push(broken(
                "its chain value does not follow from its fates".into(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::record::parse_line;
    use crate::seal::{doc_hash, Chain, SealKey};

    const DAY: i64 = 86_400_000;

    fn id(topic: &str, partition: i32, offset: i64) -> String {
        format!("{topic}-{partition}-{offset}")
    }

    /// Seals offsets 0..n of partition 0, two seals made `age_days` ago,
    /// and the documents they cover.
    fn sealed(
        key: &SealKey,
        n: i64,
        now: i64,
        age_days: i64,
    ) -> (Vec<ReadSeal>, HashMap<String, Vec<HeldDoc>>) {
        let mut chain = Chain::new("cold", now - age_days * DAY);
        let mut docs = HashMap::new();
        for o in 0..n {
            let body = format!("{{\"n\":{o}}}");
            chain.push(o, Fate::Indexed(doc_hash(body.as_bytes())));
            docs.insert(
                id("t", 0, o),
                vec![HeldDoc {
                    place: "i".into(),
                    hash: doc_hash(body.as_bytes()),
                }],
            );
        }
        let seals = chain
            .cut("t", 0, key, "fp", (n / 2) as usize, now - age_days * DAY)
            .iter()
            .map(|c| parse_line(&c.line, c.id.clone()).unwrap())
            .collect();
        (seals, docs)
    }

    fn run(
        key: &SealKey,
        seals: Vec<ReadSeal>,
        docs: HashMap<String, Vec<HeldDoc>>,
        now: i64,
    ) -> Report {
        let keys = HashMap::from([(key.id().to_owned(), key.public())]);
        check(Inputs {
            output: "cold",
            keys: &keys,
            seals,
            docs,
            since_ms: None,
            until_ms: None,
            now_ms: now,
            retention_ms: 180 * DAY,
            doc_id: id,
        })
    }

    #[test]
    fn documents_not_sealed_yet_and_identical_second_copies_are_not_tampering() {
        let key = SealKey::generate();
        let now = 1_000 * DAY;
        let (seals, mut docs) = sealed(&key, 10, now, 0);
        // Written after the seals were read: past the last seal.
        docs.insert(
            id("t", 0, 10),
            vec![HeldDoc {
                place: "i".into(),
                hash: [1; 32],
            }],
        );
        // A replay appended the same bytes again.
        let copy = docs[&id("t", 0, 3)][0].clone();
        docs.get_mut(&id("t", 0, 3)).unwrap().push(copy);
        let r = run(&key, seals, docs, now);
        assert!(r.clean(), "{:?}", r.problems);
        assert_eq!(
            (r.not_yet_sealed, r.duplicate_copies, r.documents_verified),
            (1, 1, 10)
        );
    }

    #[test]
    fn only_seals_whose_documents_are_all_gone_past_retention_are_expired() {
        let key = SealKey::generate();
        let now = 1_000 * DAY;
        // Past retention, every document gone: expired, and so is the
        // missing start of a chain at the edge.
        let (seals, _) = sealed(&key, 10, now, 181);
        let r = run(&key, seals[1..].to_vec(), HashMap::new(), now);
        assert!(r.clean(), "{:?}", r.problems);
        assert_eq!(r.seals_expired, 1);

        // Past retention, one document left: the others were deleted.
        let (seals, docs) = sealed(&key, 10, now, 181);
        let kept: HashMap<_, _> = docs
            .into_iter()
            .filter(|(k, _)| k == &id("t", 0, 0))
            .collect();
        let r = run(&key, seals, kept, now);
        assert_eq!(
            r.seals_expired, 1,
            "the second seal's documents are all gone"
        );
        assert_eq!(
            r.problems
                .iter()
                .filter(|p| matches!(p, Problem::Deleted { .. }))
                .count(),
            4
        );

        // Well within retention: a missing chain start is a missing seal,
        // and missing documents are deleted.
        let (seals, _) = sealed(&key, 10, now, 30);
        let r = run(&key, seals[1..].to_vec(), HashMap::new(), now);
        assert!(r.problems.contains(&Problem::MissingSeal {
            topic: "t".into(),
            partition: 0,
            segment: seals[0].body.segment.clone(),
            seq: 0,
        }));
        assert_eq!(
            r.problems
                .iter()
                .filter(|p| matches!(p, Problem::Deleted { .. }))
                .count(),
            5
        );
    }
}

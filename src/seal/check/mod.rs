//! Checking seals against what an output holds: the heart of `verify`.
//!
//! Pure: the caller reads the seals and the documents (from Elasticsearch
//! or files) and hands them in; this says what does not hold. It checks
//! every seal's signature against the trusted keys, every link of every
//! chain (numbering, `prev`, the chain value, contiguous offsets), that the
//! seals of a partition leave no gap, and every document against the fate
//! its offset was sealed with. When two segments cover the same offsets (a
//! replay after a crash or a rebalance), the newer segment's word counts.

mod earlier;
mod held;
mod judge;
mod spans;

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

pub use held::{parse_doc_id, Held, HeldDocs};
pub use judge::{Fates, Seal};

use crate::seal::record::Fate;
use earlier::{segment_order, Coverage};
use judge::{link, ChainAt};
use spans::{give, span_at, Spans};

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
    /// Offsets a seal says Kafka's retention deleted before logredact read
    /// them: events lost upstream, never written (not tampering).
    LostBeforeRead {
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
    /// Documents an earlier run wrote and sealed, with those exact bytes,
    /// at offsets a replay after a crash sealed with another fate (the
    /// rules, routes or the output's answer changed in between): what
    /// logredact wrote first, not tampering. Counted once per offset
    /// (further copies are `duplicate_copies`).
    pub written_before_replay: u64,
    /// The `_id`s of the first [`MAX_LISTED`] of them, to remove by hand
    /// where the newer fate must hold.
    pub written_before_replay_ids: Vec<String>,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// When `verify` runs, and over which seals.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Only seals made in this window (ms since the epoch) are checked;
    /// documents outside what they cover are then not judged.
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub now_ms: i64,
    pub retention_ms: i64,
}

impl Window {
    /// Whether a seal made at this time is checked.
    pub fn holds(&self, sealed_at_ms: i64) -> bool {
        self.since_ms.is_none_or(|t| sealed_at_ms >= t)
            && self.until_ms.is_none_or(|t| sealed_at_ms <= t)
    }
}

/// How many `_id`s a report lists of documents it counts without calling
/// them problems.
pub const MAX_LISTED: usize = 100;

/// A range of offsets: topic, partition, first, last.
type Range = (String, i32, i64, i64);

/// Indices are deleted by ILM a little before or after their seals turn
/// `retention` old (a daily index goes by its creation, ILM runs now and
/// then): seals this close to the edge may have lost their documents.
const RETENTION_MARGIN_MS: i64 = 2 * 86_400_000;

/// The seals of one output, judged and linked, waiting for the documents.
/// Built before the documents are read, so that with a time window only
/// the documents its seals cover are kept ([`Checker::wants`]).
pub struct Checker {
    report: Report,
    seals: Vec<Seal>,
    spans: Spans,
    /// Ranges whose documents cannot be verified: failed seals, gaps.
    shadows: Vec<Range>,
    windowed: bool,
    retention_edge: i64,
}

impl Checker {
    /// Checks the seals of `output` among `seals`: each one on its own (as
    /// judged when read), then every chain, per partition and segment, in
    /// order. Where segments overlap, the newer one's word counts.
    pub fn new(output: &str, seals: Vec<Seal>, window: &Window) -> Checker {
        let mut report = Report {
            output: output.to_owned(),
            ..Report::default()
        };
        let windowed = window.since_ms.is_some() || window.until_ms.is_some();
        let in_window = |s: &Seal| window.holds(s.body.sealed_at_ms);
        // 1. Each seal on its own. The same seal read twice (a file write
        // retried) counts once.
        let mut seen = HashSet::new();
        let mut kept = Vec::new();
        for s in seals {
            if s.body.output != output {
                continue;
            }
            report.seals += 1;
            if !in_window(&s) {
                continue;
            }
            report.seals_checked += 1;
            if seen.insert((s.body.id(), s.digest)) {
                kept.push(s);
            }
        }
        let seals = kept;
        let mut shadows = Vec::new();
        // Failed seals by place in their chain: reported once, as what they
        // are, not again as missing links.
        let mut failed = HashSet::new();
        for s in &seals {
            if let Err(p) = &s.verdict {
                report.problems.push(p.clone());
                let b = &s.body;
                shadows.push((b.topic.clone(), b.partition, b.first_offset, b.last_offset));
                failed.insert((b.topic.clone(), b.partition, b.segment.clone(), b.seq));
            }
        }

        // 2. Chains: per partition, per segment (oldest first), by seq.
        let mut partitions: BTreeMap<(&str, i32), Vec<usize>> = BTreeMap::new();
        for (i, s) in seals.iter().enumerate() {
            if s.verdict.is_ok() {
                partitions
                    .entry((&s.body.topic, s.body.partition))
                    .or_default()
                    .push(i);
            }
        }
        let retention_edge = window.now_ms - window.retention_ms + RETENTION_MARGIN_MS;
        let mut spans = Spans::new();
        for ((topic, partition), members) in partitions {
            let mut segments: BTreeMap<(i64, &str), Vec<usize>> = BTreeMap::new();
            for i in members {
                let b = &seals[i].body;
                segments.entry(segment_order(b)).or_default().push(i);
            }
            let map = spans
                .entry(topic.to_owned())
                .or_default()
                .entry(partition)
                .or_default();
            for ((_, segment), mut chain) in segments {
                chain.sort_by_key(|&i| seals[i].body.seq);
                // Seals before the first one left went with their indices
                // when that one is itself at the retention edge.
                let expired_start = chain
                    .first()
                    .is_some_and(|&i| seals[i].body.sealed_at_ms < retention_edge);
                let known = |seq: u64| {
                    failed.contains(&(topic.to_owned(), partition, segment.to_owned(), seq))
                };
                let at = ChainAt {
                    topic,
                    partition,
                    segment,
                    may_lack_start: windowed || expired_start,
                    failed: &known,
                };
                let mut before: Option<&Seal> = None;
                for i in chain {
                    let seal = &seals[i];
                    let fates = seal.verdict.as_ref().expect("only seals that hold");
                    link(seal, fates, before, &at, &mut report);
                    before = Some(seal);
                    give(map, seal.body.first_offset, fates, i);
                }
            }
        }
        Checker {
            report,
            seals,
            spans,
            shadows,
            windowed,
            retention_edge,
        }
    }

    /// Whether the document `id` matters to the check: every one does,
    /// except, with a time window, those no seal in the window covers.
    pub fn wants(&self, id: &str) -> bool {
        !self.windowed
            || parse_doc_id(id).is_some_and(|(t, p, o)| span_at(&self.spans, t, p, o).is_some())
    }

    /// With a time window, the ids of the offsets its seals cover that
    /// hold a message (what [`Checker::wants`] keeps, less the runs of
    /// offsets sealed as holding none or lost, `s:N` and `l:N`, which may
    /// be long), in order; `None` without a window.
    pub fn covered_ids(
        &self,
        doc_id: fn(&str, i32, i64) -> String,
    ) -> Option<impl Iterator<Item = String> + '_> {
        self.windowed.then(|| {
            self.spans.iter().flat_map(move |(topic, partitions)| {
                partitions.iter().flat_map(move |(&partition, map)| {
                    map.iter().flat_map(move |(&first, span)| {
                        let seal = &self.seals[span.seal];
                        let fates = seal.verdict.as_ref().expect("spans are of seals that hold");
                        let base = seal.body.first_offset;
                        fates
                            .each_from(first - base)
                            .map(move |(k, fate)| (base + k, fate))
                            .take_while(move |(offset, _)| *offset <= span.last)
                            .filter(move |(offset, fate)| {
                                *offset >= first
                                    && !matches!(fate, Fate::Skipped(_) | Fate::Lost(_))
                            })
                            .map(move |(offset, _)| doc_id(topic, partition, offset))
                    })
                })
            })
        })
    }

    /// Checks every covered offset against the documents held, and the
    /// documents against the seals. `doc_id` names a document the way the
    /// output does (`sink::doc_id`).
    pub fn finish(self, docs: &HeldDocs, doc_id: fn(&str, i32, i64) -> String) -> Report {
        let Checker {
            mut report,
            seals,
            spans,
            mut shadows,
            windowed,
            retention_edge,
        } = self;
        report.documents_held = docs.count();
        // Per seal at the retention edge: its documents gone, and whether
        // any is left (then the missing ones were deleted, not expired).
        let mut edge_seals: BTreeMap<&str, (Vec<String>, bool)> = BTreeMap::new();

        // 3. Gaps, then every offset sealed as indexed against its copies.
        for (topic, partitions) in &spans {
            for (&partition, map) in partitions {
                let mut last: Option<i64> = None;
                for (&first, span) in map {
                    if let Some(from) = last.and_then(|l| l.checked_add(1)).filter(|f| first > *f) {
                        let to = first - 1;
                        // A gap a failed seal claims is reported as that seal.
                        let claimed = shadows.iter().any(|(t, p, f, e)| {
                            t == topic && *p == partition && *f <= from && to <= *e
                        });
                        if !claimed {
                            shadows.push((topic.clone(), partition, from, to));
                            report.problems.push(Problem::Gap {
                                topic: topic.clone(),
                                partition,
                                first: from,
                                last: to,
                            });
                        }
                    }
                    last = Some(span.last);
                    report.offsets_covered += (span.last - first + 1) as u64;
                    let seal = &seals[span.seal];
                    let fates = seal.verdict.as_ref().expect("spans are of seals that hold");
                    let base = seal.body.first_offset;
                    let at_edge = seal.body.sealed_at_ms < retention_edge;
                    for (k, fate) in fates.each_from(first - base) {
                        let offset = base + k;
                        if offset > span.last {
                            break;
                        }
                        if let Fate::Lost(n) = fate {
                            // The part of the lost run this span covers.
                            let (from, to) = (offset.max(first), (offset + (n - 1)).min(span.last));
                            if from <= to {
                                report.problems.push(Problem::LostBeforeRead {
                                    topic: topic.clone(),
                                    partition,
                                    first: from,
                                    last: to,
                                });
                            }
                            continue;
                        }
                        let Fate::Indexed(want) = fate else {
                            continue;
                        };
                        if offset < first {
                            continue;
                        }
                        report.documents_sealed += 1;
                        let mut held = docs.at(topic, partition, offset).peekable();
                        let any = held.peek().is_some();
                        if at_edge {
                            edge_seals.entry(&seal.place).or_default().1 |= any;
                        }
                        if !any {
                            let id = doc_id(topic, partition, offset);
                            if at_edge {
                                edge_seals.entry(&seal.place).or_default().0.push(id);
                            } else {
                                report.problems.push(Problem::Deleted {
                                    id,
                                    seal: seal.place.clone(),
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
                                    id: doc_id(topic, partition, offset),
                                    place: docs.place(d),
                                    seal: seal.place.clone(),
                                });
                            }
                        }
                    }
                }
            }
        }
        // A seal counts as expired only if none of its documents is left.
        for (seal, (gone, any_left)) in edge_seals {
            if any_left {
                for id in gone {
                    report.problems.push(Problem::Deleted {
                        id,
                        seal: seal.to_owned(),
                    });
                }
            } else {
                report.seals_expired += 1;
            }
        }

        // 4. Documents at offsets sealed with another fate were inserted;
        // documents no seal covers are judged below.
        let mut inserted = Vec::new();
        let mut stray: Vec<(&str, i32, i64, Held)> = Vec::new();
        let coverage = Coverage::new(&seals);
        for (t, p, o, copies) in docs.each() {
            match span_at(&spans, t, p, o) {
                Some(span) => {
                    let seal = &seals[span.seal];
                    let fates = seal.verdict.as_ref().expect("spans are of seals that hold");
                    if !matches!(fates.at(o - seal.body.first_offset), Fate::Indexed(_)) {
                        let earlier = coverage.earlier_hash(&seals, span.seal, (t, p, o));
                        let mut counted = false;
                        for d in copies {
                            if earlier != Some(d.hash) {
                                inserted.push(((t, p, o), docs.place(d)));
                            } else if counted {
                                report.duplicate_copies += 1;
                            } else {
                                counted = true;
                                report.written_before_replay += 1;
                                if report.written_before_replay_ids.len() < MAX_LISTED {
                                    report.written_before_replay_ids.push(doc_id(t, p, o));
                                }
                            }
                        }
                    }
                }
                None => stray.extend(copies.map(|d| (t, p, o, *d))),
            }
        }
        inserted.sort();
        for ((t, p, o), place) in inserted {
            report.problems.push(Problem::Inserted {
                id: doc_id(t, p, o),
                place,
            });
        }
        if !windowed {
            stray_documents(&mut report, docs, stray, &spans, shadows, doc_id);
        }
        report
    }
}

/// How far past its partition's last seal a document may be and still be
/// one the daemon wrote and has not sealed yet: more than it ever holds
/// unsealed (500,000 fates, consumption pauses there) and in flight
/// (`max_in_flight_bytes` of events). Farther, it was inserted.
const MAX_UNSEALED_AHEAD: i64 = 1_000_000;

/// Documents no seal covers: under a failed seal or a gap (unverified),
/// just past the last seal of their partition (not sealed yet), or else
/// inserted, one problem per run of consecutive offsets.
fn stray_documents(
    report: &mut Report,
    docs: &HeldDocs,
    mut stray: Vec<(&str, i32, i64, Held)>,
    spans: &Spans,
    shadows: Vec<Range>,
    doc_id: fn(&str, i32, i64) -> String,
) {
    for (id, d) in docs.foreign() {
        report.problems.push(Problem::Inserted {
            id: id.clone(),
            place: docs.place(d),
        });
    }
    let last_sealed =
        |t: &str, p: i32| -> Option<i64> { Some(spans.get(t)?.get(&p)?.last_key_value()?.1.last) };
    stray.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let mut unverified = vec![0u64; shadows.len()];
    // Runs of consecutive offsets: topic, partition, first, last, copies,
    // and the first copy (named when the run is one document).
    let mut runs: Vec<(&str, i32, i64, i64, u64, Held)> = Vec::new();
    for (t, p, o, d) in stray {
        // Under a failed seal first: past the partition's last good seal
        // too, such a document is unverified, not merely not yet sealed.
        if let Some(i) = shadows
            .iter()
            .position(|(st, sp, f, l)| st == t && *sp == p && (*f..=*l).contains(&o))
        {
            unverified[i] += 1;
            continue;
        }
        if last_sealed(t, p).is_some_and(|last| o > last && o - last <= MAX_UNSEALED_AHEAD) {
            report.not_yet_sealed += 1;
            continue;
        }
        match runs.last_mut() {
            Some(r) if r.0 == t && r.1 == p && r.3.saturating_add(1) >= o => {
                // A second copy of the same offset is not a second document.
                if o > r.3 {
                    r.4 += 1;
                }
                r.3 = o;
            }
            _ => runs.push((t, p, o, o, 1, d)),
        }
    }
    for (topic, partition, first, last, documents, d) in runs {
        report.problems.push(if documents == 1 {
            Problem::Inserted {
                id: doc_id(topic, partition, first),
                place: docs.place(&d),
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

#[cfg(test)]
mod tests;

//! Each seal on its own (format, signature, fates), as it is read, and
//! each link of a chain. A seal is judged as soon as it is read so that
//! `verify` keeps only its fields and decoded fates, not its text.

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;

use super::{Problem, Report};
use crate::seal::key::signature_holds;
use crate::seal::record::{
    fold_chain, seal_digest, write_fates, Fate, ReadSeal, SealBody, SEAL_VERSION,
};

/// A seal as `verify` keeps it.
#[derive(Debug, Clone)]
pub struct Seal {
    /// Its fields; `fates` is emptied (they are in `verdict`).
    pub body: SealBody,
    /// Where it was read (an `_id`, or file:line).
    pub place: String,
    /// The SHA-256 of its bytes: what the next seal's `prev` names.
    pub digest: [u8; 32],
    /// Its fates when it holds on its own; otherwise what is wrong.
    pub verdict: Result<Fates, Problem>,
}

/// A seal's fates, one per offset from its first, except that `s:N` and
/// `l:N` stand for N offsets.
#[derive(Debug, Clone, Default)]
pub struct Fates {
    list: Vec<Fate>,
    /// The offset each fate starts at, from the seal's first, when any
    /// fate stands for more than one; otherwise empty (fate `i` is at `i`).
    starts: Vec<i64>,
}

impl Fates {
    /// The fate of the offset `k` places after the seal's first.
    pub fn at(&self, k: i64) -> &Fate {
        if self.starts.is_empty() {
            return &self.list[k as usize];
        }
        let i = self.starts.partition_point(|&s| s <= k) - 1;
        &self.list[i]
    }

    /// Each fate with the place (from the seal's first) it starts at, from
    /// the one covering place `from` on.
    pub fn each_from(&self, from: i64) -> impl Iterator<Item = (i64, &Fate)> + '_ {
        let first = if self.starts.is_empty() {
            (from.max(0) as usize).min(self.list.len())
        } else {
            self.starts
                .partition_point(|&s| s <= from)
                .saturating_sub(1)
        };
        self.list[first..].iter().enumerate().map(move |(i, f)| {
            let i = first + i;
            let k = if self.starts.is_empty() {
                i as i64
            } else {
                self.starts[i]
            };
            (k, f)
        })
    }
}

impl Seal {
    /// Judges a seal as read: its key is trusted, its signature holds, its
    /// format is this build's, and its fates are readable and fill its
    /// offset range.
    pub fn judge(read: ReadSeal, keys: &HashMap<String, VerifyingKey>) -> Seal {
        let ReadSeal {
            mut body,
            bytes,
            signature,
            place,
        } = read;
        let digest = seal_digest(&bytes);
        let texts = std::mem::take(&mut body.fates);
        let verdict = judge(&body, &texts, &digest, &signature, &place, keys);
        Seal {
            body,
            place,
            digest,
            verdict,
        }
    }
}

fn judge(
    b: &SealBody,
    texts: &[String],
    digest: &[u8; 32],
    signature: &str,
    place: &str,
    keys: &HashMap<String, VerifyingKey>,
) -> Result<Fates, Problem> {
    let Some(key) = keys.get(&b.key_id) else {
        return Err(Problem::UnknownKey {
            seal: place.to_owned(),
            key_id: b.key_id.clone(),
        });
    };
    if !signature_holds(key, digest, signature) {
        return Err(Problem::Forged {
            seal: place.to_owned(),
        });
    }
    let malformed = |why: &str| Problem::Malformed {
        seal: place.to_owned(),
        why: why.to_owned(),
    };
    if b.v != SEAL_VERSION {
        return Err(malformed("a seal format this build does not read"));
    }
    let mut fates = Fates {
        list: Vec::with_capacity(texts.len()),
        starts: Vec::new(),
    };
    // How many offsets the seal covers; a seal covers at least one.
    let range = b
        .last_offset
        .checked_sub(b.first_offset)
        .and_then(|d| d.checked_add(1))
        .filter(|n| *n > 0 && b.first_offset >= 0)
        .ok_or_else(|| malformed("its offset range is empty or out of bounds"))?;
    let mut span = 0i64;
    // Whether a fate so far stands for more than one offset: from then on
    // each fate's start is kept.
    let mut runs = false;
    for text in texts {
        // Only the one text form of each fate: the chain is checked on the
        // fates written again from what is kept here.
        let fate = Fate::decode(text)
            .filter(|f| canonical(f, text))
            .ok_or_else(|| malformed("a fate is not readable"))?;
        if !runs && matches!(fate, Fate::Skipped(_) | Fate::Lost(_)) {
            // (Even when it is the first fate: `starts` then begins with it.)
            runs = true;
            fates.starts = (0..fates.list.len() as i64).collect();
        }
        if runs {
            fates.starts.push(span);
        }
        span = span
            .checked_add(fate.span())
            .filter(|s| *s <= range)
            .ok_or_else(|| malformed("its fates do not fill its offset range"))?;
        fates.list.push(fate);
    }
    if span != range {
        return Err(malformed("its fates do not fill its offset range"));
    }
    Ok(fates)
}

/// Whether `text` is the form `fate` is written in.
fn canonical(fate: &Fate, text: &str) -> bool {
    match fate {
        // Hex decoding also takes capitals, which logredact never writes.
        Fate::Indexed(_) => !text.bytes().any(|b| b.is_ascii_uppercase()),
        Fate::Skipped(_) | Fate::Lost(_) => fate.to_string() == text,
        _ => true,
    }
}

/// Most missing seals of one link named one by one; past it, one problem
/// names the range.
const MAX_MISSING_NAMED: u64 = 10_000;

/// Where in which chain a seal is being linked.
pub(super) struct ChainAt<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub segment: &'a str,
    /// The seals before the first one may be missing for good reason (a
    /// time window, retention).
    pub may_lack_start: bool,
    /// Seals of this segment already reported as failed, by seq.
    pub failed: &'a dyn Fn(u64) -> bool,
}

/// Checks that `seal` (which holds on its own, with `fates`) follows
/// `before` in its segment (or starts it).
pub(super) fn link(
    seal: &Seal,
    fates: &Fates,
    before: Option<&Seal>,
    at: &ChainAt<'_>,
    report: &mut Report,
) {
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
        Some(p) if p.body.seq.checked_add(1) != Some(b.seq) => {
            let (from, to) = (p.body.seq.saturating_add(1), b.seq);
            let n = to.saturating_sub(from);
            if n <= MAX_MISSING_NAMED {
                for seq in (from..to).filter(|s| !failed(*s)) {
                    report.problems.push(Problem::MissingSeal {
                        topic: topic.to_owned(),
                        partition,
                        segment: segment.to_owned(),
                        seq,
                    });
                }
            } else {
                // A seal claiming a huge seq must not flood the report.
                report.problems.push(broken(format!(
                    "the {n} seals before it (numbers {from} to {}) are missing",
                    to - 1
                )));
            }
            None
        }
        Some(p) => {
            if b.prev.as_deref() != Some(hex::encode(p.digest).as_str()) {
                report.problems.push(broken(
                    "its `prev` is not the hash of the seal before it".into(),
                ));
            }
            if p.body.last_offset.checked_add(1) != Some(b.first_offset) {
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
        let mut fates_json = Vec::with_capacity(fates.list.len() * 70 + 2);
        write_fates(&mut fates_json, &fates.list);
        if hex::encode(fold_chain(start, &fates_json)) != b.chain {
            report.problems.push(broken(
                "its chain value does not follow from its fates".into(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::record::{encode_line, parse_line, test_body};
    use crate::seal::SealKey;

    /// A seal signed by a trusted key with whatever range and fates.
    fn signed(key: &SealKey, first: i64, last: i64, fates: &[Fate]) -> Seal {
        let mut fates_json = Vec::new();
        write_fates(&mut fates_json, fates);
        let body = test_body(key, first, last, &fates_json);
        let (line, _) = encode_line(&body, &fates_json, key);
        let keys = HashMap::from([(key.id().to_owned(), key.public())]);
        Seal::judge(parse_line(&line, "x".into()).unwrap(), &keys)
    }

    /// Seals only the key holder could make, but `verify` must still
    /// report them, not fail on them.
    #[test]
    fn seals_with_impossible_ranges_are_malformed() {
        let key = SealKey::generate();
        let malformed = |s: Seal| matches!(s.verdict, Err(Problem::Malformed { .. }));
        assert!(signed(&key, 10, 12, &[Fate::Elsewhere, Fate::Skipped(2)])
            .verdict
            .is_ok());
        assert!(malformed(signed(&key, 10, 9, &[])));
        assert!(malformed(signed(&key, -5, -5, &[Fate::Elsewhere])));
        assert!(malformed(signed(&key, 0, i64::MAX, &[])));
        assert!(malformed(signed(
            &key,
            1,
            i64::MAX,
            &[Fate::Skipped(i64::MAX), Fate::Elsewhere]
        )));
        assert!(malformed(signed(&key, 10, 12, &[Fate::Elsewhere])));
        assert!(malformed(signed(&key, 10, 12, &[Fate::Lost(4)])));
    }

    /// A seal may start with a run: a segment resumed over a transaction
    /// marker (`s:1`), or over records deleted before they were read.
    #[test]
    fn a_seal_that_starts_with_a_run_is_read_by_offset() {
        let key = SealKey::generate();
        for first in [Fate::Skipped(2), Fate::Lost(2)] {
            let seal = signed(
                &key,
                10,
                13,
                &[first.clone(), Fate::Elsewhere, Fate::Dropped("x".into())],
            );
            let fates = seal.verdict.expect("the seal holds");
            assert_eq!(fates.at(0), &first);
            assert_eq!(fates.at(1), &first);
            assert_eq!(fates.at(2), &Fate::Elsewhere);
            assert_eq!(fates.at(3), &Fate::Dropped("x".into()));
            assert_eq!(
                fates.each_from(2).map(|(k, _)| k).collect::<Vec<_>>(),
                [2, 3]
            );
        }
        assert!(canonical(&Fate::Lost(7), "l:7"));
        assert!(!canonical(&Fate::Lost(7), "l:07"));
    }

    #[test]
    fn fates_are_found_by_offset_with_and_without_runs_of_skipped_offsets() {
        let h = |n| Fate::Indexed([n; 32]);
        let plain = Fates {
            list: vec![h(1), h(2), Fate::Elsewhere],
            starts: Vec::new(),
        };
        assert_eq!(plain.at(1), &h(2));
        assert_eq!(
            plain.each_from(0).map(|(k, _)| k).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(plain.each_from(2).map(|(k, _)| k).collect::<Vec<_>>(), [2]);
        let runs = Fates {
            list: vec![h(1), Fate::Skipped(3), h(2)],
            starts: vec![0, 1, 4],
        };
        assert_eq!(runs.at(0), &h(1));
        assert_eq!(runs.at(3), &Fate::Skipped(3));
        assert_eq!(runs.at(4), &h(2));
        assert_eq!(
            runs.each_from(0).map(|(k, _)| k).collect::<Vec<_>>(),
            [0, 1, 4]
        );
        assert_eq!(
            runs.each_from(2).map(|(k, _)| k).collect::<Vec<_>>(),
            [1, 4]
        );
        assert_eq!(runs.each_from(4).map(|(k, _)| k).collect::<Vec<_>>(), [4]);
        assert!(canonical(&h(0xab), &Fate::Indexed([0xab; 32]).to_string()));
        assert!(!canonical(
            &h(0xab),
            &Fate::Indexed([0xab; 32]).to_string().to_uppercase()
        ));
        assert!(!canonical(&Fate::Skipped(7), "s:07"));
    }
}

use super::*;
use std::collections::HashMap;

use crate::seal::record::{parse_line, ReadSeal};
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
) -> (Vec<ReadSeal>, Vec<(String, [u8; 32])>) {
    let mut chain = Chain::new("cold", now - age_days * DAY);
    let mut docs = Vec::new();
    for o in 0..n {
        let body = format!("{{\"n\":{o}}}");
        chain.push(o, Fate::Indexed(doc_hash(body.as_bytes())));
        docs.push((id("t", 0, o), doc_hash(body.as_bytes())));
    }
    let seals = chain
        .cut("t", 0, key, "fp", (n / 2) as usize, now - age_days * DAY)
        .iter()
        .map(|c| parse_line(&c.line, c.id.clone()).unwrap())
        .collect();
    (seals, docs)
}

/// A run at `now`, from `since_ms` on, with 180 days of retention.
fn window(now: i64, since_ms: Option<i64>) -> Window {
    Window {
        since_ms,
        until_ms: None,
        now_ms: now,
        retention_ms: 180 * DAY,
    }
}

fn run(key: &SealKey, seals: Vec<ReadSeal>, docs: Vec<(String, [u8; 32])>, now: i64) -> Report {
    let keys = HashMap::from([(key.id().to_owned(), key.public())]);
    let seals = seals.into_iter().map(|s| Seal::judge(s, &keys)).collect();
    let checker = Checker::new("cold", seals, &window(now, None));
    let mut held = HeldDocs::default();
    for (doc, hash) in docs {
        assert!(checker.wants(&doc));
        held.add(&doc, "i", None, hash);
    }
    checker.finish(&held, id)
}

#[test]
fn with_a_window_only_the_documents_its_seals_cover_are_wanted() {
    let key = SealKey::generate();
    let now = 1_000 * DAY;
    let (seals, _) = sealed(&key, 10, now, 0);
    let keys = HashMap::from([(key.id().to_owned(), key.public())]);
    let seals: Vec<Seal> = seals.into_iter().map(|s| Seal::judge(s, &keys)).collect();
    let all = Checker::new("cold", seals.clone(), &window(now, None));
    assert!(all.wants(&id("t", 0, 3)) && all.wants(&id("t", 0, 99)) && all.wants("x"));
    let windowed = Checker::new("cold", seals, &window(now, Some(now - DAY)));
    assert!(windowed.wants(&id("t", 0, 3)) && windowed.wants(&id("t", 0, 9)));
    assert!(!windowed.wants(&id("t", 0, 10)) && !windowed.wants(&id("t", 1, 3)));
    assert!(!windowed.wants("x"));
    let none = Checker::new("cold", Vec::new(), &window(now, Some(now - DAY)));
    assert!(!none.wants(&id("t", 0, 3)));
}

#[test]
fn only_the_exact_id_of_a_sealed_document_stands_for_it() {
    let key = SealKey::generate();
    let now = 1_000 * DAY;
    let (seals, mut docs) = sealed(&key, 10, now, 0);
    // Deleted, and written again under an id that reads as the same
    // offset; a second look-alike next to a document still held.
    let (_, hash) = docs.remove(7);
    docs.push(("t-0-07".into(), hash));
    docs.push(("t-0-+3".into(), docs[3].1));
    let r = run(&key, seals, docs, now);
    let mut problems = r.problems.clone();
    problems.sort_by_key(|p| format!("{p:?}"));
    assert_eq!(
        problems,
        [
            Problem::Deleted {
                id: id("t", 0, 7),
                seal: problems
                    .iter()
                    .find_map(|p| match p {
                        Problem::Deleted { seal, .. } => Some(seal.clone()),
                        _ => None,
                    })
                    .unwrap(),
            },
            Problem::Inserted {
                id: "t-0-+3".into(),
                place: "i".into(),
            },
            Problem::Inserted {
                id: "t-0-07".into(),
                place: "i".into(),
            },
        ]
    );
    assert_eq!(r.duplicate_copies, 0);
}

#[test]
fn documents_not_sealed_yet_and_identical_second_copies_are_not_tampering() {
    let key = SealKey::generate();
    let now = 1_000 * DAY;
    let (seals, mut docs) = sealed(&key, 10, now, 0);
    // Written after the seals were read: past the last seal.
    docs.push((id("t", 0, 10), [1; 32]));
    // A replay appended the same bytes again.
    docs.push(docs[3].clone());
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
    let r = run(&key, seals[1..].to_vec(), Vec::new(), now);
    assert!(r.clean(), "{:?}", r.problems);
    assert_eq!(r.seals_expired, 1);

    // Past retention, one document left: the others were deleted.
    let (seals, docs) = sealed(&key, 10, now, 181);
    let kept: Vec<_> = docs
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
    let r = run(&key, seals[1..].to_vec(), Vec::new(), now);
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

/// The first writing sealed offsets 0..200 as written; the daemon crashed
/// with only 100 committed, retention cut the log to 150 meanwhile, and
/// the replay sealed 100..150 as lost. The documents of 100..150 are
/// there, written by the first run: nothing is inserted, nothing lost.
#[test]
fn a_replay_that_finds_the_log_cut_does_not_disown_what_was_written() {
    let key = SealKey::generate();
    let now = 1_000 * DAY;
    let (mut seals, docs) = sealed(&key, 200, now, 1);
    let mut replay = Chain::new("cold", now - DAY / 2);
    replay.push(100, Fate::Lost(50));
    for o in 150..200 {
        let body = format!("{{\"n\":{o}}}");
        replay.push(o, Fate::Indexed(doc_hash(body.as_bytes())));
    }
    seals.extend(
        replay
            .cut("t", 0, &key, "fp", 1_000, now - DAY / 2)
            .iter()
            .map(|c| parse_line(&c.line, c.id.clone()).unwrap()),
    );
    let report = run(&key, seals, docs, now);
    assert_eq!(report.problems, [], "{report:?}");
    assert_eq!(report.documents_verified, 200);
}

/// Lost offsets no older seal covers are reported, once.
#[test]
fn offsets_lost_before_they_were_read_are_reported() {
    let key = SealKey::generate();
    let now = 1_000 * DAY;
    let mut chain = Chain::new("cold", now - DAY);
    let mut docs = Vec::new();
    for o in (0..10).chain(60..70) {
        if o == 60 {
            chain.push(10, Fate::Lost(50));
        }
        let body = format!("{{\"n\":{o}}}");
        chain.push(o, Fate::Indexed(doc_hash(body.as_bytes())));
        docs.push((id("t", 0, o), doc_hash(body.as_bytes())));
    }
    let seals = chain
        .cut("t", 0, &key, "fp", 8, now - DAY)
        .iter()
        .map(|c| parse_line(&c.line, c.id.clone()).unwrap())
        .collect();
    let report = run(&key, seals, docs, now);
    assert_eq!(
        report.problems,
        [Problem::LostBeforeRead {
            topic: "t".into(),
            partition: 0,
            first: 10,
            last: 59,
        }]
    );
    assert_eq!(report.documents_verified, 20);
}

/// A window asks for the documents of offsets that held a message, not
/// for every offset of a long run sealed as holding none or lost.
#[test]
fn a_window_asks_only_for_offsets_that_held_a_message() {
    let key = SealKey::generate();
    let now = 1_000 * DAY;
    let mut chain = Chain::new("cold", now - DAY);
    chain.push(0, Fate::Indexed([1; 32]));
    chain.push(1, Fate::Lost(1_000_000_000));
    chain.push(1_000_000_001, Fate::Elsewhere);
    chain.push(i64::MAX / 2, Fate::Indexed([2; 32]));
    let keys = HashMap::from([(key.id().to_owned(), key.public())]);
    let seals = chain
        .cut("t", 0, &key, "fp", 100, now - DAY)
        .iter()
        .map(|c| Seal::judge(parse_line(&c.line, c.id.clone()).unwrap(), &keys))
        .collect();
    let checker = Checker::new("cold", seals, &window(now, Some(now - 2 * DAY)));
    let ids: Vec<String> = checker.covered_ids(id).unwrap().collect();
    assert_eq!(
        ids,
        [
            id("t", 0, 0),
            id("t", 0, 1_000_000_001),
            id("t", 0, i64::MAX / 2)
        ]
    );
}

/// A document far past the last seal of its partition, farther than the
/// daemon ever holds unsealed, was inserted: it is not waiting for a seal.
#[test]
fn a_document_far_past_the_last_seal_is_inserted() {
    let key = SealKey::generate();
    let now = 1_000 * DAY;
    let (seals, mut docs) = sealed(&key, 10, now, 0);
    docs.push((id("t", 0, 9 + MAX_UNSEALED_AHEAD), [1; 32]));
    docs.push((id("t", 0, 10 + MAX_UNSEALED_AHEAD), [1; 32]));
    let r = run(&key, seals, docs, now);
    assert_eq!(r.not_yet_sealed, 1);
    assert_eq!(
        r.problems,
        [Problem::Inserted {
            id: id("t", 0, 10 + MAX_UNSEALED_AHEAD),
            place: "i".into(),
        }]
    );
}

/// The first writing sealed offsets 0..10 as written; after a crash, the
/// replay ran under new rules that drop offset 7's event. The document the
/// first run wrote for it is still there, byte for byte: written before the
/// replay, not inserted. A document there with other bytes is inserted.
#[test]
fn a_document_a_replay_gave_another_fate_is_written_before_it_not_inserted() {
    let key = SealKey::generate();
    let now = 1_000 * DAY;
    let (mut seals, docs) = sealed(&key, 10, now, 1);
    let mut replay = Chain::new("cold", now - DAY / 2);
    for o in 5..10 {
        let body = format!("{{\"n\":{o}}}");
        let fate = if o == 7 {
            Fate::Dropped("drop-probes".into())
        } else {
            Fate::Indexed(doc_hash(body.as_bytes()))
        };
        replay.push(o, fate);
    }
    seals.extend(
        replay
            .cut("t", 0, &key, "fp", 1_000, now - DAY / 2)
            .iter()
            .map(|c| parse_line(&c.line, c.id.clone()).unwrap()),
    );
    let report = run(&key, seals.clone(), docs.clone(), now);
    assert_eq!(report.problems, [], "{report:?}");
    assert_eq!(report.written_before_replay, 1);
    assert_eq!(report.written_before_replay_ids, [id("t", 0, 7)]);
    assert_eq!(report.documents_verified, 9);

    let mut forged = docs;
    forged[7].1 = doc_hash(b"{\"n\":\"forged\"}");
    let report = run(&key, seals, forged, now);
    assert_eq!(report.written_before_replay, 0);
    assert!(
        matches!(&report.problems[..], [Problem::Inserted { id: i, .. }] if *i == id("t", 0, 7)),
        "{:?}",
        report.problems
    );
}

/// Three writings of offset 3: the first wrote one body, a replay another,
/// a second replay dropped the event. Only the newest older writing's
/// bytes stand; the first writing's bytes put back are inserted, and a
/// second copy of the standing bytes is a duplicate.
#[test]
fn only_the_newest_older_writing_stands_for_a_replayed_offset() {
    let key = SealKey::generate();
    let now = 1_000 * DAY;
    let (mut seals, mut docs) = sealed(&key, 6, now, 3);
    let second = doc_hash(b"{\"n\":3,\"v\":2}");
    for (age, fate) in [
        (2, Fate::Indexed(second)),
        (1, Fate::Dropped("drop".into())),
    ] {
        let mut replay = Chain::new("cold", now - age * DAY);
        replay.push(3, fate);
        seals.extend(
            replay
                .cut("t", 0, &key, "fp", 1_000, now - age * DAY)
                .iter()
                .map(|c| parse_line(&c.line, c.id.clone()).unwrap()),
        );
    }
    let first = docs[3].1;
    docs[3].1 = second;
    docs.push((id("t", 0, 3), second));
    let report = run(&key, seals.clone(), docs.clone(), now);
    assert_eq!(report.problems, [], "{report:?}");
    assert_eq!(
        (report.written_before_replay, report.duplicate_copies),
        (1, 1)
    );
    docs[3].1 = first;
    docs.pop();
    let report = run(&key, seals, docs, now);
    assert_eq!(report.written_before_replay, 0);
    assert!(
        matches!(&report.problems[..], [Problem::Inserted { id: i, .. }] if *i == id("t", 0, 3)),
        "{:?}",
        report.problems
    );
}

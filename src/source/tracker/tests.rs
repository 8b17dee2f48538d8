use super::*;

#[test]
fn the_remembered_slot_is_never_stale() {
    let mut t = OffsetTracker::new();
    let a = t.assign("a", 0);
    assert_eq!(t.slot("a", 0), Some(a));
    t.revoke("a", 0);
    assert_eq!(t.slot("a", 0), None, "revoked");
    // The freed slot goes to another partition.
    let b = t.assign("b", 1);
    assert_eq!(b, a);
    assert_eq!(t.slot("a", 0), None);
    assert_eq!(t.slot("a", 1), None);
    assert_eq!(t.slot("b", 0), None);
    assert_eq!(t.slot("b", 1), Some(b));
    let c = t.assign("a", 1);
    assert_eq!(t.slot("a", 1), Some(c));
    assert_eq!(t.slot("b", 1), Some(b));
}

fn ack(token: Token) -> Ack {
    Ack {
        token,
        dead_lettered: false,
        output: Some(0),
    }
}

#[test]
fn a_failed_item_holds_back_later_successes() {
    let mut t = OffsetTracker::new();
    let s = t.assign("a", 0);
    let tokens: Vec<_> = (10..15)
        .map(|o| t.track(s, o, 1, 1, None).unwrap())
        .collect();
    for tok in &tokens[1..] {
        t.ack(ack(*tok));
    }
    assert!(t.to_commit().is_empty(), "offset 10 is not complete");
    t.ack(ack(tokens[0]));
    assert_eq!(t.to_commit(), vec![("a".into(), 0, 15)]);
    assert_eq!(t.in_flight(), 0);
}

#[test]
fn both_outputs_must_acknowledge() {
    let mut t = OffsetTracker::new();
    let s = t.assign("a", 0);
    let tok = t.track(s, 0, 2, 1, None).unwrap();
    assert_eq!(t.ack(ack(tok)), None);
    assert!(t.to_commit().is_empty());
    assert_eq!(
        t.ack(Ack {
            token: tok,
            dead_lettered: true,
            output: Some(1),
        }),
        Some(Completed {
            bytes: 1,
            dead_lettered: true
        })
    );
    assert_eq!(t.to_commit(), vec![("a".into(), 0, 1)]);
}

#[test]
fn dropped_messages_complete_at_once_and_acks_after_revoke_are_stale() {
    let mut t = OffsetTracker::new();
    let s = t.assign("a", 3);
    let first = t.track(s, 0, 1, 100, None).unwrap();
    t.track(s, 1, 0, 1, None).unwrap();
    assert!(t.to_commit().is_empty());
    t.ack(ack(first));
    assert_eq!(t.to_commit(), vec![("a".into(), 3, 2)]);
    let late = t.track(s, 2, 1, 7, None).unwrap();
    let done_behind = t.track(s, 3, 1, 5, None).unwrap();
    assert!(t.ack(ack(done_behind)).is_some());
    assert_eq!(
        t.revoke("a", 3),
        (
            Some(("a".into(), 3, 2)),
            Released {
                events: 1,
                bytes: 7
            }
        ),
        "the completed entry behind offset 2 was settled already"
    );
    let s2 = t.assign("a", 3);
    let fresh = t.track(s2, 2, 1, 7, None).unwrap();
    assert_eq!(t.ack(ack(late)), None, "stale generation");
    assert!(t.to_commit().is_empty());
    assert!(t.ack(ack(fresh)).is_some());
}

#[test]
fn with_sealing_the_commit_point_waits_for_the_stored_seal() {
    let key = SealKey::generate();
    let mut t = OffsetTracker::new();
    t.seal_outputs(vec![(1, "cold".to_owned())]);
    let s = t.assign("a", 0);
    let info = |routes| {
        Some(Box::new(SealInfo {
            routes,
            ..SealInfo::default()
        }))
    };
    let tok = t.track(s, 0, 1, 1, info(0b10)).unwrap();
    t.track(s, 1, 0, 1, info(0)).unwrap();
    t.ack(Ack {
        token: tok,
        dead_lettered: false,
        output: Some(1),
    });
    assert!(t.to_commit().is_empty(), "complete, but not sealed");
    let cuts = t.cut_seals(&key, "fp", 100, 0);
    assert_eq!(cuts.len(), 1);
    assert!(t.to_commit().is_empty(), "sealed, but not stored");
    assert_eq!(t.unsealed(), 2, "two offsets in a seal not stored");
    t.seal_acked(s, cuts[0].generation + 1, 1, 2);
    assert!(t.to_commit().is_empty(), "a stale acknowledgement");
    t.seal_acked(s, cuts[0].generation, 1, 2);
    assert_eq!(t.to_commit(), vec![("a".into(), 0, 2)]);
    assert_eq!(t.unsealed(), 0);
}

/// Reading that moves back while the partition stays assigned (librdkafka
/// reset the position) used to break the order `pending` is kept in: acks
/// were then looked up in the wrong place and the commit point froze for
/// good. Now the partition starts over from there, what was in flight is
/// released, and the commit point follows the new reading.
#[test]
fn reading_that_moves_back_starts_the_partition_over() {
    let mut t = OffsetTracker::new();
    let s = t.assign("a", 0);
    let old: Vec<_> = (10..15)
        .map(|o| t.track(s, o, 1, 100, None).unwrap())
        .collect();
    t.ack(ack(old[0]));
    t.ack(ack(old[1]));
    assert_eq!(t.to_commit(), vec![(Arc::from("a"), 0, 12)]);
    assert_eq!(t.moved_back(s, 15), None, "reading went on");
    let (s2, released) = t.moved_back(s, 5).expect("reading moved back");
    assert_eq!(
        released,
        Released {
            events: 3,
            bytes: 300
        }
    );
    assert_eq!(t.slot("a", 0), Some(s2));
    let new: Vec<_> = (5..9)
        .map(|o| t.track(s2, o, 1, 100, None).unwrap())
        .collect();
    // Acks for what was in flight before are stale now.
    assert_eq!(t.ack(ack(old[2])), None);
    for tok in &new {
        t.ack(ack(*tok));
    }
    assert_eq!(t.to_commit(), vec![(Arc::from("a"), 0, 9)]);
}

/// The outputs learn which documents are still wanted: those of a
/// partition as assigned now, not those of one revoked or started over
/// (their events were released and are read again).
#[test]
fn the_outputs_see_which_tokens_are_current() {
    let mut t = OffsetTracker::new();
    let g = t.generations();
    let s = t.assign("a", 0);
    let first = t.track(s, 10, 1, 1, None).unwrap();
    assert!(g.is_current(&first));
    let (s2, _) = t.moved_back(s, 3).unwrap();
    let again = t.track(s2, 3, 1, 1, None).unwrap();
    assert!(!g.is_current(&first), "released when reading moved back");
    assert!(g.is_current(&again));
    t.revoke("a", 0);
    assert!(!g.is_current(&again), "released on revoke");
    let other = t.assign("b", 0);
    assert_eq!(other, s2, "the slot is reused");
    assert!(!g.is_current(&again), "by another partition");
}

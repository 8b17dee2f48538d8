//! Property: whatever order acks arrive in, the commit point is exactly the
//! end of the contiguous prefix of complete messages.

use logredact::sink::Ack;
use logredact::source::OffsetTracker;
use proptest::prelude::*;

proptest! {
    #[test]
    fn commit_point_never_passes_an_incomplete_message(
        outputs in prop::collection::vec(0u16..3, 1..60),
        gaps in prop::collection::vec(1i64..4, 60),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..200),
    ) {
        let mut t = OffsetTracker::new();
        let slot = t.assign("t", 0);
        // Offsets with gaps, as compaction and transaction markers leave.
        let mut offset = 100;
        let mut msgs = Vec::new();
        for (i, n) in outputs.iter().enumerate() {
            let token = t.track(slot, offset, *n, 1, None).unwrap();
            msgs.push((token, *n));
            offset += gaps[i];
        }
        // Every pending ack, then a random order over them.
        let mut acks: Vec<Ack> = msgs
            .iter()
            .flat_map(|(token, n)| (0..*n).map(|_| Ack { token: *token, dead_lettered: false, output: None }))
            .collect();
        let mut remaining: Vec<u16> = msgs.iter().map(|(_, n)| *n).collect();
        let expected = |remaining: &[u16]| {
            let prefix = remaining.iter().take_while(|r| **r == 0).count();
            (prefix > 0).then(|| msgs[prefix - 1].0.offset + 1)
        };
        prop_assert_eq!(t.to_commit().first().map(|(_, _, o)| *o), expected(&remaining));
        for pick in &order {
            if acks.is_empty() {
                break;
            }
            let ack = acks.swap_remove(pick.index(acks.len()));
            t.ack(ack);
            let i = msgs.iter().position(|(tok, _)| *tok == ack.token).unwrap();
            remaining[i] -= 1;
            // The commit point: after the last message of the complete prefix.
            let got = t.to_commit().first().map(|(_, _, o)| *o);
            prop_assert_eq!(got, expected(&remaining));
        }
    }
}

//! What an earlier writing sealed at an offset that a newer segment (a
//! replay after a crash or a rebalance) took over. A document at an offset
//! the replay gave another fate (the rules or routes changed in between)
//! is what logredact wrote first when the newest older segment sealed it
//! with its bytes: written before the replay, not inserted.

use std::collections::HashMap;

use super::judge::Seal;
use crate::seal::record::{Fate, SealBody};

/// The order of a partition's segments: by the time each started, then by
/// name. A newer segment's word counts over an older one's.
pub(super) fn segment_order(b: &SealBody) -> (i64, &str) {
    (b.segment_started_ms, &b.segment)
}

/// The seals that hold, per topic and partition, by first offset, with the
/// longest range among them: the seals covering an offset are found by a
/// binary search and a short walk back, not a walk over every seal.
#[derive(Debug, Default)]
pub(super) struct Coverage {
    by_partition: HashMap<String, HashMap<i32, (Vec<usize>, i64)>>,
}

impl Coverage {
    pub(super) fn new(seals: &[Seal]) -> Coverage {
        let mut by_partition: HashMap<String, HashMap<i32, (Vec<usize>, i64)>> = HashMap::new();
        for (i, s) in seals.iter().enumerate() {
            if s.verdict.is_ok() {
                let b = &s.body;
                let (list, longest) = by_partition
                    .entry(b.topic.clone())
                    .or_default()
                    .entry(b.partition)
                    .or_default();
                list.push(i);
                *longest = (*longest).max(b.last_offset - b.first_offset);
            }
        }
        for (list, _) in by_partition.values_mut().flat_map(HashMap::values_mut) {
            list.sort_by_key(|&i| seals[i].body.first_offset);
        }
        Coverage { by_partition }
    }

    /// The hash the newest segment older than `governing`'s sealed
    /// `offset` with, when that segment sealed it as written.
    pub(super) fn earlier_hash(
        &self,
        seals: &[Seal],
        governing: usize,
        (topic, partition, offset): (&str, i32, i64),
    ) -> Option<[u8; 32]> {
        let (list, longest) = self.by_partition.get(topic)?.get(&partition)?;
        let newer = segment_order(&seals[governing].body);
        let end = list.partition_point(|&i| seals[i].body.first_offset <= offset);
        let newest_older = list[..end]
            .iter()
            .rev()
            .take_while(|&&i| seals[i].body.first_offset >= offset.saturating_sub(*longest))
            .map(|&i| &seals[i])
            .filter(|s| offset <= s.body.last_offset && segment_order(&s.body) < newer)
            .max_by(|a, b| segment_order(&a.body).cmp(&segment_order(&b.body)))?;
        match newest_older
            .verdict
            .as_ref()
            .ok()?
            .at(offset - newest_older.body.first_offset)
        {
            Fate::Indexed(hash) => Some(*hash),
            _ => None,
        }
    }
}

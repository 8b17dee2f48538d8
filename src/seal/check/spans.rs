//! Which seal speaks for each offset: spans of offsets, per topic and
//! partition, each taking its fates from one seal. A newer segment's seal
//! takes over the offsets it says something was done with; its runs of
//! offsets that held no message or were lost only fill what no older seal
//! covers.

use std::collections::BTreeMap;

use super::Fates;
use crate::seal::record::Fate;

/// Offsets from a span's first (its key in the map) to `last` take their
/// fates from seal `seal` (an index into `Checker::seals`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    pub(super) last: i64,
    pub(super) seal: usize,
}

/// Spans by first offset, per topic and partition.
pub(super) type Spans = BTreeMap<String, BTreeMap<i32, BTreeMap<i64, Span>>>;

/// The span covering an offset.
pub(super) fn span_at(spans: &Spans, topic: &str, partition: i32, offset: i64) -> Option<Span> {
    let map = spans.get(topic)?.get(&partition)?;
    let (_, span) = map.range(..=offset).next_back()?;
    (offset <= span.last).then_some(*span)
}

/// Gives the offsets of seal `seal` (its first offset, its fates) to it,
/// over what older segments' seals said: offsets it says something was
/// done with are overwritten; runs it says held no message or were lost
/// before they were read (`s:N`, `l:N`) only fill offsets no older seal
/// covers. An older segment's seal of a document it wrote stays true of
/// the output however the replay found the log (compacted since, or cut
/// by retention).
pub(super) fn give(map: &mut BTreeMap<i64, Span>, first: i64, fates: &Fates, seal: usize) {
    // Stretches of one-offset fates, and runs, in order.
    let mut stretch: Option<(i64, i64)> = None;
    for (k, fate) in fates.each_from(0) {
        let at = first + k;
        let end = at + (fate.span() - 1);
        if matches!(fate, Fate::Skipped(_) | Fate::Lost(_)) {
            if let Some((a, b)) = stretch.take() {
                overwrite(map, a, b, seal);
            }
            fill(map, at, end, seal);
        } else {
            stretch = Some(stretch.map_or((at, end), |(a, _)| (a, end)));
        }
    }
    if let Some((a, b)) = stretch {
        overwrite(map, a, b, seal);
    }
}

/// Gives to seal `seal` the offsets of `first..=last` that no span covers.
pub(super) fn fill(map: &mut BTreeMap<i64, Span>, first: i64, last: i64, seal: usize) {
    let mut holes = Vec::new();
    // The next offset not covered yet; `None` once covered to the end.
    let mut cursor = Some(first);
    if let Some((_, before)) = map.range(..first).next_back() {
        if before.last >= first {
            cursor = before.last.checked_add(1);
        }
    }
    for (&f, span) in map.range(first..=last) {
        let Some(c) = cursor else { break };
        if f > c {
            holes.push((c, f - 1));
        }
        if span.last >= c {
            cursor = span.last.checked_add(1);
        }
    }
    if let Some(c) = cursor.filter(|c| *c <= last) {
        holes.push((c, last));
    }
    for (a, b) in holes {
        map.insert(a, Span { last: b, seal });
    }
}

/// Gives offsets `first..=last` to seal `seal`: spans they overlap are cut
/// back or split around them.
pub(super) fn overwrite(map: &mut BTreeMap<i64, Span>, first: i64, last: i64, seal: usize) {
    if let Some((_, before)) = map.range_mut(..first).next_back() {
        if before.last >= first {
            let tail = before.last;
            before.last = first - 1;
            if tail > last {
                let old = before.seal;
                map.insert(
                    last + 1,
                    Span {
                        last: tail,
                        seal: old,
                    },
                );
            }
        }
    }
    let inside: Vec<i64> = map.range(first..=last).map(|(&f, _)| f).collect();
    for f in inside {
        let old = map.remove(&f).expect("listed just now");
        if old.last > last {
            map.insert(
                last + 1,
                Span {
                    last: old.last,
                    seal: old.seal,
                },
            );
        }
    }
    map.insert(first, Span { last, seal });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_segment_takes_over_the_offsets_it_covers_and_only_those() {
        let mut map = BTreeMap::new();
        overwrite(&mut map, 0, 99, 0);
        overwrite(&mut map, 100, 199, 1);
        // A replay from 50 to 149: cuts both back.
        overwrite(&mut map, 50, 149, 2);
        // Another inside it.
        overwrite(&mut map, 60, 69, 3);
        let spans: Vec<(i64, i64, usize)> = map.iter().map(|(&f, s)| (f, s.last, s.seal)).collect();
        assert_eq!(
            spans,
            [
                (0, 49, 0),
                (50, 59, 2),
                (60, 69, 3),
                (70, 149, 2),
                (150, 199, 1)
            ]
        );
    }

    /// A replay's runs (`s:N`, `l:N`) fill only what no older segment covers:
    /// what the older one wrote stays its word.
    #[test]
    fn runs_of_a_newer_segment_only_fill_holes() {
        let mut map = BTreeMap::new();
        overwrite(&mut map, 0, 49, 0);
        overwrite(&mut map, 60, 69, 0);
        fill(&mut map, 40, 99, 1);
        let spans: Vec<(i64, i64, usize)> = map.iter().map(|(&f, s)| (f, s.last, s.seal)).collect();
        assert_eq!(spans, [(0, 49, 0), (50, 59, 1), (60, 69, 0), (70, 99, 1)]);
        // Covered to the end: nothing to fill, and no overflow.
        let mut map = BTreeMap::new();
        overwrite(&mut map, 5, i64::MAX, 0);
        fill(&mut map, 10, i64::MAX, 1);
        assert_eq!(map.len(), 1);
    }
}

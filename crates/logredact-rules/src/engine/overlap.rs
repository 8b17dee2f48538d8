//! Merging one mask rule's matches into those the earlier rules kept, in
//! time linear in their number: a value may hold tens of thousands of
//! matches (a list of phone numbers exported into one field), and a
//! search of every kept match for each new one made such a value cost
//! seconds. Pure; no IO.

use std::ops::Range;

/// The matches one pass over a value keeps, and one rule's as its
/// detector finds them.
#[derive(Debug, Default)]
pub(super) struct Matches {
    /// Sorted by start, none overlapping, each with the index of the mask
    /// rule that masks it.
    pub(super) kept: Vec<(Range<usize>, usize)>,
    /// One rule's matches, filled by its detector.
    pub(super) found: Vec<Range<usize>>,
    merged: Vec<(Range<usize>, usize)>,
}

impl Matches {
    /// Merges `found`, mask rule `rule`'s matches, into `kept` (see
    /// [`merge_in`]); returns the rule's hits.
    pub(super) fn keep_found(&mut self, rule: usize) -> u32 {
        match (self.found.first(), self.kept.last()) {
            (None, _) => 0,
            // (Most often all of them come after those kept, in order: no
            // copy needed.)
            (Some(first), last)
                if last.is_none_or(|(last, _)| last.end <= first.start)
                    && self.found.is_sorted_by_key(|m| m.start) =>
            {
                let mut hits = 0;
                for m in &self.found {
                    if self.kept.last().is_none_or(|(last, _)| last.end <= m.start) {
                        hits += 1;
                    }
                    push(&mut self.kept, (m.clone(), rule));
                }
                hits
            }
            _ => merge_in(&mut self.kept, &mut self.found, rule, &mut self.merged),
        }
    }
}

/// Merges `found`, the matches of mask rule `rule`, into `kept` (sorted by
/// start, none overlapping, each with the index of the rule that masks it),
/// using `merged` as scratch. A match that overlaps kept ones is masked
/// together with them, by the earliest rule among them, so no part of it
/// is left readable. Returns how many of `found` overlapped nothing kept
/// before them: the rule's own hits. `kept` stays sorted and apart.
fn merge_in(
    kept: &mut Vec<(Range<usize>, usize)>,
    found: &mut [Range<usize>],
    rule: usize,
    merged: &mut Vec<(Range<usize>, usize)>,
) -> u32 {
    // (Detectors give their matches in order; a custom one may not.)
    if !found.is_sorted_by_key(|m| m.start) {
        found.sort_by_key(|m| m.start);
    }
    merged.clear();
    merged.reserve(kept.len() + found.len());
    let mut hits = 0;
    let mut k = 0;
    for m in found.iter() {
        while k < kept.len() && kept[k].0.start <= m.start {
            push(merged, kept[k].clone());
            k += 1;
        }
        // What came before reaches into it, or the next kept match does.
        let overlaps = merged.last().is_some_and(|(last, _)| m.start < last.end)
            || kept.get(k).is_some_and(|(next, _)| next.start < m.end);
        if !overlaps {
            hits += 1;
        }
        push(merged, (m.clone(), rule));
    }
    for next in &kept[k..] {
        push(merged, next.clone());
    }
    std::mem::swap(kept, merged);
    hits
}

/// Appends `next`, which starts at or after the last match's start, to
/// `merged`, or joins it to the last match if they overlap.
fn push(merged: &mut Vec<(Range<usize>, usize)>, next: (Range<usize>, usize)) {
    match merged.last_mut() {
        Some((last, rule)) if next.0.start < last.end => {
            last.end = last.end.max(next.0.end);
            *rule = (*rule).min(next.1);
        }
        _ => merged.push(next),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge(
        kept: &[(Range<usize>, usize)],
        found: &[Range<usize>],
        rule: usize,
    ) -> (Vec<(Range<usize>, usize)>, u32) {
        let mut matches = Matches {
            kept: kept.to_vec(),
            found: found.to_vec(),
            ..Matches::default()
        };
        let hits = matches.keep_found(rule);
        (matches.kept, hits)
    }

    #[test]
    fn matches_apart_from_the_kept_ones_are_hits_in_order() {
        let (kept, hits) = merge(
            &[(10..20, 0), (40..50, 0)],
            &[(0..5), (25..30), (60..70)],
            1,
        );
        assert_eq!(hits, 3);
        assert_eq!(
            kept,
            vec![
                (0..5, 1),
                (10..20, 0),
                (25..30, 1),
                (40..50, 0),
                (60..70, 1)
            ]
        );
    }

    #[test]
    fn a_match_that_overlaps_is_masked_with_the_kept_ones_by_the_earliest_rule() {
        // Reaching into a kept match from before it, from inside it, and
        // across two of them.
        let (kept, hits) = merge(&[(10..20, 0), (30..40, 2)], &[(5..12), (15..35)], 1);
        assert_eq!(hits, 0);
        assert_eq!(kept, vec![(5..40, 0)]);
        let (kept, hits) = merge(&[(10..20, 2)], &[12..25, 30..35], 1);
        assert_eq!((kept, hits), (vec![(10..25, 1), (30..35, 1)], 1));
        // Touching is not overlapping.
        let (kept, hits) = merge(&[(10..20, 0)], &[(20..25), (5..10)], 1);
        assert_eq!(hits, 2);
        assert_eq!(kept, vec![(5..10, 1), (10..20, 0), (20..25, 1)]);
    }

    #[test]
    fn a_rules_own_overlapping_matches_count_once_and_become_one() {
        let (kept, hits) = merge(&[], &[(8..20), (0..10), (30..31)], 3);
        assert_eq!(hits, 2);
        assert_eq!(kept, vec![(0..20, 3), (30..31, 3)]);
    }

    #[test]
    fn the_same_as_comparing_every_pair() {
        // Against the quadratic merge it replaces, on pseudo-random matches.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % n).unwrap()
        };
        for _ in 0..2000 {
            let mut quadratic: Vec<(Range<usize>, usize)> = Vec::new();
            let mut kept = Vec::new();
            let mut hits_each = Vec::new();
            for rule in 0..3 {
                let mut found: Vec<Range<usize>> = (0..next(6))
                    .map(|_| {
                        let start = next(60);
                        start..start + 1 + next(8)
                    })
                    .collect();
                found.sort_by_key(|m| m.start);
                let mut hits = 0;
                for m in &found {
                    if quadratic
                        .iter()
                        .any(|(a, _)| a.start < m.end && m.start < a.end)
                    {
                        let mut union = m.clone();
                        let mut by = rule;
                        while let Some(k) = quadratic
                            .iter()
                            .position(|(a, _)| a.start < union.end && union.start < a.end)
                        {
                            let (a, r) = quadratic.swap_remove(k);
                            union = union.start.min(a.start)..union.end.max(a.end);
                            by = by.min(r);
                        }
                        quadratic.push((union, by));
                    } else {
                        quadratic.push((m.clone(), rule));
                        hits += 1;
                    }
                }
                let mut matches = Matches {
                    kept,
                    found: found.clone(),
                    ..Matches::default()
                };
                hits_each.push((hits, matches.keep_found(rule)));
                kept = matches.kept;
            }
            quadratic.sort_by_key(|(r, _)| r.start);
            assert_eq!(kept, quadratic);
            for (want, got) in hits_each {
                assert_eq!(want, got);
            }
        }
    }
}

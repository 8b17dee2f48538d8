//! Digits written in groups: `138 1234 5678`, `110105-19491231-002X`,
//! `(021)6123 4567`, `187+7212+5468` (a form body's `+` for a space). A
//! chain is a sequence of digit runs, each joined to the next by one or two
//! separators (space, line break, `-`, `+`, `(`, `)`; see `bytes::is_separator`); separators
//! may differ along a chain, as people mix them (`0755-8888 6666`). The
//! digit detectors walk chains with [`walk`] and judge the digits, so one
//! definition of "written in groups" serves them all, and the prefilter's
//! `grouped` shapes are a necessary condition for it.

use std::ops::Range;

use crate::bytes::is_separator;

/// Whether run `b` follows run `a` joined by one or two separators.
#[inline]
pub fn joined(hay: &[u8], a: &Range<usize>, b: &Range<usize>) -> bool {
    let gap = b.start - a.end;
    (1..=2).contains(&gap) && hay[a.end..b.start].iter().all(|&c| is_separator(c))
}

/// Whether run `i` is joined to the one after it: a chain of more than one
/// group starts or goes on here.
#[inline]
pub fn joined_to_next(hay: &[u8], runs: &[Range<usize>], i: usize) -> bool {
    i + 1 < runs.len() && joined(hay, &runs[i], &runs[i + 1])
}

/// Most groups a chain is followed through.
const MAX_GROUPS: usize = 8;

/// One step of a walk: the chain from its first run to its `last`.
pub struct Step<'a> {
    hay: &'a [u8],
    /// How many digits the groups so far hold.
    pub len: usize,
    /// From the first digit of the first group to the last of the last.
    pub whole: Range<usize>,
    /// The runs of the groups so far.
    pub groups: &'a [Range<usize>],
    /// Index of the last group's run in the text's runs.
    pub last: usize,
    /// The digits, gathered on first use (most steps are ruled out by
    /// their first digits).
    buf: [u8; 32],
    gathered: bool,
}

/// Whether a `+` stands right before `at`: a country code written as one
/// (`+86`, `+852`).
pub fn plus_before(hay: &[u8], at: usize) -> bool {
    at > 0 && hay[at - 1] == b'+'
}

impl Step<'_> {
    /// The digits of the groups so far, concatenated.
    pub fn digits(&mut self) -> &[u8] {
        if !self.gathered {
            let mut at = 0;
            for g in self.groups {
                let src = &self.hay[g.clone()];
                self.buf[at..at + src.len()].copy_from_slice(src);
                at += src.len();
            }
            self.gathered = true;
        }
        &self.buf[..self.len]
    }

    /// The `k`-th digit.
    pub fn digit(&self, k: usize) -> u8 {
        self.hay[self.offset(k)]
    }

    /// Whether the digits start with `prefix`.
    pub fn starts_with(&self, prefix: &[u8]) -> bool {
        prefix.len() <= self.len && prefix.iter().enumerate().all(|(k, &b)| self.digit(k) == b)
    }

    /// Where the `k`-th digit is in the text.
    pub fn offset(&self, k: usize) -> usize {
        let mut k = k;
        for g in self.groups {
            if k < g.len() {
                return g.start + k;
            }
            k -= g.len();
        }
        self.whole.end
    }

    /// Whether a group ends right after the `k`-th digit (or `k` is 0 or
    /// the whole length): a prefix of `k` digits is a whole number of
    /// groups.
    pub fn group_ends_at(&self, k: usize) -> bool {
        let mut at = 0;
        if k == 0 {
            return true;
        }
        for g in self.groups {
            at += g.len();
            if at == k {
                return true;
            }
            if at > k {
                return false;
            }
        }
        false
    }

    /// The digits (as indices into [`Step::digits`]) of the group that
    /// holds the `k`-th digit.
    pub fn group_around(&self, k: usize) -> Range<usize> {
        let mut at = 0;
        for g in self.groups {
            if k < at + g.len() {
                return at..at + g.len();
            }
            at += g.len();
        }
        self.len..self.len
    }

    /// The fewest digits of any group after the first `skip` digits'
    /// groups (for "each group of the national number has at least three
    /// digits"). `usize::MAX` when no group follows.
    pub fn min_group_after(&self, skip: usize) -> usize {
        let mut at = 0;
        let mut min = usize::MAX;
        for g in self.groups {
            if at >= skip {
                min = min.min(g.len());
            }
            at += g.len();
        }
        min
    }
}

/// The digit counts a walk visits, as bits (bit `k`: `k` digits).
pub const fn lengths(from: u32, to: u32) -> u32 {
    let mut bits = 0;
    let mut k = from;
    while k <= to {
        bits |= 1 << k;
        k += 1;
    }
    bits
}

/// Walks the chain that starts at `runs[first]`, group by group, calling
/// `visit` after each group whose digits so far number one of `lengths`
/// (bit `k`: `k` digits), until it returns `Some`, the chain ends, a group
/// is longer than `max_group`, or the digits pass the longest length.
/// Digits are only gathered for the steps visited, so walking a chain no
/// detector wants (a date, a version) costs a few additions.
pub fn walk<R>(
    hay: &[u8],
    runs: &[Range<usize>],
    first: usize,
    lengths: u32,
    max_group: usize,
    mut visit: impl FnMut(&mut Step<'_>) -> Option<R>,
) -> Option<R> {
    let max_digits = ((31 - lengths.leading_zeros()) as usize).min(32);
    let mut len = 0;
    let mut j = first;
    while j < runs.len() && j - first < MAX_GROUPS {
        let run = &runs[j];
        if (j > first && !joined(hay, &runs[j - 1], run))
            || run.len() > max_group
            || len + run.len() > max_digits
        {
            break;
        }
        len += run.len();
        if lengths & (1 << len) != 0 {
            let mut step = Step {
                hay,
                len,
                whole: runs[first].start..run.end,
                groups: &runs[first..=j],
                last: j,
                buf: [0; 32],
                gathered: false,
            };
            if let Some(r) = visit(&mut step) {
                return Some(r);
            }
        }
        j += 1;
    }
    None
}

/// After the chains from run `i` were walked: keeps the match `found`
/// (its range and the run it ends on), if any, and returns the run to
/// look at next: past the match, or the next run.
pub(crate) fn keep(
    out: &mut Vec<Range<usize>>,
    found: Option<(Range<usize>, usize)>,
    i: usize,
) -> usize {
    match found {
        Some((range, last)) => {
            out.push(range);
            last + 1
        }
        None => i + 1,
    }
}

/// The most digits a number spelled out one at a time is read for (an ID:
/// 18, the last perhaps `X`).
const MAX_SPELLED: usize = 18;

/// Numbers spelled out one digit at a time (`1 3 8 1 2 3 4 5 6 7 8`,
/// `1-3-8-1-2-3-…`), as people write a phone number or an ID to get it
/// past a platform's filter for contact details, and as OCR and some
/// voice transcripts print them: stretches of single-digit runs, each
/// joined to the next (what stands around them may be any text, a time
/// or a `+86` included). Yields each stretch of at least `min` runs and
/// at most `MAX_SPELLED` (indices into `runs`); a longer one is a list,
/// and so is one in square brackets, as arrays are printed
/// (`[1 4 2 0 3 1 1 2 0 1 4]`; one bracket alone is not enough). (The walk does not read these: there a
/// group of one digit is a list's item, `1 3 8 1 2…`.)
pub fn spelled<'a>(
    hay: &'a [u8],
    runs: &'a [Range<usize>],
    min: usize,
) -> impl Iterator<Item = Range<usize>> + 'a {
    // (Most texts have too few single digits: one pass of comparisons.)
    let enough = runs.iter().filter(|r| r.len() == 1).count() >= min;
    let mut i = if enough { 0 } else { runs.len() };
    std::iter::from_fn(move || {
        while i < runs.len() {
            if runs[i].len() != 1 {
                i += 1;
                continue;
            }
            let first = i;
            while i + 1 < runs.len()
                && runs[i + 1].len() == 1
                && joined(hay, &runs[i], &runs[i + 1])
            {
                i += 1;
            }
            i += 1;
            let (start, end) = (runs[first].start, runs[i - 1].end);
            let listed = start > 0 && hay[start - 1] == b'[' && hay.get(end) == Some(&b']');
            if !listed && (min.max(2)..=MAX_SPELLED).contains(&(i - first)) {
                return Some(first..i);
            }
        }
        None
    })
}

/// Adds `found` to the matches a detector found since `from` (in order,
/// none overlapping), leaving out each that overlaps one of them or one of
/// `found` that starts before it. In time linear in their number (a value
/// may hold tens of thousands), plus the sort of `found`.
#[inline]
pub fn merge_apart(out: &mut Vec<Range<usize>>, from: usize, found: Vec<Range<usize>>) {
    if !found.is_empty() {
        merge_found(out, from, found);
    }
}

fn merge_found(out: &mut Vec<Range<usize>>, from: usize, mut found: Vec<Range<usize>>) {
    found.sort_by_key(|m| m.start);
    let mine = out.split_off(from);
    let mut k = 0;
    for m in found {
        while k < mine.len() && mine[k].start <= m.start {
            out.push(mine[k].clone());
            k += 1;
        }
        // (All kept so far start before it and lie apart: only the last
        // can reach it.)
        let clash = out[from..].last().is_some_and(|last| m.start < last.end)
            || mine.get(k).is_some_and(|next| next.start < m.end);
        if !clash {
            out.push(m);
        }
    }
    out.extend_from_slice(&mine[k..]);
}

/// The digits of a [`spelled`] chain, concatenated, and their count.
pub fn spelled_digits(
    hay: &[u8],
    runs: &[Range<usize>],
    chain: &Range<usize>,
) -> ([u8; MAX_SPELLED], usize) {
    let mut digits = [0u8; MAX_SPELLED];
    for (k, r) in runs[chain.clone()].iter().enumerate() {
        digits[k] = hay[r.start];
    }
    (digits, chain.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_matches_stay_in_order_and_apart() {
        // Matches found before `from` are another detector's: untouched.
        let mut out = vec![100..200, 10..20, 40..50];
        merge_apart(&mut out, 1, vec![60..70, 45..55, 0..5, 20..30, 2..8]);
        assert_eq!(out, vec![100..200, 0..5, 10..20, 20..30, 40..50, 60..70]);
        // Many, in linear time (each in its own place, none dropped).
        let mut out: Vec<Range<usize>> = (0..50_000).map(|k| 20 * k..20 * k + 10).collect();
        merge_apart(
            &mut out,
            0,
            (0..50_000)
                .rev()
                .map(|k| 20 * k + 10..20 * k + 20)
                .collect(),
        );
        assert_eq!(out.len(), 100_000);
        assert!(out.windows(2).all(|w| w[0].end <= w[1].start));
    }

    #[test]
    fn spelled_numbers_are_chains_of_single_digits_alone() {
        let hay = b"a 1 3 8 1-2 3 4 5 6 7 8 b 1 2 3 4 5 6 7 8 9 10 11 c 7 d 1 2 [3 4] 10:00 5 6";
        let r = runs(hay);
        let found: Vec<String> = spelled(hay, &r, 2)
            .map(|c| {
                let (d, n) = spelled_digits(hay, &r, &c);
                String::from_utf8(d[..n].to_vec()).unwrap()
            })
            .collect();
        assert_eq!(found, ["13812345678", "123456789", "12", "56"]);
    }

    fn runs(hay: &[u8]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < hay.len() {
            if hay[i].is_ascii_digit() {
                let s = i;
                while i < hay.len() && hay[i].is_ascii_digit() {
                    i += 1;
                }
                out.push(s..i);
            } else {
                i += 1;
            }
        }
        out
    }

    #[test]
    fn chains_follow_short_separators() {
        let hay = b"(021) 6123-4567 x 99";
        let r = runs(hay);
        let mut seen = Vec::new();
        walk::<()>(hay, &r, 0, lengths(1, 20), usize::MAX, |s| {
            seen.push(String::from_utf8(s.digits().to_vec()).unwrap());
            None
        });
        assert_eq!(seen, ["021", "0216123", "02161234567"]);
        seen.clear();
        walk::<()>(hay, &r, 0, 1 << 11, usize::MAX, |s| {
            seen.push(String::from_utf8(s.digits().to_vec()).unwrap());
            None
        });
        assert_eq!(seen, ["02161234567"]);
        assert_eq!(walk(hay, &r, 0, 1 << 11, 3, |_| Some(())), None);
        let hay = b"187+7212+5468";
        let r = runs(hay);
        let found = walk(hay, &r, 0, lengths(1, 20), usize::MAX, |s| {
            (s.len == 11).then(|| s.whole.clone())
        });
        assert_eq!(found, Some(0..13));
        let hay = b"138   1234";
        let r = runs(hay);
        assert_eq!(
            walk(hay, &r, 0, lengths(1, 20), usize::MAX, |s| {
                (s.groups.len() == 2).then_some(())
            }),
            None
        );
    }

    #[test]
    fn offsets_and_group_ends() {
        let hay = b"86 138-1234 5678";
        let r = runs(hay);
        walk::<()>(hay, &r, 0, lengths(1, 20), usize::MAX, |s| {
            if s.len == 13 {
                assert_eq!(s.digits(), b"8613812345678");
                assert!(s.starts_with(b"86") && !s.starts_with(b"87"));
                assert_eq!(s.digit(2), b'1');
                assert_eq!(s.offset(2), 3);
                assert_eq!(s.offset(5), 7);
                assert!(s.group_ends_at(2));
                assert!(!s.group_ends_at(3));
                assert_eq!(s.min_group_after(2), 3);
                assert_eq!(s.group_around(0), 0..2);
                assert_eq!(s.group_around(4), 2..5);
                assert_eq!(s.group_around(5), 5..9);
            }
            None
        });
    }
}

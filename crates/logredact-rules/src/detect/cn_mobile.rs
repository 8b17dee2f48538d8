//! `cn_mobile`: mainland mobile numbers, 11 digits starting 13-19, as
//! people and systems write them: unbroken or in groups (`138 1234 5678`,
//! `187+7212+5468`), with the country code (`+86`, `0086`, or `86` with no
//! `+`), with the trunk `0` call records put in front (`013812345678`), or
//! both (`+86 013812345678`, `+86(0)138…`), with or without an extension
//! after (`x12`), or spelled out one digit at a time to get past a filter
//! (`1 3 8 1 2 3 4 5 6 7 8`). The match covers the national number; a
//! country code or trunk prefix is left in place.

use std::ops::Range;

use super::groups::{
    joined_to_next, keep, merge_apart, plus_before, spelled, spelled_digits, walk,
};
use super::registry::Builtin;
use super::scan::{run_lengths, Scan};
use super::{ends_or_extension, left_bounded};

pub(super) const DETECTOR: Builtin = Builtin {
    name: "cn_mobile",
    summary: "Mainland mobile numbers: 11 digits starting 13-19, unbroken or in groups, with +86, 0086, 86, a trunk 0 or both in front",
    keep: (3, 4),
    min_digits: 11,
    in_numbers: true,
    reads_key: false,
    may_match,
    find,
    canonical: |m| super::registry::digits_only(m),
    keep_first_in: super::registry::keep_as_written,
    finds: &[
        "«13812345678»",
        "电话«13812345678»谢谢",
        "+86«13912345678»",
        "+86 «15912345678»",
        "0086-«18612345678»",
        "86«18216119059»",
        "86-«18216119059»",
        "(+86)«138-1234-5678»",
        "call «138 1234 5678» now",
        "«138-1234 5678»",
        "«187+7212+5468»",
        "«1381 234 5678»",
        "0«13812345678»",
        "tel:«138 12345678»",
        "+86«185 3409 9073»",
        "+86«185-3409-9073»",
        "0086«185 3409 9073»",
        "+860«13812345678»",
        "+86 0«13812345678»",
        "+86(0)«13812345678»",
        "0086 0«138 1234 5678»",
        "0«138 1234 5678»",
        "+86«1853 409 9073»",
        "«13812345678»x12",
        "+86 «138 1234 5678» ext. 12",
        "您的手机号«13,812,345,678»已绑定",
        "phone=«13,812,345,678»",
        "加我«1 3 8 1 2 3 4 5 6 7 8»",
        "vx:«1-3-8-1-2-3-4-5-6-7-8»",
        "8 6 «1 3 8 1 2 3 4 5 6 7 8»",
        "OSI CA CTCT«13812345678»",
        "+86 «1 3 8 1 2 3 4 5 6 7 8»",
        "10:00:00 «1 3 8 1 2 3 4 5 6 7 8» (2026-11-20)",
        "0 0 8 6 «1 3 8 1 2 3 4 5 6 7 8»",
    ],
    keeps: &[
        "12812345678",
        "10012345678",
        "1700000000000",
        "1763626530123",
        "x13812345678",
        "138123456789",
        "8613812345678901",
        "2026-11-20 13:81:23",
        "1 3 8 1 2 3 4 5 6 7",
        "1 3 8 1 2 3 4 5 6 7 8 9",
        "1 2 3 4 5 6 7 8 9 10 11",
        "1 3 8 1 2 3 4 5 6 7 8a",
        "preds=[1 4 2 0 3 1 1 2 0 1 4]",
        "[[1 5 0 2 3 1 1 2 0 1 4]\n [1 3 8 0 0 1 0 0 0 0 0]]",
        "86185 3409 9073",
        "86013812345678",
        "0086013812345678",
        "9f3c2e1a-5b7d-4e2f-a716-013812345678",
        "13,812,345,678.00",
        "1,213,812,345,678",
        "13,812,345,678,901",
        "10,812,345,678",
    ],
};

/// The digit counts of a mobile with its prefixes, over all its groups.
const MOBILE_LENGTHS: u32 = run_lengths(&[11, 12, 13, 14, 15, 16]);
/// The lengths of a run that may be one unbroken (`00860…` unbroken needs
/// `+`, and no one writes `+0086`).
const MOBILE_RUNS: u32 = run_lengths(&[11, 12, 13, 14, 15]);

fn may_match(scan: &mut Scan<'_>) -> bool {
    if scan.features.digits < 11 {
        return false;
    }
    let p = scan.prefilter();
    p.has_run(MOBILE_RUNS) || p.grouped11 || may_hold_thousands(scan.hay)
}

/// Whether `hay` may hold [`thousands`]: `1`, `3`-`9`, a comma, and
/// another comma four bytes on (a quick look at each comma).
fn may_hold_thousands(hay: &[u8]) -> bool {
    memchr::memchr_iter(b',', hay).any(|c| {
        c >= 2
            && hay[c - 2] == b'1'
            && (b'3'..=b'9').contains(&hay[c - 1])
            && hay.get(c + 4) == Some(&b',')
    })
}

/// A mobile number printed as a quantity with thousands separators
/// (FreeMarker's default for a `Long`, Java's `%,d`, JavaScript's
/// `toLocaleString()`): `13,812,345,678`. Not a part of a longer such
/// number, nor an amount with a fraction (`13,812,345,678.00`).
fn thousands(hay: &[u8], out: &mut Vec<Range<usize>>) {
    const SHAPE: &[u8; 14] = b"dd,ddd,ddd,ddd";
    let digit = |at: usize| hay.get(at).is_some_and(u8::is_ascii_digit);
    for comma in memchr::memchr_iter(b',', hay) {
        let Some(start) = comma.checked_sub(2) else {
            continue;
        };
        let end = start + SHAPE.len();
        let Some(w) = hay.get(start..end) else {
            break;
        };
        let shaped = w.iter().zip(SHAPE).all(|(&b, &s)| match s {
            b'd' => b.is_ascii_digit(),
            _ => b == b',',
        });
        let longer = (start >= 2 && hay[start - 1] == b',' && digit(start - 2))
            || (matches!(hay.get(end), Some(b',' | b'.')) && digit(end + 1));
        if shaped
            && w[0] == b'1'
            && (b'3'..=b'9').contains(&w[1])
            && !longer
            && left_bounded(hay, start)
            && ends_or_extension(hay, end)
        {
            out.push(start..end);
        }
    }
}

/// 11 digits, `1` and then `3`-`9`.
pub fn is_mobile(digits: &[u8]) -> bool {
    digits.len() == 11 && digits[0] == b'1' && (b'3'..=b'9').contains(&digits[1])
}

fn find(scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
    let (hay, from) = (scan.hay, out.len());
    grouped(scan, out);
    let mut found = Vec::new();
    if may_hold_thousands(hay) {
        thousands(hay, &mut found);
    }
    // (Eleven digits spelled out span 21 bytes or more.)
    if scan.prefilter().grouped16 {
        let (hay, runs) = scan.hay_and_runs();
        spelled_out(hay, runs, &mut found);
    }
    // In order among the grouped matches, where none overlaps.
    merge_apart(out, from, found);
}

/// A mobile number spelled out one digit at a time, perhaps after `8 6`
/// (`1 3 8 1 2 3 4 5 6 7 8`: see `groups::spelled`).
fn spelled_out(hay: &[u8], runs: &[Range<usize>], out: &mut Vec<Range<usize>>) {
    for chain in spelled(hay, runs, 11) {
        let (digits, n) = spelled_digits(hay, runs, &chain);
        // A country code before it (not a trunk `0` alone: twelve single
        // digits beginning with `0` are more often hourly counts).
        let d = &digits[..n];
        let skip = match n {
            11 => 0,
            13 if d.starts_with(b"86") => 2,
            15 if d.starts_with(b"0086") => 4,
            _ => continue,
        };
        let end = runs[chain.end - 1].end;
        if is_mobile(&digits[skip..n])
            && left_bounded(hay, runs[chain.start].start)
            && ends_or_extension(hay, end)
        {
            out.push(runs[chain.start + skip].start..end);
        }
    }
}

/// Unbroken or in groups separated by spaces, dashes and the like.
fn grouped(scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
    let (hay, runs) = scan.hay_and_runs();
    let mut i = 0;
    while i < runs.len() {
        // A run alone is a number only at its lengths with their
        // prefixes (most 14-digit runs are timestamps); a shorter one may
        // begin a chain of groups.
        let run = &hay[runs[i].clone()];
        let alone = match run.len() {
            11 | 12 | 13 | 15 => true,
            14 => run.starts_with(b"860"),
            _ => false,
        };
        if !alone && !joined_to_next(hay, runs, i) {
            i += 1;
            continue;
        }
        let found = walk(hay, runs, i, MOBILE_LENGTHS, usize::MAX, |step| {
            // Leading digits left in place: a country code, a trunk `0`,
            // or both (`+86 013812345678`).
            let (country, trunk) = match step.len {
                11 => (0, 0),
                12 if step.digit(0) == b'0' => (0, 1),
                13 if step.starts_with(b"86") => (2, 0),
                14 if step.starts_with(b"860") => (2, 1),
                15 if step.starts_with(b"0086") => (4, 0),
                16 if step.starts_with(b"00860") => (4, 1),
                _ => return None,
            };
            let prefix = country + trunk;
            // The national number's groups have three digits or more
            // (`138 1234 5678`, `1381 234 5678`): `1 3 8 1 2…` is a list
            // of numbers.
            if !(step.digit(prefix) == b'1' && (b'3'..=b'9').contains(&step.digit(prefix + 1)))
                || step.min_group_after(prefix) < 3
            {
                return None;
            }
            let plus = plus_before(hay, step.whole.start);
            // A trunk `0` after a country code comes with `+` or in groups
            // (`+86013812345678`, `0086 0138 1234 5678`); unbroken
            // `860…` without `+` is more likely some other number.
            if country > 0 && trunk > 0 && !plus && step.groups.len() == 1 {
                return None;
            }
            // The prefix is its own group, or glued to a first group of
            // three digits or more: the trunk alone (`0138 1234 5678`), or
            // a country code that is plainly one, after `+` or as `0086`
            // (`+861853 409 9073`); `86185 3409 9073` is some other number.
            let head = step.group_around(prefix);
            let glued = head.end - prefix >= 3
                && ((trunk > 0 && head.start == country) || country == 4 || (country > 0 && plus));
            if !(step.groups.len() == 1 || step.group_ends_at(prefix) || glued) {
                return None;
            }
            (left_bounded(hay, step.whole.start) && ends_or_extension(hay, step.whole.end))
                .then(|| (step.offset(prefix)..step.whole.end, step.last))
        });
        i = keep(out, found, i);
    }
}

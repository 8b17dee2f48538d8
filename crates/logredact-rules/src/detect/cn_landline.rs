//! `cn_landline`: mainland fixed-line numbers with their area code, as
//! people write them: `010-12345678`, `0755-8888 6666`, `(021)6123 4567`,
//! `02161234567`, `+86 10 12345678`, `0086-755-88886666`, `+86 1062345678`,
//! `+86(0)1062345678`, `8610-62345678`, with or without
//! an extension after (`-123`, `转123`, `ext 123`, `x123`).
//!
//! An area code is `010`, `02X` (not `026`), or `0` and three digits of a
//! block of ten with a code in use (`area_codes`, from libphonenumber:
//! retired codes such as `0413` included); a local
//! number is 7 or 8 digits (8 after a two-digit code) and does not start
//! with `0`; written unbroken with no country code, it does not start with
//! `1` either (those are service numbers; such a run is an invoice code or
//! the like).
//! Without an area code a short number is not found: service hotlines
//! (`95588`, `12345`, `400-810-8888`) stay readable, as they must.

use std::ops::Range;

use super::area_codes;
use super::groups::{joined_to_next, keep, lengths, plus_before, walk};
use super::registry::Builtin;
use super::scan::{run_lengths, Scan};
use super::{ends_or_extension, left_bounded};

pub(super) const DETECTOR: Builtin = Builtin {
    name: "cn_landline",
    summary: "Mainland fixed-line numbers with an area code (010-12345678, (021)6123 4567, +86 755 8888 6666), extensions allowed",
    keep: (4, 2),
    min_digits: 10,
    in_numbers: false,
    reads_key: false,
    may_match,
    find,
    canonical: national,
    keep_first_in: |m, keep_first| {
        if starts_with_trunk(m) {
            keep_first
        } else {
            keep_first.saturating_sub(1)
        }
    },
    finds: &[
        "«010-12345678»",
        "«0755-8888 6666»",
        "(«021)6123 4567»",
        "电话«02161234567»",
        "«0755-88886666»-8001",
        "«010-12345678»转123",
        "«010 1234 5678» ext 12",
        "«021-61234567»x123",
        "+86 «10 12345678»",
        "+86-«755-8888-6666»",
        "0086 «21 6123 4567»",
        "0086«1062345678»",
        "+86 («10) 6234 5678»",
        "«0571-8765432»",
        "+86«01062345678»",
        "+86«0755-88886666»",
        "+86 «0755 8888 6666»",
        "+86(«0)1062345678»",
        "+86 («0)10 6234 5678»",
        "«0413-23456789»",
        "«0852-2345678»",
        "+86 «1062345678»",
        "0086 «75588886666»",
        "(+86)«1062345678»",
        "86«10-62345678»",
        "0086«10-62345678»",
    ],
    keeps: &[
        "95588",
        "12345",
        "400-810-8888",
        "800 820 8820",
        "+86 400 810 8888",
        "010-1234",
        "0755-01234567",
        "2026-11-20 08:15:30",
        "013812345678",
        "+86 013812345678",
        "0086061068992440",
        "a02161234567",
        "044031900111",
        "051012000111",
        "02112345678",
        "0440-3190 0111",
        "02612345678",
        "0300-1234567",
    ],
};

const LANDLINE_RUNS: u32 = run_lengths(&[10, 11, 12, 13, 14, 15, 16]);

fn may_match(scan: &mut Scan<'_>) -> bool {
    if scan.features.digits < 10 {
        return false;
    }
    let p = scan.prefilter();
    p.has_run(LANDLINE_RUNS) || p.grouped11
}

/// The length of the area code at the start of `d` (without its `0`
/// when `trunk` is false), if it is one.
fn area_len(d: &[u8], trunk: bool) -> Option<usize> {
    let (zero, rest) = if trunk {
        (1, d.strip_prefix(b"0")?)
    } else {
        (0, d)
    };
    match *rest {
        // `026` is reserved (for Taiwan) and in use nowhere.
        [b'1', b'0', ..] | [b'2', b'0'..=b'5' | b'7'..=b'9', ..] => Some(zero + 2),
        // Only codes of a block in use (`area_codes`): `0440…` is an
        // invoice code, and no code starts 40 or 80 (`+86 400 810 8888` is
        // a hotline).
        [a @ b'3'..=b'9', b, c, ..] if area_codes::may_be_three_digit([a, b, c]) => Some(zero + 3),
        _ => None,
    }
}

/// Whether `local` is a local number after an area code `area` digits
/// long (with its `0`).
fn is_local(local: &[u8], area_with_zero: usize) -> bool {
    let ok_len = match area_with_zero {
        3 => local.len() == 8,
        _ => local.len() == 7 || local.len() == 8,
    };
    ok_len && (b'1'..=b'9').contains(&local[0])
}

/// Whether a match begins with its area code's trunk `0`: it does unless
/// it was written after a country code (`+86 10 6234 5678`), which the
/// match leaves out.
fn starts_with_trunk(matched: &[u8]) -> bool {
    matched.iter().find(|b| b.is_ascii_digit()) == Some(&b'0')
}

/// The number as dialled at home: its digits, with the trunk `0` a country
/// code drops (`+86 10 6234 5678` is `01062345678`), so that one number
/// hashes the same however it was written.
fn national(matched: &[u8]) -> Vec<u8> {
    let mut digits = super::registry::digits_only(matched);
    if !starts_with_trunk(matched) {
        digits.insert(0, b'0');
    }
    digits
}

fn find(scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
    let (hay, runs) = scan.hay_and_runs();
    let mut i = 0;
    while i < runs.len() {
        // A number starts with its area code's 0, or with the country code.
        let run = &hay[runs[i].clone()];
        let starts_right = run[0] == b'0' || run.starts_with(b"86");
        if !starts_right
            || run.len() > 16
            || !((10..=13).contains(&run.len())
                || (run.starts_with(b"86") && run.len() == 14)
                || (run.starts_with(b"0086") && run.len() <= 16)
                || joined_to_next(hay, runs, i))
        {
            i += 1;
            continue;
        }
        let found = walk(hay, runs, i, lengths(10, 16), usize::MAX, |step| {
            if step.len < 10 {
                return None;
            }
            let mut digits = [0u8; 32];
            digits[..step.len].copy_from_slice(step.digits());
            let d = &digits[..step.len];
            // A country code (`+86`, `0086`, or `86` as its own group or
            // glued to the area code) and the area code without its `0`,
            // or the area code with it.
            let plus = plus_before(hay, step.whole.start);
            let (country, trunk) = if d.starts_with(b"0086") {
                (4, false)
            } else if d.starts_with(b"86") && d.len() > 2 {
                (2, false)
            } else {
                (0, true)
            };
            let national = &d[country..];
            // After a country code people still write the area code's `0`
            // (`+86 0755-8888 6666`, `+8601062345678`); unbroken and without
            // `+`, `00860…` is more likely some other number.
            let trunk =
                trunk || (national.first() == Some(&b'0') && (plus || step.groups.len() > 1));
            let area = area_len(national, trunk)?;
            let zero = usize::from(!trunk);
            // After a country code of its own, the national number may be
            // unbroken (`+86 1062345678`), also after a trunk `0` of its own
            // (`+86(0)1062345678`).
            let national_unbroken = country > 0 && step.group_ends_at(country) && {
                let first = step.group_around(country);
                first.end == step.len
                    || (trunk && first.len() == 1 && step.group_around(first.end).end == step.len)
            };
            // Or the country code is glued to the area code, which ends
            // the group (`008610-62345678`, `8610-62345678`).
            let glued = step.group_around(0) == (0..country + area);
            let local = national.get(area..)?;
            if !is_local(local, area + zero)
                // Local numbers begin 2-9 (1 is for service numbers):
                // written unbroken and with no country code, one that
                // begins with 1 is some other code (`051012000111`, an
                // invoice code).
                || (country == 0 && step.groups.len() == 1 && local[0] == b'1')
                || (country == 4 && step.groups.len() > 1 && !(step.group_ends_at(4) || glued))
                || (country == 2 && !(plus || step.group_ends_at(2) || glued))
                || !(step.groups.len() == 1
                    || step.group_ends_at(country + area)
                    || national_unbroken)
                || step.min_group_after(country + area) < 3
            {
                return None;
            }
            (left_bounded(hay, step.whole.start) && ends_or_extension(hay, step.whole.end))
                .then(|| (step.offset(country)..step.whole.end, step.last))
        });
        i = keep(out, found, i);
    }
}

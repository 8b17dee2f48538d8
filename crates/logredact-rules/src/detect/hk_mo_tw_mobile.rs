//! `hk_mo_tw_mobile`: Hong Kong, Macau and Taiwan phone numbers written
//! with their country code: `+852 5123 4567`, `00853 6612 3456`,
//! `+886 912 345 678`, `+886-0912-345-678`, `(852) 9123-4567`,
//! `(00852)5123 4567`. Without a
//! country code an eight- or nine-digit number is too weak a sign (order
//! numbers, amounts), so it is not found. The match covers the national
//! number; the country code is left in place.

use std::ops::Range;

use super::groups::{keep, lengths, plus_before, walk};
use super::registry::Builtin;
use super::scan::{run_lengths, Scan};
use super::{ends_or_extension, left_bounded};

pub(super) const DETECTOR: Builtin = Builtin {
    name: "hk_mo_tw_mobile",
    summary: "Hong Kong (+852), Macau (+853) and Taiwan (+886) phone numbers written with the country code",
    keep: (2, 2),
    min_digits: 11,
    in_numbers: false,
    reads_key: false,
    may_match,
    find,
    canonical: |m| super::registry::digits_only(m),
    keep_first_in: super::registry::keep_as_written,
    finds: &[
        "+852 «5123 4567»",
        "+852«91234567»",
        "(852) «9123-4567»",
        "00852-«61234567»",
        "+853 «6612 3456»",
        "+886 «912 345 678»",
        "+886-«0912-345-678»",
        "+886«912345678»",
        "00886«0912345678»",
        "(00852)«51234567»",
        "电话(00853 «66123456»)",
        "+852 «5123 4567»x12",
        "+886«912345678»ext.3",
    ],
    keeps: &[
        "852 51234567",
        "85251234567",
        "+852 1234 5678",
        "+886 812 345 678",
        "+853 12345678",
        "+852 5123 45678",
        "+852 5123 4567y",
    ],
};

const RUNS: u32 = run_lengths(&[11, 12, 13, 14, 15]);

fn may_match(scan: &mut Scan<'_>) -> bool {
    if scan.features.digits < 11 {
        return false;
    }
    let p = scan.prefilter();
    p.has_run(RUNS) || p.grouped11
}

/// Whether `n` is a national number under country code `cc`.
fn is_national(cc: &[u8], n: &[u8]) -> bool {
    match (cc, n.len()) {
        // Hong Kong: eight digits; mobiles start 4-9, fixed lines 2-3.
        (b"852", 8) => (b'2'..=b'9').contains(&n[0]),
        // Macau: eight digits; mobiles start 6, fixed lines 2 and 8.
        (b"853", 8) => matches!(n[0], b'2' | b'6' | b'8'),
        // Taiwan: mobiles are 9 and eight digits, written with or without
        // the domestic trunk 0.
        (b"886", 9) => n[0] == b'9',
        (b"886", 10) => n.starts_with(b"09"),
        _ => false,
    }
}

fn find(scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
    let (hay, runs) = scan.hay_and_runs();
    let mut i = 0;
    while i < runs.len() {
        let start = runs[i].start;
        // The country code is written as one: `+852`, `00852`, `(852)`.
        let plus = plus_before(hay, start);
        let paren = start > 0 && hay[start - 1] == b'(';
        if !plus && !paren && !hay[runs[i].clone()].starts_with(b"00") {
            i += 1;
            continue;
        }
        let found = walk(hay, runs, i, lengths(11, 15), usize::MAX, |step| {
            let mut digits = [0u8; 32];
            digits[..step.len].copy_from_slice(step.digits());
            let d = &digits[..step.len];
            let skip = if d.starts_with(b"00") { 2 } else { 0 };
            if skip == 0 && !plus && !paren {
                return None;
            }
            let cc = d.get(skip..skip + 3)?;
            if !matches!(cc, b"852" | b"853" | b"886") {
                return None;
            }
            let country = skip + 3;
            let national = is_national(cc, &d[country..]);
            // `(852)` is a country code only when the bracket closes right
            // after it; `00852` is one however it is bracketed:
            // `(00852)5123 4567`, `(00853 6612 3456)`.
            if paren
                && skip == 0
                && !(step.group_ends_at(country) && hay.get(step.offset(0) + 3) == Some(&b')'))
            {
                return None;
            }
            // An extension may follow (`x12`, `ext.3`), as after a
            // mainland number.
            (national
                && left_bounded(hay, step.whole.start)
                && ends_or_extension(hay, step.whole.end))
            .then(|| (step.offset(country)..step.whole.end, step.last))
        });
        i = keep(out, found, i);
    }
}

//! `hk_mo_tw_mobile`: Hong Kong, Macau and Taiwan phone numbers written
//! with their country code: `+852 5123 4567`, `00853 6612 3456`,
//! `+886 912 345 678`, `+886-0912-345-678`, `(852) 9123-4567`,
//! `(00852)5123 4567`; Taiwan's fixed lines too (`+886 2 2345 6789`).
//! Without a country code an eight- or nine-digit number is too weak a
//! sign (order numbers, amounts), so it is not found, with one exception:
//! a Taiwan mobile as written at home, `09` and eight digits, grouped the
//! way Taiwan groups it (`0912-345-678`, `0912 345 678`: no mainland
//! number has that shape), or in any grouping of three digits or more in
//! a field named for a phone that holds phone numbers only
//! (`{"tel":"0912345678"}`, `{"phones":"0912345678;0922333444"}`) or
//! right after a word that names one (`tel=0912345678`). The match
//! covers the national number; the country code is left in place.

use std::ops::Range;

use super::context::{listed_next, names_phone, phone_list_field, word_or_list_before};
use super::groups::{keep, lengths, merge_apart, plus_before, walk};
use super::registry::Builtin;
use super::scan::{run_lengths, Scan};
use super::{ends_or_extension, extension_len, left_bounded};

pub(super) const DETECTOR: Builtin = Builtin {
    name: "hk_mo_tw_mobile",
    summary: "Hong Kong (+852), Macau (+853) and Taiwan (+886) phone numbers written with the country code; Taiwan mobiles as written at home (0912-345-678)",
    keep: (2, 2),
    // (A Taiwan mobile written at home.)
    min_digits: 10,
    in_numbers: false,
    reads_key: true,
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
        "886«912345678»",
        "886-«912-345-678»",
        "886 «0912 345 678»",
        "+886 «2 2345 6789»",
        "+886-«4-2345-6789»",
        "+886 «7 123 4567»",
        "台湾手机«0912-345-678»",
        "«0912 345 678»",
        "tel=«0912345678»",
        "\"mobile\":\"«0912 345678»\"",
    ],
    keeps: &[
        "852 51234567",
        "85251234567",
        "886212345678",
        "8860912345678",
        "886 2 2345 6789",
        "8869 1234 5678",
        "+852 1234 5678",
        "+886 812 345 678",
        "+853 12345678",
        "+852 5123 45678",
        "+852 5123 4567y",
        "+886 1 2345 6789",
        "0912345678",
        "order 0912-345678",
        "0912-345-6789",
        "10912-345-678",
    ],
};

const RUNS: u32 = run_lengths(&[11, 12, 13, 14, 15]);

fn may_match(scan: &mut Scan<'_>) -> bool {
    if scan.features.digits < 10 {
        return false;
    }
    let p = scan.prefilter();
    p.has_run(RUNS)
        || p.grouped11
        || (p.has_run(1 << 10) && holds_09(scan.hay))
        || whole_value_may_be_local(scan.hay)
}

/// Whether `09` stands anywhere in `hay`.
fn holds_09(hay: &[u8]) -> bool {
    memchr::memchr_iter(b'0', hay).any(|at| hay.get(at + 1) == Some(&b'9'))
}

/// The longest value read whole as a Taiwan mobile written at home.
const WHOLE_VALUE_MAX: usize = 24;

/// Whether `hay` may be, whole, a Taiwan mobile written at home.
fn whole_value_may_be_local(hay: &[u8]) -> bool {
    hay.len() <= WHOLE_VALUE_MAX && hay.trim_ascii_start().starts_with(b"09")
}

/// Whether `n` is a national number under country code `cc`.
fn is_national(cc: &[u8], n: &[u8]) -> bool {
    match (cc, n.len()) {
        // Hong Kong: eight digits; mobiles start 4-9, fixed lines 2-3.
        (b"852", 8) => (b'2'..=b'9').contains(&n[0]),
        // Macau: eight digits; mobiles start 6, fixed lines 2 and 8.
        (b"853", 8) => matches!(n[0], b'2' | b'6' | b'8'),
        // Taiwan: mobiles are 9 and eight digits, fixed lines eight
        // digits (an area code 3 to 8 and the local number) or nine (2,
        // Taipei, and 4, Taichung and Nantou), each written with or
        // without the domestic trunk 0.
        (b"886", 8) => (b'3'..=b'8').contains(&n[0]),
        (b"886", 9) if n[0] == b'0' => (b'3'..=b'8').contains(&n[1]),
        (b"886", 9) => matches!(n[0], b'2' | b'4' | b'9'),
        (b"886", 10) => matches!(n, [b'0', b'2' | b'4' | b'9', ..]),
        _ => false,
    }
}

/// Whether `rest` begins with a dash extension that ends there: `-` and
/// one to four digits (`-1`, `-801`; `extension_len` reads the mark and
/// the digits).
fn dash_extension(rest: &[u8]) -> bool {
    let len = extension_len(rest);
    rest.first() == Some(&b'-')
        && (2..=5).contains(&len)
        && rest.get(len).is_none_or(|b| !b.is_ascii_alphanumeric())
}

/// A Taiwan mobile written at home, with its trunk `0` and no country
/// code: in Taiwan's grouping (`0912-345-678`, `0912 345 678`) anywhere;
/// in any grouping of three digits or more, perhaps with a dash
/// extension, in a field named for a phone that holds phone numbers only
/// or right after a word that names one. Adds to the matches from `from`
/// on, keeping them in order and apart.
fn taiwan_at_home(
    hay: &[u8],
    runs: &[Range<usize>],
    keys: [&[u8]; 2],
    out: &mut Vec<Range<usize>>,
    from: usize,
) {
    let mut phone_field = None;
    let mut found_all = Vec::new();
    // (A dash joins groups of one number: `123-0912…` and `…678-9` are
    // some longer one.)
    let dash_digit =
        |at: usize| hay.get(at) == Some(&b'-') && hay.get(at + 1).is_some_and(u8::is_ascii_digit);
    let mut i = 0;
    while i < runs.len() {
        let start = runs[i].start;
        if !hay[start..].starts_with(b"09")
            || (start >= 2 && hay[start - 1] == b'-' && hay[start - 2].is_ascii_digit())
        {
            i += 1;
            continue;
        }
        let found = walk(hay, runs, i, 1 << 10, usize::MAX, |step| {
            if !(left_bounded(hay, step.whole.start) && ends_or_extension(hay, step.whole.end))
                || step.min_group_after(0) < 3
            {
                return None;
            }
            // After a dash, only an extension of a number the context
            // names a phone (`0912345678-1`).
            let dashed = dash_digit(step.whole.end);
            if dashed && !dash_extension(&hay[step.whole.end..]) {
                return None;
            }
            let found = (!dashed && step.groups.iter().map(Range::len).eq([4, 3, 3]))
                || *phone_field.get_or_insert_with(|| phone_list_field(hay, keys))
                // In text, right after a word that names a phone
                // (`tel=0912345678`, `"tel":"0912345678"` in a
                // dead-letter record), as `cn_landline` reads a local
                // number, or listed after a number found.
                || word_or_list_before(hay, step.whole.start)
                    .is_some_and(|w| names_phone(&hay[w]))
                || found_all
                    .last()
                    .is_some_and(|m: &Range<usize>| listed_next(hay, m.end, step.whole.start));
            found.then(|| (step.whole.clone(), step.last))
        });
        match found {
            Some((m, last)) => {
                found_all.push(m);
                i = last + 1;
            }
            None => i += 1,
        }
    }
    merge_apart(out, from, found_all);
}

fn find(scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
    let keys = scan.keys;
    let from = out.len();
    let (hay, runs) = scan.hay_and_runs();
    with_country_code(hay, runs, out);
    taiwan_at_home(hay, runs, keys, out, from);
}

fn with_country_code(hay: &[u8], runs: &[Range<usize>], out: &mut Vec<Range<usize>>) {
    let mut i = 0;
    while i < runs.len() {
        let start = runs[i].start;
        // The country code is written as one: `+852`, `00852`, `(852)`.
        let plus = plus_before(hay, start);
        let paren = start > 0 && hay[start - 1] == b'(';
        let run = &hay[runs[i].clone()];
        if !plus && !paren && !run.starts_with(b"00") && !run.starts_with(b"886") {
            i += 1;
            continue;
        }
        let found = walk(hay, runs, i, lengths(11, 15), usize::MAX, |step| {
            let mut digits = [0u8; 32];
            digits[..step.len].copy_from_slice(step.digits());
            let d = &digits[..step.len];
            let skip = if d.starts_with(b"00") { 2 } else { 0 };
            let cc = d.get(skip..skip + 3)?;
            if !matches!(cc, b"852" | b"853" | b"886") {
                return None;
            }
            let country = skip + 3;
            let national = is_national(cc, &d[country..]);
            // `886` alone, with no `+`, only before a mobile, unbroken
            // (`886912345678`) or as a group of its own (`886 0912 345
            // 678`), as `86` before a mainland one.
            let bare_mobile = cc == b"886"
                && match &d[country..] {
                    [b'9', ..] => step.groups.len() == 1 || step.group_ends_at(country),
                    [b'0', b'9', ..] => step.group_ends_at(country),
                    _ => false,
                };
            if skip == 0 && !plus && !paren && !bare_mobile {
                return None;
            }
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

#[cfg(test)]
mod tests {
    use super::super::Detector;
    use super::*;

    #[test]
    fn a_taiwan_mobile_at_home_is_found_under_a_phone_field() {
        let d = Detector::Builtin(&DETECTOR);
        assert_eq!(d.find_in_context(b"0912345678", b"tel"), vec![(0..10)]);
        assert_eq!(
            d.find_in_context(b" 0912 345678 ", b"mobilePhone"),
            vec![(1..12)]
        );
        assert!(d.find_in_context(b"0912345678", b"sku").is_empty());
        assert!(d.find_in_context(b"0912345678a", b"tel").is_empty());
        assert_eq!(d.find_in_context(b"0912345678-1", b"tel"), vec![(0..10)]);
        assert!(d.find_in_context(b"0912345678-12345", b"tel").is_empty());
        assert!(d.find_in_context(b"0912-345-678-9", b"note").is_empty());
        assert!(d
            .find_in_context(b"iPhone 15 SKU 0912345678", b"phoneModel")
            .is_empty());
        assert_eq!(
            d.find_in_context(b"0912345678;0922333444", b"phones"),
            vec![(0..10), (11..21)]
        );
    }
}

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
//! (`95588`, `12345`, `400-810-8888`) stay readable, as they must. The
//! exception is a field whose name says it holds a phone number (`tel`,
//! `officeTel`, `联系电话`: `context::PHONE`) and whose whole value is a
//! local number (`88886666`, `8888-6666`, with an extension after), as
//! forms write it when the area code has a box of its own; or the
//! national number without its `0`, as a JSON number or spreadsheet keeps
//! it (`75588886666`).

use std::ops::Range;

use super::area_codes;
use super::context::{
    list_start, listed_next, names_phone, phone_field, phone_list_field, word_or_list_before,
};
use super::groups::{joined_to_next, keep, lengths, plus_before, walk};
use super::registry::Builtin;
use super::scan::{run_lengths, Scan};
use super::{ends_or_extension, extension_len, left_bounded};

pub(super) const DETECTOR: Builtin = Builtin {
    name: "cn_landline",
    summary: "Mainland fixed-line numbers with an area code (010-12345678, (021)6123 4567, +86 755 8888 6666), extensions allowed",
    keep: (4, 2),
    // (A local number alone, under a field named for a phone.)
    min_digits: 7,
    in_numbers: true,
    reads_key: true,
    may_match,
    find,
    canonical: national,
    keep_first_in: |m, keep_first| {
        let digits = m.iter().filter(|b| b.is_ascii_digit()).count();
        if starts_with_trunk(m) {
            keep_first
        } else if digits <= 8 {
            // A local number alone: at most its first digits that a
            // two-digit area code would have left, so that as many of its
            // digits stay hidden as in `010-6234 5678`.
            keep_first.saturating_sub(1).min(digits.saturating_sub(7))
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
        "联系电话：«8888 6666»",
        "tel=«88886666»",
        "\"officeTel\":\"«6123 4567»\"",
        "\"lxdh\":\"«8888-6666»转801\"",
        "fax: «1062345678»",
        "手机 «755-88886666» ext 12",
        "【联系电话】«88886666»",
        "电话（«88886666»）",
        "Tel. «88886666»",
        "<th>电话</th><td>«88886666»</td>",
        "[tel] => «88886666»",
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
        "hotel 88886666",
        "telemetry 88886666",
        "tel 12345678",
        "电话 95588",
        "phone 8888-6666-12345678",
        "phone 88886666a",
        "phone order 88886666",
        "mobile (2345678 users)",
        "mobile-20261130",
        "<td>订单</td><td>88886666</td>",
    ],
};

const LANDLINE_RUNS: u32 = run_lengths(&[10, 11, 12, 13, 14, 15, 16]);

/// A local number alone, unbroken (`88886666`); broken, it makes
/// `grouped8` (`8888 6666`, `623 4567`).
const LOCAL_RUNS: u32 = run_lengths(&[7, 8]);

fn may_match(scan: &mut Scan<'_>) -> bool {
    if scan.features.digits < 7 {
        return false;
    }
    let p = scan.prefilter();
    (scan.features.digits >= 10 && (p.has_run(LANDLINE_RUNS) || p.grouped11))
        || p.has_run(LOCAL_RUNS)
        || p.grouped8
        || whole_value_number(scan.hay, scan.keys).is_some()
}

/// The number a field named for a phone holds whole, if it does (the
/// value's shape is looked at first: most values are no number at all).
fn whole_value_number(hay: &[u8], keys: [&[u8]; 2]) -> Option<Range<usize>> {
    if hay.len() > WHOLE_VALUE_MAX {
        return None;
    }
    let start = hay.iter().position(|&b| b != b' ')?;
    let last = hay.iter().rposition(|&b| b != b' ')?;
    if !(hay[start].is_ascii_digit() && hay[last].is_ascii_digit()) {
        return None;
    }
    number_alone(hay, start, true).filter(|_| phone_field(keys))
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
    // (A local number alone is hashed as it is.)
    if !starts_with_trunk(matched) && digits.len() > 8 {
        digits.insert(0, b'0');
    }
    digits
}

fn find(scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
    // (`may_match` asked this only when the prefilter saw no number; it
    // is asked twice only of a value that is a phone number, which is
    // rare enough not to carry the answer over.)
    if let Some(number) = whole_value_number(scan.hay, scan.keys) {
        out.push(number);
        return;
    }
    let keys = scan.keys;
    let from = out.len();
    let (hay, runs) = scan.hay_and_runs();
    with_area_code(hay, runs, out);
    after_phone_word(hay, runs, keys, out, from);
}

/// Numbers with their area code (or country code).
fn with_area_code(hay: &[u8], runs: &[Range<usize>], out: &mut Vec<Range<usize>>) {
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

/// Local numbers alone, and national numbers without their `0`, right
/// after a word that names a phone (`context::word_before`, with the
/// signs it reads past: `联系电话：8888 6666`, `tel=88886666`,
/// `"officeTel":"6123 4567"` in text, `Phone No.: 88886666`), or after such a number and a sign that lists it (`电话：
/// 88886666、88886667`), or anywhere in a field named for a phone that
/// holds numbers only (`{"tel":"88886666,88886667"}`), where
/// `with_area_code` found nothing. (`out` stays in order.)
fn after_phone_word(
    hay: &[u8],
    runs: &[Range<usize>],
    keys: [&[u8]; 2],
    out: &mut Vec<Range<usize>>,
    from: usize,
) {
    let found = out.len();
    let mut phone_field = None;
    // (The first match `with_area_code` found that may reach a run: both
    // are in order, so it only moves on.)
    let mut next = from;
    // Where the last number a phone word or field named ended: the next
    // number of its list is named too, however long the list.
    let mut listed_end = None;
    for run in runs {
        while next < found && out[next].end <= run.start {
            next += 1;
        }
        // (A group of three or four begins a local number only when
        // another group follows.)
        let grouped = || matches!(hay.get(run.end..run.end + 2), Some([b' ' | b'-', d]) if d.is_ascii_digit());
        if !(matches!(run.len(), 7 | 8 | 10 | 11) || (matches!(run.len(), 3 | 4) && grouped()))
            || out[..found].get(next).is_some_and(|m| m.start < run.end)
            || out[found..].last().is_some_and(|m| run.start < m.end)
            || !left_bounded(hay, run.start)
        {
            continue;
        }
        // Right after a phone word, perhaps with other numbers of a list
        // between; or in a phone field's list of numbers (its lone number
        // is `whole_value_number`'s; the value's shape first: most values
        // are no such list), where a number begins the value or an item,
        // not a group in the middle of one (`8888-6666-8888-6666`).
        let listed = listed_end.is_some_and(|end| listed_next(hay, end, run.start));
        let word = if listed {
            None
        } else {
            word_or_list_before(hay, run.start)
        };
        let named = listed
            || match word {
                Some(_) => true,
                None => {
                    run.len() < hay.len()
                        && *phone_field.get_or_insert_with(|| phone_list_field(hay, keys))
                        && (hay[..run.start].trim_ascii().is_empty()
                            || list_start(hay, run.start) < run.start)
                }
            };
        if !named {
            continue;
        }
        // (The number's shape first: most runs after a word are none.)
        if let Some(number) = number_alone(hay, run.start, false)
            .filter(|_| word.is_none_or(|w| names_phone(&hay[w])))
        {
            listed_end = Some(number.end);
            out.push(number);
        }
    }
    if out.len() > found {
        out.sort_unstable_by_key(|m| m.start);
    }
}

/// The longest value read whole as a number under a field named for a
/// phone (`0755-88886666 ext 123456` with spaces around it).
const WHOLE_VALUE_MAX: usize = 40;

/// The number that starts at `start`: a local number alone (`88886666`,
/// `8888 6666`, `8888-6666`, `6234567`), or a national number that lost
/// its `0` (`75588886666`, `1062345678`, `755-88886666`), each perhaps with
/// an extension after (`88886666-801`, `88886666转801`, `8888 6666 ext
/// 12`). With `whole`, nothing but spaces may follow (the value of a
/// field named for a phone); else no letter or digit may.
fn number_alone(hay: &[u8], start: usize, whole: bool) -> Option<Range<usize>> {
    // Up to three groups of digits, each after one space or `-`, eleven
    // digits at most in all.
    let mut digits = [0u8; 11];
    let mut len = 0;
    let mut ends = [0usize; 3];
    let mut first_group = 0;
    let mut at = start;
    let mut groups = 0;
    while groups < ends.len() {
        let run = hay[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        if run == 0 || len + run > digits.len() {
            break;
        }
        digits[len..len + run].copy_from_slice(&hay[at..at + run]);
        len += run;
        if groups == 0 {
            first_group = run;
        }
        at += run;
        ends[groups] = len;
        groups += 1;
        match hay.get(at..at + 2) {
            Some([b' ' | b'-', d]) if d.is_ascii_digit() => at += 1,
            _ => break,
        }
    }
    if groups == 0 || len < 7 {
        return None;
    }
    // The number is the first one, two or three groups; what follows is
    // nothing or an extension.
    let mut end = start;
    (0..groups).find_map(|n| {
        // (Past the group and the separator before it.)
        let take = ends[n];
        end += if n == 0 { take } else { 1 + take - ends[n - 1] };
        let d = &digits[..take];
        let local = n <= 1 && (7..=8).contains(&take) && (b'2'..=b'9').contains(&d[0]);
        let lost_zero = (10..=11).contains(&take)
            && area_len(d, false).is_some_and(|area| {
                is_local(&d[area..], area + 1) && (n == 0 || first_group == area)
            });
        if !(local || lost_zero) {
            return None;
        }
        let rest = &hay[end..];
        let rest = &rest[extension_len(rest)..];
        let ends = if whole {
            rest.iter().all(|&b| b == b' ')
        } else {
            rest.first().is_none_or(|&b| !b.is_ascii_alphanumeric())
                && !matches!(rest, [b' ' | b'-', d, ..] if d.is_ascii_digit())
        };
        ends.then_some(start..end)
    })
}

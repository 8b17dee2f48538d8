//! `cn_id`: resident identity numbers (GB 11643-1999), the 15-digit
//! first-generation numbers still in legacy records, and the foreigner
//! permanent-residence ID of 2023 (a leading `9`, then the same layout),
//! unbroken or written in groups (`110105 19491231 002X`).
//!
//! An 18-character number must have a real province code, a real birth date
//! and the right MOD 11-2 check character; a 15-digit one (no check
//! character) a real province and city code and a real date in the 1900s.
//! Where the field's name or the words near it say it is an ID (`idCard`,
//! `sfzh`, `身份证号`), the check character is not asked for, and 17 digits
//! with a real region and date are one whose last character was cut off:
//! an ID mistyped, or failing the check in a log that says so, is still a
//! person's ID, and the 18th character follows from the other 17.

use std::ops::Range;

use super::bounded;
use super::context::context;
use super::groups::{joined_to_next, keep, merge_apart, spelled, spelled_digits, walk};
use super::registry::Builtin;
use super::scan::{run_lengths, Scan};
use crate::bytes::is_separator;

pub(super) const DETECTOR: Builtin = Builtin {
    name: "cn_id",
    summary: "Resident identity numbers: 18 characters with the right check character, 15-digit first-generation numbers, and foreigner permanent-residence IDs",
    keep: (6, 4),
    min_digits: 15,
    in_numbers: true,
    reads_key: true,
    may_match,
    find,
    // (An `X` written as `×` or `Ⅹ` is an `X`: one person's ID hashes
    // alike however its check character was typed.)
    canonical: |m| {
        let mut c = super::registry::alnum_upper(m);
        if c.len() == 17 {
            c.push(b'X');
        }
        c
    },
    keep_first_in: super::registry::keep_as_written,
    finds: &[
        "«11010519491231002X»",
        "身份证«11010519491231002x»已核验",
        "«110105 19491231 002X»",
        "«110105-19491231-002X»",
        "«1101 0519 4912 3100 2X»",
        "legacy «110105491231002»",
        "永居证«911101196503150014»",
        "id=«440524188001010014»&x=1",
        "«110 105 200 501 061 207»",
        "«11010519491231002×»",
        "«11010519491231002Х» (Cyrillic)",
        "身份证号校验失败：«110105194912310021»",
        "身份证号：«11010519491231002»",
        "身份证 «1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 X»",
        "«4-4-0-5-2-4-1-8-8-0-0-1-0-1-0-0-1-4»",
        "SSR FOID MU HK1 NI«440524188001010014»/P1",
        "身份证«1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2X»",
        "2026-11-20 10:00:00 «1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 X»",
    ],
    keeps: &[
        "110105194912310021",
        "order 11010519491231002",
        "A11010519491231002X",
        "911010519491231002X",
        "11010519491231002XY",
        "202611200815301",
        "110105491331002",
        "1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 1",
        "1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 Xa",
        "UNI440524188001010014",
    ],
};

/// Words that say a number is an identity number: in a field's name
/// (`idCard`, `sfzh`, `certNo`) or just before or after it (`身份证号：`).
const KEYWORDS: &[&str] = &[
    "身份证",
    "身份證",
    "sfz",
    "idcard",
    "id_card",
    "idno",
    "id_no",
    "idnumber",
    "id_number",
    "zjh",
    "证件号",
    "證件號",
    "^cert",
    // The term of GB 11643 and of government forms (公民身份号码), its
    // pinyin initials, the word spelled out; an identity's number in
    // English.
    "公民身份",
    "gmsfhm",
    "shenfenzheng",
    "^identity",
];

const ID_RUNS: u32 = run_lengths(&[15, 17, 18]);
/// The same lengths, for chains of groups.
const ID_LENGTHS: u32 = ID_RUNS;

fn may_match(scan: &mut Scan<'_>) -> bool {
    if scan.features.digits < 15 {
        return false;
    }
    let p = scan.prefilter();
    p.has_run(ID_RUNS) || p.grouped16
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// Whether two ASCII digits name a province-level region (GB/T 2260),
/// Hong Kong, Macau and Taiwan included (their residents' residence
/// permits use 81, 82 and 83).
fn is_province(two: &[u8]) -> bool {
    let p = u32::from(two[0] - b'0') * 10 + u32::from(two[1] - b'0');
    matches!(p, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83 | 91)
}

fn number(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
}

/// GB 11643-1999: 17 digits, then a MOD 11-2 check character, with a real
/// birth date in positions 7-14; or the 2023 foreigner permanent-residence
/// ID: `9`, then the province where it was issued, and the same date and
/// check.
pub fn is_valid_cn_id(id: &[u8]) -> bool {
    // The cheap tests first: most 18-digit numbers fail the region or the
    // date.
    has_region_and_date(id) && cn_id_check_char(&id[..17]) == id[17].to_ascii_uppercase()
}

/// Whether 18 characters begin as an ID does: a real region and birth
/// date in their first 14 digits, which a double keeps.
fn has_region_and_date(id: &[u8]) -> bool {
    if id.len() != 18 || !id[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let region = is_province(&id[..2]) || (id[0] == b'9' && is_province(&id[1..3]));
    region && is_real_date(number(&id[6..10]), number(&id[10..12]), number(&id[12..14]))
}

/// The first-generation ID (1984-2004): a six-digit region code, the birth
/// date as `YYMMDD` in the 1900s, and three digits; no check character.
pub fn is_valid_cn_id15(id: &[u8]) -> bool {
    id.len() == 15
        && id.iter().all(u8::is_ascii_digit)
        && is_province(&id[..2])
        && &id[2..4] != b"00"
        && is_real_date(
            1900 + number(&id[6..8]),
            number(&id[8..10]),
            number(&id[10..12]),
        )
}

fn is_real_date(year: u32, month: u32, day: u32) -> bool {
    if !(1800..=2099).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    i64::from(day) <= crate::calendar::days_in_month(i64::from(year), i64::from(month))
}

/// The MOD 11-2 check character for the first 17 digits of an ID.
pub fn cn_id_check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

/// The length of the check character `X` at `at`, as people write it: `X`
/// or `x`, or what they type for it, the multiplication sign `×` and the
/// Roman numeral ten `Ⅹ` `ⅹ`, and the letters that look like it in the
/// Cyrillic and Greek alphabets (`Х` `х`, `Χ` `χ`: a Russian or Greek
/// keyboard layout left on); 0 when there is none. (Only here, after 17
/// digits: folded everywhere, `×` would glue `13812345678×2` into a word.)
fn x_at(hay: &[u8], at: usize) -> usize {
    match hay.get(at..).unwrap_or_default() {
        [b'X' | b'x', ..] => 1,
        // × Χ χ Х х
        [0xc3, 0x97, ..]
        | [0xce, 0xa7, ..]
        | [0xcf, 0x87, ..]
        | [0xd0, 0xa5, ..]
        | [0xd1, 0x85, ..] => 2,
        [0xe2, 0x85, 0xa9 | 0xb9, ..] => 3,
        _ => 0,
    }
}

fn find(scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
    // A number a double held has lost the check character: its region and
    // date are all there is to go by.
    let lost = scan.lost_digits;
    let spared = |m: &Range<usize>| lost.iter().any(|l| l.start <= m.start && m.end <= l.end);
    let keys = scan.keys;
    let from = out.len();
    // (Seventeen characters spelled out span 33 bytes or more.)
    let may_be_spelled = scan.prefilter().grouped16;
    let (hay, runs) = scan.hay_and_runs();
    let mut i = 0;
    while i < runs.len() {
        // Most runs are neither an ID's length nor in groups.
        let len = runs[i].len();
        if len > 18 || (!matches!(len, 15 | 17 | 18) && !joined_to_next(hay, runs, i)) {
            i += 1;
            continue;
        }
        // The longest ID the chain holds: a grouped 18-character ID whose
        // first 15 digits also read as a first-generation one is the 18.
        let mut found = None;
        walk::<()>(hay, runs, i, ID_LENGTHS, usize::MAX, |step| {
            // A real region first, from the first digits alone.
            let (a, b, c) = (step.digit(0), step.digit(1), step.digit(2));
            if !(is_province(&[a, b]) || (a == b'9' && is_province(&[b, c]))) {
                return None;
            }
            let whole = step.whole.clone();
            let last = step.last;
            let d = step.digits();
            let x_len = x_at(hay, whole.end);
            let x_after = x_len > 0;
            // An ID by its region and date alone, where the words around
            // it say it is one.
            let said = |id: &[u8], m: &Range<usize>| {
                has_region_and_date(id) && context(hay, keys, m, KEYWORDS)
            };
            let candidate = match d.len() {
                18 if is_valid_cn_id(d)
                    || (spared(&whole) && has_region_and_date(d))
                    || said(d, &whole) =>
                {
                    whole
                }
                17 => {
                    let mut id = [0u8; 18];
                    id[..17].copy_from_slice(d);
                    id[17] = b'X';
                    let m = whole.start..whole.end + x_len;
                    let ok = if x_after {
                        is_valid_cn_id(&id) || said(&id, &m)
                    } else {
                        // Cut off before its last character.
                        id[17] = cn_id_check_char(d);
                        said(&id, &m)
                    };
                    if !ok {
                        return None;
                    }
                    m
                }
                15 if !x_after && is_valid_cn_id15(d) => whole,
                _ => return None,
            };
            if bounded(hay, &candidate) {
                found = Some((candidate, last));
            }
            None
        });
        i = keep(out, found, i);
    }
    if may_be_spelled {
        spelled_out(hay, runs, out, from);
    }
}

/// An ID spelled out one character at a time, its check character right
/// (`1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 X`: see `groups::spelled`).
fn spelled_out(hay: &[u8], runs: &[Range<usize>], out: &mut Vec<Range<usize>>, from: usize) {
    let mut found = Vec::new();
    for chain in spelled(hay, runs, 17) {
        let (mut id, n) = spelled_digits(hay, runs, &chain);
        let start = runs[chain.start].start;
        let mut end = runs[chain.end - 1].end;
        if n == 17 {
            // Its `X` after the same separators, or glued to the last
            // digit.
            let gap = hay[end..]
                .iter()
                .take(2)
                .take_while(|&&b| is_separator(b))
                .count();
            let x = x_at(hay, end + gap);
            if x == 0 {
                continue;
            }
            id[17] = b'X';
            end += gap + x;
        } else if n != 18 {
            continue;
        }
        let m = start..end;
        if is_valid_cn_id(&id) && bounded(hay, &m) {
            found.push(m);
        }
    }
    merge_apart(out, from, found);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(first17: &str) -> Vec<u8> {
        let mut s = first17.as_bytes().to_vec();
        s.push(cn_id_check_char(first17.as_bytes()));
        s
    }

    #[test]
    fn check_characters() {
        assert!(is_valid_cn_id(b"11010519491231002X"));
        assert!(is_valid_cn_id(b"11010519491231002x"));
        assert!(is_valid_cn_id(b"440524188001010014"));
        assert!(!is_valid_cn_id(b"110105194912310021"));
    }

    #[test]
    fn dates_and_regions() {
        assert!(is_valid_cn_id(&id("11010120000229001"))); // 2000 is a leap year
        assert!(!is_valid_cn_id(&id("11010119000229001"))); // 1900 is not
        assert!(!is_valid_cn_id(&id("11010117990101001"))); // born before 1800
        assert!(!is_valid_cn_id(&id("11010119991301001"))); // month 13
        assert!(!is_valid_cn_id(&id("11010119990431001"))); // 31 April
        assert!(!is_valid_cn_id(&id("11010119990100001"))); // day 0
        assert!(!is_valid_cn_id(&id("20271219391005151"))); // no province 20
        assert!(!is_valid_cn_id(&id("01010119900101001"))); // no province 01
    }

    /// Every province code, in both the resident and the foreigner form.
    #[test]
    fn every_province() {
        let provinces = [
            11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50,
            51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
        ];
        for p in provinces {
            assert!(
                is_valid_cn_id(&id(&format!("{p}0105198801070{p:02}"))),
                "{p}"
            );
            // Foreigner: 9, the province, a three-digit nationality code.
            assert!(
                is_valid_cn_id(&id(&format!("9{p}156198801070{p:02}"))),
                "9{p}"
            );
            assert!(
                is_valid_cn_id15(format!("{p}0105880107005").as_bytes()),
                "{p}"
            );
        }
        for p in [10, 16, 20, 24, 30, 40, 47, 55, 60, 66, 70, 80, 84, 90] {
            assert!(
                !is_valid_cn_id(&id(&format!("{p}0105198801070{p:02}"))),
                "{p}"
            );
            assert!(
                !is_valid_cn_id15(format!("{p}0105880107005").as_bytes()),
                "{p}"
            );
        }
    }

    #[test]
    fn first_generation() {
        assert!(is_valid_cn_id15(b"110105491231002"));
        assert!(!is_valid_cn_id15(b"110105491331002")); // month 13
        assert!(!is_valid_cn_id15(b"110005491231002")); // no city
        assert!(!is_valid_cn_id15(b"110105000229002")); // 1900 is not a leap year
        assert!(is_valid_cn_id15(b"110105960229002"));
    }
}

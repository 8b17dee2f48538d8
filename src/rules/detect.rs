//! Built-in detectors for personal data, and the custom regex detector.
//!
//! Detectors work on bytes and return byte ranges. Built-in ones are written
//! by hand rather than as regexes: they check boundaries, check characters
//! and Luhn sums in one pass over digit runs, and skip text with too few
//! digits without looking further.
//!
//! Boundary rule: a match never starts or ends inside a longer run of ASCII
//! letters or digits. Any other character, Chinese text included, is a
//! boundary.

use std::fmt;
use std::ops::Range;

/// What a mask rule looks for.
#[derive(Debug, Clone)]
pub enum Detector {
    CnId,
    CnMobile,
    BankCard,
    Email,
    Regex(regex::bytes::Regex),
}

/// The names compliance staff write in `detector = "..."`.
pub const DETECTOR_NAMES: &[&str] = &["cn_id", "cn_mobile", "bank_card", "email", "regex"];

impl Detector {
    /// The name used in rule files, metrics and replacement text.
    pub fn name(&self) -> &'static str {
        match self {
            Detector::CnId => "cn_id",
            Detector::CnMobile => "cn_mobile",
            Detector::BankCard => "bank_card",
            Detector::Email => "email",
            Detector::Regex(_) => "regex",
        }
    }

    /// Whether text with these features could hold a match at all.
    pub fn may_match(&self, scan: &mut Scan<'_>) -> bool {
        let f = scan.features;
        match self {
            Detector::CnId => f.digits >= 17 && scan.stats().longest_run >= 17,
            Detector::CnMobile => f.digits >= 11 && scan.stats().longest_chain >= 11,
            Detector::BankCard => f.digits >= 15 && scan.stats().longest_chain >= 15,
            Detector::Email => f.has_at,
            Detector::Regex(_) => true,
        }
    }

    /// Appends the ranges of every match in the text, left to right,
    /// without overlap.
    pub fn find(&self, scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
        let hay = scan.hay;
        match self {
            Detector::CnId => find_cn_id(hay, scan.runs(), out),
            Detector::CnMobile => find_cn_mobile(hay, scan.runs(), out),
            Detector::BankCard => find_bank_card(hay, scan.runs(), out),
            Detector::Email => find_email(hay, out),
            Detector::Regex(re) => out.extend(
                re.find_iter(hay)
                    .filter(|m| !m.is_empty())
                    .map(|m| m.range()),
            ),
        }
    }

    /// Convenience for tests and one-off checks: finds matches in `hay`.
    pub fn find_in(&self, hay: &[u8]) -> Vec<Range<usize>> {
        let mut runs = Vec::new();
        let mut scan = Scan::new(hay, Features::of(hay), &mut runs);
        let mut out = Vec::new();
        self.find(&mut scan, &mut out);
        out
    }

    /// The canonical form of a match, so that one person's value hashes the
    /// same however it was written: digits only, `X` upper-cased, e-mail
    /// lower-cased.
    pub fn normalize(&self, matched: &[u8]) -> Vec<u8> {
        match self {
            Detector::CnId => matched.to_ascii_uppercase(),
            Detector::CnMobile | Detector::BankCard => {
                matched.iter().copied().filter(u8::is_ascii_digit).collect()
            }
            Detector::Email => matched.to_ascii_lowercase(),
            Detector::Regex(_) => matched.to_vec(),
        }
    }
}

impl fmt::Display for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One text prepared for scanning: its features and, once a digit
/// detector asks, its digit runs. Shared by every detector.
pub struct Scan<'h> {
    pub hay: &'h [u8],
    pub features: Features,
    runs: &'h mut Vec<Range<usize>>,
    stats: Option<RunStats>,
}

/// How long the digit runs of a text get: enough to rule out the digit
/// detectors for most texts (timestamps, user agents) without running them.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunStats {
    /// The longest run of digits.
    pub longest_run: usize,
    /// The most digits in runs joined by single spaces or dashes (a run on
    /// its own counts too).
    pub longest_chain: usize,
}

impl<'h> Scan<'h> {
    /// `runs` is a reusable buffer.
    pub fn new(hay: &'h [u8], features: Features, runs: &'h mut Vec<Range<usize>>) -> Scan<'h> {
        Scan {
            hay,
            features,
            runs,
            stats: None,
        }
    }

    /// Maximal runs of ASCII digits, computed on first use.
    fn runs(&mut self) -> &[Range<usize>] {
        self.stats();
        self.runs
    }

    /// The runs' lengths, computed with the runs on first use.
    pub fn stats(&mut self) -> RunStats {
        if let Some(stats) = self.stats {
            return stats;
        }
        collect_digit_runs(self.hay, self.runs);
        let mut stats = RunStats::default();
        let mut chain = 0;
        for (i, run) in self.runs.iter().enumerate() {
            let joined = i > 0 && {
                let prev = &self.runs[i - 1];
                run.start == prev.end + 1 && matches!(self.hay[prev.end], b' ' | b'-')
            };
            chain = if joined { chain + run.len() } else { run.len() };
            stats.longest_run = stats.longest_run.max(run.len());
            stats.longest_chain = stats.longest_chain.max(chain);
        }
        self.stats = Some(stats);
        stats
    }
}

/// Cheap facts about a text, computed once and shared by all detectors.
#[derive(Debug, Clone, Copy, Default)]
pub struct Features {
    /// Count of ASCII digits.
    pub digits: usize,
    /// Whether the text holds an `@`.
    pub has_at: bool,
    /// Whether the text holds a `%` (it may be URL-encoded).
    pub has_percent: bool,
}

impl Features {
    /// One pass, in chunks small enough for byte counters.
    pub fn of(hay: &[u8]) -> Features {
        let mut f = Features::default();
        for chunk in hay.chunks(128) {
            let (mut digits, mut at, mut percent) = (0u8, 0u8, 0u8);
            for &b in chunk {
                digits += u8::from(b.wrapping_sub(b'0') < 10);
                at |= u8::from(b == b'@');
                percent |= u8::from(b == b'%');
            }
            f.digits += usize::from(digits);
            f.has_at |= at != 0;
            f.has_percent |= percent != 0;
        }
        f
    }

    /// Whether no built-in detector could match text like this, even after
    /// URL-decoding it.
    pub fn nothing_to_find(&self) -> bool {
        self.digits < 11 && !self.has_at && !self.has_percent
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// True when no ASCII letter or digit touches `range` on either side.
fn bounded(hay: &[u8], range: &Range<usize>) -> bool {
    let before_ok = range.start == 0 || !is_word(hay[range.start - 1]);
    let after_ok = range.end == hay.len() || !is_word(hay[range.end]);
    before_ok && after_ok
}

/// Whether any of the 8 bytes in `w` is an ASCII digit (SWAR: each byte
/// of `w ^ 0x30..` below 10 means a digit; tested with carries kept within
/// bytes).
#[inline]
fn has_digit(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = w ^ (ONES * 0x30); // digits become 0..=9 in their byte
                               // A byte below 10: (x + 0x76) has no carry into bit 7 and x < 0x80.
    let below_10 = !(((x & !HIGH) + ONES * 0x76) | x) & HIGH;
    below_10 != 0
}

/// Maximal runs of ASCII digits, into `out` (cleared first).
fn collect_digit_runs(hay: &[u8], out: &mut Vec<Range<usize>>) {
    out.clear();
    let mut i = 0;
    let n = hay.len();
    loop {
        while i + 8 <= n
            && !has_digit(u64::from_le_bytes(
                hay[i..i + 8].try_into().expect("eight bytes"),
            ))
        {
            i += 8;
        }
        while i < n && !hay[i].is_ascii_digit() {
            i += 1;
        }
        if i >= n {
            return;
        }
        let start = i;
        while i < n && hay[i].is_ascii_digit() {
            i += 1;
        }
        out.push(start..i);
    }
}

/// Maximal runs of ASCII digits, as ranges.
#[cfg(test)]
fn digit_runs(hay: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        // Skip digit-free text eight bytes at a time.
        while i + 8 <= hay.len() {
            let w = u64::from_le_bytes(hay[i..i + 8].try_into().expect("eight bytes"));
            if has_digit(w) {
                break;
            }
            i += 8;
        }
        while i < hay.len() && !hay[i].is_ascii_digit() {
            i += 1;
        }
        if i >= hay.len() {
            return None;
        }
        let start = i;
        while i < hay.len() && hay[i].is_ascii_digit() {
            i += 1;
        }
        Some(start..i)
    })
}

// ---------------------------------------------------------------- cn_id

const CN_ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CN_ID_CHECK: &[u8; 11] = b"10X98765432";

/// GB 11643-1999: 17 digits, then a MOD 11-2 check character, with a real
/// birth date in positions 7-14.
pub fn is_valid_cn_id(id: &[u8]) -> bool {
    if id.len() != 18 || !id[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    // The first two digits name a province-level region.
    let province = u32::from(id[0] - b'0') * 10 + u32::from(id[1] - b'0');
    if !matches!(province, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83 | 91)
    {
        return false;
    }
    let num = |r: Range<usize>| {
        id[r]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    if !is_real_date(num(6..10), num(10..12), num(12..14)) {
        return false;
    }
    cn_id_check_char(&id[..17]) == id[17].to_ascii_uppercase()
}

/// The MOD 11-2 check character for the first 17 digits of an ID.
pub fn cn_id_check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(CN_ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CN_ID_CHECK[(sum % 11) as usize]
}

fn is_real_date(year: u32, month: u32, day: u32) -> bool {
    if !(1800..=2099).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

fn find_cn_id(hay: &[u8], runs: &[Range<usize>], out: &mut Vec<Range<usize>>) {
    for run in runs.iter().cloned() {
        let candidate = match run.len() {
            18 => run,
            17 if run.end < hay.len() && matches!(hay[run.end], b'X' | b'x') => {
                run.start..run.end + 1
            }
            _ => continue,
        };
        if bounded(hay, &candidate) && is_valid_cn_id(&hay[candidate.clone()]) {
            out.push(candidate);
        }
    }
}

// ------------------------------------------------------------ cn_mobile

fn is_mobile(digits: &[u8]) -> bool {
    digits.len() == 11 && digits[0] == b'1' && (b'3'..=b'9').contains(&digits[1])
}

/// Mainland mobile numbers: `13812345678`, `+86 138 1234 5678`,
/// `0086-13812345678`. The match covers the national number; the country
/// prefix is left in place.
fn find_cn_mobile(hay: &[u8], runs: &[Range<usize>], out: &mut Vec<Range<usize>>) {
    let mut i = 0;
    while i < runs.len() {
        let run = runs[i].clone();
        let text = &hay[run.clone()];
        // One unbroken run, possibly with the country code glued on.
        let plus_before = run.start > 0 && hay[run.start - 1] == b'+';
        let national = match text.len() {
            11 => Some(run.clone()),
            13 if plus_before && text.starts_with(b"86") => Some(run.start + 2..run.end),
            15 if text.starts_with(b"0086") => Some(run.start + 4..run.end),
            _ => None,
        };
        if let Some(national) = national {
            if bounded(hay, &run) && is_mobile(&hay[national.clone()]) {
                out.push(national);
            }
            i += 1;
            continue;
        }
        // 3-4-4 groups joined by one space or dash: `138 1234 5678`.
        if text.len() == 3 && i + 2 < runs.len() {
            let (b, c) = (runs[i + 1].clone(), runs[i + 2].clone());
            let whole = run.start..c.end;
            if b.len() == 4
                && c.len() == 4
                && single_separator(hay, run.end, b.start)
                && single_separator(hay, b.end, c.start)
                && hay[run.end] == hay[b.end]
                && bounded(hay, &whole)
            {
                let mut digits = [0u8; 11];
                digits[..3].copy_from_slice(text);
                digits[3..7].copy_from_slice(&hay[b.clone()]);
                digits[7..].copy_from_slice(&hay[c.clone()]);
                if is_mobile(&digits) {
                    out.push(whole);
                    i += 3;
                    continue;
                }
            }
        }
        i += 1;
    }
}

fn single_separator(hay: &[u8], end: usize, next_start: usize) -> bool {
    next_start == end + 1 && matches!(hay[end], b' ' | b'-')
}

// ------------------------------------------------------------ bank_card

/// The Luhn (mod 10) check over ASCII digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// Whether card-length digits are shaped like a card an issuer would hand
/// out, by length and leading digits (ISO/IEC 7812 issuer prefixes). This
/// keeps Luhn's one-in-ten false positives off most order numbers and ids;
/// where a number is a plausible card, it is masked (fail closed).
fn plausible_card(digits: &[u8]) -> bool {
    let starts = |p: &[u8]| digits.starts_with(p);
    let prefix4 = || {
        digits[..4]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    match digits.len() {
        // American Express
        15 => starts(b"34") || starts(b"37"),
        // Visa, Mastercard (also its 2221-2720 range), UnionPay, JCB,
        // Discover. Date-prefixed numbers like 2026... are not cards.
        16 => (b'3'..=b'6').contains(&digits[0]) || (2221..=2720).contains(&prefix4()),
        // UnionPay
        17 | 18 => starts(b"62"),
        // Visa, Maestro, UnionPay, JCB
        19 => (b'3'..=b'6').contains(&digits[0]),
        _ => false,
    }
}

/// 15-19 digits passing Luhn with a plausible issuer prefix, unbroken or in
/// groups of 3-6 joined by one space or dash (`6222 0212 3456 7890`).
fn find_bank_card(hay: &[u8], runs: &[Range<usize>], out: &mut Vec<Range<usize>>) {
    let mut buf = [0u8; 19];
    let mut i = 0;
    while i < runs.len() {
        let run = runs[i].clone();
        if (15..=19).contains(&run.len()) {
            let d = &hay[run.clone()];
            if bounded(hay, &run) && plausible_card(d) && luhn_valid(d) {
                out.push(run);
            }
            i += 1;
            continue;
        }
        // Groups of 1-6 digits joined by one consistent separator: find the
        // longest chain starting here that is a card. A chain that also
        // holds other numbers ("6222 0212 3456 7890 12") still yields the card.
        let mut best = None;
        let mut len = 0;
        let mut j = i;
        while j < runs.len() && runs[j].len() <= 6 {
            if j > i
                && !(single_separator(hay, runs[j - 1].end, runs[j].start)
                    && hay[runs[j - 1].end] == hay[run.end])
            {
                break;
            }
            let group = &hay[runs[j].clone()];
            if len + group.len() > buf.len() {
                break;
            }
            buf[len..len + group.len()].copy_from_slice(group);
            len += group.len();
            let digits = &buf[..len];
            let whole = run.start..runs[j].end;
            if j > i
                && digits.len() >= 15
                && bounded(hay, &whole)
                && plausible_card(digits)
                && luhn_valid(digits)
            {
                best = Some((whole, j));
            }
            j += 1;
        }
        match best {
            Some((whole, last)) => {
                out.push(whole);
                i = last + 1;
            }
            None => i += 1,
        }
    }
}

// ---------------------------------------------------------------- email

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// `local@domain.tld`, with a top-level domain of two or more letters.
fn find_email(hay: &[u8], out: &mut Vec<Range<usize>>) {
    let mut from = 0;
    while let Some(off) = memchr::memchr(b'@', &hay[from..]) {
        let at = from + off;
        from = at + 1;
        let mut start = at;
        while start > 0 && is_local_char(hay[start - 1]) {
            start -= 1;
        }
        while start < at && hay[start] == b'.' {
            start += 1;
        }
        if start == at || out.last().is_some_and(|m| m.end > start) {
            continue;
        }
        let mut end = at + 1;
        while end < hay.len() && is_domain_char(hay[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(hay[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &hay[at + 1..end];
        let Some(dot) = domain.iter().rposition(|&b| b == b'.') else {
            continue;
        };
        let tld = &domain[dot + 1..];
        let labels_ok = domain
            .split(|&b| b == b'.')
            .all(|l| !l.is_empty() && l[0] != b'-' && l[l.len() - 1] != b'-');
        if tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic) && labels_ok {
            out.push(start..end);
            from = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(d: &Detector, text: &str) -> Vec<String> {
        d.find_in(text.as_bytes())
            .into_iter()
            .map(|r| text[r].to_owned())
            .collect()
    }

    #[test]
    fn swar_digit_test_agrees_with_the_plain_one() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut bytes = [b'a'; 8];
                bytes[pos] = b;
                assert_eq!(
                    has_digit(u64::from_le_bytes(bytes)),
                    b.is_ascii_digit(),
                    "byte {b} at {pos}"
                );
            }
        }
        let mut runs = Vec::new();
        collect_digit_runs(b"abcdefghijkl1234567890xyzxyzxyz9", &mut runs);
        assert_eq!(runs, [12..22, 31..32]);
        let text = b"a1 22 333 4444 x 55555 666666 ";
        collect_digit_runs(text, &mut runs);
        assert_eq!(runs, digit_runs(text).collect::<Vec<_>>());
    }

    #[test]
    fn cn_id_accepts_valid_check_characters() {
        assert!(is_valid_cn_id(b"11010519491231002X"));
        assert!(is_valid_cn_id(b"11010519491231002x"));
        assert!(is_valid_cn_id(b"440524188001010014"));
    }

    #[test]
    fn cn_id_rejects_wrong_check_and_unreal_dates() {
        assert!(!is_valid_cn_id(b"110105194912310021")); // wrong check character
        let id = |first17: &str| {
            let mut s = first17.as_bytes().to_vec();
            s.push(cn_id_check_char(first17.as_bytes()));
            s
        };
        assert!(is_valid_cn_id(&id("11010120000229001"))); // 2000 is a leap year
        assert!(!is_valid_cn_id(&id("11010119000229001"))); // 1900 is not
        assert!(!is_valid_cn_id(&id("11010117990101001"))); // born before 1800
        assert!(!is_valid_cn_id(&id("11010119991301001"))); // month 13
        assert!(!is_valid_cn_id(&id("11010119990431001"))); // 31 April
        assert!(!is_valid_cn_id(&id("11010119990100001"))); // day 0
        assert!(!is_valid_cn_id(&id("20271219391005151"))); // no province 20
        assert!(!is_valid_cn_id(&id("01010119900101001"))); // no province 01
    }

    #[test]
    fn cn_id_in_text_and_at_boundaries() {
        let d = Detector::CnId;
        assert_eq!(
            found(&d, "身份证11010519491231002X已核验"),
            ["11010519491231002X"]
        );
        assert_eq!(
            found(&d, "id=11010519491231002x&x=1"),
            ["11010519491231002x"]
        );
        assert!(found(&d, "A11010519491231002X").is_empty());
        assert!(found(&d, "911010519491231002X").is_empty());
        assert!(found(&d, "11010519491231002XY").is_empty());
        // An order number whose check character is wrong stays.
        assert!(found(&d, "order 110105194912310021").is_empty());
    }

    #[test]
    fn cn_mobile_forms() {
        let d = Detector::CnMobile;
        assert_eq!(found(&d, "13812345678"), ["13812345678"]);
        assert_eq!(found(&d, "电话13812345678谢谢"), ["13812345678"]);
        assert_eq!(found(&d, "+8613912345678"), ["13912345678"]);
        assert_eq!(found(&d, "+86 15912345678"), ["15912345678"]);
        assert_eq!(found(&d, "0086-18612345678"), ["18612345678"]);
        assert_eq!(found(&d, "008618612345678"), ["18612345678"]);
        assert_eq!(found(&d, "call 138 1234 5678 now"), ["138 1234 5678"]);
        assert_eq!(found(&d, "138-1234-5678"), ["138-1234-5678"]);
    }

    #[test]
    fn cn_mobile_respects_boundaries() {
        let d = Detector::CnMobile;
        assert!(found(&d, "12812345678").is_empty()); // second digit 2
        assert!(found(&d, "1700000000000").is_empty()); // epoch millis
        assert!(found(&d, "x13812345678").is_empty());
        assert!(found(&d, "138123456789").is_empty());
        assert!(found(&d, "138 1234-5678").is_empty()); // mixed separators
        assert!(found(&d, "8613812345678").is_empty()); // 86 without +
    }

    #[test]
    fn luhn_edge_cases() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(luhn_valid(b"6222021234567890128"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert!(luhn_valid(b"378282246310005")); // 15-digit Amex test number
        assert!(luhn_valid(b"0000000000000000"));
    }

    #[test]
    fn bank_card_forms_and_decoys() {
        let d = Detector::BankCard;
        assert_eq!(found(&d, "card 4111111111111111."), ["4111111111111111"]);
        assert_eq!(
            found(&d, "卡号4111 1111 1111 1111"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(found(&d, "4111-1111-1111-1111"), ["4111-1111-1111-1111"]);
        assert_eq!(found(&d, "3782 822463 10005"), ["3782 822463 10005"]);
        assert_eq!(found(&d, "6222021234567890128"), ["6222021234567890128"]);
        // A 16-digit trace id that fails Luhn stays.
        assert!(found(&d, "trace=4111111111111112").is_empty());
        assert!(found(&d, "4111 1111-1111 1111").is_empty());
        assert_eq!(
            found(&d, "卡 4111 1111 1111 1111 12 次"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(
            found(&d, "6210-0132-3269-1821-6"),
            ["6210-0132-3269-1821-6"]
        );
        assert!(found(&d, "41111111111111110000").is_empty()); // 20 digits
        assert!(found(&d, "2024-11-24 10:00").is_empty());
        // Luhn-valid, but no issuer hands out these.
        assert!(found(&d, "0000000000000000").is_empty());
        assert!(found(&d, "9111111111111113").is_empty());
        // An 18-digit order number that passes Luhn is no card unless a
        // card issuer could have printed it.
        assert!(luhn_valid(b"650102199806181391"));
        assert!(found(&d, "650102199806181391").is_empty());
        assert!(luhn_valid(b"2026112008153016"));
        assert!(found(&d, "2026112008153016").is_empty());
        assert_eq!(found(&d, "2221000000000009"), ["2221000000000009"]);
        assert_eq!(found(&d, "622202123456789012"), ["622202123456789012"]);
    }

    #[test]
    fn email_forms() {
        let d = Detector::Email;
        assert_eq!(
            found(&d, "mail alice.w+x@example.com.cn, ok"),
            ["alice.w+x@example.com.cn"]
        );
        assert_eq!(
            found(&d, "联系zhang_san@mail.qq.com谢谢"),
            ["zhang_san@mail.qq.com"]
        );
        assert_eq!(found(&d, "a@b.co and c@d.org"), ["a@b.co", "c@d.org"]);
        assert!(found(&d, "user@localhost").is_empty());
        assert!(found(&d, "@example.com").is_empty());
        assert!(found(&d, "x@y.c0m").is_empty());
    }

    #[test]
    fn normalize_makes_forms_equal() {
        assert_eq!(
            Detector::CnMobile.normalize(b"138 1234 5678"),
            b"13812345678"
        );
        assert_eq!(
            Detector::CnId.normalize(b"11010519491231002x"),
            b"11010519491231002X"
        );
        assert_eq!(Detector::Email.normalize(b"A@B.COM"), b"a@b.com");
    }
}

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

use super::bytes::{classes, tail_classes, Classes};

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
            Detector::CnId => f.digits >= 17 && scan.prefilter().cn_id_shape,
            Detector::CnMobile => f.digits >= 11 && scan.prefilter().mobile_shape,
            Detector::BankCard => f.digits >= 15 && scan.prefilter().card_shape,
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
        let mut buffers = ScanBuffers::default();
        let features = buffers.profile(hay);
        let mut scan = Scan::new(hay, features, &mut buffers);
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

/// One text prepared for scanning: its features, its byte classes and,
/// once a digit detector asks, its digit runs. Shared by every detector.
pub struct Scan<'h> {
    pub hay: &'h [u8],
    pub features: Features,
    buffers: &'h mut ScanBuffers,
    runs_ready: bool,
    prefilter: Option<Prefilter>,
}

/// Buffers a [`Scan`] works in, reused from value to value.
#[derive(Debug, Default)]
pub struct ScanBuffers {
    /// Digit and separator masks of the last text profiled, 64 bytes each.
    blocks: Vec<Block>,
    runs: Vec<Range<usize>>,
}

/// Bit `i` stands for byte `i` of a 64-byte block.
#[derive(Debug, Clone, Copy, Default)]
struct Block {
    digits: u64,
    separators: u64,
}

impl ScanBuffers {
    /// Classifies every byte of `hay` in one pass, sixteen bytes at a time,
    /// keeping the masks a [`Scan`] of `hay` reads. Returns its features.
    pub fn profile(&mut self, hay: &[u8]) -> Features {
        let mut profiler = Profiler::start(self);
        let mut rest = hay;
        while let Some((chunk, after)) = rest.split_first_chunk::<16>() {
            profiler.add(self, classes(chunk));
            rest = after;
        }
        if !rest.is_empty() {
            profiler.add(self, tail_classes(hay, hay.len() - rest.len()));
        }
        profiler.finish(self, hay.len())
    }

    /// 64 bits of a mask from byte `start` on (a multiple of 32).
    fn window(&self, start: usize, mask: impl Fn(&Block) -> u64) -> u64 {
        let i = start / 64;
        let low = self.blocks.get(i).map_or(0, &mask);
        if start % 64 == 0 {
            return low;
        }
        let high = self.blocks.get(i + 1).map_or(0, &mask);
        (low >> 32) | (high << 32)
    }
}

/// Builds the profile of a text in [`ScanBuffers`] from the classes of its
/// 16-byte chunks, in order; the tokenizer uses it to classify a string's
/// bytes as it looks for the string's end. The block being built stays in
/// registers.
pub(crate) struct Profiler {
    block: Block,
    offset: usize,
    digits: usize,
    at: u16,
    percent: u16,
}

impl Profiler {
    #[inline]
    pub(crate) fn start(buffers: &mut ScanBuffers) -> Profiler {
        buffers.blocks.clear();
        Profiler {
            block: Block::default(),
            offset: 0,
            digits: 0,
            at: 0,
            percent: 0,
        }
    }

    /// Adds the next chunk's classes; no class bits may be set past the
    /// text's end.
    #[inline]
    pub(crate) fn add(&mut self, buffers: &mut ScanBuffers, c: Classes) {
        let shift = self.offset % 64;
        self.block.digits |= u64::from(c.digits) << shift;
        self.block.separators |= u64::from(c.separators) << shift;
        self.at |= c.at;
        self.percent |= c.percent;
        self.offset += 16;
        if self.offset % 64 == 0 {
            self.digits += self.block.digits.count_ones() as usize;
            buffers.blocks.push(std::mem::take(&mut self.block));
        }
    }

    /// Ends the profile of a text `len` bytes long.
    #[inline]
    pub(crate) fn finish(self, buffers: &mut ScanBuffers, len: usize) -> Features {
        let blocks = len.div_ceil(64);
        let mut digits = self.digits;
        if buffers.blocks.len() < blocks {
            digits += self.block.digits.count_ones() as usize;
            buffers.blocks.push(self.block);
        }
        // A text that ends on a block's edge may have pushed an empty one.
        buffers.blocks.truncate(blocks);
        Features {
            digits,
            has_at: self.at != 0,
            has_percent: self.percent != 0,
        }
    }
}

/// Shapes of digits the digit detectors need, found without listing the
/// runs: enough to rule those detectors out for most texts (timestamps,
/// trace ids, user agents, versions) without running them. Each is a
/// necessary condition for a match, never a sufficient one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefilter {
    /// A run of exactly 17 or 18 digits (`cn_id`).
    pub cn_id_shape: bool,
    /// A run of exactly 11, 13 (`+86`) or 15 (`0086`) digits, or digits in
    /// 3-4-4 groups joined by separators (`cn_mobile`).
    pub mobile_shape: bool,
    /// A run of 15 to 19 digits, or groups of at most 6 digits joined by
    /// single separators over 15 bytes or more (`bank_card`).
    pub card_shape: bool,
}

impl Prefilter {
    /// From the digit and separator masks of 64-byte windows that overlap
    /// by half: every shape above is under 32 bytes long (with the byte
    /// either side), so each one falls whole inside a window. At a window's
    /// edge a run may look shorter than it is, which only lets a detector
    /// run that finds nothing.
    fn of(hay: &[u8], buffers: &ScanBuffers) -> Prefilter {
        let mut found = Prefilter::default();
        let mut start = 0;
        loop {
            let digits = buffers.window(start, |b| b.digits);

            // Bit i is byte i: `<< 1` looks at the byte before, `>> 1` after.
            // r<k>: bit i set when bytes i..i+k are all digits.
            let d = digits;
            let r2 = d & (d >> 1);
            let r4 = r2 & (r2 >> 2);
            let r8 = r4 & (r4 >> 4);
            let r11 = r8 & (r2 >> 8) & (d >> 10);
            if r11 != 0 {
                // Runs of 11 and more: keep where runs of each length start.
                let lead = !(d << 1);
                let r12 = r11 & (d >> 11);
                let r13 = r12 & (d >> 12);
                let r14 = r13 & (d >> 13);
                let r15 = r14 & (d >> 14);
                let r16 = r8 & (r8 >> 8);
                let r17 = r16 & (d >> 16);
                let r18 = r17 & (d >> 17);
                let r19 = r18 & (d >> 18);
                let r20 = r16 & (r4 >> 16);
                let exactly = |run: u64, longer: u64| run & !longer & lead;
                found.cn_id_shape |= (exactly(r17, r18) | exactly(r18, r19)) != 0;
                found.mobile_shape |=
                    (exactly(r11, r12) | exactly(r13, r14) | exactly(r15, r16)) != 0;
                found.card_shape |= exactly(r15, r20) != 0;
            }
            let separators = buffers.window(start, |b| b.separators);
            let joined = separators & (digits << 1) & (digits >> 1);
            if joined != 0 {
                // 3-4-4 groups: three digits, a separator, four, a
                // separator, four.
                let three = digits & (digits >> 1) & (digits >> 2);
                let four = three & (digits >> 3);
                let grouped = three & (joined >> 3) & (four >> 4) & (joined >> 8) & (four >> 9);
                found.mobile_shape |= grouped != 0;
                // Digits in runs of at most 6, and the separators joining
                // them, over 15 bytes in a row.
                let mut long = four & (digits >> 4) & (digits >> 5) & (digits >> 6);
                long |= long << 1;
                long |= long << 2;
                long |= long << 3;
                let short = digits & !long;
                let groups = short | (separators & (short << 1) & (short >> 1));
                found.card_shape |= ones_in_a_row(groups, 15);
            }
            if start + 64 >= hay.len() {
                return found;
            }
            start += 32;
        }
    }
}

/// Whether `mask` holds `k` set bits in a row: after each step, bit i stays
/// set only if the `have` bits from i up are all set.
fn ones_in_a_row(mut mask: u64, k: u32) -> bool {
    let mut have = 1;
    while have < k && mask != 0 {
        let step = have.min(k - have);
        mask &= mask >> step;
        have += step;
    }
    mask != 0
}

impl<'h> Scan<'h> {
    /// A scan of `hay`, which `buffers` last profiled (giving `features`).
    pub fn new(hay: &'h [u8], features: Features, buffers: &'h mut ScanBuffers) -> Scan<'h> {
        debug_assert_eq!(buffers.blocks.len(), hay.len().div_ceil(64));
        Scan {
            hay,
            features,
            buffers,
            runs_ready: false,
            prefilter: None,
        }
    }

    /// Maximal runs of ASCII digits, computed on first use.
    fn runs(&mut self) -> &[Range<usize>] {
        if !self.runs_ready {
            let ScanBuffers { blocks, runs, .. } = &mut *self.buffers;
            collect_digit_runs(self.hay.len(), blocks, runs);
            self.runs_ready = true;
        }
        &self.buffers.runs
    }

    /// The digit shapes, computed on first use.
    pub fn prefilter(&mut self) -> Prefilter {
        match self.prefilter {
            Some(p) => p,
            None => *self.prefilter.insert(Prefilter::of(self.hay, self.buffers)),
        }
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
    /// One pass, sixteen bytes at a time (see [`ScanBuffers::profile`]).
    pub fn of(hay: &[u8]) -> Features {
        ScanBuffers::default().profile(hay)
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

/// Maximal runs of ASCII digits of a text `len` bytes long, into `out`
/// (cleared first), read off its digit masks.
fn collect_digit_runs(len: usize, blocks: &[Block], out: &mut Vec<Range<usize>>) {
    out.clear();
    let mut start = None;
    for (index, block) in blocks.iter().enumerate() {
        let base = index * 64;
        let n = (len - base).min(64);
        // Bits past the text's end are zero.
        let mask = block.digits;
        let mut bit = 0;
        while bit < n {
            let rest = mask >> bit;
            match start {
                Some(s) => {
                    bit += rest.trailing_ones() as usize;
                    if bit < n {
                        out.push(s..base + bit);
                        start = None;
                    }
                }
                None => {
                    bit += (rest.trailing_zeros() as usize).min(n - bit);
                    if bit < n {
                        start = Some(base + bit);
                    }
                }
            }
        }
    }
    if let Some(s) = start {
        out.push(s..len);
    }
}

/// Maximal runs of ASCII digits, as ranges.
#[cfg(test)]
fn digit_runs(hay: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
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
    // Every second digit from the right is doubled, its digits summed.
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    // Two digits a step, from the right: the right one as it is, the left
    // one doubled. An odd count leaves the first digit, not doubled.
    let mut pairs = digits.rchunks_exact(2);
    let mut sum = 0u32;
    for pair in &mut pairs {
        sum += DOUBLED[usize::from(pair[0] - b'0')] + u32::from(pair[1] - b'0');
    }
    if let [first] = pairs.remainder() {
        sum += u32::from(first - b'0');
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

/// Byte classes of e-mail addresses, as a table: bit 0 for the local part,
/// bit 1 for the domain.
const EMAIL_CHARS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        if alnum || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-') {
            table[b] |= 1;
        }
        if alnum || matches!(c, b'.' | b'-') {
            table[b] |= 2;
        }
        b += 1;
    }
    table
};

fn is_local_char(b: u8) -> bool {
    EMAIL_CHARS[usize::from(b)] & 1 != 0
}

fn is_domain_char(b: u8) -> bool {
    EMAIL_CHARS[usize::from(b)] & 2 != 0
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
        if start == at {
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
            match out.last_mut() {
                // The domain of the last address runs on into this one's
                // local part (`a@b.cn%x@c.cn`): one match covers both, or
                // masking the first would leave the second standing.
                Some(last) if last.end > start => last.end = end,
                _ => out.push(start..end),
            }
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

    fn prefilter(hay: &[u8]) -> Prefilter {
        let mut buffers = ScanBuffers::default();
        buffers.profile(hay);
        Prefilter::of(hay, &buffers)
    }

    fn runs_of(hay: &[u8], runs: &mut Vec<Range<usize>>) {
        let mut buffers = ScanBuffers::default();
        buffers.profile(hay);
        collect_digit_runs(hay.len(), &buffers.blocks, runs);
    }

    /// The prefilter by brute force over the digit runs.
    fn prefilter_by_runs(hay: &[u8]) -> Prefilter {
        let runs: Vec<_> = digit_runs(hay).collect();
        let joined = |a: &Range<usize>, b: &Range<usize>| {
            b.start == a.end + 1 && matches!(hay[a.end], b' ' | b'-')
        };
        let mut found = Prefilter::default();
        let mut span = 0;
        for (i, run) in runs.iter().enumerate() {
            let len = run.len();
            found.cn_id_shape |= len == 17 || len == 18;
            found.mobile_shape |= matches!(len, 11 | 13 | 15);
            found.card_shape |= (15..=19).contains(&len);
            if i + 2 < runs.len() {
                let (b, c) = (&runs[i + 1], &runs[i + 2]);
                found.mobile_shape |=
                    len >= 3 && b.len() == 4 && c.len() >= 4 && joined(run, b) && joined(b, c);
            }
            span = if len > 6 {
                0
            } else if i > 0 && runs[i - 1].len() <= 6 && joined(&runs[i - 1], run) {
                span + 1 + len
            } else {
                len
            };
            found.card_shape |= span >= 15;
        }
        found
    }

    /// A fixed pseudo-random sequence (xorshift64) from `seed`.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Every shape the runs show, the prefilter shows too (it may show more
    /// where a run crosses a window's edge, never less); within one window
    /// the two agree exactly.
    #[test]
    fn prefilter_agrees_with_the_runs() {
        // Digits, separators and letters at every position of texts that
        // cross window edges, from a fixed pseudo-random sequence.
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let len = (next() % 140) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| match next() % 10 {
                    0 => b' ',
                    1 => b'-',
                    2 => b'x',
                    _ => b'0' + (next() % 10) as u8,
                })
                .collect();
            let (fast, slow) = (prefilter(&text), prefilter_by_runs(&text));
            let shown = String::from_utf8_lossy(&text);
            if text.len() <= 64 {
                assert_eq!(fast, slow, "{shown:?}");
            }
            assert!(slow.cn_id_shape <= fast.cn_id_shape, "{shown:?}");
            assert!(slow.mobile_shape <= fast.mobile_shape, "{shown:?}");
            assert!(slow.card_shape <= fast.card_shape, "{shown:?}");
        }
        assert!(prefilter(b"call 138 1234 5678").mobile_shape);
        assert!(!prefilter(b"2026-11-20 08:15:30.123").mobile_shape);
        assert!(!prefilter(b"2026-11-20 08:15:30.123").card_shape);
        assert!(prefilter(b"6222 0212 3456 7890 128").card_shape);
        // A trace id is no phone number and no ID; an ID is no phone (18
        // digits could be a UnionPay card, which the detector then rules out).
        assert_eq!(
            prefilter(b"1842785349445926"),
            Prefilter {
                card_shape: true,
                ..Prefilter::default()
            }
        );
        assert_eq!(
            prefilter(b"11010519491231002X"),
            Prefilter {
                cn_id_shape: true,
                card_shape: true,
                ..Prefilter::default()
            }
        );
    }

    #[test]
    fn digit_runs_from_masks_agree_with_the_plain_scan() {
        let mut runs = Vec::new();
        // Runs that start, end and cross chunk edges, at every length.
        for len in 0..50 {
            for start in 0..len {
                for end in start..=len {
                    let text: Vec<u8> = (0..len)
                        .map(|i| {
                            if (start..end).contains(&i) {
                                b'7'
                            } else {
                                b'x'
                            }
                        })
                        .collect();
                    runs_of(&text, &mut runs);
                    assert_eq!(runs, digit_runs(&text).collect::<Vec<_>>(), "{text:?}");
                }
            }
        }
        runs_of(b"abcdefghijkl1234567890xyzxyzxyz9", &mut runs);
        assert_eq!(runs, [12..22, 31..32]);
        let text = b"a1 22 333 4444 x 55555 666666 ";
        runs_of(text, &mut runs);
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

    /// The two-digits-a-step Luhn check agrees with the textbook one, digit
    /// by digit, for every length up to 25 (odd counts included).
    #[test]
    fn luhn_agrees_with_the_digit_by_digit_check() {
        fn textbook(digits: &[u8]) -> bool {
            let mut sum = 0;
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
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut valid = 0;
        for _ in 0..50_000 {
            let len = (next() % 26) as usize;
            let digits: Vec<u8> = (0..len).map(|_| b'0' + (next() % 10) as u8).collect();
            assert_eq!(luhn_valid(&digits), textbook(&digits), "{digits:?}");
            valid += usize::from(textbook(&digits));
        }
        // About one in ten passes: both answers were exercised.
        assert!((3_000..7_000).contains(&valid), "{valid}");
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
        // Two addresses sharing the text between them are one match.
        assert_eq!(
            found(&d, "x 0999@mail.ex%%ang43@mail.example.cn y"),
            ["0999@mail.ex%%ang43@mail.example.cn"]
        );
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

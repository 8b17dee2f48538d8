//! One text prepared for the detectors: its profile (digit and separator
//! masks, 64 bytes a block), the digit shapes the profile shows, and, once
//! a detector asks, its digit runs. Built once per text and shared by every
//! detector, so most texts are ruled out for most detectors without being
//! looked at again.

use std::ops::Range;

use crate::bytes::{classes, tail_classes, Classes};

/// One text prepared for scanning: its features, its byte classes and,
/// once a digit detector asks, its digit runs. Shared by every detector.
pub struct Scan<'h> {
    pub hay: &'h [u8],
    pub features: Features,
    /// The name of the field the text is the value (or the key) of, and of
    /// the field around that one, as written in the event; empty at the top
    /// or when unknown. Detectors that need context (passports) read them.
    pub keys: [&'h [u8]; 2],
    /// Where the text holds numbers a double held, whose last digits are
    /// lost (`json::number`): what lies inside one cannot be asked for
    /// the check character it lost. [`WHOLE_TEXT`] when the text is one.
    pub lost_digits: &'h [Range<usize>],
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
    high: u16,
    /// `e` or `E` after a digit, and whether the last chunk's last byte is
    /// a digit (bit 0).
    exponent: u16,
    digit_before: u16,
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
            high: 0,
            exponent: 0,
            digit_before: 0,
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
        self.high |= c.high;
        self.exponent |= c.e & ((c.digits << 1) | self.digit_before);
        self.digit_before = c.digits >> 15;
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
            has_high: self.high != 0,
            has_exponent: self.exponent != 0,
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
    /// Whether the text holds a byte above ASCII (it may hold full-width
    /// digits, Unicode spaces, or Chinese text), or DEL.
    pub has_high: bool,
    /// Whether an `e` or `E` follows a digit: it may hold a number with an
    /// exponent (`1.8534099073E10`).
    pub has_exponent: bool,
}

impl Features {
    /// The features of at most sixteen bytes, from their classes.
    #[inline(always)]
    pub(crate) fn of_classes(c: Classes) -> Features {
        Features {
            digits: c.digits.count_ones() as usize,
            has_at: c.at != 0,
            has_percent: c.percent != 0,
            has_high: c.high != 0,
            has_exponent: c.e & (c.digits << 1) != 0,
        }
    }

    /// One pass, sixteen bytes at a time (see [`ScanBuffers::profile`]).
    pub fn of(hay: &[u8]) -> Features {
        ScanBuffers::default().profile(hay)
    }
}

/// Digit shapes the detectors need, found from the masks without listing
/// the runs: enough to rule the digit detectors out for most texts
/// (timestamps, trace ids, user agents, versions) without running them.
/// Each is a necessary condition for a match, never a sufficient one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefilter {
    /// Bit `k` (7 to 19): a run of exactly `k` digits.
    pub runs: u32,
    /// Digits joined by short separators (see [`super::groups`]) over at
    /// least 11 bytes in a row, with at least one separator among them.
    pub grouped11: bool,
    /// The same over at least 16 bytes.
    pub grouped16: bool,
    /// The same over at least 8 bytes (`623 4567`, `8888 6666`).
    pub grouped8: bool,
}

impl Prefilter {
    /// Whether a run of exactly one of these lengths exists.
    #[inline]
    pub fn has_run(&self, lengths: u32) -> bool {
        self.runs & lengths != 0
    }

    /// From the digit and separator masks of 64-byte windows that overlap
    /// by half: every run shape is under 32 bytes long (with the byte
    /// either side), and every stretch of 16 bytes falls whole inside a
    /// window. At a window's edge a run may look shorter than it is, which
    /// only lets a detector run that finds nothing.
    fn of(hay: &[u8], buffers: &ScanBuffers) -> Prefilter {
        let mut found = Prefilter::default();
        let mut start = 0;
        loop {
            let d = buffers.window(start, |b| b.digits);
            // Bit i is byte i: `<< 1` looks at the byte before, `>> 1`
            // after. r[k]: bit i set when bytes i..i+k are all digits.
            let r2 = d & (d >> 1);
            let r4 = r2 & (r2 >> 2);
            let r7 = r4 & (r2 >> 4) & (d >> 6);
            // Where runs of seven or more start: each one's length is its
            // count of ones from there.
            let mut starts = r7 & !(d << 1);
            while starts != 0 {
                let at = starts.trailing_zeros();
                starts &= starts - 1;
                let len = (d >> at).trailing_ones();
                if len <= 19 {
                    found.runs |= 1 << len;
                }
            }
            let s = buffers.window(start, |b| b.separators);
            // One or two separators between two digits.
            let one = s & (d << 1) & (d >> 1);
            let two_first = s & (d << 1) & (s >> 1) & (d >> 2);
            let two_second = s & (s << 1) & (d << 2) & (d >> 1);
            let joins = one | two_first | two_second;
            if joins != 0 {
                let g = d | joins;
                found.grouped8 |= ones_in_a_row(g, 8);
                found.grouped11 |= ones_in_a_row(g, 11);
                found.grouped16 |= ones_in_a_row(g, 16);
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

/// The run-length bits of `lengths` in [`Prefilter::runs`].
pub const fn run_lengths(lengths: &[u32]) -> u32 {
    let mut bits = 0;
    let mut i = 0;
    while i < lengths.len() {
        bits |= 1 << lengths[i];
        i += 1;
    }
    bits
}

/// [`Scan::lost_digits`] for a text that is one number a double held.
pub const WHOLE_TEXT: &[Range<usize>] = std::slice::from_ref(&(0..usize::MAX));

impl<'h> Scan<'h> {
    /// A scan of `hay`, which `buffers` last profiled (giving `features`),
    /// with numbers that lost digits at `lost_digits`.
    pub fn new(
        hay: &'h [u8],
        features: Features,
        keys: [&'h [u8]; 2],
        lost_digits: &'h [Range<usize>],
        buffers: &'h mut ScanBuffers,
    ) -> Scan<'h> {
        debug_assert_eq!(buffers.blocks.len(), hay.len().div_ceil(64));
        Scan {
            hay,
            features,
            keys,
            lost_digits,
            buffers,
            runs_ready: false,
            prefilter: None,
        }
    }

    /// Maximal runs of ASCII digits, computed on first use.
    pub fn runs(&mut self) -> &[Range<usize>] {
        if !self.runs_ready {
            let ScanBuffers { blocks, runs, .. } = &mut *self.buffers;
            collect_digit_runs(self.hay.len(), blocks, runs);
            self.runs_ready = true;
        }
        &self.buffers.runs
    }

    /// The text and its digit runs together.
    pub fn hay_and_runs(&mut self) -> (&'h [u8], &[Range<usize>]) {
        let hay = self.hay;
        (hay, self.runs())
    }

    /// The digit shapes, computed on first use.
    pub fn prefilter(&mut self) -> Prefilter {
        match self.prefilter {
            Some(p) => p,
            None => *self.prefilter.insert(Prefilter::of(self.hay, self.buffers)),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::super::groups::joined;
    use super::super::xorshift;
    use super::*;

    /// Maximal runs of ASCII digits, as ranges, the plain way.
    fn digit_runs(hay: &[u8]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < hay.len() {
            if hay[i].is_ascii_digit() {
                let start = i;
                while i < hay.len() && hay[i].is_ascii_digit() {
                    i += 1;
                }
                out.push(start..i);
            } else {
                i += 1;
            }
        }
        out
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
        let runs = digit_runs(hay);
        let mut found = Prefilter::default();
        for r in &runs {
            if (7..=19).contains(&r.len()) {
                found.runs |= 1 << r.len();
            }
        }
        // Chains of joined runs: their length in bytes.
        let mut i = 0;
        while i < runs.len() {
            let mut j = i;
            while j + 1 < runs.len() && joined(hay, &runs[j], &runs[j + 1]) {
                j += 1;
            }
            if j > i {
                let bytes = runs[j].end - runs[i].start;
                found.grouped8 |= bytes >= 8;
                found.grouped11 |= bytes >= 11;
                found.grouped16 |= bytes >= 16;
            }
            i = j + 1;
        }
        found
    }

    /// Every shape the runs show, the prefilter shows too (it may show more
    /// where a run crosses a window's edge, or where a long run stands
    /// next to an unrelated join; never less).
    #[test]
    fn prefilter_agrees_with_the_runs() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let len = (next() % 140) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| match next() % 12 {
                    0 => b' ',
                    1 => b'-',
                    2 => b'x',
                    3 => b'+',
                    _ => b'0' + (next() % 10) as u8,
                })
                .collect();
            let (fast, slow) = (prefilter(&text), prefilter_by_runs(&text));
            let shown = String::from_utf8_lossy(&text);
            if text.len() <= 64 {
                assert_eq!(fast.runs, slow.runs, "{shown:?}");
            }
            assert_eq!(slow.runs & !fast.runs, 0, "{shown:?}");
            assert!(slow.grouped8 <= fast.grouped8, "{shown:?}");
            assert!(slow.grouped11 <= fast.grouped11, "{shown:?}");
            assert!(slow.grouped16 <= fast.grouped16, "{shown:?}");
        }
        assert!(prefilter(b"call 138 1234 5678").grouped11);
        assert!(prefilter(b"(021) 6123 4567").grouped11);
        assert!(prefilter(b"tel 623 4567").grouped8);
        assert!(!prefilter(b"v 12.3").grouped8);
        assert!(!prefilter(b"2026-11-20T08:15:30.123").grouped11);
        assert!(prefilter(b"6222 0212 3456 7890 128").grouped16);
        assert_eq!(prefilter(b"1842785349445926").runs, 1 << 16);
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
                    assert_eq!(runs, digit_runs(&text), "{text:?}");
                }
            }
        }
        runs_of(b"abcdefghijkl1234567890xyzxyzxyz9", &mut runs);
        assert_eq!(runs, [12..22, 31..32]);
    }
}

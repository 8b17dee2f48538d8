//! Byte classes of 16-byte chunks as bit masks: bit `i` is set when byte `i`
//! belongs to the class. The scanners' inner loops run on these. On x86-64
//! they use SSE2, which every x86-64 CPU has; elsewhere, plain code that
//! gives the same masks.

/// The classes detectors' prefilters need, for one chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Classes {
    /// ASCII digits.
    pub digits: u16,
    /// `@` (e-mail addresses).
    pub at: u16,
    /// `%` (URL escapes).
    pub percent: u16,
    /// A space, a line break, `-`, `+`, `(` or `)`: what joins groups of
    /// digits (`138 1234 5678`, `187+7212+5468` in form bodies,
    /// `(021)6123 4567`, `+86 (10) 6234 5678`, a number wrapped in a text
    /// area). The one definition is [`is_separator`].
    pub separators: u16,
    /// Bytes above ASCII, and DEL (the one ASCII character the view
    /// removes that JSON text holds unescaped): what `has_foldable` looks
    /// at.
    pub high: u16,
    /// `e` and `E` (a number's exponent may start there).
    pub e: u16,
}

/// What joins groups of digits; the `separators` class.
#[inline]
pub(crate) fn is_separator(b: u8) -> bool {
    // A line break too: the view reads an escaped `\n` as a space, and a
    // decoded one must read the same (`138\n1234\n5678`, text that
    // wrapped). Not a tab: columns of numbers are not one number.
    matches!(b, b' ' | b'\n' | b'\r' | b'-' | b'+' | b'(' | b')')
}

impl Classes {
    /// Keeps the classes of the first `n` bytes only (`n` below 16).
    #[inline]
    pub(crate) fn first(self, n: usize) -> Classes {
        let keep = (1u16 << n) - 1;
        Classes {
            digits: self.digits & keep,
            at: self.at & keep,
            percent: self.percent & keep,
            separators: self.separators & keep,
            high: self.high & keep,
            e: self.e & keep,
        }
    }

    /// Keeps the classes of the first `n` bytes only (`n` up to 16).
    #[inline]
    pub(crate) fn first_n(self, n: usize) -> Classes {
        if n >= 16 {
            self
        } else {
            self.first(n)
        }
    }

    /// Keeps the classes of the last `n` bytes only, shifted down.
    #[inline]
    fn last(self, n: usize) -> Classes {
        let shift = 16 - n as u32;
        Classes {
            digits: self.digits >> shift,
            at: self.at >> shift,
            percent: self.percent >> shift,
            separators: self.separators >> shift,
            high: self.high >> shift,
            e: self.e >> shift,
        }
    }
}

/// The classes of up to 16 bytes at the end of `hay`, from `from` on, with
/// no bits past its end. When `hay` is long enough, that is one load of its
/// last 16 bytes; only texts shorter than 16 go byte by byte.
#[inline]
pub(crate) fn tail_classes(hay: &[u8], from: usize) -> Classes {
    let n = hay.len() - from;
    debug_assert!(n <= 16);
    if n == 0 {
        return Classes::default();
    }
    if let Some(last) = hay.last_chunk::<16>() {
        return classes(last).last(n);
    }
    // Zero bytes are in no class.
    classes(&short_chunk(&hay[from..]))
}

/// [`string_stops`] of up to 16 bytes at the end of `hay`, from `from` on,
/// with no bits past its end. (The classes [`tail_string_chunk`] also works
/// out are unused here and compiled away.)
#[inline]
pub(crate) fn tail_string_stops(hay: &[u8], from: usize) -> u16 {
    tail_string_chunk(hay, from).0
}

/// [`string_chunk`] of up to 16 bytes at the end of `hay`, from `from` on,
/// with no bits past its end: the last piece of a string that ends near the
/// end of the line.
#[inline]
pub(crate) fn tail_string_chunk(hay: &[u8], from: usize) -> (u16, Classes) {
    let n = hay.len() - from;
    debug_assert!(n <= 16);
    if n == 0 {
        return (0, Classes::default());
    }
    let (stops, classes) = if let Some(last) = hay.last_chunk::<16>() {
        let (stops, classes) = string_chunk(last);
        (stops >> (16 - n), classes.last(n))
    } else {
        string_chunk(&short_chunk(&hay[from..]))
    };
    // The zero padding is a control byte, a stop: keep the text's bits
    // only. (Zero is in no class, so the classes need no trimming.)
    (stops & ((1u32 << n) - 1) as u16, classes)
}

/// `bytes` (fewer than 16) followed by zeros, gathered with word loads.
#[inline]
fn short_chunk(bytes: &[u8]) -> [u8; 16] {
    let n = bytes.len();
    debug_assert!(n < 16);
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("eight bytes"));
    let (low, high) = if n >= 8 {
        // The last eight bytes overlap the first eight; shift the overlap
        // out.
        let high = word(&bytes[n - 8..])
            .checked_shr(8 * (16 - n) as u32)
            .unwrap_or(0);
        (word(&bytes[..8]), high)
    } else {
        let low = bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        (low, 0)
    };
    let mut chunk = [0u8; 16];
    chunk[..8].copy_from_slice(&low.to_le_bytes());
    chunk[8..].copy_from_slice(&high.to_le_bytes());
    chunk
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
    };

    use super::Classes;

    /// The classes of the 16 bytes of `chunk`.
    #[inline]
    pub(crate) fn classes(chunk: &[u8; 16]) -> Classes {
        // SAFETY: SSE2 is part of the x86-64 baseline; `chunk` is 16
        // readable bytes and an unaligned load needs no alignment.
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            // A digit is a byte whose distance above b'0' is at most 9
            // (unsigned): min(d, 9) == d.
            let d = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
            let digits = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
            let at = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'@' as i8));
            let percent = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'%' as i8));
            let separators = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8)),
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'-' as i8)),
                ),
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'+' as i8)),
                    // `(` and `)` differ only in the lowest bit.
                    _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(1)), _mm_set1_epi8(b')' as i8)),
                ),
            );
            // Line breaks.
            let separators = _mm_or_si128(
                separators,
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)),
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8)),
                ),
            );
            Classes {
                digits: _mm_movemask_epi8(digits) as u16,
                at: _mm_movemask_epi8(at) as u16,
                percent: _mm_movemask_epi8(percent) as u16,
                separators: _mm_movemask_epi8(separators) as u16,
                // Bytes from DEL up: unsigned max(byte, DEL) is the byte.
                high: _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x7f)), v))
                    as u16,
                e: _mm_movemask_epi8(_mm_cmpeq_epi8(
                    _mm_or_si128(v, _mm_set1_epi8(0x20)),
                    _mm_set1_epi8(b'e' as i8),
                )) as u16,
            }
        }
    }

    /// [`string_stops`] and [`classes`] of one chunk, loaded once.
    #[inline]
    pub(crate) fn string_chunk(chunk: &[u8; 16]) -> (u16, Classes) {
        (string_stops(chunk), classes(chunk))
    }

    /// [`super::is_special`] bytes.
    #[inline]
    pub(crate) fn special_bytes(chunk: &[u8; 16]) -> u16 {
        // SAFETY: as above.
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let eq = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
            let escapes = _mm_or_si128(_mm_or_si128(eq(b'%'), eq(b'\\')), eq(0x7f));
            // A range of bytes `from..=from + span`, by one unsigned
            // comparison.
            let range = |from: u8, span: u8| {
                let shifted = _mm_sub_epi8(v, _mm_set1_epi8(from as i8));
                _mm_cmpeq_epi8(_mm_min_epu8(shifted, _mm_set1_epi8(span as i8)), shifted)
            };
            let leads = _mm_or_si128(
                _mm_or_si128(
                    _mm_or_si128(eq(0xc2), range(0xcb, 2)),
                    _mm_or_si128(eq(0xd6), eq(0xd8)),
                ),
                _mm_or_si128(
                    _mm_or_si128(range(0xe1, 2), eq(0xef)),
                    _mm_or_si128(eq(0xf0), eq(0xf3)),
                ),
            );
            _mm_movemask_epi8(_mm_or_si128(escapes, leads)) as u16
        }
    }

    /// `e` and `E`, and ASCII digits.
    #[inline]
    pub(crate) fn e_and_digits(chunk: &[u8; 16]) -> (u16, u16) {
        // SAFETY: as above.
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let e = _mm_cmpeq_epi8(lower, _mm_set1_epi8(b'e' as i8));
            let d = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
            let digits = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
            (
                _mm_movemask_epi8(e) as u16,
                _mm_movemask_epi8(digits) as u16,
            )
        }
    }

    /// `"`, `\` and control bytes (below 0x20): where plain string text
    /// stops.
    #[inline]
    pub(crate) fn string_stops(chunk: &[u8; 16]) -> u16 {
        // SAFETY: as above.
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            // A byte is below 0x20 exactly when max(byte, 0x1f) is 0x1f.
            let control_max = _mm_set1_epi8(0x1f);
            let control = _mm_cmpeq_epi8(_mm_max_epu8(v, control_max), control_max);
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u16
        }
    }

    /// [`super::is_numeral_lead`] bytes.
    #[inline]
    pub(crate) fn numeral_leads(chunk: &[u8; 16]) -> u16 {
        // SAFETY: as above.
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let shifted = _mm_sub_epi8(v, _mm_set1_epi8(0xe3_u8 as i8));
            let lead = _mm_cmpeq_epi8(_mm_min_epu8(shifted, _mm_set1_epi8(6)), shifted);
            _mm_movemask_epi8(lead) as u16
        }
    }

    /// Control bytes but tab, line feed and carriage return.
    #[inline]
    pub(crate) fn controls(chunk: &[u8; 16]) -> u16 {
        // SAFETY: as above.
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let eq = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
            let control_max = _mm_set1_epi8(0x1f);
            let control = _mm_cmpeq_epi8(_mm_max_epu8(v, control_max), control_max);
            let breaks = _mm_or_si128(_mm_or_si128(eq(b'\t'), eq(b'\n')), eq(b'\r'));
            (_mm_movemask_epi8(control) & !_mm_movemask_epi8(breaks)) as u16
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    use super::Classes;

    fn mask(chunk: &[u8; 16], class: impl Fn(u8) -> bool) -> u16 {
        chunk
            .iter()
            .enumerate()
            .fold(0, |m, (i, &b)| m | (u16::from(class(b)) << i))
    }

    #[inline]
    pub(crate) fn classes(chunk: &[u8; 16]) -> Classes {
        Classes {
            digits: mask(chunk, |b| b.is_ascii_digit()),
            at: mask(chunk, |b| b == b'@'),
            percent: mask(chunk, |b| b == b'%'),
            separators: mask(chunk, super::is_separator),
            high: mask(chunk, |b| b >= 0x7f),
            e: mask(chunk, |b| b | 0x20 == b'e'),
        }
    }

    #[inline]
    pub(crate) fn string_stops(chunk: &[u8; 16]) -> u16 {
        mask(chunk, |b| b == b'"' || b == b'\\' || b < 0x20)
    }

    #[inline]
    pub(crate) fn string_chunk(chunk: &[u8; 16]) -> (u16, Classes) {
        (string_stops(chunk), classes(chunk))
    }

    #[inline]
    pub(crate) fn special_bytes(chunk: &[u8; 16]) -> u16 {
        mask(chunk, super::is_special)
    }

    #[inline]
    pub(crate) fn controls(chunk: &[u8; 16]) -> u16 {
        mask(chunk, super::is_control)
    }

    #[inline]
    pub(crate) fn numeral_leads(chunk: &[u8; 16]) -> u16 {
        mask(chunk, super::is_numeral_lead)
    }

    #[inline]
    pub(crate) fn e_and_digits(chunk: &[u8; 16]) -> (u16, u16) {
        (
            mask(chunk, |b| b | 0x20 == b'e'),
            mask(chunk, |b| b.is_ascii_digit()),
        )
    }
}

use imp::e_and_digits;
pub(crate) use imp::{classes, controls, numeral_leads, special_bytes, string_chunk, string_stops};

/// Calls `visit` with each offset where an `e` or `E` follows an ASCII
/// digit, in order, until it returns `true`: where a number's exponent may
/// start (`1.8534099073E10`). Sixteen bytes at a time; returns whether
/// `visit` stopped it.
pub(crate) fn exponent_marks(bytes: &[u8], mut visit: impl FnMut(usize) -> bool) -> bool {
    let mut at = 0;
    // Whether the byte before the chunk is a digit (bit 0).
    let mut carry = 0u16;
    loop {
        let (e, digits, n) = match bytes.get(at..).and_then(|rest| rest.first_chunk::<16>()) {
            Some(chunk) => {
                let (e, digits) = e_and_digits(chunk);
                (e, digits, 16)
            }
            None => {
                let n = bytes.len() - at;
                if n == 0 {
                    return false;
                }
                let (e, digits) = match bytes.last_chunk::<16>() {
                    Some(last) => {
                        let (e, digits) = e_and_digits(last);
                        (e >> (16 - n), digits >> (16 - n))
                    }
                    // Zero padding is neither.
                    None => e_and_digits(&short_chunk(&bytes[at..])),
                };
                (e, digits, n)
            }
        };
        let mut marks = e & ((digits << 1) | carry);
        while marks != 0 {
            if visit(at + marks.trailing_zeros() as usize) {
                return true;
            }
            marks &= marks - 1;
        }
        if n < 16 {
            return false;
        }
        carry = digits >> 15;
        at += 16;
    }
}

/// Bytes that may start something the normalising view undoes: `%`, `\`,
/// DEL, and the lead bytes of the characters it folds or removes
/// (U+0080-U+00BF, U+02C0-U+037F, U+0580-U+05BF, U+0600-U+063F,
/// U+1000-U+3FFF, U+F000-U+FFFF, U+10000-U+3FFFF, U+C0000-U+FFFFF).
/// `normalize` reads any UTF-8 character from its lead; a test checks that
/// every character it folds has its lead here. (The definition the SIMD
/// test is checked against; on x86-64 only tests call it.)
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
#[inline]
pub(crate) fn is_special(b: u8) -> bool {
    matches!(
        b,
        b'%' | b'\\'
            | 0x7f
            | 0xc2
            | 0xcb
            | 0xcc
            | 0xcd
            | 0xd6
            | 0xd8
            | 0xe1
            | 0xe2
            | 0xe3
            | 0xef
            | 0xf0
            | 0xf3
    )
}

/// The first [`is_special`] byte of `bytes`, sixteen bytes at a time.
#[inline]
pub(crate) fn find_special(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(chunk) = bytes[at..].first_chunk::<16>() {
        let found = special_bytes(chunk);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize);
        }
        at += 16;
    }
    // The rest, fewer than sixteen bytes: the last sixteen, or the rest
    // padded (zero padding is no special byte).
    let n = bytes.len() - at;
    if n == 0 {
        return None;
    }
    let found = match bytes.last_chunk::<16>() {
        Some(last) => special_bytes(last) >> (16 - n),
        None => special_bytes(&short_chunk(&bytes[at..])),
    };
    (found != 0).then(|| at + found.trailing_zeros() as usize)
}

/// The lead bytes of Chinese numerals (U+3000-U+9FFF): where
/// `normalize`'s own search for them (`find_cjk_numeral`) looks. In UTF-8
/// text such a byte is always a lead.
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
#[inline]
pub(crate) fn is_numeral_lead(b: u8) -> bool {
    (0xe3..=0xe9).contains(&b)
}

/// Each offset in `bytes` of an [`is_numeral_lead`] byte, in order, until
/// `visit` returns `true`; returns that offset. Sixteen bytes at a time.
#[inline]
pub(crate) fn find_numeral_lead(
    bytes: &[u8],
    mut visit: impl FnMut(usize) -> bool,
) -> Option<usize> {
    let mut at = 0;
    while at < bytes.len() {
        let n = (bytes.len() - at).min(16);
        let mut leads = match bytes[at..].first_chunk::<16>() {
            Some(chunk) => numeral_leads(chunk),
            // (Zero padding is no lead.)
            None => numeral_leads(&short_chunk(&bytes[at..])),
        };
        while leads != 0 {
            let i = at + leads.trailing_zeros() as usize;
            if visit(i) {
                return Some(i);
            }
            leads &= leads - 1;
        }
        at += n;
    }
    None
}

/// Control bytes other than tab, line feed and carriage return: text a
/// JSON string's escapes decoded (`\u0001`) may hold them.
#[inline]
pub(crate) fn is_control(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')
}

/// Whether `bytes` holds an [`is_control`] byte, sixteen at a time.
pub(crate) fn has_control(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(16);
    if chunks.any(|chunk| controls(chunk.try_into().expect("sixteen bytes")) != 0) {
        return true;
    }
    let rest = chunks.remainder();
    // (Zero padding is a control byte: masked off.)
    !rest.is_empty() && controls(&short_chunk(rest)) & ((1u16 << rest.len()) - 1) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_marks_are_every_e_after_a_digit() {
        let text = b"1e5 xe 2E+3 9e ee 0123456789abcdeE 7e";
        for end in 0..=text.len() {
            let hay = &text[..end];
            let plain: Vec<usize> = (1..hay.len())
                .filter(|&i| hay[i] | 0x20 == b'e' && hay[i - 1].is_ascii_digit())
                .collect();
            let mut marks = Vec::new();
            exponent_marks(hay, |i| {
                marks.push(i);
                false
            });
            assert_eq!(marks, plain, "{end}");
        }
    }

    #[test]
    fn tails_are_classed_like_whole_chunks() {
        let text = b"a1@%- 9x01\"3456789@@--\\ \t%%zz\"+)\xe4\xb8\xad";
        for from in 0..text.len() {
            for end in from..=text.len().min(from + 16) {
                let hay = &text[..end];
                let mut chunk = [0u8; 16];
                chunk[..end - from].copy_from_slice(&hay[from..]);
                assert_eq!(tail_classes(hay, from), classes(&chunk), "{from}..{end}");
                let plain = hay[from..]
                    .iter()
                    .enumerate()
                    .filter(|&(_, &b)| b == b'"' || b == b'\\' || b < 0x20)
                    .fold(0u16, |m, (i, _)| m | 1 << i);
                assert_eq!(tail_string_stops(hay, from), plain, "{from}..{end}");
                assert_eq!(
                    tail_string_chunk(hay, from),
                    (plain, classes(&chunk)),
                    "{from}..{end}"
                );
            }
        }
    }

    #[test]
    fn find_special_finds_the_first_at_every_length_and_place() {
        for len in 0..=40 {
            let plain = vec![b'x'; len];
            assert_eq!(find_special(&plain), None, "{len}");
            for at in 0..len {
                for b in [b'%', 0x7f, 0xc2, 0xf0] {
                    let mut text = plain.clone();
                    text[at] = b;
                    if at + 1 < len {
                        text[len - 1] = b'\\';
                    }
                    assert_eq!(find_special(&text), Some(at), "{len} {at} {b}");
                }
            }
        }
    }

    #[test]
    fn every_byte_in_every_position_is_classed_like_the_plain_test() {
        for b in 0..=255u8 {
            for pos in 0..16 {
                let mut chunk = [b'x'; 16];
                chunk[pos] = b;
                let c = classes(&chunk);
                let bit = |yes: bool| if yes { 1u16 << pos } else { 0 };
                assert_eq!(c.digits, bit(b.is_ascii_digit()), "byte {b}");
                assert_eq!(c.at, bit(b == b'@'), "byte {b}");
                assert_eq!(c.percent, bit(b == b'%'), "byte {b}");
                assert_eq!(c.separators, bit(is_separator(b)), "byte {b}");
                assert_eq!(c.high, bit(b >= 0x7f), "byte {b}");
                assert_eq!(c.e, bit(b | 0x20 == b'e'), "byte {b}");
                assert_eq!(special_bytes(&chunk), bit(is_special(b)), "byte {b}");
                assert_eq!(controls(&chunk), bit(is_control(b)), "byte {b}");
                assert_eq!(numeral_leads(&chunk), bit(is_numeral_lead(b)), "byte {b}");
                let mut long = [b'x'; 40];
                long[pos + 17] = b;
                assert_eq!(
                    find_numeral_lead(&long, |_| true),
                    is_numeral_lead(b).then_some(pos + 17),
                    "byte {b}"
                );
                assert_eq!(
                    find_numeral_lead(&long[..pos + 18], |_| true),
                    is_numeral_lead(b).then_some(pos + 17),
                    "byte {b}, short tail"
                );
                let mut text = vec![b'x'; pos + 9];
                text[pos + 8] = b;
                assert_eq!(has_control(&text), is_control(b), "byte {b} at {pos}");
                let mut long = [b'x'; 40];
                long[pos + 17] = b;
                assert_eq!(
                    find_special(&long),
                    is_special(b).then_some(pos + 17),
                    "byte {b}"
                );
                assert_eq!(
                    string_stops(&chunk),
                    bit(b == b'"' || b == b'\\' || b < 0x20),
                    "byte {b}"
                );
            }
        }
    }
}

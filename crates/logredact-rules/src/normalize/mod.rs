//! The text detectors read: a value as a person would read it, with a map
//! from every byte of it back to the original.
//!
//! Real logs write the same digits many ways. This view undoes them, at
//! every level, until nothing more changes:
//!
//! - URL escapes (`%31`, and `%2531`: percent-encoding applied twice), and
//!   JavaScript's `escape()` form of other characters (`%u624B`);
//! - backslash escapes left in text by a serializer or a web server: JSON's
//!   `\uXXXX` and `\n`, `\"`, `\\` (a JSON document inside a string, at any
//!   depth) and nginx's `\xHH`;
//! - full-width forms, as Chinese input methods type them (U+FF01–FF5E to
//!   ASCII: `１３８` is `138`, `＠` is `@`; U+3000 to a space);
//! - Unicode spaces (no-break, thin, ideographic…) become a space, Unicode
//!   dashes (and what people type for one: `ー`, `─`, `➖`) a `-`;
//! - zero-width characters and bidirectional marks are removed: nobody can
//!   see them, so a reader reads the digits either side as one number;
//!   control characters (DEL, C1, and C0 ones an escape decoded) become a
//!   space: they separate fields (Hive's `\u0001`);
//! - combining marks after a digit (`1̶`) are removed, but before a letter;
//!   styled digits become digits: mathematical ones (`𝟏`) always,
//!   circled, superscript and the like (`①` `¹` `❶`) in runs of two or
//!   more of them that no plain digit touches (alone, or glued to plain
//!   digits, they are list and footnote markers);
//! - numbers written with an exponent (`1.8534099073E10`) are read by
//!   their value (`numbers.rs`), once everything above is undone.
//!
//! Decoding is done on the output as it grows: whenever its last bytes form
//! an escape or a character to fold, they are replaced at once, and the
//! result is looked at again. So `%25%33%31` becomes `%31`, then `1`, and
//! `\\u0031` becomes `\u0031`, then `1`. Nothing decodable is left.
//!
//! The map: each output byte remembers where in the original its source
//! begins; the sources tile the original in order, so a range of the view
//! maps to one contiguous range of the original that covers every byte the
//! range was decoded from. A match is replaced there, whole, whatever its
//! encoding.
//!
//! Guarantees: no panics on any input (it is fuzzed); the view of text that
//! holds no `%`, no `\` and none of the characters above is the text itself,
//! and is not copied.

use std::ops::Range;

use super::bytes::{find_special, has_control, is_control};

mod numbers;

pub use numbers::may_hold_exponent;

/// The text detectors scan for one value: the value itself, or its
/// normalised form and the map back.
pub struct NormView<'s> {
    original: &'s [u8],
    normalized: Option<(&'s [u8], &'s [u32])>,
    met_unsure_percent: bool,
    lost_digits: &'s [Range<usize>],
}

/// Buffers a [`NormView`] is built in, reused from value to value.
#[derive(Debug, Default)]
pub struct NormBuffers {
    text: Vec<u8>,
    /// Per byte of `text`, the offset in the original where its source
    /// begins; then one more entry, the original's length.
    starts: Vec<u32>,
    /// Where the view is rewritten when numbers with an exponent are read
    /// by their value.
    spare_text: Vec<u8>,
    spare_starts: Vec<u32>,
    /// Where numbers that lost digits to a double were read, in the view.
    lost: Vec<Range<usize>>,
}

/// How a `%` before two hex digits is read where it is no sure escape (see
/// `Reading::escape`): `%13812345678` may be `%13` and digits, or a `%`
/// before a phone number (a SQL `LIKE` pattern). The engine reads such text
/// both ways, when the first reading met one
/// ([`NormView::met_unsure_percent`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Percent {
    /// As an escape.
    Escape,
    /// As a `%` sign.
    Sign,
}

impl<'s> NormView<'s> {
    /// The view of `original`. `may_need`: whether the text may hold
    /// anything to undo (see [`may_need_normalizing`]); when it is false the
    /// view is the text itself.
    #[inline]
    pub fn new(original: &'s [u8], may_need: bool, buffers: &'s mut NormBuffers) -> NormView<'s> {
        Self::reading(original, may_need, Percent::Escape, buffers)
    }

    /// [`NormView::new`], reading a `%` that is no sure escape as `percent`
    /// says.
    #[inline]
    pub fn reading(
        original: &'s [u8],
        may_need: bool,
        percent: Percent,
        buffers: &'s mut NormBuffers,
    ) -> NormView<'s> {
        if !may_need || original.len() >= u32::MAX as usize {
            return NormView {
                original,
                normalized: None,
                met_unsure_percent: false,
                lost_digits: &[],
            };
        }
        let NormBuffers {
            text,
            starts,
            spare_text,
            spare_starts,
            lost,
        } = buffers;
        let mut reading = Reading {
            percent,
            met_unsure: false,
        };
        let changed = normalize(original, &mut reading, text, starts);
        lost.clear();
        let expanded = numbers::expand_exponents(text, starts, spare_text, spare_starts, lost);
        starts.push(original.len() as u32);
        NormView {
            original,
            normalized: (changed || expanded).then_some((text.as_slice(), starts.as_slice())),
            met_unsure_percent: reading.met_unsure,
            lost_digits: lost,
        }
    }

    /// Where in the view a number with an exponent that a double held, and
    /// that lost digits, was read (`1.1010519491231003E17`): what lies in
    /// one cannot be asked for the check character it lost.
    pub fn lost_digits(&self) -> &'s [Range<usize>] {
        self.lost_digits
    }

    /// Whether the view met a `%` that is no sure escape (see
    /// [`Percent`]), at any level of decoding (`%2518…` is `%18…` once,
    /// and `%18` is none): the text should be read the other way too.
    pub fn met_unsure_percent(&self) -> bool {
        self.met_unsure_percent
    }

    /// Whether the view differs from the original.
    pub fn is_normalized(&self) -> bool {
        self.normalized.is_some()
    }

    /// The bytes detectors scan.
    pub fn bytes(&self) -> &'s [u8] {
        match self.normalized {
            Some((text, _)) => text,
            None => self.original,
        }
    }

    /// The range of the original that `r` (a range of [`Self::bytes`]) was
    /// decoded from: every byte of it. A range inside bytes that share one
    /// source (the digits of `1.8534099073E10`) gets all of that source.
    pub fn to_original(&self, r: &Range<usize>) -> Range<usize> {
        match self.normalized {
            Some((_, starts)) => {
                let start = starts[r.start] as usize;
                let mut end = starts[r.end] as usize;
                if end == start && !r.is_empty() {
                    end = starts[r.end..]
                        .iter()
                        .map(|&s| s as usize)
                        .find(|&s| s > start)
                        .unwrap_or(self.original.len());
                }
                start..end
            }
            None => r.clone(),
        }
    }
}

/// Whether the view of `text` could differ from it: it holds a `%`, a `\`,
/// a lead byte of a character the view folds or removes, a control byte,
/// or a number with an exponent. A quick test over the bytes (most texts
/// are plain ASCII, or Chinese without these).
pub fn may_need_normalizing(text: &[u8]) -> bool {
    find_special(text).is_some() || has_control(text) || may_hold_exponent(text)
}

/// Whether `text` holds a character whose fold matters: with `all`, any
/// character the view folds or removes (custom patterns may read any
/// sign); without, only those the built-in detectors read differently
/// once folded: digits, letters, the signs they look at
/// (`@ . - + ( ) % \ _`), spaces and invisible marks. Full-width commas
/// and colons, common in Chinese text, are boundaries either way, so text
/// holding only those is scanned as it is, uncopied.
pub fn has_foldable(text: &[u8], all: bool) -> bool {
    let mut from = 0;
    while let Some(off) = find_special(&text[from..]) {
        let i = from + off;
        from = i + 1;
        let Some(cp) = code_point_at(&text[i..]) else {
            // `%` or `\`: an escape may follow; or DEL, which the view
            // reads as a break.
            return true;
        };
        match fold(cp) {
            Fold::Keep => {}
            Fold::Remove | Fold::Mark | Fold::RunDigit(_) => return true,
            Fold::Byte(b) => {
                if all || b.is_ascii_alphanumeric() || b"@.-+()%\\_: ".contains(&b) {
                    return true;
                }
            }
        }
    }
    false
}

/// The code point of the UTF-8 character that begins `bytes`, if a lead
/// byte begins it (its continuation bytes are not checked: the caller's
/// text is UTF-8, or a fold of what it holds).
fn code_point_at(bytes: &[u8]) -> Option<u32> {
    let cont = |b: u8| u32::from(b & 0x3f);
    match *bytes {
        [a @ 0xc0..=0xdf, b, ..] => Some((u32::from(a & 0x1f) << 6) | cont(b)),
        [a @ 0xe0..=0xef, b, c, ..] => Some((u32::from(a & 0x0f) << 12) | (cont(b) << 6) | cont(c)),
        [a @ 0xf0..=0xf7, b, c, d, ..] => {
            Some((u32::from(a & 0x07) << 18) | (cont(b) << 12) | (cont(c) << 6) | cont(d))
        }
        _ => None,
    }
}

/// An upper bound on how many digits the view of `text` holds, and
/// whether it may hold an `@`, for text that holds no `%` and no `\`: its
/// ASCII digits (`ascii_digits`, already counted) plus every character
/// that may fold to a digit (full-width, circled, mathematical…).
pub fn wide_digits_and_at(text: &[u8]) -> (usize, bool) {
    let (mut digits, mut at) = (0, false);
    let mut from = 0;
    while let Some(off) = find_special(&text[from..]) {
        let i = from + off;
        from = i + 1;
        match code_point_at(&text[i..]).map(fold) {
            Some(Fold::Byte(b'0'..=b'9') | Fold::RunDigit(_)) => digits += 1,
            // `＠`, and `％` and `＼`, which may start an escape of one.
            Some(Fold::Byte(b'@' | b'%' | b'\\')) => at = true,
            _ => {}
        }
    }
    (digits, at)
}

/// What a character becomes in the view.
enum Fold {
    Keep,
    Byte(u8),
    Remove,
    /// A combining mark (an accent, a strike-through): removed after an
    /// ASCII digit, where it only decorates it (`1̶3̶8̶`); kept after
    /// anything else, where it belongs to a letter (`é` written as `e`
    /// and U+0301) that may bound a number.
    Mark,
    /// A digit in a styled form that is also a list or footnote marker
    /// (circled, parenthesised, superscript): read as this digit only in
    /// a run of two or more such digits that no plain digit touches
    /// (`❶❸❽…`), since `①13812345678` is item one and a phone number and
    /// `13812345678¹²` has a footnote.
    RunDigit(u8),
}

/// The view's rule for one code point.
#[inline]
fn fold(cp: u32) -> Fold {
    // The commonest in Chinese text first: CJK punctuation and kana (kept,
    // but the ideographic space and the prolonged sound mark), full-width
    // ASCII (as Chinese input methods type it).
    if (0x3001..=0x30fb).contains(&cp) {
        return Fold::Keep;
    }
    if (0xff01..=0xff5e).contains(&cp) {
        return Fold::Byte((cp - 0xfee0) as u8);
    }
    match cp {
        // The small `@` and full stops of presentation forms, and the one
        // dot leader (what an e-mail address is disguised with).
        0xfe6b => Fold::Byte(b'@'),
        0xfe52 | 0x2024 => Fold::Byte(b'.'),
        // Mathematical digits (bold, double-struck, sans-serif, monospace:
        // styled text generators) and segmented digits: styling only.
        0x1d7ce..=0x1d7ff => Fold::Byte(b'0' + ((cp - 0x1d7ce) % 10) as u8),
        0x1fbf0..=0x1fbf9 => Fold::Byte(b'0' + (cp - 0x1fbf0) as u8),
        // Circled and parenthesised digits, superscripts and subscripts.
        0x2460..=0x2468 => Fold::RunDigit(b'1' + (cp - 0x2460) as u8),
        0x2474..=0x247c => Fold::RunDigit(b'1' + (cp - 0x2474) as u8),
        0x2488..=0x2490 => Fold::RunDigit(b'1' + (cp - 0x2488) as u8),
        0x24f5..=0x24fd => Fold::RunDigit(b'1' + (cp - 0x24f5) as u8),
        0x2776..=0x277e => Fold::RunDigit(b'1' + (cp - 0x2776) as u8),
        0x2780..=0x2788 => Fold::RunDigit(b'1' + (cp - 0x2780) as u8),
        0x278a..=0x2792 => Fold::RunDigit(b'1' + (cp - 0x278a) as u8),
        0x24ea | 0x24ff | 0x1f10b | 0x1f10c => Fold::RunDigit(b'0'),
        0x2070 | 0x2080 => Fold::RunDigit(b'0'),
        0xb9 => Fold::RunDigit(b'1'),
        0xb2 => Fold::RunDigit(b'2'),
        0xb3 => Fold::RunDigit(b'3'),
        0x2074..=0x2079 => Fold::RunDigit(b'4' + (cp - 0x2074) as u8),
        0x2081..=0x2089 => Fold::RunDigit(b'1' + (cp - 0x2081) as u8),
        // Spaces: no-break, en/em and the rest, line and paragraph
        // separators, narrow no-break, medium mathematical, ideographic.
        // C1 control characters (a break, as C0 ones are) and the blank
        // Braille pattern read as one too.
        0x80..=0x9f
        | 0xa0
        | 0x1680
        | 0x2000..=0x200a
        | 0x2028
        | 0x2029
        | 0x202f
        | 0x205f
        | 0x2800
        | 0x3000 => Fold::Byte(b' '),
        // Dashes and the minus sign, small ones among them; the modifier
        // minus, the Armenian hyphen, the hyphen bullet, box-drawing and
        // heavy-minus lines, two- and three-em dashes, the katakana
        // prolonged sound mark (a Japanese input method's dash) and its
        // half-width form, presentation-form dashes.
        0x2010..=0x2015
        | 0x2212
        | 0xfe58
        | 0xfe63
        | 0x02d7
        | 0x058a
        | 0x2043
        | 0x2500
        | 0x2501
        | 0x23af
        | 0x2796
        | 0x2e17
        | 0x2e3a
        | 0x2e3b
        | 0x2e40
        | 0x30fc
        | 0xfe31
        | 0xfe32
        | 0xff70 => Fold::Byte(b'-'),
        // Combining marks (diacritics, their extensions and supplement,
        // marks for symbols, half marks), but the enclosing ones below.
        0x0300..=0x034e
        | 0x0350..=0x036f
        | 0x1ab0..=0x1aff
        | 0x1dc0..=0x1dff
        | 0x20d0..=0x20dc
        | 0x20e5..=0x20ff
        | 0xfe20..=0xfe2f => Fold::Mark,
        // Invisible (Unicode's default-ignorable characters of the Basic
        // Multilingual Plane): the soft hyphen, the combining grapheme
        // joiner, the Arabic letter mark (a direction mark), Hangul and
        // Khmer fillers, Mongolian variation selectors and vowel separator,
        // zero-width space, joiners, direction marks and embeddings, word
        // joiner, invisible operators, isolates and the deprecated format
        // characters, variation selectors, the byte-order mark.
        0xad
        | 0x034f
        | 0x061c
        | 0x115f
        | 0x1160
        | 0x17b4
        | 0x17b5
        | 0x180b..=0x180f
        | 0x200b..=0x200f
        | 0x202a..=0x202e
        | 0x2060..=0x206f
        | 0x3164
        | 0xfe00..=0xfe0f
        | 0xfeff
        | 0xffa0
        // Combining enclosing marks (a keycap `1️⃣`, a circle): the digit
        // shows through.
        | 0x20dd..=0x20e4
        // Tags and the variation selectors' supplement (plane 14).
        | 0xe0000..=0xe0fff
        // Interlinear annotation marks; shorthand and musical format
        // controls.
        | 0xfff9..=0xfffb
        | 0x1bca0..=0x1bca3
        | 0x1d173..=0x1d17a => Fold::Remove,
        _ => Fold::Keep,
    }
}

/// Whether nobody sees `c`: the view removes it or reads it as a space.
pub(crate) fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(fold(c as u32), Fold::Remove | Fold::Mark | Fold::Byte(b' '))
}

fn hex(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'f' => Some(u32::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(b - b'A' + 10)),
        _ => None,
    }
}

/// Builds the view of `original` into `text` and `starts` (one entry per
/// byte of `text`; the caller adds the last). Returns whether it differs
/// from the original. (Out of line: most calls of
/// [`NormView::new`] return before it.)
#[inline(never)]
fn normalize(
    original: &[u8],
    reading: &mut Reading,
    text: &mut Vec<u8>,
    starts: &mut Vec<u32>,
) -> bool {
    text.clear();
    starts.clear();
    text.reserve(original.len());
    starts.reserve(original.len() + 1);
    let mut changed = false;
    let mut i = 0;
    while i < original.len() {
        // Copy text up to the next byte that could start something to
        // undo (an escape, or a character the view folds) in one go:
        // Chinese text is copied whole, character by character or not.
        let plain = find_special(&original[i..]).unwrap_or(original.len() - i);
        if plain > 0 {
            // The first bytes of a plain run can still complete an escape
            // begun before it (`%3` + `1`, or `%5C` + `u0031`): go byte by
            // byte while the output's last five bytes hold a `%` or `\`
            // (the longest escape is six bytes).
            let end = i + plain;
            while i < end && pending(text) {
                push(text, starts, original[i], i);
                changed |= reduce(text, starts, original, i + 1, reading);
                i += 1;
            }
            text.extend_from_slice(&original[i..end]);
            starts.extend((i..end).map(|at| at as u32));
            i = end;
            continue;
        }
        // A `%` or `\`, or the lead byte of a character the view may fold:
        // the whole character goes in, then whatever the end now spells is
        // undone. (The input is UTF-8, so a lead byte's continuation bytes
        // follow it.)
        // The usual escape, `%HH`, is decoded at once rather than byte by
        // byte (URL-encoded Chinese is nine of them per character pair).
        if original[i] == b'%' {
            let next = original.get(i + 3).copied();
            if let (Some(h), Some(l)) = (
                original.get(i + 1).copied().and_then(hex),
                original.get(i + 2).copied().and_then(hex),
            ) {
                let byte = (h << 4 | l) as u8;
                if reading.escape(byte, next) {
                    push(text, starts, byte, i);
                    reduce(text, starts, original, i + 3, reading);
                    changed = true;
                    i += 3;
                    continue;
                }
            }
        }
        let len = match original[i] {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => 1,
        }
        .min(original.len() - i);
        for k in 0..len {
            push(text, starts, original[i + k], i);
        }
        changed |= reduce(text, starts, original, i + len, reading);
        i += len;
    }
    // Control characters the text holds as they are (a JSON string's
    // `\u0001`, decoded): a break, as when an escape here spells one.
    if has_control(text) {
        for b in text.iter_mut() {
            if is_control(*b) {
                *b = b' ';
            }
        }
        changed = true;
    }
    changed
}

/// Whether an escape may be under way at the end of the output.
#[inline]
fn pending(text: &[u8]) -> bool {
    let from = text.len().saturating_sub(5);
    text[from..].iter().any(|&b| b == b'%' || b == b'\\')
}

#[inline]
fn push(text: &mut Vec<u8>, starts: &mut Vec<u32>, b: u8, at: usize) {
    text.push(b);
    starts.push(at as u32);
}

/// Replaces `n` bytes at the end of the output by `with`, whose source is
/// theirs together.
fn replace_tail(text: &mut Vec<u8>, starts: &mut Vec<u32>, n: usize, with: &[u8]) {
    let start = starts[starts.len() - n];
    text.truncate(text.len() - n);
    starts.truncate(starts.len() - n);
    for &b in with {
        text.push(b);
        starts.push(start);
    }
}

/// What stands before a [`Fold::RunDigit`] character at `before` in the
/// output.
enum Neighbour {
    /// Nothing that makes it a digit.
    None,
    /// A styled digit, already read as a digit.
    Digit,
    /// A styled digit kept as it was, at `at`, which reads as `digit` now.
    Styled { at: usize, digit: u8 },
}

fn run_neighbour(text: &[u8], starts: &[u32], original: &[u8], before: usize) -> Neighbour {
    let Some(&last) = before.checked_sub(1).and_then(|i| text.get(i)) else {
        return Neighbour::None;
    };
    if last.is_ascii_digit() {
        // A digit read from a styled one continues the run; a plain one,
        // or a full-width one, does not (`13812345678¹`, `１３８…②`).
        return match source_char(original, starts[before - 1] as usize).map(fold) {
            Some(Fold::RunDigit(_)) => Neighbour::Digit,
            _ => Neighbour::None,
        };
    }
    match kept_styled_digit(text, before) {
        // Not after a digit: that one was kept as a footnote to it.
        Some((at, digit)) if at == 0 || !text[at - 1].is_ascii_digit() => {
            Neighbour::Styled { at, digit }
        }
        _ => Neighbour::None,
    }
}

/// The styled digit kept as it was that ends at `before` in the output:
/// where it starts, and the digit it reads as.
fn kept_styled_digit(text: &[u8], before: usize) -> Option<(usize, u8)> {
    let from = before.saturating_sub(4);
    let at = (from..before).rev().find(|&i| text[i] & 0xc0 != 0x80)?;
    match code_point_at(&text[at..before]).map(fold) {
        Some(Fold::RunDigit(digit)) => Some((at, digit)),
        _ => None,
    }
}

/// Whether a combining mark at `end` in the output follows a digit: an
/// ASCII one, or a styled one kept as it was (`❶̶`).
fn marks_a_digit(text: &[u8], end: usize) -> bool {
    end > 0 && (text[end - 1].is_ascii_digit() || kept_styled_digit(text, end).is_some())
}

/// The code point whose source begins at `src` in the original: the
/// character there, or the one a `\uHHHH` or `%uHHHH` escape there spells.
fn source_char(original: &[u8], src: usize) -> Option<u32> {
    match original.get(src..)? {
        [b'\\' | b'%', b'u', a, b, c, d, ..] => {
            Some(hex(*a)? << 12 | hex(*b)? << 8 | hex(*c)? << 4 | hex(*d)?)
        }
        s => code_point_at(s),
    }
}

/// How one view reads `%`, and whether it met one that is no sure escape.
struct Reading {
    percent: Percent,
    met_unsure: bool,
}

impl Reading {
    /// Whether `%HH`, decoding to `byte` with `next` after it, is read as
    /// an escape. Not every `%` before two hex digits is one: in a SQL
    /// `LIKE` pattern (`phone LIKE '%13812345678%'`) it stands before the
    /// digits. URL encoding seldom writes a letter or digit as an escape
    /// right before another letter or digit (encoders that escape letters
    /// and digits escape every byte), never a control byte other than tab,
    /// CR and LF, nor the first byte of a multi-byte character without its
    /// next byte's escape after it. Those are no sure escapes: `percent`
    /// says how to read them. Asked as the view is built, at every level
    /// of decoding, so a `%` that only decoding brings out (`%2518…`,
    /// `\u002518…`, a full-width `％`) is judged too.
    fn escape(&mut self, byte: u8, next: Option<u8>) -> bool {
        if !ambiguous_escape(byte, next) {
            return true;
        }
        self.met_unsure = true;
        self.percent == Percent::Escape
    }
}

fn ambiguous_escape(byte: u8, next: Option<u8>) -> bool {
    // Two decimal digits before a digit, whatever they decode to: `%21` may
    // be `!`, or a `%` before an ID (`LIKE '%210102199003071233%'`; also
    // `%40` before a card, `%81` before a residence permit). But `%25` is
    // the `%` itself, encoded once more (`%2518…`), and no ID starts 25.
    if byte != b'%'
        && byte >> 4 <= 9
        && byte & 0x0f <= 9
        && next.is_some_and(|n| n.is_ascii_digit() || n >= 0x80)
    {
        return true;
    }
    match byte {
        b'\t' | b'\n' | b'\r' => false,
        0x00..=0x1f | 0x7f => true,
        // (A byte above ASCII may begin a full-width letter or digit.)
        b if b.is_ascii_alphanumeric() => {
            next.is_some_and(|n| n.is_ascii_alphanumeric() || n >= 0x80)
        }
        0xc0..=0xff => next != Some(b'%'),
        _ => false,
    }
}

/// The high surrogate half `\uHHHH` or `%uHHHH` that the first six of
/// `twelve` bytes spell, if they spell one.
fn high_surrogate(twelve: &[u8]) -> Option<u32> {
    match twelve {
        [b'\\' | b'%', b'u', a, b, c, d, ..] => {
            let unit = hex(*a)? << 12 | hex(*b)? << 8 | hex(*c)? << 4 | hex(*d)?;
            (0xd800..=0xdbff).contains(&unit).then_some(unit)
        }
        _ => None,
    }
}

/// The first byte of what `rest` (the original after the output so far)
/// reads as once escapes are undone: a `%` that decoding brought out is
/// judged by the character after it, and when that character is itself
/// escaped (`%25%34%34%30…`, `%\\uff14\\uff14\\uff10…`: an ID after a
/// `LIKE` `%`, every character encoded, the escapes escaped once more) its
/// raw `%` or `\` says nothing of it. A few levels deep, on the first
/// bytes only.
fn next_decoded(rest: &[u8]) -> Option<u8> {
    let mut buf = [0u8; 24];
    let mut len = rest.len().min(buf.len());
    buf[..len].copy_from_slice(&rest[..len]);
    for _ in 0..4 {
        let (decoded, used): (&[u8], usize) = match buf[..len] {
            [b'%', h, l, ..] | [b'\\', b'x' | b'X', h, l, ..]
                if hex(h).is_some() && hex(l).is_some() =>
            {
                let byte = (hex(h)? << 4 | hex(l)?) as u8;
                let used = if buf[0] == b'%' { 3 } else { 4 };
                return match byte {
                    b'%' | b'\\' => {
                        buf[used - 1] = byte;
                        buf.copy_within(used - 1..len, 0);
                        len -= used - 1;
                        continue;
                    }
                    _ => Some(byte),
                };
            }
            [b'\\', b'u', a, b, c, d, ..] if [a, b, c, d].iter().all(|h| hex(*h).is_some()) => {
                let unit = hex(a)? << 12 | hex(b)? << 8 | hex(c)? << 4 | hex(d)?;
                return match char::from_u32(unit) {
                    Some(ch) => {
                        let mut utf8 = [0u8; 4];
                        ch.encode_utf8(&mut utf8).as_bytes().first().copied()
                    }
                    // A surrogate half: the first byte of a character
                    // beyond the Basic Multilingual Plane.
                    None => Some(0xf0),
                };
            }
            // `\\` is one backslash, which may begin an escape with what
            // follows.
            [b'\\', b'\\', ..] => (&[b'\\'][..], 2),
            _ => return buf[..len].first().copied(),
        };
        buf[used - decoded.len()..used].copy_from_slice(decoded);
        buf.copy_within(used - decoded.len()..len, 0);
        len -= used - decoded.len();
    }
    buf[..len].first().copied()
}

/// The ASCII character a full-width one encoded in GBK (GB 2312's row
/// 3, `A3A1`-`A3FE`, and the ideographic space `A1A1`) at the end of the
/// output reads as: what a legacy GBK page sends for `１３８…` typed with
/// an input method, percent- or `\x`-escaped (`%A3%B1%A3%B3…`). `rest` is
/// the original after the output.
///
/// Only bytes an escape decoded can be no UTF-8 (the original is UTF-8),
/// and only a pair that ends no UTF-8 character and begins none is taken:
/// `棱` is `E6 A3 B1`, read as such before this is asked; `代码` is
/// `E4 BB A3 E7 A0 81`, where `A3 E7` is the end of one character and the
/// start of the next, told by the `A0` after it.
fn gbk_full_width(text: &[u8], rest: &[u8]) -> Option<u8> {
    let n = text.len();
    let pair = text.get(n.checked_sub(2)?..)?;
    // (`F0 A3 B1` may begin a character beyond the Basic Multilingual
    // Plane, which one more byte completes.)
    if n >= 3 && (0xf0..=0xf4).contains(&text[n - 3]) {
        return None;
    }
    let ascii = match *pair {
        [0xa3, b @ 0xa1..=0xfe] => b - 0x80,
        [0xa1, 0xa1] => b' ',
        _ => return None,
    };
    // A second byte that may begin a UTF-8 character does when a
    // continuation byte follows it.
    if pair[1] >= 0xc2 && next_decoded(rest).is_some_and(|b| b & 0xc0 == 0x80) {
        return None;
    }
    Some(ascii)
}

/// Undoes whatever the end of the output now spells, as often as it
/// spells something. Returns whether anything was undone.
fn reduce(
    text: &mut Vec<u8>,
    starts: &mut Vec<u32>,
    original: &[u8],
    at: usize,
    reading: &mut Reading,
) -> bool {
    // What follows the output in the original.
    let rest = &original[at..];
    let mut any = false;
    loop {
        let n = text.len();
        let Some(&last) = text.last() else {
            return any;
        };
        if matches!(last, 0x00..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f) {
            // Control characters an escape decoded (`\u0001`), or DEL:
            // a break, as they are between fields (Hive's and FIX's
            // separators) and nobody reads digits across one as one number.
            text[n - 1] = b' ';
            any = true;
            continue;
        }
        if last < 0x80 && !pending(&text[..n - 1]) {
            // An ASCII byte ends an escape only after a `%` or `\\`.
            return any;
        }
        let tail = |k: usize| if n >= k { Some(&text[n - k..]) } else { None };
        if last >= 0x80 {
            // A character that ends here, if it is one the view folds.
            let (len, cp) = match (tail(2), tail(3), tail(4)) {
                (Some(&[a, b]), ..) if a & 0xe0 == 0xc0 && b & 0xc0 == 0x80 => {
                    (2, (u32::from(a & 0x1f) << 6) | u32::from(b & 0x3f))
                }
                (_, Some(&[a, b, c]), _)
                    if a & 0xf0 == 0xe0 && b & 0xc0 == 0x80 && c & 0xc0 == 0x80 =>
                {
                    (
                        3,
                        (u32::from(a & 0x0f) << 12)
                            | (u32::from(b & 0x3f) << 6)
                            | u32::from(c & 0x3f),
                    )
                }
                (.., Some(&[a, b, c, d]))
                    if a & 0xf8 == 0xf0
                        && b & 0xc0 == 0x80
                        && c & 0xc0 == 0x80
                        && d & 0xc0 == 0x80 =>
                {
                    (
                        4,
                        (u32::from(a & 0x07) << 18)
                            | (u32::from(b & 0x3f) << 12)
                            | (u32::from(c & 0x3f) << 6)
                            | u32::from(d & 0x3f),
                    )
                }
                _ => {
                    if let Some(b) = gbk_full_width(text, rest) {
                        replace_tail(text, starts, 2, &[b]);
                        any = true;
                        continue;
                    }
                    return any;
                }
            };
            match fold(cp) {
                Fold::Keep => return any,
                Fold::Byte(b) => replace_tail(text, starts, len, &[b]),
                Fold::RunDigit(digit) => {
                    let before = n - len;
                    // Not glued to a plain digit after it either (`¹²`
                    // before a number).
                    if next_decoded(rest).is_some_and(|b| b.is_ascii_digit()) {
                        return any;
                    }
                    match run_neighbour(text, starts, original, before) {
                        Neighbour::None => return any,
                        Neighbour::Digit => replace_tail(text, starts, len, &[digit]),
                        Neighbour::Styled { at, digit: prev } => {
                            // The one before was kept, alone so far: both
                            // are read now.
                            let (prev_start, start) = (starts[at], starts[before]);
                            text.truncate(at);
                            starts.truncate(at);
                            push(text, starts, prev, prev_start as usize);
                            push(text, starts, digit, start as usize);
                        }
                    }
                }
                Fold::Mark
                    if marks_a_digit(text, n - len)
                        && !rest.first().is_some_and(u8::is_ascii_alphabetic) =>
                {
                    // (Before a letter it stays, a boundary, as it was.)
                    text.truncate(n - len);
                    starts.truncate(n - len);
                }
                Fold::Mark => return any,
                Fold::Remove => {
                    // Its bytes join the source of the byte before it (the
                    // sources still tile the original).
                    text.truncate(n - len);
                    starts.truncate(n - len);
                    if text.is_empty() {
                        // Nothing before: the next byte's source starts
                        // after it, and no match can start inside it.
                        return true;
                    }
                }
            }
            any = true;
            continue;
        }
        // `%HH`
        if let Some(&[b'%', h, l]) = tail(3) {
            if let (Some(h), Some(l)) = (hex(h), hex(l)) {
                let byte = (h << 4 | l) as u8;
                if reading.escape(byte, next_decoded(rest)) {
                    replace_tail(text, starts, 3, &[byte]);
                    any = true;
                    continue;
                }
            }
        }
        // `\xHH`
        if let Some(&[b'\\', b'x' | b'X', h, l]) = tail(4) {
            if let (Some(h), Some(l)) = (hex(h), hex(l)) {
                replace_tail(text, starts, 4, &[(h << 4 | l) as u8]);
                any = true;
                continue;
            }
        }
        // `\uHHHH`, and JavaScript's `escape()` form `%uHHHH` (legacy
        // cookies and query strings), as UTF-8; a high and a low surrogate
        // half together are one character (an emoji: `\ud83d\udcf1`), a
        // lone half is left as it is.
        if let Some(&[b'\\' | b'%', b'u', a, b, c, d]) = tail(6) {
            if let (Some(a), Some(b), Some(c), Some(d)) = (hex(a), hex(b), hex(c), hex(d)) {
                let unit = a << 12 | b << 8 | c << 4 | d;
                if let Some(ch) = (0xdc00..=0xdfff)
                    .contains(&unit)
                    .then(|| tail(12).and_then(high_surrogate))
                    .flatten()
                    .and_then(|high| {
                        char::from_u32(0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00))
                    })
                {
                    let mut buf = [0u8; 4];
                    let utf8 = ch.encode_utf8(&mut buf).as_bytes();
                    replace_tail(text, starts, 12, utf8);
                    any = true;
                    continue;
                }
                if let Some(ch) = char::from_u32(unit) {
                    let mut buf = [0u8; 4];
                    let utf8 = ch.encode_utf8(&mut buf).as_bytes();
                    replace_tail(text, starts, 6, utf8);
                    any = true;
                    continue;
                }
            }
        }
        // `\n`, `\"`, `\\` and the rest of JSON's short escapes.
        if let Some(&[b'\\', e]) = tail(2) {
            // `\\` completes as soon as its second byte arrives, so in
            // `\\u0031` it is undone first, and `\u0031` then completes
            // as the rest of it arrives: every level is undone in turn.
            let with = match e {
                b'\\' => Some(b'\\'),
                b'"' => Some(b'"'),
                b'/' => Some(b'/'),
                b'\'' => Some(b'\''),
                b'n' | b'r' | b't' | b'b' | b'f' => Some(b' '),
                _ => None,
            };
            if let Some(with) = with {
                replace_tail(text, starts, 2, &[with]);
                any = true;
                continue;
            }
        }
        return any;
    }
}

#[cfg(test)]
mod tests;

//! What a character becomes in the view: the fold of each code point,
//! and the folds that depend on what stands next to the character
//! (combining marks, and styled digits that are also list and footnote
//! markers). Pure functions of code points and of the view built so far;
//! escapes are `mod.rs`'s.

/// What a character becomes in the view.
pub(super) enum Fold {
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
pub(super) fn fold(cp: u32) -> Fold {
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

/// The code point of the UTF-8 character that begins `bytes`, if a lead
/// byte begins it (its continuation bytes are not checked: the caller's
/// text is UTF-8, or a fold of what it holds).
pub(super) fn code_point_at(bytes: &[u8]) -> Option<u32> {
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

/// The UTF-8 character that ends at `end` in `text`, continuation bytes
/// checked: where it starts, and its code point.
pub(super) fn char_ending_at(text: &[u8], end: usize) -> Option<(usize, u32)> {
    let continuation = |b: u8| b & 0xc0 == 0x80;
    for len in 2..=4 {
        let start = end.checked_sub(len)?;
        let lead = text[start];
        let leads_len = match len {
            2 => lead & 0xe0 == 0xc0,
            3 => lead & 0xf0 == 0xe0,
            _ => lead & 0xf8 == 0xf0,
        };
        if leads_len && text[start + 1..end].iter().all(|&b| continuation(b)) {
            return code_point_at(&text[start..end]).map(|cp| (start, cp));
        }
        if !continuation(lead) {
            return None;
        }
    }
    None
}

/// What stands before a [`Fold::RunDigit`] character at `before` in the
/// output.
pub(super) enum Neighbour {
    /// Nothing that makes it a digit.
    None,
    /// A styled digit, already read as a digit.
    Digit,
    /// A styled digit kept as it was, at `at`, which reads as `digit` now.
    Styled { at: usize, digit: u8 },
}

/// `source_of_last` gives the code point the byte before `before` was read
/// from.
pub(super) fn run_neighbour(
    text: &[u8],
    before: usize,
    source_of_last: impl FnOnce() -> Option<u32>,
) -> Neighbour {
    let Some(&last) = before.checked_sub(1).and_then(|i| text.get(i)) else {
        return Neighbour::None;
    };
    if last.is_ascii_digit() {
        // A digit read from a styled one continues the run; a plain one,
        // or a full-width one, does not (`13812345678¹`, `１３８…②`).
        return match source_of_last().map(fold) {
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
    let (at, cp) = char_ending_at(text, before)?;
    match fold(cp) {
        Fold::RunDigit(digit) => Some((at, digit)),
        _ => None,
    }
}

/// Whether a combining mark at `end` in the output follows a digit: an
/// ASCII one, or a styled one kept as it was (`❶̶`).
pub(super) fn marks_a_digit(text: &[u8], end: usize) -> bool {
    end > 0 && (text[end - 1].is_ascii_digit() || kept_styled_digit(text, end).is_some())
}

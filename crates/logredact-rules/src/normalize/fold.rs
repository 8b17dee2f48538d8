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
    /// (circled, parenthesised, superscript), or a Chinese numeral, which
    /// is also a word (`一个`, `七八个`): read as this digit only in a run
    /// of two or more such digits that no plain digit touches (`❶❸❽…`,
    /// `一三八一二三四五六七八`), since `①13812345678` is item one and a
    /// phone number and `13812345678¹²` has a footnote.
    RunDigit(u8),
}

/// The view's rule for one code point.
#[inline]
pub(super) fn fold(cp: u32) -> Fold {
    // The commonest in Chinese text first: CJK punctuation and kana (kept,
    // but the ideographic space and the prolonged sound mark), full-width
    // ASCII (as Chinese input methods type it).
    if (0x3001..=0x30fb).contains(&cp) {
        return if cp == 0x3007 {
            Fold::RunDigit(b'0')
        } else {
            Fold::Keep
        };
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
        _ => cjk_numeral(cp).map_or(Fold::Keep, Fold::RunDigit),
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

/// Chinese numerals and the digits they stand for, as people write a
/// number digit by digit in words (`一三八…`, said aloud `幺三八…`, in a
/// form that refuses digits, or to get past a platform's filter): the
/// common numerals, `〇` and `零`, the spoken `幺`, and the financial ones
/// (`壹贰叁肆伍陆柒捌玖`, `貳` `陸` as Taiwan and Hong Kong write them).
/// Sorted by code point; all lie in U+3000-U+9FFF (leads 0xE3-0xE9).
const NUMERALS: [(u32, u8); 23] = [
    (0x3007, b'0'), // 〇
    (0x4e00, b'1'), // 一
    (0x4e03, b'7'), // 七
    (0x4e09, b'3'), // 三
    (0x4e5d, b'9'), // 九
    (0x4e8c, b'2'), // 二
    (0x4e94, b'5'), // 五
    (0x4f0d, b'5'), // 伍
    (0x516b, b'8'), // 八
    (0x516d, b'6'), // 六
    (0x53c1, b'3'), // 叁
    (0x56db, b'4'), // 四
    (0x58f9, b'1'), // 壹
    (0x5e7a, b'1'), // 幺
    (0x634c, b'8'), // 捌
    (0x67d2, b'7'), // 柒
    (0x7396, b'9'), // 玖
    (0x8086, b'4'), // 肆
    (0x8cb3, b'2'), // 貳
    (0x8d30, b'2'), // 贰
    (0x9646, b'6'), // 陆
    (0x9678, b'6'), // 陸
    (0x96f6, b'0'), // 零
];

/// Which three-byte sequences are numerals: bit `third & 0x3f` of entry
/// `(lead - 0xE3) * 64 + (second & 0x3f)`. One look-up per character of
/// Chinese text (3.5 KiB, read only where Chinese text is).
static NUMERAL_BYTES: [u64; 7 * 64] = {
    let mut table = [0u64; 7 * 64];
    let mut i = 0;
    while i < NUMERALS.len() {
        let cp = NUMERALS[i].0;
        let row = ((cp >> 12) as usize - 3) * 64 + ((cp >> 6) & 0x3f) as usize;
        table[row] |= 1 << (cp & 0x3f);
        i += 1;
    }
    table
};

/// The digit a Chinese numeral (see [`NUMERALS`]) stands for.
#[inline]
fn cjk_numeral(cp: u32) -> Option<u8> {
    if !(0x3007..=0x96f6).contains(&cp) {
        return None;
    }
    NUMERALS
        .binary_search_by_key(&cp, |&(c, _)| c)
        .ok()
        .map(|i| NUMERALS[i].1)
}

/// Where the first Chinese numeral in `bytes` starts. Sixteen bytes at a
/// time where none can start (ASCII, Latin, other scripts); in Chinese
/// text, character by character, one table look-up each. (This runs over
/// every Chinese text value, so its inner loop is kept short.)
pub(super) fn find_cjk_numeral(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(&[a, b, c]) = bytes.get(i..).and_then(<[u8]>::first_chunk::<3>) {
        let lead = usize::from(a.wrapping_sub(0xe3));
        if lead < 7 {
            if NUMERAL_BYTES[lead * 64 + usize::from(b & 0x3f)] & (1 << (c & 0x3f)) != 0 {
                return Some(i);
            }
            i += 3;
        } else if !(0x80..0xea).contains(&a) {
            // No numeral for a while: on to the next lead of one.
            i += 1 + crate::bytes::find_numeral_lead(&bytes[i + 1..], |_| true)?;
        } else {
            // A continuation byte or the lead of a shorter character.
            i += 1;
        }
    }
    None
}

/// How many Chinese numerals `text` holds in runs of two or more: the
/// digits its view reads from them, at most. Zero for text without any.
pub fn cjk_numeral_digits(text: &[u8]) -> usize {
    let (mut total, mut run) = (0, 0);
    let mut i = 0;
    while let Some(off) = find_cjk_numeral(&text[i..]) {
        // Numerals with only invisible characters between them stand
        // together as a reader sees them (`一\u{200b}三`).
        if off > 0 && !only_invisible(&text[i..i + off]) {
            if run >= 2 {
                total += run;
            }
            run = 0;
        }
        run += 1;
        i += off + 3;
    }
    if run >= 2 {
        total += run;
    }
    total
}

/// Whether `gap` holds only characters the view removes (zero-width
/// spaces and joiners, direction marks…) or drops after a digit (marks).
fn only_invisible(gap: &[u8]) -> bool {
    let mut i = 0;
    while i < gap.len() {
        let Some(cp) = code_point_at(&gap[i..]) else {
            return false;
        };
        if !matches!(fold(cp), Fold::Remove | Fold::Mark) {
            return false;
        }
        i += char::from_u32(cp).map_or(1, char::len_utf8);
    }
    true
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

/// `source_of(i)` gives the code point byte `i` of the output was read
/// from.
pub(super) fn run_neighbour(
    text: &[u8],
    before: usize,
    source_of: impl Fn(usize) -> Option<u32>,
) -> Neighbour {
    let Some(&last) = before.checked_sub(1).and_then(|i| text.get(i)) else {
        return Neighbour::None;
    };
    // A digit read from a styled one (or a numeral); a plain one, or a
    // full-width one, is no part of a run (`13812345678¹`, `１３８…②`).
    let read_from_styled = |i: usize| {
        text[i].is_ascii_digit() && matches!(source_of(i).map(fold), Some(Fold::RunDigit(_)))
    };
    if last.is_ascii_digit() {
        return if read_from_styled(before - 1) {
            Neighbour::Digit
        } else {
            Neighbour::None
        };
    }
    // A last group of one after a run that was read (an ID in fours,
    // `四二一七 一八一九 八三一一 二六四四 四X`).
    if matches!(last, b' ' | b'-') && before >= 2 && read_from_styled(before - 2) {
        return Neighbour::Digit;
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

//! The text detectors read: a value as a person would read it, with a map
//! from every byte of it back to the original.
//!
//! Real logs write the same digits many ways. This view undoes them, at
//! every level, until nothing more changes:
//!
//! - URL escapes (`%31`, and `%2531`: percent-encoding applied twice);
//! - backslash escapes left in text by a serializer or a web server: JSON's
//!   `\uXXXX` and `\n`, `\"`, `\\` (a JSON document inside a string, at any
//!   depth) and nginx's `\xHH`;
//! - full-width forms, as Chinese input methods type them (U+FF01–FF5E to
//!   ASCII: `１３８` is `138`, `＠` is `@`; U+3000 to a space);
//! - Unicode spaces (no-break, thin, ideographic…) become a space, Unicode
//!   dashes a `-`;
//! - zero-width characters and bidirectional marks are removed: nobody can
//!   see them, so a reader reads the digits either side as one number.
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

use super::bytes::find_special;

/// The text detectors scan for one value: the value itself, or its
/// normalised form and the map back.
pub struct NormView<'s> {
    original: &'s [u8],
    normalized: Option<(&'s [u8], &'s [u32])>,
}

/// Buffers a [`NormView`] is built in, reused from value to value.
#[derive(Debug, Default)]
pub struct NormBuffers {
    text: Vec<u8>,
    /// Per byte of `text`, the offset in the original where its source
    /// begins; then one more entry, the original's length.
    starts: Vec<u32>,
}

impl<'s> NormView<'s> {
    /// The view of `original`. `may_need`: whether the text may hold
    /// anything to undo (see [`may_need_normalizing`]); when it is false the
    /// view is the text itself.
    #[inline]
    pub fn new(original: &'s [u8], may_need: bool, buffers: &'s mut NormBuffers) -> NormView<'s> {
        if !may_need || original.len() >= u32::MAX as usize {
            return NormView {
                original,
                normalized: None,
            };
        }
        let NormBuffers { text, starts } = buffers;
        if !normalize(original, text, starts) {
            return NormView {
                original,
                normalized: None,
            };
        }
        NormView {
            original,
            normalized: Some((text, starts)),
        }
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
    /// decoded from: every byte of it.
    pub fn to_original(&self, r: &Range<usize>) -> Range<usize> {
        match self.normalized {
            Some((_, starts)) => starts[r.start] as usize..starts[r.end] as usize,
            None => r.clone(),
        }
    }
}

/// Whether the view of `text` could differ from it: it holds a `%`, a `\`,
/// or a lead byte of a character the view folds or removes. A quick test
/// over the bytes (most texts are plain ASCII, or Chinese without these).
pub fn may_need_normalizing(text: &[u8]) -> bool {
    find_special(text).is_some()
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
        let cp = match text[i..] {
            [a @ (0xc2 | 0xcd | 0xd8), b, ..] => (u32::from(a & 0x1f) << 6) | u32::from(b & 0x3f),
            [a @ (0xe1 | 0xe2 | 0xe3 | 0xef), b, c, ..] => {
                (u32::from(a & 0x0f) << 12) | (u32::from(b & 0x3f) << 6) | u32::from(c & 0x3f)
            }
            // `%` or `\`: an escape may follow.
            _ => return true,
        };
        match fold(cp) {
            Fold::Keep => {}
            Fold::Remove => return true,
            Fold::Byte(b) => {
                if all || b.is_ascii_alphanumeric() || b"@.-+()%\\_: ".contains(&b) {
                    return true;
                }
            }
        }
    }
    false
}

/// An upper bound on how many digits the view of `text` holds, and
/// whether it may hold an `@`, for text that holds no `%` and no `\`: its
/// ASCII digits (`ascii_digits`, already counted) plus its full-width ones.
pub fn wide_digits_and_at(text: &[u8]) -> (usize, bool) {
    let (mut digits, mut at) = (0, false);
    for i in memchr::memchr_iter(0xef, text) {
        match (text.get(i + 1), text.get(i + 2)) {
            (Some(0xbc), Some(0x90..=0x99)) => digits += 1,
            // `＠`, and `％` and `＼`, which may start an escape of one.
            (Some(0xbc), Some(0xa0 | 0x85 | 0xbc)) => at = true,
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
}

/// The view's rule for one code point.
fn fold(cp: u32) -> Fold {
    match cp {
        // Full-width ASCII, as Chinese input methods type it.
        0xff01..=0xff5e => Fold::Byte((cp - 0xfee0) as u8),
        // Spaces: no-break, en/em and the rest, line and paragraph
        // separators, narrow no-break, medium mathematical, ideographic.
        0xa0 | 0x1680 | 0x2000..=0x200a | 0x2028 | 0x2029 | 0x202f | 0x205f | 0x3000 => {
            Fold::Byte(b' ')
        }
        // Dashes and the minus sign.
        0x2010..=0x2015 | 0x2212 => Fold::Byte(b'-'),
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
        | 0xffa0 => Fold::Remove,
        _ => Fold::Keep,
    }
}

fn hex(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'f' => Some(u32::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(b - b'A' + 10)),
        _ => None,
    }
}

/// Builds the view of `original` into `text` and `starts`. Returns whether
/// it differs from the original. (Out of line: most calls of
/// [`NormView::new`] return before it.)
#[inline(never)]
fn normalize(original: &[u8], text: &mut Vec<u8>, starts: &mut Vec<u32>) -> bool {
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
                changed |= reduce(text, starts);
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
            if let (Some(h), Some(l)) = (
                original.get(i + 1).copied().and_then(hex),
                original.get(i + 2).copied().and_then(hex),
            ) {
                push(text, starts, (h << 4 | l) as u8, i);
                reduce(text, starts);
                changed = true;
                i += 3;
                continue;
            }
        }
        let len = match original[i] {
            0xc2 | 0xcd | 0xd8 => 2,
            0xe1 | 0xe2 | 0xe3 | 0xef => 3,
            _ => 1,
        }
        .min(original.len() - i);
        for k in 0..len {
            push(text, starts, original[i + k], i);
        }
        changed |= reduce(text, starts);
        i += len;
    }
    starts.push(original.len() as u32);
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

/// Undoes whatever the end of the output now spells, as often as it
/// spells something. Returns whether anything was undone.
fn reduce(text: &mut Vec<u8>, starts: &mut Vec<u32>) -> bool {
    let mut any = false;
    loop {
        let n = text.len();
        let Some(&last) = text.last() else {
            return any;
        };
        if last < 0x80 && !pending(&text[..n - 1]) {
            // An ASCII byte ends an escape only after a `%` or `\\`.
            return any;
        }
        let tail = |k: usize| if n >= k { Some(&text[n - k..]) } else { None };
        if last >= 0x80 {
            // A character that ends here, if it is one the view folds.
            let (len, cp) = match (tail(2), tail(3)) {
                (Some(&[a, b]), _) if a & 0xe0 == 0xc0 && b & 0xc0 == 0x80 => {
                    (2, (u32::from(a & 0x1f) << 6) | u32::from(b & 0x3f))
                }
                (_, Some(&[a, b, c]))
                    if a & 0xf0 == 0xe0 && b & 0xc0 == 0x80 && c & 0xc0 == 0x80 =>
                {
                    (
                        3,
                        (u32::from(a & 0x0f) << 12)
                            | (u32::from(b & 0x3f) << 6)
                            | u32::from(c & 0x3f),
                    )
                }
                _ => return any,
            };
            match fold(cp) {
                Fold::Keep => return any,
                Fold::Byte(b) => replace_tail(text, starts, len, &[b]),
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
                replace_tail(text, starts, 3, &[(h << 4 | l) as u8]);
                any = true;
                continue;
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
        // `\uHHHH`, as UTF-8 (a lone surrogate half is left as it is).
        if let Some(&[b'\\', b'u', a, b, c, d]) = tail(6) {
            if let (Some(a), Some(b), Some(c), Some(d)) = (hex(a), hex(b), hex(c), hex(d)) {
                if let Some(ch) = char::from_u32(a << 12 | b << 8 | c << 4 | d) {
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
mod tests {
    use super::*;

    fn view(s: &str) -> (String, Vec<u32>) {
        let mut buffers = NormBuffers::default();
        let v = NormView::new(s.as_bytes(), true, &mut buffers);
        let text = String::from_utf8_lossy(v.bytes()).into_owned();
        let starts = match v.normalized {
            Some((_, starts)) => starts.to_vec(),
            None => (0..=s.len() as u32).collect(),
        };
        (text, starts)
    }

    /// The original text behind `needle` in the view of `s`.
    fn behind(s: &str, needle: &str) -> String {
        let mut buffers = NormBuffers::default();
        let v = NormView::new(s.as_bytes(), true, &mut buffers);
        let at = v
            .bytes()
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .expect("needle in view");
        let r = v.to_original(&(at..at + needle.len()));
        s[r].to_owned()
    }

    #[test]
    fn plain_text_is_its_own_view() {
        let mut buffers = NormBuffers::default();
        let v = NormView::new(b"phone 13812345678", true, &mut buffers);
        assert!(!v.is_normalized());
        let v = NormView::new("用户张伟已登录".as_bytes(), true, &mut buffers);
        assert!(!v.is_normalized());
        let v = NormView::new(b"100% sure, 50%", true, &mut buffers);
        assert!(!v.is_normalized());
    }

    #[test]
    fn full_width_forms_fold() {
        assert_eq!(view("１８５３４０９９０７３").0, "18534099073");
        assert_eq!(
            view("１１０１０５１９８８０１０７００５Ｘ").0,
            "11010519880107005X"
        );
        assert_eq!(view("ｚｈａｎｇ＠example.com").0, "zhang@example.com");
        assert_eq!(
            view("电话：１３８　１２３４　５６７８").0,
            "电话:138 1234 5678"
        );
        assert_eq!(
            behind("电话：１３８　１２３４", "138 1234"),
            "１３８　１２３４"
        );
    }

    #[test]
    fn spaces_dashes_and_invisible_marks() {
        assert_eq!(view("138\u{a0}1234\u{2009}5678").0, "138 1234 5678");
        assert_eq!(view("138\u{2013}1234\u{2014}5678").0, "138-1234-5678");
        assert_eq!(view("1381234\u{200b}5678").0, "13812345678");
        assert_eq!(view("\u{202e}138\u{200d}12345678\u{feff}").0, "13812345678");
        // The removed mark is covered by the match next to it.
        assert_eq!(
            behind("1381234\u{200b}5678", "13812345678"),
            "1381234\u{200b}5678"
        );
    }

    #[test]
    fn escapes_at_every_level() {
        assert_eq!(view("phone%3D13812345678").0, "phone=13812345678");
        assert_eq!(
            view("email%253Dzhang%2540example.com").0,
            "email=zhang@example.com"
        );
        assert_eq!(view("%25%33%31").0, "1");
        assert_eq!(
            view(r#"{\"phone\":\"13812345678\"}"#).0,
            r#"{"phone":"13812345678"}"#
        );
        assert_eq!(view(r"\u0031\u0033\u0038").0, "138");
        assert_eq!(view(r"\\u0031\\\\u0033").0, "13");
        assert_eq!(
            view(r"\x22phone\x22:\x2213812345678\x22").0,
            r#""phone":"13812345678""#
        );
        assert_eq!(view(r"\uff11\uff13").0, "13");
        assert_eq!(view("%EF%BC%91%EF%BC%93").0, "13");
        assert_eq!(view(r"a\nb\tc").0, "a b c");
        assert_eq!(view(r"138\n").0, "138 ");
        // Not escapes: kept as they are.
        assert_eq!(view(r"%zz \q \u12 %4").0, r"%zz \q \u12 %4");
        assert_eq!(view(r"\ud83d").0, r"\ud83d");
    }

    #[test]
    fn the_map_covers_every_byte_a_match_came_from() {
        assert_eq!(
            behind("q=%31%33812345678&x", "13812345678"),
            "%31%33812345678"
        );
        assert_eq!(
            behind("%2531%2533812345678", "13812345678"),
            "%2531%2533812345678"
        );
        assert_eq!(
            behind(r#"{\\\"m\\\":\\\"\\u0031\\u00338\\\"}"#, "138"),
            r"\\u0031\\u00338"
        );
        assert_eq!(behind(r"x\x31\x338y", "138"), r"\x31\x338");
    }

    /// The map is ordered and ends at the original's length; its entries
    /// fall on character boundaries of the original wherever the view holds
    /// an ASCII byte.
    #[test]
    fn the_map_tiles_the_original() {
        let pieces = [
            "%",
            "%2",
            "%25",
            "%31",
            "\\",
            "\\\\",
            "\\u",
            "\\u0031",
            "\\uff11",
            "\\x3",
            "1",
            "a",
            "中",
            "１",
            "＠",
            "\u{200b}",
            "\u{3000}",
            "%EF%BC%91",
            "\"",
            "\\n",
        ];
        let mut seed = 0x1234_5678_u64;
        let mut buffers = NormBuffers::default();
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let v = NormView::new(s.as_bytes(), true, &mut buffers);
            let Some((text, starts)) = v.normalized else {
                continue;
            };
            assert_eq!(starts.len(), text.len() + 1, "{s:?}");
            assert_eq!(*starts.last().unwrap() as usize, s.len(), "{s:?}");
            assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{s:?}");
            for (k, &b) in text.iter().enumerate() {
                if b.is_ascii() {
                    assert!(s.is_char_boundary(starts[k] as usize), "{s:?}");
                }
            }
            // Decoding the view again changes nothing: it is stable.
            let again = text.to_vec();
            let mut b2 = NormBuffers::default();
            let w = NormView::new(&again, true, &mut b2);
            assert_eq!(w.bytes(), &again[..], "{s:?}");
        }
    }
}

//! Detectors for personal data: the built-in ones, one file each, listed
//! in `registry`, and the custom regex detector.
//!
//! Detectors work on the normalised view of a value (see `normalize`:
//! escapes decoded, full-width forms folded) and return byte ranges of it.
//! Built-in ones are written by hand rather than as regexes: they check
//! boundaries, check characters and Luhn sums over digit runs and groups,
//! and are not run at all on text whose profile rules them out.
//!
//! Boundary rule: a match never starts or ends inside a longer run of ASCII
//! letters or digits. Any other character, Chinese text included, is a
//! boundary. And no built-in detector's match lies inside a UUID or starts
//! a decimal number's fraction.
//!
//! Guarantees: no IO, no allocation per value beyond reused buffers, no
//! panics on any input (fuzzed).

mod area_codes;
mod bank_card;
mod cn_id;
mod cn_landline;
mod cn_mobile;
mod context;
mod custom;
mod email;
mod groups;
mod hk_mo_tw_mobile;
mod passport;
mod registry;
mod scan;
mod uscc;

use std::fmt;
use std::ops::Range;

pub use bank_card::luhn_valid;
pub use cn_id::{cn_id_check_char, is_valid_cn_id, is_valid_cn_id15};
pub use cn_mobile::is_mobile;
pub use custom::CustomRegex;
pub use registry::{builtin, Builtin, BUILTINS};
pub(crate) use scan::Profiler;
pub use scan::{Features, Prefilter, Scan, ScanBuffers, WHOLE_TEXT};
pub use uscc::is_valid_uscc;

use super::normalize::{may_need_normalizing, NormBuffers, NormView, Percent};

/// What a mask rule looks for.
#[derive(Clone)]
pub enum Detector {
    Builtin(&'static Builtin),
    Regex(CustomRegex),
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names compliance staff may write in `detector = "..."`.
pub fn detector_names() -> Vec<&'static str> {
    BUILTINS
        .iter()
        .map(|b| b.name)
        .chain(std::iter::once("regex"))
        .collect()
}

impl Detector {
    /// The name used in rule files, metrics and replacement text.
    pub fn name(&self) -> &'static str {
        match self {
            Detector::Builtin(b) => b.name,
            Detector::Regex(_) => "regex",
        }
    }

    /// Whether text with these features could hold a match at all.
    #[inline]
    pub fn may_match(&self, scan: &mut Scan<'_>) -> bool {
        match self {
            Detector::Builtin(b) => (b.may_match)(scan),
            Detector::Regex(_) => true,
        }
    }

    /// Appends the ranges of every match in the text, left to right,
    /// without overlap.
    #[inline]
    pub fn find(&self, scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
        match self {
            Detector::Builtin(b) => {
                let from = out.len();
                (b.find)(scan, out);
                if out.len() > from {
                    drop_look_alikes(scan.hay, out, from);
                }
            }
            Detector::Regex(re) => re.find(scan.hay, out),
        }
    }

    /// The fewest digits a match holds once normalised; 0 when it needs no
    /// digits (e-mail, custom patterns).
    pub fn min_digits(&self) -> usize {
        match self {
            Detector::Builtin(b) => b.min_digits,
            Detector::Regex(_) => 0,
        }
    }

    /// Whether a JSON number can hold a match.
    pub fn in_numbers(&self) -> bool {
        match self {
            Detector::Builtin(b) => b.in_numbers,
            Detector::Regex(_) => true,
        }
    }

    /// Whether it reads the field name for context.
    pub fn reads_key(&self) -> bool {
        matches!(self, Detector::Builtin(b) if b.reads_key)
    }

    /// Convenience for tests and one-off checks (tag constants): the
    /// matches in `text`, normalised first, as ranges of `text`.
    pub fn find_in(&self, text: &[u8]) -> Vec<Range<usize>> {
        self.find_in_context(text, b"")
    }

    /// [`Detector::find_in`] as the value of a field named `key`. Text
    /// with a `%` that is no sure escape is read both ways, as the engine
    /// reads values (`LIKE '%13812345678%'`); the matches of both, in order.
    pub fn find_in_context(&self, text: &[u8], key: &[u8]) -> Vec<Range<usize>> {
        let (mut out, unsure) = self.find_in_reading(text, key, Percent::Escape);
        if unsure {
            out.extend(self.find_in_reading(text, key, Percent::Sign).0);
            out.sort_by_key(|r| (r.start, r.end));
            out.dedup();
        }
        out
    }

    /// The matches of one reading, and whether it met a `%` that is no
    /// sure escape.
    fn find_in_reading(
        &self,
        text: &[u8],
        key: &[u8],
        percent: Percent,
    ) -> (Vec<Range<usize>>, bool) {
        let mut norm = NormBuffers::default();
        let view = NormView::reading(text, may_need_normalizing(text), percent, &mut norm);
        let mut buffers = ScanBuffers::default();
        let features = buffers.profile(view.bytes());
        let mut scan = Scan::new(
            view.bytes(),
            features,
            [key, b""],
            view.lost_digits(),
            &mut buffers,
        );
        let mut out = Vec::new();
        if self.may_match(&mut scan) {
            self.find(&mut scan, &mut out);
        }
        let out = out.iter().map(|r| view.to_original(r)).collect();
        (out, view.met_unsure_percent())
    }

    /// How many of `matched`'s first letters or digits a partial mask
    /// keeps when the rule says `keep_first`.
    pub fn keep_first_in(&self, matched: &[u8], keep_first: usize) -> usize {
        match self {
            Detector::Builtin(b) => (b.keep_first_in)(matched, keep_first),
            Detector::Regex(_) => keep_first,
        }
    }

    /// The canonical form of a match, so that one person's value hashes the
    /// same however it was written: digits only, `X` upper-cased, e-mail
    /// lower-cased.
    pub fn normalize(&self, matched: &[u8]) -> Vec<u8> {
        match self {
            Detector::Builtin(b) => (b.canonical)(matched),
            Detector::Regex(_) => matched.to_vec(),
        }
    }
}

impl fmt::Display for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[inline]
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Drops the matches from `from` on that are look-alikes whatever they look
/// like: digits inside a UUID are part of an identifier, and the digits
/// after a decimal point a measurement's (`…-a716-013812345678`,
/// `30.15234567891`). (Out of line: most texts hold no match.)
#[inline(never)]
fn drop_look_alikes(hay: &[u8], out: &mut Vec<Range<usize>>, from: usize) {
    let look_alike = |m: &Range<usize>| in_fraction(hay, m.start) || inside_uuid(hay, m);
    if !out[from..].iter().any(look_alike) {
        return;
    }
    let mut index = 0;
    out.retain(|m| {
        let keep = index < from || !look_alike(m);
        index += 1;
        keep
    });
}

/// Whether the run of digits `start` is in begins a decimal number's
/// fraction (a match may leave leading digits in place): right after
/// `0.` or after two or more digits and a `.` (`30.15234567891`,
/// `0.6249780000006258`). Not after one other digit: `1.13812345678` may
/// be an item of a numbered list.
fn in_fraction(hay: &[u8], start: usize) -> bool {
    // A match may leave a prefix of its digits in place (`0.86…`): the
    // fraction begins where the run of digits does.
    let mut start = start;
    while start > 0 && hay[start - 1].is_ascii_digit() {
        start -= 1;
    }
    if start < 2 || hay[start - 1] != b'.' || !hay[start - 2].is_ascii_digit() {
        return false;
    }
    let mut int = start - 2;
    while int > 0 && hay[int - 1].is_ascii_digit() {
        int -= 1;
    }
    // `+86.13812345678` is a country code, not a number.
    let code = int > 0 && hay[int - 1] == b'+';
    !code && (start - 1 - int >= 2 || hay[int] == b'0')
}

/// Whether `m` lies inside a UUID written the usual way: 32 hexadecimal
/// digits in groups of 8, 4, 4, 4 and 12, joined by `-`, with no letter or
/// digit touching it. (Only looked at for matches, which are rare.)
fn inside_uuid(hay: &[u8], m: &Range<usize>) -> bool {
    const LEN: usize = 36;
    if m.len() > LEN {
        return false;
    }
    // The run of hexadecimal digits and dashes around the match, as far as
    // a UUID could reach: most matches stand among other characters.
    let part = |b: u8| b.is_ascii_hexdigit() || b == b'-';
    let mut from = m.start;
    while from > m.end.saturating_sub(LEN) && part(hay[from - 1]) {
        from -= 1;
    }
    let mut to = m.end;
    while to < (m.start + LEN).min(hay.len()) && part(hay[to]) {
        to += 1;
    }
    if to - from < LEN {
        return false;
    }
    let uuid_at = |s: usize| {
        hay[s..s + LEN].iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        }) && bounded(hay, &(s..s + LEN))
    };
    (from..=to - LEN).any(uuid_at)
}

/// True when no ASCII letter or digit touches `range` on either side.
#[inline]
fn bounded(hay: &[u8], range: &Range<usize>) -> bool {
    let after_ok = range.end == hay.len() || !is_word(hay[range.end]);
    left_bounded(hay, range.start) && after_ok
}

/// Whether what follows a phone number's last digit at `end` lets it end
/// there: no ASCII letter or digit, or an extension marker (`x123`,
/// `ext 12`, `EXT.12`).
fn ends_or_extension(hay: &[u8], end: usize) -> bool {
    let rest = &hay[end..];
    match rest.first() {
        None => true,
        Some(&b) if !is_word(b) => true,
        // (Of the marks, only `ext` and `x` begin with a letter.)
        Some(_) => extension_mark(rest).is_some_and(|after| {
            rest.get(after)
                .is_some_and(|&b| b.is_ascii_digit() || matches!(b, b'.' | b' ' | b':'))
        }),
    }
}

/// The marks that begin a phone number's extension (`-123`, `转123`,
/// `ext 12`, `x123`, `#123`, `分机123`); letters in any case.
const EXTENSION_MARKS: [&str; 8] = ["ext", "-", "x", "#", "转", "轉", "分机", "分機"];

/// How long the extension at the start of `rest` is (0 for none): a mark
/// (`detect::extension_mark`) after perhaps a space, perhaps `.`
/// or `:`, and one to six digits.
pub(super) fn extension_len(rest: &[u8]) -> usize {
    let spaces = |t: &[u8]| t.iter().take_while(|&&b| b == b' ').count();
    let mut at = spaces(rest);
    let Some(mark) = extension_mark(&rest[at..]) else {
        return 0;
    };
    at += mark;
    if matches!(rest.get(at), Some(b'.' | b':')) {
        at += 1;
    }
    at += spaces(&rest[at..]);
    let digits = rest[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    if (1..=6).contains(&digits) {
        at + digits
    } else {
        0
    }
}

/// How long the extension mark at the start of `rest` is, if one is there.
fn extension_mark(rest: &[u8]) -> Option<usize> {
    EXTENSION_MARKS
        .iter()
        .find(|m| {
            rest.get(..m.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(m.as_bytes()))
        })
        .map(|m| m.len())
}

/// True when no ASCII letter or digit stands right before `start`, or
/// only the end of a terminal colour code does.
#[inline]
fn left_bounded(hay: &[u8], start: usize) -> bool {
    start == 0
        || !is_word(hay[start - 1])
        || after_colour_code(hay, start)
        || after_pnr_code(hay, start)
}

/// Whether an airline reservation's (PNR's) element code stands right
/// before `start`, glued to the number as reservation systems write it
/// (TravelSky, Amadeus): `NI` (an identity document's number: `SSR FOID
/// MU HK1 NI11010519491231002X/P1`), `PP` (a passport's: `SSR FOID MU HK1
/// PPE12345678/P1`), `CTCM` (a passenger's mobile), `CTCT` (a telephone:
/// `OSI CA CTCT13812345678`). The code is in capitals and begins a word.
#[cold]
fn after_pnr_code(hay: &[u8], start: usize) -> bool {
    const CODES: [&[u8]; 4] = [b"NI", b"PP", b"CTCM", b"CTCT"];
    CODES.iter().any(|code| {
        start >= code.len()
            && hay[start - code.len()..start] == **code
            && (start == code.len() || !hay[start - code.len() - 1].is_ascii_alphanumeric())
    })
}

/// Whether a terminal colour code ends right before `start`: `[`, up to
/// sixteen digits and semicolons, `m` (`ESC[33m`, `ESC[1;36m`, `ESC[m`).
/// Its escape character may be there (a space in the view), written out
/// (`\033`, `^[`) or gone: a terminal shows none of it, so a number
/// coloured by Node's `console.log` or a pretty-printing logger reads as a
/// number.
#[cold]
pub(super) fn after_colour_code(hay: &[u8], start: usize) -> bool {
    if hay[start - 1] != b'm' {
        return false;
    }
    let params = hay[..start - 1]
        .iter()
        .rev()
        .take(17)
        .take_while(|&&b| b.is_ascii_digit() || b == b';')
        .count();
    params <= 16 && start - 1 > params && hay[start - 2 - params] == b'['
}

/// A fixed pseudo-random sequence (xorshift64) from `seed`, for tests.
#[cfg(test)]
pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(name: &str, text: &str) -> Vec<String> {
        Detector::Builtin(builtin(name).expect("a built-in"))
            .find_in(text.as_bytes())
            .into_iter()
            .map(|r| text[r].to_owned())
            .collect()
    }

    /// Forms that reach detectors only through the normalised view.
    #[test]
    fn encoded_forms_are_found_in_the_original() {
        assert_eq!(
            found("cn_mobile", "lxdh:１８５３４０９９０７３"),
            ["１８５３４０９９０７３"]
        );
        assert_eq!(
            found("cn_id", "certNo=１１０１０５１９８８０１０７００５Ｘ"),
            ["１１０１０５１９８８０１０７００５Ｘ"]
        );
        assert_eq!(found("cn_mobile", "p=%31%33812345678"), ["%31%33812345678"]);
        assert_eq!(
            found("cn_mobile", "p%3D%2531%2533812345678"),
            ["%2531%2533812345678"]
        );
        assert_eq!(
            found("cn_mobile", r"\u0031\u00338123\u00345678"),
            [r"\u0031\u00338123\u00345678"]
        );
        assert_eq!(
            found("cn_mobile", "138\u{a0}1234\u{a0}5678"),
            ["138\u{a0}1234\u{a0}5678"]
        );
        assert_eq!(
            found("cn_mobile", "1381234\u{200b}5678"),
            ["1381234\u{200b}5678"]
        );
        assert_eq!(
            found("email", "ｚｈａｎｇ＠example.com"),
            ["ｚｈａｎｇ＠example.com"]
        );
        assert_eq!(
            found("email", "u=li%2540example.com"),
            ["li%2540example.com"]
        );
        assert_eq!(found("cn_mobile", r"\x2213812345678\x22"), ["13812345678"]);
    }

    #[test]
    fn the_names_are_the_registry_and_regex() {
        let names = detector_names();
        assert_eq!(names.last(), Some(&"regex"));
        assert!(names.contains(&"cn_id") && names.contains(&"passport"));
    }
}

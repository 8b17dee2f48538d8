//! Every built-in detector, in one list. A detector lives in its own file
//! and is known to the rest of the engine only through its [`Builtin`]
//! entry here: its name in rule files, the partial-mask widths it defaults
//! to, the fewest digits a match holds (so texts with fewer are never
//! shown to it), and the forms it finds and the look-alikes it keeps, which
//! the tests check and docs/rules.md lists.

use std::ops::Range;

use super::scan::Scan;
use super::{bank_card, cn_id, cn_landline, cn_mobile, email, hk_mo_tw_mobile, passport, uscc};

/// A built-in detector.
pub struct Builtin {
    /// What rule files write in `detector = "..."`; also metrics and the
    /// default replacement text.
    pub name: &'static str,
    /// One line for people: what it finds.
    pub summary: &'static str,
    /// Default `keep_first` and `keep_last` for `action = "partial"`.
    pub keep: (usize, usize),
    /// The fewest ASCII digits a match holds once normalised (0: it needs
    /// an `@` instead).
    pub min_digits: usize,
    /// Whether a JSON number can hold a match.
    pub in_numbers: bool,
    /// Whether it reads the field name for context (then the engine keeps
    /// track of it).
    pub reads_key: bool,
    /// Whether text with these features and shapes could hold a match.
    pub may_match: fn(&mut Scan<'_>) -> bool,
    /// Appends the ranges of every match, left to right, not overlapping.
    pub find: fn(&mut Scan<'_>, &mut Vec<Range<usize>>),
    /// The canonical form of a match, so that one value hashes the same
    /// however it was written.
    pub canonical: fn(&[u8]) -> Vec<u8>,
    /// How many of a match's first letters or digits a partial mask's
    /// `keep_first` keeps: where a match may leave out a digit other forms
    /// write (a landline after `+86` has no trunk `0`), the same part of
    /// the value stays readable in every form.
    pub keep_first_in: fn(&[u8], usize) -> usize,
    /// Texts in which it finds exactly the part between `«` and `»`.
    pub finds: &'static [&'static str],
    /// Look-alikes it keeps.
    pub keeps: &'static [&'static str],
}

/// Every built-in detector. Adding one: its own file, and one line here.
pub static BUILTINS: &[&Builtin] = &[
    &cn_id::DETECTOR,
    &cn_mobile::DETECTOR,
    &cn_landline::DETECTOR,
    &hk_mo_tw_mobile::DETECTOR,
    &bank_card::DETECTOR,
    &email::DETECTOR,
    &passport::DETECTOR,
    &uscc::DETECTOR,
];

/// The built-in detector named `name`.
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().copied().find(|b| b.name == name)
}

/// Digits only (separators and country prefixes left out by the match).
pub(super) fn digits_only(matched: &[u8]) -> Vec<u8> {
    matched.iter().copied().filter(u8::is_ascii_digit).collect()
}

/// `keep_first` as the rule sets it: every form of a match starts alike.
pub(super) fn keep_as_written(_matched: &[u8], keep_first: usize) -> usize {
    keep_first
}

/// Letters and digits, upper-cased.
pub(super) fn alnum_upper(matched: &[u8]) -> Vec<u8> {
    matched
        .iter()
        .copied()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Detector;
    use super::*;

    /// Every form a detector says it finds is found, exactly, and every
    /// look-alike it says it keeps is kept: the lists docs/rules.md shows
    /// are true.
    #[test]
    fn every_detector_finds_what_it_lists_and_keeps_its_look_alikes() {
        for b in BUILTINS {
            let d = Detector::Builtin(b);
            for text in b.finds {
                let start = text.find('«').expect("« marks the match");
                let end = text.find('»').expect("» ends the match");
                let plain = text.replace(['«', '»'], "");
                let want = &text[start + '«'.len_utf8()..end];
                let got: Vec<String> = d
                    .find_in_context(plain.as_bytes(), b"")
                    .into_iter()
                    .map(|r| String::from_utf8_lossy(&plain.as_bytes()[r]).into_owned())
                    .collect();
                assert_eq!(got, [want], "{}: {text}", b.name);
            }
            for text in b.keeps {
                let got = d.find_in_context(text.as_bytes(), b"");
                assert!(got.is_empty(), "{} should keep {text}", b.name);
            }
        }
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in BUILTINS.iter().enumerate() {
            assert!(BUILTINS[i + 1..].iter().all(|b| b.name != a.name));
        }
    }
}

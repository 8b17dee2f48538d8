//! `regex`: a pattern compliance staff write themselves.
//!
//! It gets the built-in detectors' boundary by default: a match that
//! starts (or ends) with an ASCII letter or digit must not have another
//! right before (or after) it. And `\b` in a pattern means that same
//! boundary: the regex crate's `\b` is Unicode-aware, so it sees Chinese
//! characters as word characters, and `\b[EG][0-9]{8}\b` would never match
//! in `护照号E12345678已核验`. Rules that must match inside words say
//! `match_inside_words = true`.

use std::ops::Range;

use regex::bytes::Regex;
use regex_syntax::hir::{self, Hir, HirKind, Look};

use super::{is_word, left_bounded};

/// A compiled custom pattern.
#[derive(Debug, Clone)]
pub struct CustomRegex {
    regex: Regex,
    /// Whether matches keep the built-in boundary.
    bounded: bool,
    /// Whether some match of the pattern is empty (`[0-9]*`, `\b`).
    matches_empty: bool,
}

/// Why a pattern was refused, in words for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub message: String,
    /// Where in the pattern (a byte offset) the problem is, when known.
    pub offset: Option<usize>,
}

/// Largest compiled program a rule's pattern may make.
const SIZE_LIMIT: usize = 1 << 22;

impl CustomRegex {
    /// Compiles `pattern`.
    pub fn new(pattern: &str, match_inside_words: bool) -> Result<CustomRegex, PatternError> {
        // Parse with the same syntax the regex crate uses, swap Unicode
        // word boundaries for ASCII ones, and print the pattern back.
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .map_err(syntax_error)?;
        let matches_empty = hir.properties().minimum_len() == Some(0);
        let rewritten = ascii_boundaries(hir).to_string();
        let regex = regex::bytes::RegexBuilder::new(&rewritten)
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| PatternError {
                message: match e {
                    regex::Error::CompiledTooBig(_) => "the pattern is too large once compiled; use smaller counts in its repetitions ({1,100} rather than {1,100000}) or fewer alternatives".to_owned(),
                    other => other.to_string(),
                },
                offset: None,
            })?;
        Ok(CustomRegex {
            regex,
            bounded: !match_inside_words,
            matches_empty,
        })
    }

    /// Whether the pattern can match empty text anywhere (`[0-9]*`, or
    /// `\b` alone), which marks nothing to mask.
    pub fn matches_empty(&self) -> bool {
        self.matches_empty
    }

    /// Appends every non-empty match, left to right, without overlap. A
    /// match that breaks the boundary is skipped and the search goes on
    /// from the next character, so a bounded match overlapping it is still
    /// found.
    pub fn find(&self, hay: &[u8], out: &mut Vec<Range<usize>>) {
        let mut at = 0;
        while at <= hay.len() {
            let Some(m) = self.regex.find_at(hay, at) else {
                return;
            };
            let r = m.range();
            if !r.is_empty() && (!self.bounded || edges_bounded(hay, &r)) {
                out.push(r.clone());
                at = r.end;
            } else if self.bounded && !r.is_empty() && !left_ok(hay, &r) {
                // No match starting with a letter or digit inside this run
                // of them can be bounded on the left: go past the run (this
                // keeps the search linear on long runs).
                at = r.start;
                while at < hay.len() && is_word(hay[at]) {
                    at += 1;
                }
            } else {
                // The next character boundary after the match's start.
                at = r.start + 1;
                while at < hay.len() && hay[at] & 0xc0 == 0x80 {
                    at += 1;
                }
            }
        }
    }
}

/// The regex parser's error as one sentence and where it points: its own
/// text draws the pattern with a caret under it, which the rule error's
/// position replaces.
fn syntax_error(e: regex_syntax::Error) -> PatternError {
    let (kind, offset) = match &e {
        regex_syntax::Error::Parse(p) => (p.kind().to_string(), p.span().start.offset),
        regex_syntax::Error::Translate(t) => (t.kind().to_string(), t.span().start.offset),
        _ => (e.to_string(), 0),
    };
    PatternError {
        message: kind,
        offset: Some(offset),
    }
}

/// The left half of [`edges_bounded`].
fn left_ok(hay: &[u8], r: &Range<usize>) -> bool {
    !is_word(hay[r.start]) || left_bounded(hay, r.start)
}

/// The built-in boundary at a match's edges: where the match begins (or
/// ends) with an ASCII letter or digit, the byte before (or after) it is
/// not one.
fn edges_bounded(hay: &[u8], r: &Range<usize>) -> bool {
    let starts_word = is_word(hay[r.start]);
    let ends_word = is_word(hay[r.end - 1]);
    let before = !starts_word || left_bounded(hay, r.start);
    let after = r.end == hay.len() || !ends_word || !is_word(hay[r.end]);
    before && after
}

/// The same pattern, with `\b`, `\B`, `\<`, `\>` meaning ASCII words.
fn ascii_boundaries(h: Hir) -> Hir {
    match h.into_kind() {
        HirKind::Look(look) => Hir::look(match look {
            Look::WordUnicode => Look::WordAscii,
            Look::WordUnicodeNegate => Look::WordAsciiNegate,
            Look::WordStartUnicode => Look::WordStartAscii,
            Look::WordEndUnicode => Look::WordEndAscii,
            Look::WordStartHalfUnicode => Look::WordStartHalfAscii,
            Look::WordEndHalfUnicode => Look::WordEndHalfAscii,
            other => other,
        }),
        HirKind::Repetition(r) => Hir::repetition(hir::Repetition {
            sub: Box::new(ascii_boundaries(*r.sub)),
            ..r
        }),
        HirKind::Capture(c) => Hir::capture(hir::Capture {
            sub: Box::new(ascii_boundaries(*c.sub)),
            ..c
        }),
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(ascii_boundaries).collect()),
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.into_iter().map(ascii_boundaries).collect())
        }
        other @ (HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_)) => match other {
            HirKind::Empty => Hir::empty(),
            HirKind::Literal(l) => Hir::literal(l.0),
            HirKind::Class(c) => Hir::class(c),
            _ => unreachable!("matched above"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(pattern: &str, inside: bool, text: &str) -> Vec<String> {
        let re = CustomRegex::new(pattern, inside).expect("pattern compiles");
        let mut out = Vec::new();
        re.find(text.as_bytes(), &mut out);
        out.into_iter().map(|r| text[r].to_owned()).collect()
    }

    #[test]
    fn word_boundaries_see_chinese_as_a_boundary() {
        assert_eq!(
            found(r"\b[EG][0-9]{8}\b", false, "护照号E12345678已核验"),
            ["E12345678"]
        );
        assert_eq!(
            found(r"[EG][0-9]{8}", false, "护照号E12345678已核验"),
            ["E12345678"]
        );
        assert!(found(r"[EG][0-9]{8}", false, "XE12345678").is_empty());
        assert_eq!(found(r"[EG][0-9]{8}", true, "XE12345678"), ["E12345678"]);
        // A terminal colour code is no letter before a match.
        assert_eq!(
            found(r"EMP-[0-9]{6}", false, "\x1b[1;33mEMP-204518\x1b[0m"),
            ["EMP-204518"]
        );
        assert!(found(r"EMP-[0-9]{6}", false, "x[1;3nEMP-204518").is_empty());
    }

    #[test]
    fn patterns_with_an_empty_match_anywhere_are_told() {
        for p in [r"[0-9]*", r"\b", r"[0-9]*\b", r"(EMP)?", r"^"] {
            let re = CustomRegex::new(p, false).expect("compiles");
            assert!(re.matches_empty(), "{p}");
        }
        for p in [r"EMP-[0-9]{6}", r"\b[EG][0-9]{8}\b", r"a|b+"] {
            let re = CustomRegex::new(p, false).expect("compiles");
            assert!(!re.matches_empty(), "{p}");
        }
    }

    #[test]
    fn a_broken_pattern_says_what_and_where_in_one_line() {
        let e = CustomRegex::new("EMP-([0-9]{6}", false).unwrap_err();
        assert_eq!(e.message, "unclosed group");
        assert_eq!(e.offset, Some(4));
        let e = CustomRegex::new(".{1,100000}", false).unwrap_err();
        assert!(e.message.starts_with("the pattern is too large"), "{e:?}");
    }

    #[test]
    fn a_bounded_match_overlapping_an_unbounded_one_is_found() {
        assert_eq!(found(r"[0-9]{4}", false, "12345 6789"), ["6789"]);
        assert_eq!(
            found(r"EMP-[0-9]{6}", false, "by EMP-204518."),
            ["EMP-204518"]
        );
        // Edges that are not letters or digits need no boundary.
        assert_eq!(found(r"@corp\.cn", false, "alice@corp.cn"), ["@corp.cn"]);
    }
}

//! One pass over an event's JSON text: validate it, run the mask rules on
//! every string and number, and write the result.
//!
//! Unchanged values are copied byte for byte from the input; a string is
//! decoded only when it holds escapes; only values a rule changes are
//! re-encoded. This is why the engine does not build a tree for most events
//! (a tree costs more than the whole budget for a 1 KB event).
//!
//! The grammar is RFC 8259, as strict as serde_json, which the tests use as
//! the oracle: the same inputs are accepted and rejected, and the output
//! parses to the same tree serde_json would give after masking. Whitespace
//! between tokens is not kept; output is compact.

use std::borrow::Cow;

use super::engine::{Leaf, Workspace};
use super::json::ParseError;
use super::{Reject, RuleSet};

/// Nesting limit, the same as serde_json's.
pub const MAX_DEPTH: usize = 128;

/// What became of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    Yes,
    Dropped,
}

pub(crate) struct Rewriter<'r, 'i, 'o> {
    rules: &'r RuleSet,
    /// Whether the line holds a tab, CR or LF; only then must each string be
    /// checked for them (other control bytes are refused for the whole line).
    raw_whitespace: bool,
    /// The event's text, already checked as UTF-8; `src` is its bytes.
    text: &'i str,
    src: &'i [u8],
    pos: usize,
    out: &'o mut Vec<u8>,
}

impl<'r, 'i, 'o> Rewriter<'r, 'i, 'o> {
    pub(crate) fn new(rules: &'r RuleSet, src: &'i str, out: &'o mut Vec<u8>) -> Self {
        Rewriter {
            rules,
            raw_whitespace: true,
            text: src,
            src: src.as_bytes(),
            pos: 0,
            out,
        }
    }

    /// Rewrites the whole event, which must be one JSON object.
    pub(crate) fn event(mut self, work: &mut Workspace) -> Result<(), Reject> {
        // JSON allows no control byte anywhere but tab, CR and LF between
        // tokens. One vectorized look at the whole line settles the others.
        let (control, whitespace) = control_bytes(self.src);
        if control {
            self.pos = self
                .src
                .iter()
                .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
                .unwrap_or(0);
            return Err(self.syntax("control character in the line"));
        }
        self.raw_whitespace = whitespace;
        self.skip_ws();
        if self.peek() != Some(b'{') {
            // Tell "valid, but not an object" from "not JSON".
            let text = std::str::from_utf8(self.src).map_err(|_| Reject::NotUtf8)?;
            return match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => Err(Reject::NotObject),
                Err(_) => Err(self.syntax("expected a JSON object")),
            };
        }
        self.value(0, work)?;
        self.skip_ws();
        if self.pos != self.src.len() {
            return Err(self.syntax("trailing characters after the event"));
        }
        Ok(())
    }

    fn syntax(&self, what: &'static str) -> Reject {
        Reject::Json(ParseError::Syntax {
            column: self.pos + 1,
            what,
        })
    }

    fn eof_or(&self, what: &'static str) -> Reject {
        if self.pos >= self.src.len() {
            self.syntax("the line ends in the middle of a value")
        } else {
            self.syntax(what)
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize, work: &mut Workspace) -> Result<Kept, Reject> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(depth + 1, work),
            Some(b'[') => self.array(depth + 1, work),
            Some(b'"') => self.string_leaf(work),
            Some(b'-' | b'0'..=b'9') => self.number_leaf(work),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => Err(self.eof_or("expected a value")),
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<Kept, Reject> {
        if self.src[self.pos..].starts_with(word) {
            self.out.extend_from_slice(word);
            self.pos += word.len();
            Ok(Kept::Yes)
        } else {
            Err(self.eof_or("invalid literal"))
        }
    }

    fn object(&mut self, depth: usize, work: &mut Workspace) -> Result<Kept, Reject> {
        if depth > MAX_DEPTH {
            return Err(Reject::Json(ParseError::TooDeep));
        }
        self.pos += 1;
        self.out.push(b'{');
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.out.push(b'}');
            return Ok(Kept::Yes);
        }
        let mut written = 0usize;
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.eof_or("expected a key in quotes"));
            }
            let key_start = self.pos;
            let escaped = self.scan_string()?;
            let key_end = self.pos;
            let key: Cow<'i, str> = self.string_text(key_start, key_end, escaped)?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.eof_or("expected ':' after a key"));
            }
            self.pos += 1;
            let member_start = self.out.len();
            if written > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(&self.src[key_start..key_end]);
            self.out.push(b':');
            let value_start = self.out.len();
            work.path_mut().push_key(&key);
            let kept = self.value(depth, work);
            let ours = depth == 1 && self.rules.settings.record_field.as_deref() == Some(&*key);
            if !self.rules.watched.is_empty()
                && kept.as_ref().is_ok_and(|k| *k == Kept::Yes)
                && !ours
            {
                work.watch(self.rules, value_start, self.out.len());
            }
            work.path_mut().pop();
            // The record field is ours to write: what an event brings under
            // that name is removed.
            if kept? == Kept::Dropped || ours {
                self.out.truncate(member_start);
                work.unwatch_from(member_start);
            } else {
                written += 1;
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.eof_or("expected ',' or '}' after a value")),
            }
        }
        self.out.push(b'}');
        Ok(Kept::Yes)
    }

    fn array(&mut self, depth: usize, work: &mut Workspace) -> Result<Kept, Reject> {
        if depth > MAX_DEPTH {
            return Err(Reject::Json(ParseError::TooDeep));
        }
        self.pos += 1;
        self.out.push(b'[');
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.out.push(b']');
            return Ok(Kept::Yes);
        }
        let mut written = 0usize;
        let mut index = 0usize;
        loop {
            let element_start = self.out.len();
            if written > 0 {
                self.out.push(b',');
            }
            let value_start = self.out.len();
            work.path_mut().push_index(index);
            let kept = self.value(depth, work);
            if !self.rules.watched.is_empty() && kept.as_ref().is_ok_and(|k| *k == Kept::Yes) {
                work.watch(self.rules, value_start, self.out.len());
            }
            work.path_mut().pop();
            index += 1;
            if kept? == Kept::Dropped {
                self.out.truncate(element_start);
            } else {
                written += 1;
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.eof_or("expected ',' or ']' after a value")),
            }
        }
        self.out.push(b']');
        Ok(Kept::Yes)
    }

    /// Moves past a string starting at `pos` (on its opening quote) and
    /// checks it; returns whether it holds escapes.
    fn scan_string(&mut self) -> Result<bool, Reject> {
        self.pos += 1;
        let mut escaped = false;
        loop {
            // Fast path: SIMD search for the next quote or backslash, then
            // a check (a vectorized minimum) that no control character
            // hides in the bytes skipped.
            let rest = &self.src[self.pos..];
            let Some(off) = memchr::memchr2(b'"', b'\\', rest) else {
                self.pos = self.src.len();
                return Err(self.syntax("the line ends in the middle of a value"));
            };
            if self.raw_whitespace {
                if let Some(bad) = rest[..off].iter().position(|&b| b < 0x20) {
                    self.pos += bad;
                    return Err(self.syntax("control character inside a string"));
                }
            }
            self.pos += off;
            match self.src[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            let hex = self.src.get(self.pos + 1..self.pos + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(self.eof_or("invalid \\u escape"));
                            }
                            self.pos += 5;
                        }
                        _ => return Err(self.eof_or("invalid escape")),
                    }
                }
                _ => return Err(self.syntax("control character inside a string")),
            }
        }
    }

    /// The decoded text of the string token `start..end` (quotes included).
    fn string_text(&self, start: usize, end: usize, escaped: bool) -> Result<Cow<'i, str>, Reject> {
        // Quotes are ASCII, so these are character boundaries.
        if !escaped {
            return Ok(Cow::Borrowed(&self.text[start + 1..end - 1]));
        }
        // serde_json decodes escapes and rejects lone surrogates.
        let token = &self.text[start..end];
        serde_json::from_str::<String>(token)
            .map(Cow::Owned)
            .map_err(|_| {
                Reject::Json(ParseError::Syntax {
                    column: start + 1,
                    what: "invalid escape in a string",
                })
            })
    }

    fn string_leaf(&mut self, work: &mut Workspace) -> Result<Kept, Reject> {
        let start = self.pos;
        let escaped = self.scan_string()?;
        let end = self.pos;
        let text = self.string_text(start, end, escaped)?;
        match self.rules.scan_leaf(&text, work)? {
            Leaf::Unchanged => self.out.extend_from_slice(&self.src[start..end]),
            Leaf::Changed(new) => write_json_string(self.out, &new),
            Leaf::Drop => return Ok(Kept::Dropped),
        }
        Ok(Kept::Yes)
    }

    fn number_leaf(&mut self, work: &mut Workspace) -> Result<Kept, Reject> {
        let start = self.pos;
        let digits = |s: &mut Self| {
            let from = s.pos;
            while s.peek().is_some_and(|b| b.is_ascii_digit()) {
                s.pos += 1;
            }
            s.pos - from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.eof_or("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.eof_or("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.eof_or("invalid number"));
            }
        }
        let raw = &self.src[start..self.pos];
        // Like serde_json (and Elasticsearch), refuse numbers beyond the
        // range of a double, such as 1e400.
        if (raw.len() > 300 || raw.iter().any(|&b| b == b'e' || b == b'E'))
            && !self.text[start..self.pos]
                .parse::<f64>()
                .is_ok_and(f64::is_finite)
        {
            return Err(Reject::Json(ParseError::Syntax {
                column: start + 1,
                what: "number out of range",
            }));
        }
        // Only numbers long enough to be personal data, unless a custom
        // pattern might want shorter ones.
        let long = raw.iter().filter(|b| b.is_ascii_digit()).count() >= 11;
        if !(long || self.rules.has_regex) {
            self.out.extend_from_slice(raw);
            return Ok(Kept::Yes);
        }
        let text = &self.text[start..self.pos];
        match self.rules.scan_leaf(text, work)? {
            Leaf::Unchanged => self.out.extend_from_slice(raw),
            // A masked number becomes a string.
            Leaf::Changed(new) => write_json_string(self.out, &new),
            Leaf::Drop => return Ok(Kept::Dropped),
        }
        Ok(Kept::Yes)
    }
}

/// Whether `line` holds control bytes other than tab, CR and LF, and
/// whether it holds any of those three. Written for the vectorizer: byte
/// flags OR-ed over fixed chunks.
fn control_bytes(line: &[u8]) -> (bool, bool) {
    let (mut control, mut whitespace) = (0u8, 0u8);
    for chunk in line.chunks(64) {
        for &b in chunk {
            let low = u8::from(b < 0x20);
            let ws = u8::from(b == b'\t') | u8::from(b == b'\n') | u8::from(b == b'\r');
            control |= low & !ws;
            whitespace |= ws;
        }
    }
    (control & 1 != 0, whitespace != 0)
}

pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(out, s).expect("writing a string to memory cannot fail");
}

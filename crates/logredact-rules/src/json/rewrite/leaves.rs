//! The leaves of the pass: strings (scanned, profiled for the visitor,
//! decoded only when they hold escapes), keys and numbers, and what the
//! visitor makes of them.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{Kept, Leaf, Rewriter, Step, Stop, Visitor};
use crate::bytes::{string_chunk, string_stops, tail_string_chunk};
use crate::json::{
    find_string_stop, lost_digits, whole_reading, write_json_bytes, ParseError, READING_BYTES,
};

impl<'i, 'o, E> Rewriter<'i, 'o, E> {
    /// The raw texts of the innermost key around the current value and of
    /// the key around that, when the visitor reads keys.
    #[inline]
    fn context_keys<V: Visitor<Error = E>>(&self, v: &V) -> [&'i [u8]; 2] {
        let src = self.src;
        if v.reads_keys() {
            [&src[self.key.clone()], &src[self.outer_key.clone()]]
        } else {
            [b"", b""]
        }
    }

    /// `scan_string` for a key: most keys end within the sixteen bytes
    /// after their opening quote, with nothing to check on the way, and
    /// take one load here.
    #[inline(always)]
    pub(super) fn scan_key(&mut self) -> Step<bool> {
        let at = self.pos + 1;
        if let Some(chunk) = self.src[at..].first_chunk::<16>() {
            let stops = string_stops(chunk);
            if stops != 0 {
                let end = at + stops.trailing_zeros() as usize;
                if self.src[end] == b'"' {
                    self.pos = end + 1;
                    return Ok(false);
                }
            }
        }
        self.scan_string()
    }

    /// Moves past a string starting at `pos` (on its opening quote) and
    /// checks it; returns whether it holds escapes.
    #[inline]
    pub(super) fn scan_string(&mut self) -> Step<bool> {
        self.pos += 1;
        let mut escaped = false;
        loop {
            let rest = &self.src[self.pos..];
            let Some(off) = find_string_stop(rest) else {
                self.pos = self.src.len();
                return Err(self.syntax("the line ends in the middle of a value"));
            };
            self.pos += off;
            match self.src[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                b'\\' => {}
                _ => return Err(self.syntax("control character inside a string")),
            }
            escaped = true;
            self.pos += 1;
            match self.peek() {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 1,
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
    }

    /// The decoded text of the string token `start..end` (quotes included).
    #[inline]
    pub(super) fn string_text(
        &mut self,
        start: usize,
        end: usize,
        escaped: bool,
    ) -> Step<Cow<'i, str>> {
        // Quotes are ASCII, so these are character boundaries.
        if !escaped {
            return Ok(Cow::Borrowed(&self.text[start + 1..end - 1]));
        }
        self.decode_string(start, end)
    }

    #[cold]
    pub(super) fn decode_string(&mut self, start: usize, end: usize) -> Step<Cow<'i, str>> {
        // serde_json decodes escapes and rejects lone surrogates.
        match serde_json::from_str::<String>(&self.text[start..end]) {
            Ok(s) => Ok(Cow::Owned(s)),
            Err(_) => Err(self.fail(Stop::Json(ParseError::Syntax {
                column: start + 1,
                what: "invalid escape in a string",
            }))),
        }
    }

    /// `scan_string` for a value, also profiling its bytes for the visitor
    /// in the same pass. Returns whether it holds escapes, and its profile
    /// when every byte was classified (not when it holds escapes or control
    /// bytes).
    pub(super) fn scan_value_string<V: Visitor<Error = E>>(
        &mut self,
        v: &mut V,
    ) -> Step<(bool, Option<V::Profile>)> {
        let text_start = self.pos + 1;
        let mut at = text_start;
        let mut profiler = v.profiler();
        while let Some(chunk) = self.src[at..].first_chunk::<16>() {
            let (stops, classes) = string_chunk(chunk);
            if stops != 0 {
                let n = stops.trailing_zeros() as usize;
                if self.src[at + n] != b'"' {
                    // An escape or a control byte: the plain scan takes it.
                    return Ok((self.scan_string()?, None));
                }
                v.profile(&mut profiler, classes.first(n));
                self.pos = at + n + 1;
                return Ok((false, Some(v.profile_end(profiler, at + n - text_start))));
            }
            v.profile(&mut profiler, classes);
            at += 16;
        }
        // Fewer than sixteen bytes are left in the line: the last value of
        // an event usually ends here.
        let (stops, classes) = tail_string_chunk(self.src, at);
        if stops != 0 {
            let n = stops.trailing_zeros() as usize;
            if self.src[at + n] == b'"' {
                v.profile(&mut profiler, classes.first(n));
                self.pos = at + n + 1;
                return Ok((false, Some(v.profile_end(profiler, at + n - text_start))));
            }
        }
        Ok((self.scan_string()?, None))
    }

    /// Moves past a value string that ends within the sixteen bytes after
    /// its opening quote, holds no escape, and that the visitor says holds
    /// nothing (the usual case: levels, methods, host names), without
    /// profiling it, and returns `true`. Otherwise moves nothing.
    #[inline(always)]
    pub(super) fn skip_short_plain_value<V: Visitor<Error = E>>(&mut self, v: &V) -> bool {
        let at = self.pos + 1;
        let Some(chunk) = self.src[at..].first_chunk::<16>() else {
            return false;
        };
        let (stops, classes) = string_chunk(chunk);
        if stops == 0 {
            return false;
        }
        let n = stops.trailing_zeros() as usize;
        if self.src[at + n] != b'"' {
            return false;
        }
        if v.short_plain_may_hold(&self.src[at..at + n], classes.first(n)) {
            return false;
        }
        self.pos = at + n + 1;
        true
    }

    #[inline]
    pub(super) fn string_leaf<V: Visitor<Error = E>>(&mut self, v: &mut V) -> Step {
        let start = self.pos;
        if self.skipping || !v.looks_at_values() {
            self.scan_string()?;
            return Ok(Kept::Yes);
        }
        if self.skip_short_plain_value(v) {
            return Ok(Kept::Yes);
        }
        let (escaped, profile) = self.scan_value_string(v)?;
        let end = self.pos;
        // Most strings hold nothing the visitor wants: tell from the raw
        // bytes, before decoding anything.
        if !v.string_may_hold(&self.src[start + 1..end - 1], escaped, profile) {
            return Ok(Kept::Yes);
        }
        let text = self.string_text(start, end, escaped)?;
        self.leaf(start, end, &text, profile, v)
    }

    /// Has the visitor look at one value's text, and writes what it makes
    /// of it.
    pub(super) fn leaf<V: Visitor<Error = E>>(
        &mut self,
        start: usize,
        end: usize,
        text: &str,
        profile: Option<V::Profile>,
        v: &mut V,
    ) -> Step {
        let keys = self.context_keys(v);
        let seen = v.leaf(text.as_bytes(), profile, keys);
        self.write_leaf(start, end, seen, v)
    }

    /// Has the visitor look at a number's whole reading, and writes what
    /// it makes of it.
    fn reading_leaf<V: Visitor<Error = E>>(
        &mut self,
        start: usize,
        end: usize,
        reading: &[u8],
        v: &mut V,
    ) -> Step {
        let lost = lost_digits(&self.src[start..end], reading);
        let keys = self.context_keys(v);
        let seen = v.number_leaf(reading, lost, keys);
        self.write_leaf(start, end, seen, v)
    }

    /// Writes the value at `start..end` as the visitor `seen` it.
    #[inline(always)]
    fn write_leaf<V: Visitor<Error = E>>(
        &mut self,
        start: usize,
        end: usize,
        seen: Result<Leaf, E>,
        v: &mut V,
    ) -> Step {
        match seen {
            Err(e) => Err(self.fail(Stop::Visitor(e))),
            Ok(Leaf::Unchanged) => Ok(Kept::Yes),
            Ok(Leaf::Drop) => Ok(Kept::Dropped),
            Ok(Leaf::Changed) => {
                // A masked number becomes a string.
                self.flush_to(start);
                write_json_bytes(self.out, v.leaf_text());
                self.flushed = end;
                Ok(Kept::Yes)
            }
        }
    }

    /// Has the visitor look at a key and, when it changes it, writes the
    /// new key in place of the old. `masked`: the keys of this object
    /// masked so far. Two keys can mask to the same text (`138****5678`
    /// from `13812345678` and `13800005678`), and Elasticsearch refuses a
    /// document with a field twice, so a repeat gets `#2`, `#3`… after it.
    #[cold]
    pub(super) fn key_leaf<V: Visitor<Error = E>>(
        &mut self,
        start: usize,
        end: usize,
        escaped: bool,
        masked: &mut Option<Box<MaskedKeys>>,
        v: &mut V,
    ) -> Step<Leaf> {
        let text = self.string_text(start, end, escaped)?;
        let keys = self.context_keys(v);
        match v.leaf(text.as_bytes(), None, keys) {
            Err(e) => Err(self.fail(Stop::Visitor(e))),
            Ok(Leaf::Changed) => {
                let new = v.leaf_text();
                let mut key = new.to_vec();
                let repeats = masked.get_or_insert_with(Box::default).note(new);
                if repeats > 0 {
                    key.extend_from_slice(format!("#{}", repeats + 1).as_bytes());
                }
                self.flush_to(start);
                self.masked_key = Some((start, self.out.len()));
                write_json_bytes(self.out, &key);
                self.flushed = end;
                Ok(Leaf::Changed)
            }
            Ok(other) => Ok(other),
        }
    }

    pub(super) fn number_leaf<V: Visitor<Error = E>>(&mut self, v: &mut V) -> Step {
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
        let fraction = self.peek() == Some(b'.');
        if fraction {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.eof_or("invalid number"));
            }
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.peek() {
            exponent = true;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.eof_or("invalid number"));
            }
        }
        let end = self.pos;
        // Like serde_json (and Elasticsearch), refuse numbers beyond the
        // range of a double, such as 1e400.
        if (exponent || end - start > 300)
            && !self.text[start..end]
                .parse::<f64>()
                .is_ok_and(f64::is_finite)
        {
            return Err(self.fail(Stop::Json(ParseError::Syntax {
                column: start + 1,
                what: "number out of range",
            })));
        }
        if self.skipping || !v.looks_at_values() {
            return Ok(Kept::Yes);
        }
        if !fraction && !exponent {
            // A whole number as plain digits, the usual case: it reads as
            // itself.
            if !v.number_may_hold(&self.src[start..end], &self.src[self.key.clone()]) {
                return Ok(Kept::Yes);
            }
            let src = self.src;
            return self.reading_leaf(start, end, &src[start..end], v);
        }
        // `1.8534099073E10` is a phone number; `0.6249780000006258` holds
        // none (see `json::number`). A match replaces the whole token.
        let mut buf = [0u8; READING_BYTES];
        let Some(reading) = whole_reading(&self.src[start..end], &mut buf) else {
            return Ok(Kept::Yes);
        };
        if !v.number_may_hold(reading, &self.src[self.key.clone()]) {
            return Ok(Kept::Yes);
        }
        self.reading_leaf(start, end, reading, v)
    }
}

/// The keys of one object that a rule masked, to tell apart those that
/// mask alike (`{"13812345678":1,"13812349678":2}` writes `138****5678`
/// and `138****5678#2`). Counted in a map: an object may have tens of
/// thousands of such keys. (Made when the first key is masked: most
/// objects have none.)
#[derive(Default)]
pub(super) struct MaskedKeys {
    seen: HashMap<Vec<u8>, u32>,
    last: Vec<u8>,
}

impl MaskedKeys {
    /// Notes masked key `key`; returns how many keys masked alike before.
    fn note(&mut self, key: &[u8]) -> u32 {
        let count = self.seen.entry(key.to_vec()).or_insert(0);
        *count += 1;
        self.last.clear();
        self.last.extend_from_slice(key);
        *count - 1
    }

    /// Forgets the last key noted: it went with its member, so a later key
    /// that masks alike needs no `#2`.
    pub(super) fn forget_last(&mut self) {
        if let Some(count) = self.seen.get_mut(&self.last) {
            *count -= 1;
        }
    }
}

//! One pass over an event's JSON text: validate it, run the mask rules on
//! every string and number, and write the result.
//!
//! The input is copied to the output in runs: the pass only keeps a cursor
//! (`flushed`) of how far the input has been dealt with, and writes where a
//! value changes or a member is removed. Unchanged parts of an event come
//! out byte for byte, layout included. A string is decoded only when it
//! holds escapes, and scanned only when it could hold something a rule
//! finds. No tree is built (a tree costs more than the whole budget for a
//! 1 KB event).
//!
//! The grammar is RFC 8259, as strict as serde_json, which the tests and the
//! fuzzer use as the oracle: the same inputs are accepted and rejected, and
//! the output parses to the same values.

use std::borrow::Cow;

use super::bytes::{classes, string_chunk, string_stops, tail_string_chunk};
use super::detect::{Features, Profiler, ScanBuffers};
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

/// Bookkeeping for the members (or elements) of one object (or array).
#[derive(Default)]
struct Members {
    /// How many the output keeps.
    written: usize,
    /// Input offset of the comma before the current one, if it is kept.
    comma: Option<usize>,
}

/// A failed step; the reason is in `Rewriter::error`. Keeping the error out
/// of the return value keeps every step's result one byte.
struct Fail;

type Step<T = Kept> = Result<T, Fail>;

pub(crate) struct Rewriter<'r, 'i, 'o> {
    rules: &'r RuleSet,
    /// The event's text, already checked as UTF-8; `src` is its bytes.
    text: &'i str,
    src: &'i [u8],
    pos: usize,
    out: &'o mut Vec<u8>,
    /// Input before this offset is already written (or cut).
    flushed: usize,
    /// Inside a member the pass removes anyway (the record field): validate
    /// only.
    skipping: bool,
    /// The input range of the innermost key around the current value
    /// (without quotes), for detectors that read field names.
    key: std::ops::Range<usize>,
    error: Option<Reject>,
}

/// What `event` learned about the top-level object.
pub(crate) struct Written {
    /// Members the output object kept.
    pub members: usize,
}

impl<'r, 'i, 'o> Rewriter<'r, 'i, 'o> {
    pub(crate) fn new(rules: &'r RuleSet, src: &'i str, out: &'o mut Vec<u8>) -> Self {
        Rewriter {
            rules,
            text: src,
            src: src.as_bytes(),
            pos: 0,
            out,
            flushed: 0,
            skipping: false,
            key: 0..0,
            error: None,
        }
    }

    /// Rewrites the whole event, which must be one JSON object.
    pub(crate) fn event(mut self, work: &mut Workspace) -> Result<Written, Reject> {
        match self.event_inner(work) {
            Ok(w) => Ok(w),
            Err(Fail) => Err(self
                .error
                .take()
                .unwrap_or(Reject::Json(ParseError::Syntax {
                    column: self.pos + 1,
                    what: "syntax error",
                }))),
        }
    }

    fn event_inner(&mut self, work: &mut Workspace) -> Step<Written> {
        // Control bytes are refused inside strings by `scan_string`, and
        // between tokens by the grammar (only tab, CR and LF are whitespace).
        self.skip_ws();
        if self.peek() != Some(b'{') {
            // Tell "valid, but not an object" from "not JSON".
            let reject = match serde_json::from_str::<serde::de::IgnoredAny>(self.text) {
                Ok(_) => Reject::NotObject,
                Err(_) => Reject::Json(ParseError::Syntax {
                    column: self.pos + 1,
                    what: "expected a JSON object",
                }),
            };
            return Err(self.fail(reject));
        }
        self.flushed = self.pos;
        let members = self.object(1, work)?;
        let end = self.pos;
        self.skip_ws();
        if self.pos != self.src.len() {
            return Err(self.syntax("trailing characters after the event"));
        }
        self.flush_to(end);
        Ok(Written { members })
    }

    fn fail(&mut self, reject: Reject) -> Fail {
        self.error = Some(reject);
        Fail
    }

    fn syntax(&mut self, what: &'static str) -> Fail {
        let column = self.pos + 1;
        self.fail(Reject::Json(ParseError::Syntax { column, what }))
    }

    fn eof_or(&mut self, what: &'static str) -> Fail {
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

    /// Skips whitespace. Events are mostly written without any, so the
    /// first byte is tested on its own: anything above a space ends it.
    #[inline(always)]
    fn skip_ws(&mut self) {
        if self.src.get(self.pos).is_some_and(|&b| b <= b' ') {
            self.skip_ws_from_here();
        }
    }

    #[inline(never)]
    fn skip_ws_from_here(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// Writes the input up to `upto` (unchanged).
    #[inline]
    fn flush_to(&mut self, upto: usize) {
        self.out.extend_from_slice(&self.src[self.flushed..upto]);
        self.flushed = upto;
    }

    /// Where input offset `at` (not yet flushed) will sit in the output.
    #[inline]
    fn out_pos(&self, at: usize) -> usize {
        self.out.len() + at - self.flushed
    }

    /// Leaves input `start..end` out of the output.
    fn cut(&mut self, start: usize, end: usize, work: &mut Workspace) {
        self.flush_to(start);
        self.flushed = end;
        work.unwatch_from(self.out.len());
    }

    /// The value at `pos` (whitespace before it already skipped). Strings,
    /// the usual case, are handled inline; containers recurse.
    #[inline(always)]
    fn value(&mut self, depth: usize, work: &mut Workspace) -> Step {
        match self.peek() {
            Some(b'"') => self.string_leaf(work),
            _ => self.other_value(depth, work),
        }
    }

    fn other_value(&mut self, depth: usize, work: &mut Workspace) -> Step {
        match self.peek() {
            Some(b'{') => self.object(depth + 1, work).map(|_| Kept::Yes),
            Some(b'[') => self.array(depth + 1, work),
            Some(b'"') => self.string_leaf(work),
            Some(b'-' | b'0'..=b'9') => self.number_leaf(work),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => Err(self.eof_or("expected a value")),
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Step {
        if self.src[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(Kept::Yes)
        } else {
            Err(self.eof_or("invalid literal"))
        }
    }

    /// Returns how many members the object kept.
    fn object(&mut self, depth: usize, work: &mut Workspace) -> Step<usize> {
        if depth > MAX_DEPTH {
            return Err(self.fail(Reject::Json(ParseError::TooDeep)));
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(0);
        }
        let mut members = Members::default();
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.eof_or("expected a key in quotes"));
            }
            let key_start = self.pos;
            let escaped = self.scan_key()?;
            let key_end = self.pos;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.eof_or("expected ':' after a key"));
            }
            self.pos += 1;
            let wants_key = work.wants_keys(self.rules)
                || (depth == 1 && self.rules.settings.record_field.is_some());
            let mut key: Cow<'i, str> = if wants_key {
                self.string_text(key_start, key_end, escaped)?
            } else {
                Cow::Borrowed("")
            };
            let ours = depth == 1 && self.rules.settings.record_field.as_deref() == Some(&*key);
            // Personal data used as a key (`{"18216119059": 3}`) is masked
            // like a value; a drop rule that matches it drops the member.
            let mut key_dropped = false;
            if !self.skipping && !ours && self.key_may_hold(key_start, key_end, escaped) {
                match self.key_leaf(key_start, key_end, escaped, work)? {
                    Leaf::Unchanged => {}
                    Leaf::Drop => key_dropped = true,
                    Leaf::Changed => {
                        if wants_key {
                            key =
                                Cow::Owned(String::from_utf8_lossy(work.leaf_text()).into_owned());
                        }
                    }
                }
            }
            let was_skipping = self.skipping;
            // A member that is cut anyway is only validated.
            self.skipping |= ours || key_dropped;
            if !self.skipping {
                work.enter_key(self.rules, &key);
            }
            self.skip_ws();
            let value_start = self.out_pos(self.pos);
            let outer_key = std::mem::replace(&mut self.key, key_start + 1..key_end - 1);
            let kept = self
                .value(depth, work)
                .map(|k| if key_dropped { Kept::Dropped } else { k });
            self.key = outer_key;
            self.after_value(matches!(kept, Ok(Kept::Yes)), value_start, true, work);
            self.skipping = was_skipping;
            // The record field is ours to write: what an event brings under
            // that name is removed.
            self.settle(&mut members, kept? == Kept::Yes && !ours, key_start, work);
            if !self.next_member(
                &mut members,
                b'}',
                "expected ',' or '}' after a value",
                work,
            )? {
                return Ok(members.written);
            }
        }
    }

    fn array(&mut self, depth: usize, work: &mut Workspace) -> Step {
        if depth > MAX_DEPTH {
            return Err(self.fail(Reject::Json(ParseError::TooDeep)));
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Kept::Yes);
        }
        let mut members = Members::default();
        let mut index = 0usize;
        loop {
            self.skip_ws();
            let element_start = self.pos;
            let value_start = self.out_pos(self.pos);
            if !self.skipping {
                work.enter_index(self.rules, index);
            }
            let kept = self.value(depth, work);
            self.after_value(matches!(kept, Ok(Kept::Yes)), value_start, false, work);
            index += 1;
            self.settle(&mut members, kept? == Kept::Yes, element_start, work);
            if !self.next_member(
                &mut members,
                b']',
                "expected ',' or ']' after a value",
                work,
            )? {
                return Ok(Kept::Yes);
            }
        }
    }

    /// After a member's or element's value: record it if a condition reads
    /// it, and leave its level.
    #[inline(always)]
    fn after_value(&mut self, kept: bool, value_start: usize, was_key: bool, work: &mut Workspace) {
        if self.skipping {
            return;
        }
        if kept {
            let end = self.out_pos(self.pos);
            work.watch(self.rules, value_start, end);
        }
        work.leave(self.rules, was_key);
    }

    /// Keeps the member that started at input offset `start` and ends here,
    /// or cuts it, together with the comma before it, so that the commas
    /// left still separate kept members.
    #[inline(always)]
    fn settle(&mut self, members: &mut Members, keep: bool, start: usize, work: &mut Workspace) {
        if keep {
            members.written += 1;
            return;
        }
        match members.comma {
            Some(c) if members.written > 0 => self.cut(c, self.pos, work),
            _ => self.cut(start, self.pos, work),
        }
    }

    /// Moves past the separator after a member: returns `true` after a comma
    /// (another member follows) and `false` after `close`.
    #[inline(always)]
    fn next_member(
        &mut self,
        members: &mut Members,
        close: u8,
        what: &'static str,
        work: &mut Workspace,
    ) -> Step<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                if members.written == 0 {
                    // Nothing kept before it: this comma must go.
                    let at = self.pos;
                    self.cut(at, at + 1, work);
                    members.comma = None;
                } else {
                    members.comma = Some(self.pos);
                }
                self.pos += 1;
                Ok(true)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.eof_or(what)),
        }
    }

    /// `scan_string` for a key: most keys end within the sixteen bytes
    /// after their opening quote, with nothing to check on the way, and
    /// take one load here.
    #[inline(always)]
    fn scan_key(&mut self) -> Step<bool> {
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
    fn scan_string(&mut self) -> Step<bool> {
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
    fn string_text(&mut self, start: usize, end: usize, escaped: bool) -> Step<Cow<'i, str>> {
        // Quotes are ASCII, so these are character boundaries.
        if !escaped {
            return Ok(Cow::Borrowed(&self.text[start + 1..end - 1]));
        }
        self.decode_string(start, end)
    }

    #[cold]
    fn decode_string(&mut self, start: usize, end: usize) -> Step<Cow<'i, str>> {
        // serde_json decodes escapes and rejects lone surrogates.
        match serde_json::from_str::<String>(&self.text[start..end]) {
            Ok(s) => Ok(Cow::Owned(s)),
            Err(_) => Err(self.fail(Reject::Json(ParseError::Syntax {
                column: start + 1,
                what: "invalid escape in a string",
            }))),
        }
    }

    /// `scan_string` for a value, also classifying its bytes for the
    /// detectors into `buffers`, in the same pass. Returns whether it holds
    /// escapes, and its features when every byte was classified (not when
    /// it holds escapes or control bytes).
    fn scan_value_string(&mut self, buffers: &mut ScanBuffers) -> Step<(bool, Option<Features>)> {
        let text_start = self.pos + 1;
        let mut at = text_start;
        let mut profiler = Profiler::start(buffers);
        while let Some(chunk) = self.src[at..].first_chunk::<16>() {
            let (stops, classes) = string_chunk(chunk);
            if stops != 0 {
                let n = stops.trailing_zeros() as usize;
                if self.src[at + n] != b'"' {
                    // An escape or a control byte: the plain scan takes it.
                    return Ok((self.scan_string()?, None));
                }
                profiler.add(buffers, classes.first(n));
                self.pos = at + n + 1;
                return Ok((false, Some(profiler.finish(buffers, at + n - text_start))));
            }
            profiler.add(buffers, classes);
            at += 16;
        }
        // Fewer than sixteen bytes are left in the line: the last value of
        // an event usually ends here.
        let (stops, classes) = tail_string_chunk(self.src, at);
        if stops != 0 {
            let n = stops.trailing_zeros() as usize;
            if self.src[at + n] == b'"' {
                profiler.add(buffers, classes.first(n));
                self.pos = at + n + 1;
                return Ok((false, Some(profiler.finish(buffers, at + n - text_start))));
            }
        }
        Ok((self.scan_string()?, None))
    }

    /// Moves past a value string that ends within the sixteen bytes after
    /// its opening quote, holds no escape, and has nothing a built-in
    /// detector could find (the usual case: levels, methods, host names),
    /// without profiling it, and returns `true`. Otherwise moves nothing.
    #[inline(always)]
    fn skip_short_plain_value(&mut self) -> bool {
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
        // As in `string_leaf`: the shortest built-in match is six bytes.
        let c = classes.first(n);
        let features = Features {
            digits: c.digits.count_ones() as usize,
            has_at: c.at != 0,
            has_percent: c.percent != 0,
            has_high: c.high != 0,
        };
        if n >= 6
            && !self
                .rules
                .plain_text_holds_nothing(&self.src[at..at + n], features)
        {
            return false;
        }
        self.pos = at + n + 1;
        true
    }

    #[inline]
    fn string_leaf(&mut self, work: &mut Workspace) -> Step {
        let start = self.pos;
        if self.skipping || self.rules.masks.is_empty() {
            self.scan_string()?;
            return Ok(Kept::Yes);
        }
        if !self.rules.has_regex && self.skip_short_plain_value() {
            return Ok(Kept::Yes);
        }
        let (escaped, profile) = self.scan_value_string(work.scan_buffers())?;
        let end = self.pos;
        // Most strings hold nothing any detector could find: tell from the
        // raw bytes, before decoding anything. The shortest built-in match
        // is six bytes (a@b.cn); decoding only shortens text.
        if !escaped
            && !self.rules.has_regex
            && (end - start - 2 < 6
                || profile.is_some_and(|f| {
                    self.rules
                        .plain_text_holds_nothing(&self.src[start + 1..end - 1], f)
                }))
        {
            return Ok(Kept::Yes);
        }
        let text = self.string_text(start, end, escaped)?;
        self.leaf(start, end, &text, profile, work)
    }

    /// Runs the rules on one value's text and writes what they make of it.
    fn leaf(
        &mut self,
        start: usize,
        end: usize,
        text: &str,
        profile: Option<Features>,
        work: &mut Workspace,
    ) -> Step {
        let src = self.src;
        let key = if self.rules.reads_keys {
            &src[self.key.clone()]
        } else {
            b""
        };
        match self.rules.scan_leaf(text.as_bytes(), profile, key, work) {
            Err(reject) => Err(self.fail(reject)),
            Ok(Leaf::Unchanged) => Ok(Kept::Yes),
            Ok(Leaf::Drop) => Ok(Kept::Dropped),
            Ok(Leaf::Changed) => {
                // A masked number becomes a string.
                self.flush_to(start);
                write_json_bytes(self.out, work.leaf_text());
                self.flushed = end;
                Ok(Kept::Yes)
            }
        }
    }

    /// Whether the key token `start..end` could hold something a mask rule
    /// finds: enough digits, an `@`, an escape, or text above ASCII. Most
    /// keys are short ASCII names and stop here.
    #[inline]
    fn key_may_hold(&self, start: usize, end: usize, escaped: bool) -> bool {
        if self.rules.masks.is_empty() {
            return false;
        }
        if escaped || self.rules.has_regex {
            return true;
        }
        let key = &self.src[start + 1..end - 1];
        if let Some(chunk) = self.src[start + 1..].first_chunk::<16>() {
            if key.len() <= 16 {
                // Most keys: their bytes' classes from one load.
                let c = classes(chunk).first_n(key.len());
                let at_inside = c.at & !1;
                return c.percent != 0
                    || c.high != 0
                    || at_inside != 0
                    || c.digits.count_ones() as usize >= self.rules.min_digits;
            }
        }
        let mut digits = 0;
        for (i, &b) in key.iter().enumerate() {
            if b.is_ascii_digit() {
                digits += 1;
            } else if b == b'%' || b >= 0x80 || (b == b'@' && i > 0) {
                // (`@timestamp` and the like hold no address.)
                return true;
            }
        }
        digits >= self.rules.min_digits
    }

    /// Runs the mask rules on a key and, when they change it, writes the
    /// new key in place of the old.
    #[cold]
    fn key_leaf(
        &mut self,
        start: usize,
        end: usize,
        escaped: bool,
        work: &mut Workspace,
    ) -> Step<Leaf> {
        let text = self.string_text(start, end, escaped)?;
        let src = self.src;
        let key = if self.rules.reads_keys {
            &src[self.key.clone()]
        } else {
            b""
        };
        match self.rules.scan_leaf(text.as_bytes(), None, key, work) {
            Err(reject) => Err(self.fail(reject)),
            Ok(Leaf::Changed) => {
                self.flush_to(start);
                write_json_bytes(self.out, work.leaf_text());
                self.flushed = end;
                Ok(Leaf::Changed)
            }
            Ok(other) => Ok(other),
        }
    }

    fn number_leaf(&mut self, work: &mut Workspace) -> Step {
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
            return Err(self.fail(Reject::Json(ParseError::Syntax {
                column: start + 1,
                what: "number out of range",
            })));
        }
        if self.skipping || self.rules.masks.is_empty() {
            return Ok(Kept::Yes);
        }
        // Only numbers long enough to be personal data, unless a custom
        // pattern might want shorter ones.
        if !self.rules.has_regex
            && self.src[start..end]
                .iter()
                .filter(|b| b.is_ascii_digit())
                .count()
                < self.rules.min_number_digits
        {
            return Ok(Kept::Yes);
        }
        let text = &self.text[start..end];
        self.leaf(start, end, text, None, work)
    }
}

/// The first byte that ends a plain run of string text: `"`, `\\`, or a
/// control byte (below 0x20, which JSON refuses unescaped). Sixteen bytes at
/// a time.
#[inline]
pub(crate) fn find_string_stop(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(chunk) = bytes[at..].first_chunk::<16>() {
        let stops = super::bytes::string_stops(chunk);
        if stops != 0 {
            return Some(at + stops.trailing_zeros() as usize);
        }
        at += 16;
    }
    let stops = super::bytes::tail_string_stops(bytes, at);
    (stops != 0).then(|| at + stops.trailing_zeros() as usize)
}

/// Writes `s` as a JSON string, escaped exactly as serde_json escapes.
pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    write_json_bytes(out, s.as_bytes());
}

/// Writes UTF-8 text `s` as a JSON string, escaped exactly as serde_json
/// escapes.
pub(crate) fn write_json_bytes(out: &mut Vec<u8>, s: &[u8]) {
    if find_string_stop(s).is_none() {
        // Nothing to escape: the usual case for masked values.
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s);
        out.push(b'"');
    } else {
        // `s` is UTF-8 by construction; were it not, the lossy form still
        // cannot carry more than `s` did.
        serde_json::to_writer(out, &String::from_utf8_lossy(s))
            .expect("writing a string to memory cannot fail");
    }
}

#[cfg(test)]
mod tests {
    use super::find_string_stop;

    #[test]
    fn quote_search_agrees_with_a_plain_scan() {
        let texts: [&[u8]; 6] = [
            b"",
            b"abc\"",
            b"0123456789abcdef0123456789abcdef0123\\x\"",
            b"\xe4\xb8\xad\xe6\x96\x87\"",
            b"no end at all, but quite a long text to go past the inline part",
            b"ABCDEFG\"HIJ",
        ];
        for t in texts {
            for start in 0..t.len().max(1) {
                let t = &t[start.min(t.len())..];
                assert_eq!(
                    find_string_stop(t),
                    t.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20),
                    "{t:?}"
                );
            }
        }
        // Every byte value in every position of a word.
        for b in 0..=255u8 {
            for pos in 0..16 {
                let mut t = [b'x'; 16];
                t[pos] = b;
                assert_eq!(
                    find_string_stop(&t),
                    t.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                );
            }
        }
    }
}

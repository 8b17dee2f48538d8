//! One pass over an event's JSON text: validate it, run the mask rules on
//! every string and number, and write the result.
//!
//! The input is copied to the output in runs: the pass only keeps a cursor
//! (`flushed`) of how far the input has been dealt with, and writes where a
//! value changes or a member is removed. Unchanged parts of an event come
//! out byte for byte, layout included, but for line breaks between tokens:
//! the caller makes those spaces ([`Written::line_breaks`]), so that every
//! event is one line (NDJSON files, the bulk API, which reads a line break
//! as the end of a document). A string is decoded only when it
//! holds escapes, and scanned only when it could hold something a rule
//! finds. No tree is built (a tree costs more than the whole budget for a
//! 1 KB event).
//!
//! The pass knows nothing of rules: a [`Visitor`] (the rule engine) says
//! which values to look at and what becomes of them, and follows the path
//! the pass walks. The visitor is a type parameter, not a trait object, so
//! every call is inlined into the pass.
//!
//! The grammar is RFC 8259, as strict as serde_json, which the tests and the
//! fuzzer use as the oracle: the same inputs are accepted and rejected, and
//! the output parses to the same values.

use std::borrow::Cow;

mod leaves;
mod visitor;

pub(crate) use visitor::{Leaf, Stop, Visitor};

use super::ParseError;
use leaves::MaskedKeys;

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

pub(crate) struct Rewriter<'i, 'o, E> {
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
    /// (without quotes), for detectors that read field names, and of the
    /// key around that one.
    key: std::ops::Range<usize>,
    outer_key: std::ops::Range<usize>,
    /// Where the last key a rule masked started, in the input and in the
    /// output: a masked key is written before its value is looked at, so
    /// a member a drop rule then removes is cut from the output back to
    /// here.
    masked_key: Option<(usize, usize)>,
    /// Whether whitespace between tokens held a line break.
    line_breaks: bool,
    error: Option<Stop<E>>,
}

/// What `event` learned about the top-level object.
pub(crate) struct Written {
    /// Members the output object kept.
    pub members: usize,
    /// Whether whitespace between tokens held a line break (`\n` or
    /// `\r`), which the output may then hold too. (Strings cannot: a
    /// control byte in one is refused, and escapes are written as such.)
    pub line_breaks: bool,
}

impl<'i, 'o, E> Rewriter<'i, 'o, E> {
    pub(crate) fn new(src: &'i str, out: &'o mut Vec<u8>) -> Self {
        Rewriter {
            text: src,
            src: src.as_bytes(),
            pos: 0,
            out,
            flushed: 0,
            skipping: false,
            key: 0..0,
            outer_key: 0..0,
            masked_key: None,
            line_breaks: false,
            error: None,
        }
    }

    /// Rewrites the whole event, which must be one JSON object.
    pub(crate) fn event<V: Visitor<Error = E>>(mut self, v: &mut V) -> Result<Written, Stop<E>> {
        match self.event_inner(v) {
            Ok(w) => Ok(w),
            Err(Fail) => Err(self.error.take().unwrap_or(Stop::Json(ParseError::Syntax {
                column: self.pos + 1,
                what: "syntax error",
            }))),
        }
    }

    fn event_inner<V: Visitor<Error = E>>(&mut self, v: &mut V) -> Step<Written> {
        // Control bytes are refused inside strings by `scan_string`, and
        // between tokens by the grammar (only tab, CR and LF are whitespace).
        self.skip_ws();
        if self.peek() != Some(b'{') {
            // Tell "valid, but not an object" from "not JSON".
            let reject = match serde_json::from_str::<serde::de::IgnoredAny>(self.text) {
                Ok(_) => Stop::NotObject,
                Err(_) => Stop::Json(ParseError::Syntax {
                    column: self.pos + 1,
                    what: "expected a JSON object",
                }),
            };
            return Err(self.fail(reject));
        }
        self.flushed = self.pos;
        let members = self.object(1, v)?;
        let end = self.pos;
        self.skip_ws();
        if self.pos != self.src.len() {
            return Err(self.syntax("trailing characters after the event"));
        }
        self.flush_to(end);
        Ok(Written {
            members,
            line_breaks: self.line_breaks,
        })
    }

    fn fail(&mut self, reject: Stop<E>) -> Fail {
        self.error = Some(reject);
        Fail
    }

    fn syntax(&mut self, what: &'static str) -> Fail {
        let column = self.pos + 1;
        self.fail(Stop::Json(ParseError::Syntax { column, what }))
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
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => {}
                Some(b'\n' | b'\r') => self.line_breaks = true,
                _ => return,
            }
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
    fn cut<V: Visitor<Error = E>>(&mut self, start: usize, end: usize, v: &mut V) -> Step<()> {
        if start >= self.flushed {
            self.flush_to(start);
        } else {
            // Only a masked key is written ahead of the pass (`key_leaf`),
            // and what lies between `start` and it went out unchanged.
            match self.masked_key {
                Some((input, output)) if start <= input && input < self.flushed => {
                    self.out.truncate(output - (input - start));
                }
                _ => return Err(self.syntax("internal error: a cut reached into written output")),
            }
        }
        self.flushed = end;
        v.unwatch_from(self.out.len());
        Ok(())
    }

    /// The value at `pos` (whitespace before it already skipped). Strings,
    /// the usual case, are handled inline; containers recurse.
    #[inline(always)]
    fn value<V: Visitor<Error = E>>(&mut self, depth: usize, v: &mut V) -> Step {
        match self.peek() {
            Some(b'"') => self.string_leaf(v),
            _ => self.other_value(depth, v),
        }
    }

    fn other_value<V: Visitor<Error = E>>(&mut self, depth: usize, v: &mut V) -> Step {
        match self.peek() {
            Some(b'{') => self.object(depth + 1, v).map(|_| Kept::Yes),
            Some(b'[') => self.array(depth + 1, v),
            Some(b'"') => self.string_leaf(v),
            Some(b'-' | b'0'..=b'9') => self.number_leaf(v),
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
    fn object<V: Visitor<Error = E>>(&mut self, depth: usize, v: &mut V) -> Step<usize> {
        if depth > MAX_DEPTH {
            return Err(self.fail(Stop::Json(ParseError::TooDeep)));
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(0);
        }
        let mut members = Members::default();
        // Keys of this object a rule masked.
        let mut masked_keys: Option<Box<MaskedKeys>> = None;
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
            let wants_key = v.wants_keys() || (depth == 1 && v.removed_member().is_some());
            let mut key: Cow<'i, str> = if wants_key {
                self.string_text(key_start, key_end, escaped)?
            } else {
                Cow::Borrowed("")
            };
            let ours = depth == 1 && v.removed_member() == Some(&*key);
            // Personal data used as a key (`{"18216119059": 3}`) is masked
            // like a value; a drop rule that matches it drops the member.
            let mut key_dropped = false;
            let mut key_masked = false;
            if !self.skipping
                && !ours
                && v.looks_at_values()
                && v.key_may_hold(
                    &self.src[key_start + 1..key_end - 1],
                    escaped,
                    self.src[key_start + 1..].first_chunk::<16>(),
                )
            {
                match self.key_leaf(key_start, key_end, escaped, &mut masked_keys, v)? {
                    Leaf::Unchanged => {}
                    Leaf::Drop => key_dropped = true,
                    Leaf::Changed => {
                        key_masked = true;
                        if wants_key {
                            key = Cow::Owned(String::from_utf8_lossy(v.leaf_text()).into_owned());
                        }
                    }
                }
            }
            let was_skipping = self.skipping;
            // A member that is cut anyway is only validated.
            self.skipping |= ours || key_dropped;
            if !self.skipping {
                v.enter_key(&key);
            }
            self.skip_ws();
            let value_start = self.out_pos(self.pos);
            let outer_key = std::mem::replace(&mut self.key, key_start + 1..key_end - 1);
            let outer_outer = std::mem::replace(&mut self.outer_key, outer_key.clone());
            let kept = self
                .value(depth, v)
                .map(|k| if key_dropped { Kept::Dropped } else { k });
            self.key = outer_key;
            self.outer_key = outer_outer;
            self.after_value(matches!(kept, Ok(Kept::Yes)), value_start, true, v);
            self.skipping = was_skipping;
            // The record field is ours to write: what an event brings under
            // that name is removed.
            let keep = kept? == Kept::Yes && !ours;
            if key_masked && !keep {
                if let Some(masked) = masked_keys.as_mut() {
                    masked.forget_last();
                }
            }
            self.settle(&mut members, keep, key_start, v)?;
            if !self.next_member(&mut members, b'}', "expected ',' or '}' after a value", v)? {
                return Ok(members.written);
            }
        }
    }

    fn array<V: Visitor<Error = E>>(&mut self, depth: usize, v: &mut V) -> Step {
        if depth > MAX_DEPTH {
            return Err(self.fail(Stop::Json(ParseError::TooDeep)));
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
                v.enter_index(index);
            }
            let kept = self.value(depth, v);
            self.after_value(matches!(kept, Ok(Kept::Yes)), value_start, false, v);
            index += 1;
            self.settle(&mut members, kept? == Kept::Yes, element_start, v)?;
            if !self.next_member(&mut members, b']', "expected ',' or ']' after a value", v)? {
                return Ok(Kept::Yes);
            }
        }
    }

    /// After a member's or element's value: record it if a condition reads
    /// it, and leave its level.
    #[inline(always)]
    fn after_value<V: Visitor<Error = E>>(
        &mut self,
        kept: bool,
        value_start: usize,
        was_key: bool,
        v: &mut V,
    ) {
        if self.skipping {
            return;
        }
        if kept {
            let end = self.out_pos(self.pos);
            v.watch(value_start, end);
        }
        v.leave(was_key);
    }

    /// Keeps the member that started at input offset `start` and ends here,
    /// or cuts it, together with the comma before it, so that the commas
    /// left still separate kept members.
    #[inline(always)]
    fn settle<V: Visitor<Error = E>>(
        &mut self,
        members: &mut Members,
        keep: bool,
        start: usize,
        v: &mut V,
    ) -> Step<()> {
        if keep {
            members.written += 1;
            return Ok(());
        }
        match members.comma {
            Some(c) if members.written > 0 => self.cut(c, self.pos, v),
            _ => self.cut(start, self.pos, v),
        }
    }

    /// Moves past the separator after a member: returns `true` after a comma
    /// (another member follows) and `false` after `close`.
    #[inline(always)]
    fn next_member<V: Visitor<Error = E>>(
        &mut self,
        members: &mut Members,
        close: u8,
        what: &'static str,
        v: &mut V,
    ) -> Step<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                if members.written == 0 {
                    // Nothing kept before it: this comma must go.
                    let at = self.pos;
                    self.cut(at, at + 1, v)?;
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
}

//! The JSON layer: a borrowed tree (here), the one-pass rewriter
//! (`rewrite`), the escaper (`escape`), numbers read by value (`number`)
//! and what masking needs of documents written in text (`embedded`). It
//! knows nothing of rules: the rewriter asks a [`rewrite::Visitor`] what to
//! do with each value.
//!
//! A borrowed JSON tree.
//!
//! Not the main path (that is `rewrite`, which builds no tree): used where a
//! tree is needed, for tag rules that fire, condition values and examples.
//! serde_json checks the text first (so errors match the rest of the
//! engine's); the tree is then built by a small parser of our own, because
//! the tree must write every number back with the text it arrived with.
//! Re-formatting a number (`17951616021e0` as `17951616021.0`) could turn a
//! value the detectors rightly left alone into one they find, so an event
//! that went through a tag rule would no longer be what was checked.
//!
//! Strings that contain no escape sequence borrow from the input, so a value
//! is never copied needlessly. Escaped strings are decoded
//! (detectors always see decoded text) and owned. Object members keep their
//! order and duplicates, so an event leaves with the shape it arrived in.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;

mod embedded;
mod escape;
mod number;
pub(crate) mod rewrite;

pub(crate) use embedded::number_quote;
pub use escape::write_json_string;
pub(crate) use escape::{find_string_stop, write_json_bytes};
pub(crate) use number::{lost_digits, whole_reading, READING_BYTES};
pub(crate) use rewrite::MAX_DEPTH;

/// One JSON value. A number holds its value and its text as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number, Cow<'a, str>),
    Str(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

/// A JSON number's value, with the width serde_json would give it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Number {
    /// The value of a number token that is valid JSON.
    fn of_text(text: &str) -> Number {
        let integer = !text.contains(['.', 'e', 'E']);
        if integer {
            if let Ok(u) = text.parse::<u64>() {
                return Number::Unsigned(u);
            }
            if let Ok(i) = text.parse::<i64>() {
                return Number::Signed(i);
            }
        }
        // Out-of-range integers become floats, as in serde_json.
        Number::Float(text.parse().unwrap_or(f64::NAN))
    }
}

/// The text of a JSON string written without escapes or control bytes
/// (the usual case), which is its bytes between the quotes.
pub(crate) fn plain_string(raw: &[u8]) -> Option<&[u8]> {
    match raw {
        [b'"', inner @ .., b'"'] if find_string_stop(inner).is_none() => Some(inner),
        _ => None,
    }
}

impl<'a> Value<'a> {
    /// Parses one event. The error keeps only serde_json's position and
    /// category, never the input's text.
    pub fn parse(input: &'a str) -> Result<Value<'a>, ParseError> {
        // The common case for condition values: a plain string, which
        // needs neither check nor tree.
        if plain_string(input.as_bytes()).is_some() {
            // Quotes are ASCII: the slice is on character boundaries.
            return Ok(Value::Str(Cow::Borrowed(&input[1..input.len() - 1])));
        }
        let mut de = serde_json::Deserializer::from_str(input);
        let checked = IgnoredAny::deserialize(&mut de).and_then(|_| de.end());
        if let Err(e) = checked {
            // Skipping a value has no depth limit in serde_json, so the
            // limit a full parse would hit is checked here.
            return Err(if nesting_exceeds(input.as_bytes(), MAX_DEPTH) {
                ParseError::TooDeep
            } else {
                ParseError::from_serde(e)
            });
        }
        Value::parse_valid(input)
    }

    /// Parses text that is valid JSON already, such as what the rewriting
    /// pass wrote: the check `parse` makes first (the tree builder alone is
    /// lenient) is skipped. Invalid text is refused or read leniently, never
    /// a panic.
    pub(crate) fn parse_valid(input: &'a str) -> Result<Value<'a>, ParseError> {
        let mut parser = Parser {
            text: input,
            pos: 0,
        };
        let value = parser.value(0)?;
        parser.skip_ws();
        if parser.pos != input.len() {
            return Err(parser.error());
        }
        Ok(value)
    }

    /// Writes the value as compact JSON; numbers keep their text.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::Number(_, text) => out.extend_from_slice(text.as_bytes()),
            Value::Str(s) => write_json_string(out, s),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_to(out);
                }
                out.push(b']');
            }
            Value::Object(members) => {
                out.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_string(out, k);
                    out.push(b':');
                    v.write_to(out);
                }
                out.push(b'}');
            }
        }
    }

    /// Follows a dotted path of object keys. Arrays on the way are searched
    /// element by element; the first hit wins.
    pub fn lookup(&self, path: &[String]) -> Vec<&Value<'a>> {
        let mut found = Vec::new();
        lookup_into(self, path, &mut found);
        found
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Builds a tree from a `serde_json::Value` (used for constants from rule files).
    pub fn from_serde(v: &serde_json::Value) -> Value<'static> {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                let text = n.to_string();
                Value::Number(Number::of_text(&text), Cow::Owned(text))
            }
            serde_json::Value::String(s) => Value::Str(Cow::Owned(s.clone())),
            serde_json::Value::Array(a) => Value::Array(a.iter().map(Value::from_serde).collect()),
            serde_json::Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (Cow::Owned(k.clone()), Value::from_serde(v)))
                    .collect(),
            ),
        }
    }
}

fn lookup_into<'v, 'a>(value: &'v Value<'a>, path: &[String], found: &mut Vec<&'v Value<'a>>) {
    let Some((first, rest)) = path.split_first() else {
        found.push(value);
        return;
    };
    match value {
        Value::Object(members) => {
            for (k, v) in members {
                if k == first {
                    lookup_into(v, rest, found);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                lookup_into(item, path, found);
            }
        }
        _ => {}
    }
}

/// Why a line is not a JSON event. Carries positions only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nested deeper than serde_json's recursion limit (128).
    #[error("not processed: JSON nested deeper than 128 levels")]
    TooDeep,
    /// Not valid JSON; `column` is where the parser stopped.
    #[error("not valid JSON: {what} at column {column}")]
    Syntax { column: usize, what: &'static str },
}

impl ParseError {
    fn from_serde(e: serde_json::Error) -> ParseError {
        // serde_json's message for this case; it has no content of the input.
        if e.to_string().starts_with("recursion limit exceeded") {
            return ParseError::TooDeep;
        }
        let what = match e.classify() {
            serde_json::error::Category::Eof => "the line ends in the middle of a value",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "invalid value",
            serde_json::error::Category::Io => "read error",
        };
        ParseError::Syntax {
            column: e.column(),
            what,
        }
    }
}

/// Whether brackets outside strings nest deeper than `limit` anywhere.
fn nesting_exceeds(bytes: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Builds the tree from text serde_json has already accepted. Every step
/// still checks what it reads, so a disagreement is an error, not a panic.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn error(&self) -> ParseError {
        ParseError::Syntax {
            column: self.pos + 1,
            what: "syntax error",
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), ParseError> {
        self.skip_ws();
        if self.peek() != Some(byte) {
            return Err(self.error());
        }
        self.pos += 1;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, ParseError> {
        self.skip_ws();
        let literal = |p: &mut Parser<'a>, word: &str, value: Value<'a>| {
            if p.text.as_bytes()[p.pos..].starts_with(word.as_bytes()) {
                p.pos += word.len();
                Ok(value)
            } else {
                Err(p.error())
            }
        };
        match self.peek() {
            Some(b'n') => literal(self, "null", Value::Null),
            Some(b't') => literal(self, "true", Value::Bool(true)),
            Some(b'f') => literal(self, "false", Value::Bool(false)),
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                self.pos += 1;
                while matches!(
                    self.peek(),
                    Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                ) {
                    self.pos += 1;
                }
                let text = self.text.get(start..self.pos).ok_or_else(|| self.error())?;
                Ok(Value::Number(Number::of_text(text), Cow::Borrowed(text)))
            }
            Some(b'[') | Some(b'{') if depth >= MAX_DEPTH => Err(ParseError::TooDeep),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::Array(items));
                        }
                        _ => return Err(self.error()),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.error());
                    }
                    let key = self.string()?;
                    self.expect(b':')?;
                    let value = self.value(depth + 1)?;
                    members.push((key, value));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Value::Object(members));
                        }
                        _ => return Err(self.error()),
                    }
                }
            }
            _ => Err(self.error()),
        }
    }

    /// The string token at `pos` (on its opening quote), decoded.
    fn string(&mut self) -> Result<Cow<'a, str>, ParseError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            // Sixteen bytes at a time to the next quote or backslash (or
            // control byte, which valid text has none of).
            let Some(stop) = bytes.get(i..).and_then(find_string_stop) else {
                return Err(self.error());
            };
            i += stop;
            match bytes[i] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        // Quotes are ASCII, so these are character boundaries.
        if !escaped {
            return self
                .text
                .get(start + 1..i)
                .map(Cow::Borrowed)
                .ok_or_else(|| self.error());
        }
        let token = self.text.get(start..=i).ok_or_else(|| self.error())?;
        serde_json::from_str::<String>(token)
            .map(Cow::Owned)
            .map_err(ParseError::from_serde)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescaped_strings_borrow_and_escaped_ones_decode() {
        let line = r#"{"a":"plain","b":"\u0031\u0033x"}"#;
        let v = Value::parse(line).unwrap();
        let Value::Object(m) = &v else { panic!() };
        assert!(matches!(&m[0].1, Value::Str(Cow::Borrowed("plain"))));
        assert_eq!(m[1].1.as_str(), Some("13x"));
    }

    #[test]
    fn plain_strings_take_the_short_path_and_others_are_checked() {
        assert!(matches!(
            Value::parse(r#""delete_user""#),
            Ok(Value::Str(Cow::Borrowed("delete_user")))
        ));
        assert_eq!(Value::parse(r#""a\u0031""#).unwrap().as_str(), Some("a1"));
        assert!(
            Value::parse("\"tab\there\"").is_err(),
            "raw control character"
        );
        assert!(Value::parse(r#""a"b""#).is_err());
    }

    #[test]
    fn round_trip_keeps_order_and_duplicates() {
        let line = r#"{"z":1,"a":[true,null,-2,1.5],"z":"x"}"#;
        let mut out = Vec::new();
        Value::parse(line).unwrap().write_to(&mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), line);
    }

    #[test]
    fn errors_carry_no_content() {
        let e = Value::parse(r#"{"secret":13812345678"#).unwrap_err();
        assert!(!e.to_string().contains("1381"));
        let e = Value::parse(r#"{"a":1} trailing"#).unwrap_err();
        assert!(matches!(e, ParseError::Syntax { .. }));
    }

    #[test]
    fn the_unchecked_parse_builds_the_same_tree_and_never_panics() {
        let valid = [
            r#"{"a":"x\"y\\z\u00e9","b":[1,-2.5e3,{"c":null}],"long":"0123456789abcdef0123456789\n"}"#,
            r#"{"用户":"王伟","e":"","f":true}"#,
            r#"["\\",""]"#,
        ];
        for text in valid {
            assert_eq!(Value::parse_valid(text), Value::parse(text), "{text}");
        }
        for text in [
            r#"{"a":"x"#,
            r#"{"a":"\"#,
            "\"\\",
            "{\"a\":\"\u{1}\"}",
            "[",
            "",
        ] {
            let _ = Value::parse_valid(text);
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_crashed() {
        let deep = "[".repeat(100_000);
        assert_eq!(Value::parse(&deep).unwrap_err(), ParseError::TooDeep);
    }

    #[test]
    fn lookup_searches_arrays() {
        let v = Value::parse(r#"{"u":[{"r":"a"},{"r":"b"}]}"#).unwrap();
        let got: Vec<_> = v
            .lookup(&["u".into(), "r".into()])
            .into_iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(got, ["a", "b"]);
    }
}

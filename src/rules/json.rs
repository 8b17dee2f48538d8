//! A borrowed JSON tree, parsed and written with serde_json.
//!
//! Not the main path (that is `rewrite`, which builds no tree): used where a
//! tree is needed, for tag rules that fire, condition values and examples.
//! Strings that contain no escape sequence borrow from the input, so a value
//! is never copied needlessly. Escaped strings are decoded
//! (detectors always see decoded text) and owned. Object members keep their
//! order and duplicates, so an event leaves with the shape it arrived in.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// One JSON value. Numbers keep the width serde_json parsed them with.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    Str(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

/// A JSON number as serde_json decoded it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Number {
    /// The number's text as it is written in JSON output.
    pub fn to_text(self) -> String {
        match self {
            Number::Unsigned(n) => n.to_string(),
            Number::Signed(n) => n.to_string(),
            Number::Float(f) => serde_json::Number::from_f64(f)
                .map(|n| n.to_string())
                .unwrap_or_else(|| "null".to_owned()),
        }
    }
}

impl<'a> Value<'a> {
    /// Parses one event. The error keeps only serde_json's position and
    /// category, never the input's text.
    pub fn parse(input: &'a str) -> Result<Value<'a>, ParseError> {
        let mut de = serde_json::Deserializer::from_str(input);
        let value = Value::deserialize(&mut de).map_err(ParseError::from_serde)?;
        de.end().map_err(ParseError::from_serde)?;
        Ok(value)
    }

    /// Writes the value as compact JSON.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // Writing into a Vec cannot fail and every number we hold is finite.
        serde_json::to_writer(out, self).expect("writing JSON to memory cannot fail");
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
            serde_json::Value::Number(n) => Value::Number(if let Some(u) = n.as_u64() {
                Number::Unsigned(u)
            } else if let Some(i) = n.as_i64() {
                Number::Signed(i)
            } else {
                Number::Float(n.as_f64().unwrap_or(0.0))
            }),
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

/// A string that borrows from the input when serde_json lets it.
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for BorrowedStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Value::Number(Number::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Value::Number(Number::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Value::Number(Number::Float(v)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(key) = map.next_key::<BorrowedStr<'de>>()? {
            let value = map.next_value()?;
            members.push((key.0, value));
        }
        Ok(Value::Object(members))
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(Number::Unsigned(n)) => s.serialize_u64(*n),
            Value::Number(Number::Signed(n)) => s.serialize_i64(*n),
            Value::Number(Number::Float(n)) => s.serialize_f64(*n),
            Value::Str(v) => s.serialize_str(v),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
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

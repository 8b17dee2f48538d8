//! ES parses every source with strict duplicate detection (Jackson's
//! `STRICT_DUPLICATE_DETECTION`, always on since ES 7): a field named twice
//! in one object fails the document with `Duplicate field 'name'`.
//! serde_json's `Value` keeps the last value silently, so the stand-in
//! parses sources itself, in one pass that builds the value and refuses a
//! field named twice.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a source was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not JSON at all.
    NotJson,
    /// The reason ES gives for a field named twice in one object:
    /// `[line:column] failed to parse: Duplicate field 'a'`.
    Duplicate(String),
}

/// `source` as a JSON value, refused as ES refuses it.
pub(crate) fn parse(source: &str) -> Result<Value, Refusal> {
    let mut de = serde_json::Deserializer::from_str(source);
    let value = Strict.deserialize(&mut de).map_err(|e| {
        let message = e.to_string();
        match message.strip_prefix(DUPLICATE) {
            Some(rest) => {
                let position = format!(" at line {} column {}", e.line(), e.column());
                let name = rest.strip_suffix(&position).unwrap_or(rest);
                Refusal::Duplicate(format!(
                    "[{}:{}] failed to parse: Duplicate field '{name}'",
                    e.line(),
                    e.column()
                ))
            }
            None => Refusal::NotJson,
        }
    })?;
    de.end().map_err(|_| Refusal::NotJson)?;
    Ok(value)
}

/// How the visitor's error names a field named twice (then its name).
const DUPLICATE: &str = "duplicate field: ";

/// Builds a value, failing on the first object that names a field twice.
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            // Refused at the name, where Jackson refuses it.
            if members.contains_key(&name) {
                return Err(de::Error::custom(format_args!("{DUPLICATE}{name}")));
            }
            let value = map.next_value_seed(Strict)?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_named_twice_in_one_object_fails_as_in_es() {
        assert_eq!(
            parse(r#"{"a":1,"a":2}"#),
            Err(Refusal::Duplicate(
                "[1:10] failed to parse: Duplicate field 'a'".into()
            ))
        );
        assert!(matches!(
            parse(r#"{"x":{"b":[{"c":1,"c":1}]}}"#),
            Err(Refusal::Duplicate(r)) if r.contains("Duplicate field 'c'")
        ));
        for fine in [
            r#"{"a":1,"b":{"a":1},"c":[{"a":1},{"a":2}]}"#,
            r#"{"a#2":1,"a":2}"#,
            r#"{"s":"{\"a\":1,\"a\":2}"}"#,
        ] {
            assert_eq!(
                parse(fine).ok(),
                serde_json::from_str::<Value>(fine).ok(),
                "{fine}"
            );
        }
        assert_eq!(parse("{\"a\":1} x"), Err(Refusal::NotJson));
        assert_eq!(parse("nope"), Err(Refusal::NotJson));
    }
}

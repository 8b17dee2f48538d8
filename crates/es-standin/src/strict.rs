//! ES parses every source with strict duplicate detection (Jackson's
//! `STRICT_DUPLICATE_DETECTION`, always on since ES 7): a field named twice
//! in one object fails the document with `Duplicate field 'name'`.
//! serde_json keeps the last value silently, so the stand-in looks itself.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The reason ES gives when an object of `source` (valid JSON) names a
/// field twice: `[line:column] failed to parse: Duplicate field 'a'`.
pub(crate) fn duplicate_field(source: &str) -> Option<String> {
    let mut de = serde_json::Deserializer::from_str(source);
    let e = Strict.deserialize(&mut de).err()?;
    let message = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let what = message.strip_suffix(&position).unwrap_or(&message);
    Some(format!(
        "[{}:{}] failed to parse: {what}",
        e.line(),
        e.column()
    ))
}

/// Reads a value, failing on the first object that names a field twice.
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if !seen.insert(name.clone()) {
                return Err(de::Error::custom(format_args!("Duplicate field '{name}'")));
            }
            map.next_value_seed(Strict)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Strict)?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_named_twice_in_one_object_fails_as_in_es() {
        assert_eq!(
            duplicate_field(r#"{"a":1,"a":2}"#).as_deref(),
            Some("[1:10] failed to parse: Duplicate field 'a'")
        );
        assert!(duplicate_field(r#"{"x":{"b":[{"c":1,"c":1}]}}"#)
            .unwrap()
            .contains("Duplicate field 'c'"));
        for fine in [
            r#"{"a":1,"b":{"a":1},"c":[{"a":1},{"a":2}]}"#,
            r#"{"a#2":1,"a":2}"#,
            r#"{"s":"{\"a\":1,\"a\":2}"}"#,
        ] {
            assert_eq!(duplicate_field(fine), None, "{fine}");
        }
    }
}

//! JSON documents written inside text: a request body logged in a field
//! (`{"phone":18534099073}`, one level of escapes deeper in the event).
//! Only what masking needs to keep such a document parseable.

use std::ops::Range;

/// When `r` of `text` is a whole number member or element of a JSON
/// document written in the text, the quote that document's strings are
/// written with: `"`, or `\"` (and so on) when the document is itself
/// inside a string of another. A masked number is written there as a
/// string (`{"phone":"185****9073"}`), so the document still parses, as a
/// masked number of the event itself becomes a string.
///
/// The quote is the one that ends the member's name, or for an element of
/// a list the nearest one before it; `None` when the number is not between
/// `:`, `[` or `,` and `,`, `}` or `]`, or no quote is there to copy.
pub(crate) fn number_quote<'t>(text: &'t [u8], r: &Range<usize>) -> Option<&'t [u8]> {
    // The bytes either side first: most matches are whole values or stand
    // in other text, and are ruled out by one byte.
    let (&sep, before) = text.get(..r.start)?.trim_ascii_end().split_last()?;
    if !matches!(sep, b':' | b'[' | b',') {
        return None;
    }
    let after = text.get(r.end..)?.trim_ascii_start();
    if !matches!(after.first(), Some(b',' | b'}' | b']')) {
        return None;
    }
    let number = text.get(r.clone())?;
    if number.is_empty()
        || !number
            .iter()
            .all(|&b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let quote = match sep {
        // `"name":`: the quote right before the colon.
        b':' => {
            let name_end = before.trim_ascii_end();
            (name_end.last() == Some(&b'"')).then(|| name_end.len() - 1)?
        }
        b'[' | b',' => memchr::memrchr(b'"', before)?,
        _ => return None,
    };
    let backslashes = text[..quote]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    Some(&text[quote - backslashes..=quote])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote_of(text: &str, number: &str) -> Option<String> {
        let start = text.find(number).unwrap();
        number_quote(text.as_bytes(), &(start..start + number.len()))
            .map(|q| String::from_utf8(q.to_vec()).unwrap())
    }

    #[test]
    fn a_number_member_or_element_takes_the_document_s_quote() {
        let q = |t: &str| quote_of(t, "18534099073");
        assert_eq!(q(r#"{"phone":18534099073}"#).as_deref(), Some("\""));
        assert_eq!(
            q(r#"{"phone" : 18534099073 , "n":1}"#).as_deref(),
            Some("\"")
        );
        assert_eq!(q(r#"{\"phone\":18534099073}"#).as_deref(), Some("\\\""));
        assert_eq!(q(r#"{\\\"p\\\":18534099073}"#).as_deref(), Some("\\\\\\\""));
        assert_eq!(q(r#"{"l":[1,18534099073]}"#).as_deref(), Some("\""));
        assert_eq!(q(r#"{"l":[18534099073]}"#).as_deref(), Some("\""));
        assert_eq!(
            quote_of(r#"{"p":1.8534099073E10}"#, "1.8534099073E10").as_deref(),
            Some("\"")
        );
    }

    #[test]
    fn a_number_in_other_text_takes_none() {
        let q = |t: &str| quote_of(t, "18534099073");
        for text in [
            "phone=18534099073",
            "phone:18534099073,",
            "18534099073",
            "[18534099073]",
            "a,18534099073,b",
            r#"{"phone":18534099073x}"#,
            r#"{"phone":"18534099073"}"#,
        ] {
            assert_eq!(q(text), None, "{text}");
        }
    }
}

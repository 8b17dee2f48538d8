//! JSON documents written inside text: a request body logged in a field
//! (`{"phone":18534099073}`, one level of escapes deeper in the event).
//! Only what masking needs to keep such a document parseable.

use std::ops::Range;

/// The most list elements [`number_quote`] walks back over to find where a
/// list of numbers begins: past that, the number is left unquoted.
const MAX_ELEMENTS: usize = 64;

/// When `r` of `text` is a whole number that is a member's value in a JSON
/// document written in the text (`"phone":18534099073`), or an element of
/// a list of numbers that is one (`"alt":[1,18534099073]`), the quote that
/// document's strings are written with there: `"`, or `\"` (and so on)
/// when the document is itself inside a string of another. A masked number
/// is written there as a string (`{"phone":"185****9073"}`), so the
/// document still parses, as a masked number of the event itself becomes
/// a string.
///
/// The quote is copied from the one that ends the member's name, which is
/// written at the same level of escapes as the number, whatever the depth
/// (also where the "document" is text inside a string of another: then the
/// copy is escaped as that string needs). A number among other text, in a
/// string, or in a list that is not a member's value gets `None`: no local
/// look can tell a list's `,` from one inside a string
/// (`"18534099073,13812345678"`).
///
/// Returns the quote, where the number starts (before the match when a
/// `-` signs it) and where it ends: after the match, or after a `.0` that
/// writes a whole number as a float (`18534099073.0`: Python, PHP), which
/// goes with the masked value.
pub(crate) fn number_quote<'t>(
    text: &'t [u8],
    r: &Range<usize>,
) -> Option<(&'t [u8], usize, usize)> {
    // A negative number's sign goes inside the quotes with it
    // (`-13812345678` becomes `"-138****5678"`).
    let start = match text.get(..r.start)?.last() {
        Some(b'-') => r.start - 1,
        _ => r.start,
    };
    // The bytes either side first: most matches are whole values or stand
    // in other text, and are ruled out by one byte.
    let (&sep, mut rest) = trim_blank_end(text.get(..start)?).split_last()?;
    if !matches!(sep, b':' | b'[' | b',') {
        return None;
    }
    let end = r.end + whole_float_suffix(text.get(r.end..)?);
    let after = trim_blank_start(&text[end..]);
    if !matches!(after.first(), Some(b',' | b'}' | b']')) {
        return None;
    }
    if !is_number(text.get(r.clone())?) {
        return None;
    }
    if sep != b':' {
        // Back over the list's earlier numbers to its `[`, then its name.
        let mut sep = sep;
        let mut elements = 0;
        while sep == b',' {
            elements += 1;
            let before = trim_blank_end(rest);
            let len = before
                .iter()
                .rev()
                .take_while(|&&b| is_number_byte(b))
                .count();
            if len == 0 || elements > MAX_ELEMENTS {
                return None;
            }
            (sep, rest) = trim_blank_end(&before[..before.len() - len])
                .split_last()
                .map(|(&s, r)| (s, r))?;
        }
        let (&colon, name) = trim_blank_end(rest).split_last()?;
        if sep != b'[' || colon != b':' {
            return None;
        }
        rest = name;
    }
    let name_end = trim_blank_end(rest);
    if name_end.last() != Some(&b'"') {
        return None;
    }
    let quote = name_end.len() - 1;
    // At escape level L a quote is written after 2^L - 1 backslashes; a
    // name that ends in a backslash adds an even number more (`"a\\"`),
    // so the level is read from the count's lowest bits.
    let backslashes = text[..quote]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    let level = (backslashes + 1).trailing_zeros();
    let own = (1usize << level.min(30)) - 1;
    Some((&text[quote - own..=quote], start, end))
}

/// The length of the `.0` (`.00`…) `rest` starts with, or 0.
fn whole_float_suffix(rest: &[u8]) -> usize {
    match rest {
        [b'.', zeros @ ..] => match zeros.iter().take_while(|&&b| b == b'0').count() {
            0 => 0,
            n if zeros.get(n).is_some_and(u8::is_ascii_digit) => 0,
            n => 1 + n,
        },
        _ => 0,
    }
}

fn is_number_byte(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')
}

fn is_number(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_number_byte(b))
}

/// The length of the blank written as an escape one level down or deeper
/// (`\n`, `\\n`, …) that `text` ends with, if it does: a pretty-printed
/// document inside a string.
fn escaped_blank_at_end(text: &[u8]) -> Option<usize> {
    let (&last, rest) = text.split_last()?;
    if !matches!(last, b'n' | b'r' | b't') {
        return None;
    }
    let backslashes = rest.iter().rev().take_while(|&&b| b == b'\\').count();
    (backslashes > 0).then_some(backslashes + 1)
}

/// `text` without the blanks at its end, plain or escaped.
fn trim_blank_end(mut text: &[u8]) -> &[u8] {
    loop {
        text = text.trim_ascii_end();
        match escaped_blank_at_end(text) {
            Some(n) => text = &text[..text.len() - n],
            None => return text,
        }
    }
}

/// `text` without the blanks at its start, plain or escaped.
fn trim_blank_start(mut text: &[u8]) -> &[u8] {
    loop {
        text = text.trim_ascii_start();
        let backslashes = text.iter().take_while(|&&b| b == b'\\').count();
        match text.get(backslashes) {
            Some(b'n' | b'r' | b't') if backslashes > 0 => text = &text[backslashes + 1..],
            _ => return text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote_of(text: &str, number: &str) -> Option<String> {
        let start = text.rfind(number).unwrap();
        number_quote(text.as_bytes(), &(start..start + number.len()))
            .map(|(q, ..)| String::from_utf8(q.to_vec()).unwrap())
    }

    #[test]
    fn a_number_member_or_list_element_takes_the_document_s_quote() {
        let q = |t: &str| quote_of(t, "18534099073");
        assert_eq!(q(r#"{"phone":18534099073}"#).as_deref(), Some("\""));
        assert_eq!(
            q(r#"{"phone" : 18534099073 , "n":1}"#).as_deref(),
            Some("\"")
        );
        assert_eq!(q(r#"{\"phone\":18534099073}"#).as_deref(), Some("\\\""));
        assert_eq!(q(r#"{\\\"p\\\":18534099073}"#).as_deref(), Some("\\\\\\\""));
        assert_eq!(q(r#"{"l":[1, 2.5,18534099073]}"#).as_deref(), Some("\""));
        assert_eq!(q(r#"{"l":[18534099073]}"#).as_deref(), Some("\""));
        // Pretty-printed, one level down.
        assert_eq!(
            q(r#"{\n  \"phone\": 18534099073\n}"#).as_deref(),
            Some("\\\"")
        );
        assert_eq!(
            quote_of(r#"{"p":1.8534099073E10}"#, "1.8534099073E10").as_deref(),
            Some("\"")
        );
        // Text inside a string of the document that reads like a member:
        // the copy is escaped as that string needs.
        assert_eq!(q(r#"{"s":"a\":18534099073,"}"#).as_deref(), Some("\\\""));
        // A whole number written as a float: the `.0` goes with it.
        let text = r#"{"p": 18534099073.0 }"#;
        let at = text.find('1').unwrap();
        assert_eq!(
            number_quote(text.as_bytes(), &(at..at + 11)),
            Some((&b"\""[..], at, at + 13))
        );
        // A negative number: its sign goes inside the quotes.
        let text = r#"{\"p\":-13812345678}"#;
        let at = text.find('1').unwrap();
        assert_eq!(
            number_quote(text.as_bytes(), &(at..at + 11)),
            Some((&b"\\\""[..], at - 1, at + 11))
        );
        assert_eq!(q(r#"{"p":18534099073.5}"#), None);
        // A name that ends in a backslash, at levels 0 and 1.
        assert_eq!(q(r#"{"a\\":18534099073}"#).as_deref(), Some("\""));
        assert_eq!(q(r#"{\"a\\\\\":18534099073}"#).as_deref(), Some("\\\""));
    }

    #[test]
    fn a_number_in_a_string_or_other_text_takes_none() {
        let q = |t: &str| quote_of(t, "18534099073");
        for text in [
            "phone=18534099073",
            "phone:18534099073,",
            "18534099073",
            "[18534099073]",
            "a,18534099073,b",
            r#"{"phone":18534099073x}"#,
            r#"{"phone":"18534099073"}"#,
            // Lists inside strings (found by the third leak hunt).
            r#"{"PhoneNumbers":"13812345678,18534099073,13912345678"}"#,
            r#"{"phones":"[13812345678,18534099073]"}"#,
            r#"["C:\\temp\\",18534099073]"#,
            r#"{"l":[[1],18534099073]}"#,
            r#"{"l":["a",18534099073]}"#,
        ] {
            assert_eq!(q(text), None, "{text}");
        }
    }
}

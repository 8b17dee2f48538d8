//! Numbers written with an exponent, read by their value: the view holds
//! `18534099073` where the text says `1.8534099073E10` (a phone number a
//! program kept as a double, in a JSON document logged as text, or in a
//! `key=value` line), mapped back to the whole number as written. The rule
//! of what a number says is `json::number`'s, for JSON numbers and text
//! alike: a whole number of at most 40 digits, and with an exponent at
//! least six significant digits; a number whose value has a fraction is
//! left as it is written. Text adds one rule of its own: a number with an
//! exponent and no point is read only as a value after `:`, `=`, `,` or `[`
//! (elsewhere it is a hexadecimal group).

use std::ops::Range;

use crate::bytes::exponent_marks;
use crate::json::{lost_digits, whole_reading, READING_BYTES};

/// Where a number with an exponent may be: a digit, `e` or `E`, then a
/// digit or a sign. A quick test, for text that holds nothing else to undo.
pub fn may_hold_exponent(text: &[u8]) -> bool {
    exponent_marks(text, |i| exponent_at(text, i).is_some())
}

/// The number around the `e` at `i`, as `start..end`, if one is there:
/// digits, maybe a `.` and more digits (a `.` unless it follows `:`, `=`,
/// `,` or `[`), the `e`, maybe a sign, digits; no
/// letter, digit or `.` touching it on either side, but for a `.` after it
/// that no digit follows.
fn exponent_at(text: &[u8], i: usize) -> Option<(usize, usize)> {
    let digit = |k: usize| text.get(k).is_some_and(u8::is_ascii_digit);
    if i == 0 || !digit(i - 1) {
        return None;
    }
    let mut end = i + 1;
    if matches!(text.get(end), Some(b'+' | b'-')) {
        end += 1;
    }
    let exponent_start = end;
    while digit(end) {
        end += 1;
    }
    // A `.` after it ends a sentence (`…1.8534099073E10.`) unless a digit
    // follows (`1e10.5`).
    if end == exponent_start
        || text.get(end).is_some_and(u8::is_ascii_alphanumeric)
        || (text.get(end) == Some(&b'.') && digit(end + 1))
    {
        return None;
    }
    let mut start = i;
    while start > 0 && digit(start - 1) {
        start -= 1;
    }
    if start > 1 && text[start - 1] == b'.' && digit(start - 2) {
        start -= 1;
        while start > 0 && digit(start - 1) {
            start -= 1;
        }
    }
    if start > 0 && (text[start - 1].is_ascii_alphanumeric() || text[start - 1] == b'.') {
        return None;
    }
    // Programs write a number with an exponent in text with a point
    // (`1.8534099073E10`: Java, Go, Python, JavaScript alike). Without one
    // it is read only as a value after `:`, `=`, `,` or `[` (a JSON member
    // or list element, a `key=value` pair); elsewhere it is a hexadecimal
    // group (`42e5` in a UUID; an IPv6 address's groups are too short to
    // be read).
    let is_value = text[..start]
        .trim_ascii_end()
        .last()
        .is_some_and(|&b| matches!(b, b':' | b'=' | b',' | b'['));
    if !is_value && !text[start..i].contains(&b'.') {
        return None;
    }
    Some((start, end))
}

/// Rewrites every number with an exponent in the view (`text`, and the
/// source offset of each byte in `starts`) as the digits of its value,
/// each from the whole number's source. `spare` buffers take the new view.
/// Returns whether anything changed; where the new view holds a number
/// that lost digits to a double (see `json::number`) is added to `lost`.
pub(super) fn expand_exponents(
    text: &mut Vec<u8>,
    starts: &mut Vec<u32>,
    spare_text: &mut Vec<u8>,
    spare_starts: &mut Vec<u32>,
    lost: &mut Vec<Range<usize>>,
) -> bool {
    let mut copied = 0;
    let mut changed = false;
    let mut buf = [0u8; READING_BYTES];
    exponent_marks(text, |i| {
        if i < copied {
            return false;
        }
        let Some((start, end)) = exponent_at(text, i) else {
            return false;
        };
        let Some(reading) = whole_reading(&text[start..end], &mut buf) else {
            return false;
        };
        let lost_here = lost_digits(&text[start..end], reading);
        if !changed {
            spare_text.clear();
            spare_starts.clear();
            changed = true;
        }
        spare_text.extend_from_slice(&text[copied..start]);
        spare_starts.extend_from_slice(&starts[copied..start]);
        if lost_here {
            lost.push(spare_text.len()..spare_text.len() + reading.len());
        }
        spare_text.extend_from_slice(reading);
        spare_starts.extend(std::iter::repeat_n(starts[start], reading.len()));
        copied = end;
        false
    });
    if changed {
        spare_text.extend_from_slice(&text[copied..]);
        spare_starts.extend_from_slice(&starts[copied..]);
        std::mem::swap(text, spare_text);
        std::mem::swap(starts, spare_starts);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(s: &str) -> (String, Vec<u32>) {
        let mut text = s.as_bytes().to_vec();
        let mut starts: Vec<u32> = (0..s.len() as u32).collect();
        expand_exponents(
            &mut text,
            &mut starts,
            &mut Vec::new(),
            &mut Vec::new(),
            &mut Vec::new(),
        );
        (String::from_utf8(text).unwrap(), starts)
    }

    #[test]
    fn numbers_with_an_exponent_read_as_their_value() {
        assert_eq!(
            expanded("phone=1.8534099073E10&x=1").0,
            "phone=18534099073&x=1"
        );
        assert_eq!(
            expanded(r#"{"p":185340990730e-1}"#).0,
            r#"{"p":18534099073}"#
        );
        assert_eq!(
            expanded("a 1.853409E10 b 3.301061990030712E+17").0,
            "a 18534090000 b 330106199003071200"
        );
        // At the end of a sentence.
        assert_eq!(expanded("tel 1.8534099073E10.").0, "tel 18534099073.");
        assert_eq!(expanded("1.8534099073E10. x").0, "18534099073. x");
        // Every digit of the value comes from the whole number.
        let (text, starts) = expanded("x 1.8534099073E10 y");
        assert_eq!(text, "x 18534099073 y");
        assert!(starts[2..13].iter().all(|&s| s == 2));
        assert_eq!(starts[13], 17);
    }

    #[test]
    fn what_is_no_number_with_an_exponent_stays() {
        for s in [
            "0.6249780000006258e0",
            "9f3e5a-1e10x",
            "v1.2e3",
            "1.2.3e4",
            "1e",
            "e10",
            "abc1e10",
            "1e10.5",
            "1e10.5.",
            "1e400000",
            // Without a point, or with few significant digits: hexadecimal
            // groups and round quantities (the third leak hunt).
            "95e365fb-1314-42e5-b5ac-3f1a2b4c5d6e",
            "a074:16e9:bb2b::1",
            "10b0ad2e-102e-48c4-88e3-051720441035",
            "x 18534099073e0",
            "bytes=1.5E10",
        ] {
            assert_eq!(expanded(s).0, s, "{s}");
        }
        assert!(!may_hold_exponent(b"Mozilla/5.0 (Windows NT 10.0) Gecko"));
        assert!(may_hold_exponent(b"p=1.8534099073E10"));
    }
}

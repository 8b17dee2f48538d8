//! What a JSON number says as a whole number, for the detectors.
//!
//! A number can hold personal data only as a whole number: a phone number
//! or an ID kept in a numeric column. Serializers do not always write it as
//! one: Java's `Double.toString` writes `18534099073.0` as
//! `1.8534099073E10`, and some write `18534099073e0` or `185340990730e-1`.
//! So the detectors read a number as the digits of its value, exponent
//! applied, not as its text, in which no run of digits is the phone number.
//!
//! And a number whose value has a fraction (`0.6249780000006258`, a score;
//! `30.15234567891`, a latitude) is a measurement, not an identifier: its
//! digits are not read at all. Read as text, the fraction's digits can look
//! like a card or a mobile number, and masking would turn a float field
//! into a string, which Elasticsearch then refuses against its mapping.
//!
//! A number written with an exponent and few significant digits
//! (`1.5E10`, how Java writes fifteen billion bytes as a double; `16e9`
//! inside an IPv6 address or a UUID, read as text) is a round quantity,
//! not an identifier: it is not read either. An identifier written that
//! way keeps all its digits (`1.8534099073E10`); only one ending in six or
//! more zeros would go unread.
//!
//! A number of 17 digits or more that a serializer held as a double
//! (IEEE 754, which holds 15 to 17 significant digits) and wrote as one
//! has lost its last digits: Java writes the resident ID
//! 110105194912310038 as `1.1010519491231003E17`. Its reading is flagged
//! ([`lost_digits`]), so the ID detector does not ask of it the check
//! character it cannot have kept: 16 of an ID's 18 digits stay readable
//! otherwise.
//!
//! Guarantees: no allocation, no panics on any valid JSON number.

/// The longest whole-number reading given to the detectors. A run of more
/// digits holds no match (a match never starts or ends inside a longer run
/// of digits), so a longer number is read as holding nothing.
const MAX_DIGITS: usize = 40;

/// The fewest significant digits (leading and trailing zeros aside) a
/// number written with an exponent must have to be read.
const MIN_SIGNIFICANT_WITH_EXPONENT: usize = 6;

/// The size of the buffer a reading is written in: a sign and the digits.
pub(crate) const READING_BYTES: usize = MAX_DIGITS + 1;

/// The text the detectors read for the number token `text` (valid JSON):
/// its sign and the digits of its whole value, in `buf`; `None` when its
/// value has a fraction or more than [`MAX_DIGITS`] digits, or it has an
/// exponent and fewer than [`MIN_SIGNIFICANT_WITH_EXPONENT`] significant
/// digits. A whole number written without fraction or exponent reads as
/// itself.
pub(crate) fn whole_reading<'b>(text: &[u8], buf: &'b mut [u8; READING_BYTES]) -> Option<&'b [u8]> {
    let (sign, rest) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mantissa_end = rest
        .iter()
        .position(|&b| matches!(b, b'e' | b'E'))
        .unwrap_or(rest.len());
    let (mantissa, exponent) = rest.split_at(mantissa_end);
    let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &mantissa[mantissa.len()..]),
    };
    // The exponent: how far the decimal point moves right. Anything beyond
    // a few hundred either way leaves no digits to read (and JSON numbers
    // the pass accepts are finite doubles).
    let shift: i64 = match exponent.split_first() {
        None => 0,
        Some((_, digits)) => {
            let (negative, digits) = match digits.split_first() {
                Some((b'-', d)) => (true, d),
                Some((b'+', d)) => (false, d),
                _ => (false, digits),
            };
            let mut e: i64 = 0;
            for &d in digits {
                e = (e * 10 + i64::from(d - b'0')).min(100_000);
            }
            if negative {
                -e
            } else {
                e
            }
        }
    };
    if !exponent.is_empty() {
        let digits = || int.iter().chain(frac);
        let leading = digits().take_while(|&&d| d == b'0').count();
        let trailing = digits().rev().take_while(|&&d| d == b'0').count();
        if (int.len() + frac.len()).saturating_sub(leading + trailing)
            < MIN_SIGNIFICANT_WITH_EXPONENT
        {
            return None;
        }
    }
    // All the significant digits in a row, and where the point falls in
    // them: the whole part is the first `point` (zeros past the end).
    let total = int.len() + frac.len();
    let digit = |k: usize| match k {
        k if k < int.len() => int[k],
        k if k < total => frac[k - int.len()],
        _ => b'0',
    };
    let point = usize::try_from(int.len() as i64 + shift).unwrap_or(0);
    // A fraction: any non-zero digit after the point.
    if (point.min(total)..total).any(|k| digit(k) != b'0') {
        return None;
    }
    let mut len = 0;
    if sign {
        buf[0] = b'-';
        len = 1;
    }
    // Leading zeros are not written (`0.0` and `0e5` read `0`).
    let first = (0..point.min(total))
        .find(|&k| digit(k) != b'0')
        .unwrap_or(point);
    if first == point {
        buf[len] = b'0';
        return Some(&buf[..len + 1]);
    }
    if point - first > MAX_DIGITS {
        return None;
    }
    for k in first..point {
        buf[len] = digit(k);
        len += 1;
    }
    Some(&buf[..len])
}

/// Whether the number token `text` (valid JSON), whose whole reading is
/// `reading`, lost digits to a double: its value has 17 digits or more
/// (past 2^53 a double does not hold every whole number), and it is
/// written as only a double is, with a point or an exponent. (A whole
/// number written plainly may be a 64-bit integer, exact: an order number
/// `320100202511300000` is no ID that lost its check character.)
pub(crate) fn lost_digits(text: &[u8], reading: &[u8]) -> bool {
    let digits = reading.strip_prefix(b"-").unwrap_or(reading);
    digits.len() >= 17 && text.iter().any(|&b| matches!(b, b'.' | b'e' | b'E'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_a_double_lost_are_told_apart() {
        let lost = |text: &str| {
            let mut buf = [0u8; READING_BYTES];
            let reading = whole_reading(text.as_bytes(), &mut buf).unwrap().to_vec();
            lost_digits(text.as_bytes(), &reading)
        };
        // Java's `Double.toString`, a `.0`, an exponent.
        assert!(lost("1.1010519491231003E17"));
        assert!(lost("-1.1010519491231003E17"));
        assert!(lost("110105194912310038.0"));
        assert!(lost("11010519491231003e1"));
        // Whole numbers a double holds, and plain ones (maybe 64-bit
        // integers, exact).
        assert!(!lost("18534099073"));
        assert!(!lost("1.8534099073E10"));
        assert!(!lost("110105194912310038"));
        assert!(!lost("110105194912310030"));
    }

    fn read(text: &str) -> Option<String> {
        let mut buf = [0u8; READING_BYTES];
        whole_reading(text.as_bytes(), &mut buf).map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn whole_numbers_read_as_their_digits_whatever_the_notation() {
        for text in [
            "18534099073",
            "18534099073.0",
            "1.8534099073E10",
            "1.8534099073e+10",
            "18534099073e0",
            "185340990730e-1",
            "185340990730.000E-1",
            "0.18534099073E11",
        ] {
            assert_eq!(read(text).as_deref(), Some("18534099073"), "{text}");
        }
        assert_eq!(
            read("3.30106199003071236e17").as_deref(),
            Some("330106199003071236")
        );
        assert_eq!(read("-1.3812345678E10").as_deref(), Some("-13812345678"));
        assert_eq!(read("1.38001E10").as_deref(), Some("13800100000"));
        assert_eq!(read("0").as_deref(), Some("0"));
        assert_eq!(read("0.0").as_deref(), Some("0"));
        assert_eq!(read("-0").as_deref(), Some("-0"));
        assert_eq!(read("1000").as_deref(), Some("1000"));
    }

    /// Round quantities written with an exponent are not identifiers
    /// (found by the third leak hunt: `{"bytes":1.5E10}` became a masked
    /// string, `16e9` in an IPv6 address a masked mobile number).
    #[test]
    fn round_numbers_with_an_exponent_are_not_read() {
        for text in [
            "1.5E10",
            "1.85E10",
            "16e9",
            "42e5",
            "1.3800E10",
            "1e3",
            "0e5",
            "1e39",
        ] {
            assert_eq!(read(text), None, "{text}");
        }
    }

    #[test]
    fn fractions_and_huge_numbers_are_not_read() {
        for text in [
            "0.6249780000006258",
            "30.15234567891",
            "13812345678.99",
            "1.8534099073E5",
            "1e-7",
            "1e300",
            "1.5e40",
        ] {
            assert_eq!(read(text), None, "{text}");
        }
        // Forty digits is the most read.
        assert_eq!(read("1.23456e39").map(|s| s.len()), Some(40));
        assert_eq!(read("1.23456e40"), None);
    }
}

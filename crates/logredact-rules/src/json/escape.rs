//! Finding where a JSON string's plain text stops, and writing text as a
//! JSON string exactly as serde_json escapes it. The one escaper of the
//! engine: the rewriter, the tree and the redaction record all use it.

use crate::bytes::{string_stops, tail_string_stops};

/// The first byte that ends a plain run of string text: `"`, `\\`, or a
/// control byte (below 0x20, which JSON refuses unescaped). Sixteen bytes at
/// a time.
#[inline]
pub(crate) fn find_string_stop(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(chunk) = bytes[at..].first_chunk::<16>() {
        let stops = string_stops(chunk);
        if stops != 0 {
            return Some(at + stops.trailing_zeros() as usize);
        }
        at += 16;
    }
    let stops = tail_string_stops(bytes, at);
    (stops != 0).then(|| at + stops.trailing_zeros() as usize)
}

/// Writes `s` as a JSON string, escaped exactly as serde_json escapes.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
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

//! What a partial mask leaves of a value.

/// Keeps the first `keep_first` and last `keep_last` letters or digits of
/// `text` and replaces the other letters and digits with `mask`. Separators
/// (spaces, dashes, `@`, dots) stay, so `4111 1111 1111 1111` becomes
/// `4111 11** **** 1111`. When the text is too short to hide anything that
/// way, every letter and digit is masked: a partial mask never shows the
/// whole value.
pub fn partial_mask(text: &str, keep_first: usize, keep_last: usize, mask: char) -> String {
    let mut out = Vec::with_capacity(text.len());
    partial_mask_into(&mut out, text.as_bytes(), keep_first, keep_last, mask);
    String::from_utf8(out).expect("UTF-8 in, UTF-8 out")
}

const ASCII_ALNUM: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    table
};

/// [`partial_mask`] of UTF-8 text, appending to `out`.
pub fn partial_mask_into(
    out: &mut Vec<u8>,
    text: &[u8],
    keep_first: usize,
    keep_last: usize,
    mask: char,
) {
    let (count, ascii) = ascii_alnum_count(text);
    if ascii && mask.is_ascii() {
        // The common case (digits, e-mail): copy the bytes, then mask the
        // hidden letters and digits in place.
        let (first, hide_to) = if keep_first + keep_last >= count {
            (0, count)
        } else {
            (keep_first, count - keep_last)
        };
        let start = out.len();
        out.extend_from_slice(text);
        let copy = &mut out[start..];
        if count == text.len() {
            // No separators: the hidden part is one stretch.
            copy[first..hide_to].fill(mask as u8);
            return;
        }
        let mut i = 0;
        for b in copy {
            if i >= hide_to {
                break;
            }
            if b.is_ascii_alphanumeric() {
                if i >= first {
                    *b = mask as u8;
                }
                i += 1;
            }
        }
        return;
    }
    partial_mask_chars(out, text, keep_first, keep_last, mask);
}

/// How many bytes of `text` are ASCII letters or digits, and whether it is
/// all ASCII (when it is not, the count is meaningless). Eight bytes a step
/// in a word, then a table for the rest.
fn ascii_alnum_count(text: &[u8]) -> (usize, bool) {
    const fn splat(b: u8) -> u64 {
        u64::from_ne_bytes([b; 8])
    }
    const HIGH: u64 = splat(0x80);
    // For bytes below 0x80, adding `0x80 - lo` sets a byte's high bit
    // exactly when it is at least `lo`, and adding `0x7f - hi` exactly when
    // it is above `hi`; no sum carries into the next byte.
    let in_range = |w: u64, lo: u8, hi: u8| {
        w.wrapping_add(splat(0x80 - lo)) & !w.wrapping_add(splat(0x7f - hi)) & HIGH
    };
    let (mut count, mut high) = (0, 0u64);
    let mut rest = text;
    while let Some((word, after)) = rest.split_first_chunk::<8>() {
        let w = u64::from_le_bytes(*word);
        high |= w;
        // Setting bit 5 folds upper-case letters onto lower-case ones and
        // moves no other byte into a..z.
        let alnum = in_range(w, b'0', b'9') | in_range(w | splat(0x20), b'a', b'z');
        // One bit per byte at bit 7: move them to bit 0 and add the bytes.
        count += ((alnum >> 7).wrapping_mul(splat(1)) >> 56) as usize;
        rest = after;
    }
    for &b in rest {
        count += usize::from(ASCII_ALNUM[usize::from(b)]);
        high |= u64::from(b);
    }
    (count, high & HIGH == 0)
}

/// [`partial_mask_into`] character by character: any UTF-8 text.
fn partial_mask_chars(
    out: &mut Vec<u8>,
    text: &[u8],
    keep_first: usize,
    keep_last: usize,
    mask: char,
) {
    let text = String::from_utf8_lossy(text);
    // (`×` inside a match is an ID's check character typed for `X`: it
    // counts as one, or keeping the last four would show a fifth.)
    let counted = |c: char| c.is_alphanumeric() || c == '×';
    let count = text.chars().filter(|&c| counted(c)).count();
    let (first, last) = if keep_first + keep_last >= count {
        (0, 0)
    } else {
        (keep_first, keep_last)
    };
    let mut i = 0;
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let shown = if counted(c) {
            let hide = i >= first && i < count - last;
            i += 1;
            if hide {
                mask
            } else {
                c
            }
        } else {
            c
        };
        out.extend_from_slice(shown.encode_utf8(&mut buf).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table-based ASCII path against the character by character
    /// definition, on texts of every length up to 40 bytes.
    #[test]
    fn partial_masks_agree_with_the_character_definition() {
        let alphabet = b"0123456789aZx -.@+_";
        let mut seed = 11u32;
        let mut next = |m: usize| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as usize % m
        };
        for _ in 0..20_000 {
            let len = next(41);
            let text: Vec<u8> = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            let (first, last) = (next(9), next(9));
            let mut fast = b"prefix".to_vec();
            partial_mask_into(&mut fast, &text, first, last, '*');
            let mut plain = b"prefix".to_vec();
            partial_mask_chars(&mut plain, &text, first, last, '*');
            assert_eq!(
                fast,
                plain,
                "{:?} {first} {last}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    /// The word-at-a-time count agrees with the byte-by-byte definition for
    /// every byte value at every position, at every length up to 24.
    #[test]
    fn alnum_count_agrees_with_the_byte_definition() {
        let background = b"a1-Z@ 9z0A_/`{[:";
        for len in 0..=24 {
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut text: Vec<u8> = (0..len).map(|i| background[i % 16]).collect();
                    text[pos] = b;
                    let want = text.iter().filter(|b| b.is_ascii_alphanumeric()).count();
                    let (count, ascii) = ascii_alnum_count(&text);
                    assert_eq!(ascii, text.is_ascii(), "{text:?}");
                    if ascii {
                        assert_eq!(count, want, "{text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn partial_mask_counts_characters() {
        assert_eq!(
            partial_mask("11010519491231002X", 6, 4, '*'),
            "110105********002X"
        );
        assert_eq!(partial_mask("张三丰", 1, 0, '*'), "张**");
        assert_eq!(partial_mask("1234", 3, 3, '*'), "****");
        assert_eq!(
            partial_mask("4111 1111-1111 1111", 6, 4, '*'),
            "4111 11**-**** 1111"
        );
    }
}

//! Context for detectors whose shape alone is weak evidence: a keyword in
//! the field's name, in the name of the field around it, or in the text
//! near a candidate (`护照号E12345678`, `{"idCard": …}`). Pure functions of
//! their arguments.

use std::ops::Range;

use memchr::memmem;

use crate::normalize::{NormBuffers, NormView};

/// How far before a candidate a keyword may stand, and after it.
const BEFORE: usize = 48;
const AFTER: usize = 24;

pub(super) fn has_any(text: &[u8], words: &[&str]) -> bool {
    let mut lower = [0u8; BEFORE + AFTER + 16];
    let text = &text[..text.len().min(lower.len())];
    let lower = &mut lower[..text.len()];
    lower.copy_from_slice(text);
    lower.make_ascii_lowercase();
    words.iter().any(|w| names(text, lower, w))
}

/// Whether `word` stands in `text` (`lower` is it in lower case):
/// anywhere (`userpassportno`, `khzjhm`: names run together), but `cert`
/// only where a word begins, after a non-letter or at a capital that
/// follows a small letter (`certNo`, `cert_no`, `userCertNo`), since it
/// ends many an English word (`concertTicketNo` and `uncertain` name no
/// document).
fn names(text: &[u8], lower: &[u8], word: &str) -> bool {
    if word != "cert" {
        return memmem::find(lower, word.as_bytes()).is_some();
    }
    memmem::find_iter(lower, word.as_bytes()).any(|at| {
        at == 0
            || !text[at - 1].is_ascii_alphabetic()
            || (text[at - 1].is_ascii_lowercase() && text[at].is_ascii_uppercase())
    })
}

pub(super) fn key_has_any(key: &[u8], words: &[&str]) -> bool {
    if key.contains(&b'\\') || key.contains(&0xef) {
        // A key as written in JSON, escaped (`\\u62a4\\u7167`), or in
        // full-width letters (`ｐａｓｓｐｏｒｔ`): read it.
        let mut buffers = NormBuffers::default();
        let view = NormView::new(key, true, &mut buffers);
        return key_has_any_plain(view.bytes(), words);
    }
    key_has_any_plain(key, words)
}

fn key_has_any_plain(key: &[u8], words: &[&str]) -> bool {
    let mut small = [0u8; 64];
    let long;
    let lower: &[u8] = match small.get_mut(..key.len()) {
        Some(lower) => {
            lower.copy_from_slice(key);
            lower.make_ascii_lowercase();
            lower
        }
        // A long generated name (`..._holder_passport_number`): read all
        // of it.
        None => {
            long = key.to_ascii_lowercase();
            &long
        }
    };
    words.iter().any(|w| names(key, lower, w))
}

pub(super) fn context(
    hay: &[u8],
    keys: [&[u8]; 2],
    candidate: &Range<usize>,
    words: &[&str],
) -> bool {
    // The field's name, or the name around it (`{"passport":{"no":…}}`).
    if keys.iter().any(|key| key_has_any(key, words)) {
        return true;
    }
    let from = candidate.start.saturating_sub(BEFORE);
    let to = (candidate.end + AFTER).min(hay.len());
    has_any(&hay[from..candidate.start], words) || has_any(&hay[candidate.end..to], words)
}

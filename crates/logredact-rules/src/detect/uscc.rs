//! `uscc`: Unified Social Credit Codes of organisations (GB 32100-2015).
//! These name companies and bodies, not persons, so the shipped rules do
//! not mask them; the detector is here for those who must.
//!
//! 18 characters from `0-9` and the capitals other than `I O Z S V`: the
//! registering authority and the kind of body, a six-digit region code, a
//! nine-character organisation code, and a MOD 31 check character.

use std::ops::Range;

use super::registry::Builtin;
use super::scan::Scan;
use super::{bounded, is_word};

pub(super) const DETECTOR: Builtin = Builtin {
    name: "uscc",
    summary: "Unified Social Credit Codes of organisations (18 characters, MOD 31 check); not shipped on: they name organisations, not persons",
    keep: (8, 0),
    min_digits: 6,
    in_numbers: true,
    reads_key: false,
    may_match: |scan| scan.features.digits >= 6,
    find,
    canonical: |m| super::registry::alnum_upper(m),
    keep_first_in: super::registry::keep_as_written,
    finds: &["统一社会信用代码«91350100M000100Y43»", "«911101085923662400»"],
    keeps: &["91350100M000100Y44", "11010519491231002X", "a91350100M000100Y43"],
};

const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn value(c: u8) -> Option<u32> {
    CHARSET
        .iter()
        .position(|&x| x == c.to_ascii_uppercase())
        .map(|v| v as u32)
}

/// Whether 18 characters are a Unified Social Credit Code.
pub fn is_valid_uscc(code: &[u8]) -> bool {
    if code.len() != 18 || !code[2..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0;
    for (&c, w) in code[..17].iter().zip(WEIGHTS) {
        let Some(v) = value(c) else {
            return false;
        };
        sum += v * w;
    }
    let check = (31 - sum % 31) % 31;
    value(code[17]) == Some(check)
}

fn find(scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
    let hay = scan.hay;
    let mut i = 0;
    while i < hay.len() {
        if !is_word(hay[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < hay.len() && is_word(hay[i]) {
            i += 1;
        }
        let token = start..i;
        if token.len() == 18 && bounded(hay, &token) && is_valid_uscc(&hay[token.clone()]) {
            out.push(token);
        }
    }
}

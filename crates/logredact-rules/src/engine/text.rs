//! Masking text that is not an event (dead letters): every detector over
//! the whole text, on its normalised view, the match replaced in the
//! original.

use std::ops::Range;

use crate::RuleSet;

impl RuleSet {
    /// Masks raw text that could not be processed as an event, so that it
    /// can be kept (dead-lettered) without personal data. Every mask rule's
    /// detector runs over the whole text, whatever the rule's fields, on
    /// its normalised view (escapes decoded, full-width forms folded); each
    /// match is replaced by `[detector]` in the original, covering every
    /// byte it was decoded from. Bytes that are not UTF-8 are replaced
    /// first.
    pub fn mask_text(&self, raw: &[u8]) -> String {
        if raw.len() >= u32::MAX as usize {
            // Beyond the view's 32-bit map: nothing of it is kept.
            return "[too large to mask]".to_owned();
        }
        let text = String::from_utf8_lossy(raw);
        let original = text.as_bytes();
        let mut found: Vec<(Range<usize>, &'static str)> = Vec::new();
        for rule in &self.masks {
            for r in rule.detector.find_in(original) {
                found.push((r, rule.detector.name()));
            }
        }
        found.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (r, name) in found {
            if r.start < at {
                // Overlaps a match already masked; cover the rest of it.
                at = at.max(r.end);
                continue;
            }
            push_lossy(&mut out, &original[at..r.start]);
            out.push('[');
            out.push_str(name);
            out.push(']');
            at = r.end;
        }
        push_lossy(&mut out, &original[at.min(original.len())..]);
        out
    }

    /// [`RuleSet::mask_text`], then cut to at most `max` bytes. The cut
    /// comes after masking, so it cannot leave part of a value unmasked;
    /// and it falls right after a sign that ends a value however the text
    /// is read (a quote, comma, bracket, semicolon, tab or newline: not a
    /// space, dash or plus, which join digit groups, nor `%` or `\\`,
    /// which start escapes), so the text kept holds only whole tokens, each
    /// already judged in its full context. Without such a sign, nothing is
    /// kept.
    /// Returns the text and whether it was cut.
    pub fn mask_text_cut(&self, raw: &[u8], max: usize) -> (String, bool) {
        let mut masked = self.mask_text(raw);
        let cut_it = masked.len() > max;
        if cut_it {
            let hard = |b: &u8| {
                matches!(
                    b,
                    b'"' | b','
                        | b';'
                        | b'{'
                        | b'}'
                        | b'['
                        | b']'
                        | b'\t'
                        | b'\n'
                        | b'\r'
                        | b'\''
                        | b'<'
                        | b'>'
                        | b'|'
                )
            };
            let cut = masked.as_bytes()[..max]
                .iter()
                .rposition(hard)
                .map_or(0, |i| i + 1);
            masked.truncate(cut);
        }
        (masked, cut_it)
    }
}

/// Appends bytes that are UTF-8 (they were cut from a `str` on character
/// boundaries) to `out`.
fn push_lossy(out: &mut String, bytes: &[u8]) {
    out.push_str(&String::from_utf8_lossy(bytes));
}

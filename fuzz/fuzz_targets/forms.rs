//! Fuzzes the normalising view and masking in the original. For any text
//! around a planted value, in any encoding the forms generator writes, as a
//! value or a key:
//! - the view never panics, and its map back tiles the original in order;
//! - `apply` accepts the event and writes valid JSON;
//! - a reader (tests/forms's oracle, which undoes encodings its own way)
//!   cannot piece the planted value together from any field or key;
//! - dead-letter masking of the same text leaves it unreadable too.
#![no_main]

#[path = "../../crates/logredact-rules/tests/forms/mod.rs"]
mod forms;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use logredact_rules::normalize::{NormBuffers, NormView};
use logredact_rules::{KeyRing, RuleSet, Workspace};

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        RuleSet::compile(&logredact_rules::shipped::files(), &KeyRing::new())
            .expect("shipped rules compile")
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (head, rest) = data.split_at(4);
    // No `;` of its own: the two this target puts around the planted value
    // mark where it is in the output.
    let text = String::from_utf8_lossy(rest).replace(';', "");

    // The view of arbitrary text: the map is ordered and ends at the end.
    let mut buffers = NormBuffers::default();
    let view = NormView::new(text.as_bytes(), true, &mut buffers);
    let whole = view.to_original(&(0..view.bytes().len()));
    assert!(whole.end == text.len() || !view.is_normalized());
    for at in 0..view.bytes().len() {
        let r = view.to_original(&(at..at + 1));
        assert!(r.start <= r.end && r.end <= text.len());
    }

    // A planted value in that text.
    let mut dice = forms::Dice::new(u64::from_le_bytes([head[0], head[1], 0, 0, 0, 0, 0, 1]));
    let kind = forms::KINDS[usize::from(head[0]) % forms::KINDS.len()];
    let encoding = forms::ENCODINGS[usize::from(head[1]) % forms::ENCODINGS.len()];
    let p = forms::planted(kind, &mut dice);
    // The fuzzer can learn the planted digits from the comparisons below
    // and write them into the text itself, where they are no value of any
    // kind (no country code, too many digits…) and rightly stay: only the
    // planted value is judged.
    if forms::squeezed(&forms::reads(&text)).contains(&p.secret) {
        return;
    }
    let cut = usize::from(head[2]).min(text.len());
    let cut = (0..=cut)
        .rev()
        .find(|&c| text.is_char_boundary(c))
        .unwrap_or(0);
    // A `;` either side: text glued to a value can make it another word,
    // and digits joined to it by a space or a dash another number (groups
    // of digits join across spaces); `;` ends a token however it is read,
    // so the planted value stands as one.
    let s = format!(
        "{};{}{};{}",
        &text[..cut],
        p.context,
        forms::encode_planted(&p, encoding, &mut dice),
        &text[cut..]
    );
    let event = if head[3] % 2 == 0 {
        serde_json::json!({ "v": s, "n": 1 })
    } else {
        serde_json::json!({ "m": { s.clone(): 1 } })
    };
    let line = event.to_string();
    let mut out = Vec::new();
    if rules()
        .apply(line.as_bytes(), &mut out, &mut Workspace::new())
        .is_err()
    {
        // Held back (fail closed): nothing leaves.
        assert!(out.is_empty());
        return;
    }
    let value: serde_json::Value = serde_json::from_slice(&out).expect("output is JSON");
    let mut texts = Vec::new();
    forms::texts(&value, &mut texts);
    // What became of the planted value: the text between the two `;`.
    // (Digits of the fuzzed text next to it, read together with what a mask
    // keeps, can spell anything; only the value itself is judged.)
    let planted_part = |t: &str| -> Option<String> {
        let (a, b) = (t.find(';')?, t.rfind(';')?);
        (a < b).then(|| t[a + 1..b].to_owned())
    };
    for t in &texts {
        if let Some(part) = planted_part(t) {
            assert!(
                !forms::squeezed(&forms::reads(&part)).contains(&p.secret),
                "{kind:?} {encoding:?} survived: {t}"
            );
        }
    }
    let masked = rules().mask_text(s.as_bytes());
    if let Some(part) = planted_part(&masked) {
        assert!(
            !forms::squeezed(&forms::reads(&part)).contains(&p.secret),
            "{kind:?} {encoding:?} survived dead-lettering: {masked}"
        );
    }
});

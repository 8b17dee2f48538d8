//! Fuzzes `apply` with the shipped rules. Checks, for any input bytes:
//! - no panic;
//! - an input is an event exactly when serde_json reads it as an object
//!   (rules may still hold an event back, leaving no output);
//! - accepted output is valid JSON;
//! - a second pass over the output masks nothing (no value survives a pass
//!   in a form the rules would still catch).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use logredact_rules::{KeyRing, Reject, RuleSet, Workspace};

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        RuleSet::compile(&logredact_rules::shipped::files(), &KeyRing::new())
            .expect("shipped rules compile")
    })
}

fuzz_target!(|data: &[u8]| {
    let rules = rules();
    let mut out = Vec::new();
    let ours = rules.apply(data, &mut out, &mut Workspace::new());
    let theirs = matches!(
        serde_json::from_slice::<serde_json::Value>(data),
        Ok(serde_json::Value::Object(_))
    );
    // A rule may hold back valid JSON it cannot apply to (fail closed);
    // whether the line is an event at all must agree with serde_json.
    let ours_is_event = !matches!(
        ours,
        Err(Reject::NotUtf8 | Reject::Json(_) | Reject::NotObject)
    );
    assert_eq!(ours_is_event, theirs, "disagrees with serde_json: {ours:?}");
    if let Err(reject) = &ours {
        assert!(
            out.is_empty(),
            "a held-back event leaves nothing behind: {reject}"
        );
    }
    if ours.is_ok() {
        serde_json::from_slice::<serde_json::Value>(&out).expect("output is JSON");
        let again = rules
            .apply(&out, &mut Vec::new(), &mut Workspace::new())
            .expect("output is accepted");
        assert_eq!(
            (again.masked, again.residual),
            (0, 0),
            "a second pass still found something"
        );
    }
});

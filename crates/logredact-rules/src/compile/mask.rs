//! `[[mask]]` rules: a detector (built-in or a pattern), the fields it
//! applies to, and what it does with a match.

use std::ops::Range;

use hmac::Mac;
use toml::de::DeTable;

use super::cx::{did_you_mean, get, misspelled, Cx};
use crate::detect::{builtin, detector_names, CustomRegex, Detector};
use crate::{Action, HashKey, KeyRing, MaskRule};

pub(super) const MASK_KEYS: &[&str] = &[
    "id",
    "description",
    "enabled",
    "detector",
    "pattern",
    "match_inside_words",
    "action",
    "keep_first",
    "keep_last",
    "mask_char",
    "replacement",
    "hash_key",
    "fields",
    "exclude",
    "example",
];

const ACTIONS: &[&str] = &["partial", "full", "hash", "drop"];

impl Cx<'_> {
    pub(super) fn mask_rule(
        &mut self,
        t: &DeTable<'_>,
        span: Range<usize>,
        keys: &KeyRing,
    ) -> Option<MaskRule> {
        let before = self.errors.len();
        let detector_name = self.string(t, "detector");
        let pattern = self.string(t, "pattern");
        let detector = match &detector_name {
            None => {
                if get(t, "detector").is_none() && !misspelled(t, "detector") {
                    self.err(
                        span.clone(),
                        format!(
                            "this mask rule has no detector; add detector = \"...\", one of: {}",
                            detector_names().join(", ")
                        ),
                    );
                }
                None
            }
            Some((name, dspan)) => match (name.as_str(), builtin(name)) {
                (_, Some(b)) => Some(Detector::Builtin(b)),
                ("regex", None) => match &pattern {
                    // (A pattern written but wrong is said where it is.)
                    None if get(t, "pattern").is_some() || misspelled(t, "pattern") => None,
                    None => {
                        self.err(
                            dspan.clone(),
                            "detector = \"regex\" needs a pattern; add pattern = '...'".to_owned(),
                        );
                        None
                    }
                    Some((p, pspan)) if p.contains('\u{8}') => {
                        // Never meant: "\b" in double quotes is TOML's
                        // backspace, so the rule would match nothing and
                        // mask nothing.
                        self.err(
                            pspan.clone(),
                            "the pattern holds a backspace character (U+0008): in double quotes TOML reads `\\b` as a backspace, not a word boundary, so the rule would mask nothing; write the pattern in single quotes: pattern = '\\b[EG][0-9]{8}\\b'".to_owned(),
                        );
                        None
                    }
                    Some((p, pspan)) => {
                        let inside = self.boolean(t, "match_inside_words").unwrap_or(false);
                        match CustomRegex::new(p, inside) {
                            Ok(re) if re.matches_empty() => {
                                self.err(
                                    pspan.clone(),
                                    "the pattern also matches empty text, so it cannot mark what to mask; make it require at least one character".to_owned(),
                                );
                                None
                            }
                            Ok(re) => Some(Detector::Regex(re)),
                            Err(e) => {
                                // Point at the character itself when the
                                // pattern is written as it is read ('...').
                                let written = &self.text[pspan.clone()];
                                let at = match e.offset {
                                    Some(o)
                                        if written.strip_prefix('\'') == Some(&format!("{p}'")) =>
                                    {
                                        pspan.start + 1 + o
                                    }
                                    _ => pspan.start,
                                };
                                self.err(
                                    at..at,
                                    format!(
                                        "the pattern is not a valid regular expression: {}",
                                        e.message
                                    ),
                                );
                                None
                            }
                        }
                    }
                },
                (other, None) => {
                    let names = detector_names();
                    let hint = did_you_mean(other, &names)
                        .map(|s| format!("did you mean \"{s}\"? "))
                        .unwrap_or_default();
                    self.err(
                        dspan.clone(),
                        format!(
                            "unknown detector \"{other}\"; {hint}the detectors are: {}",
                            names.join(", ")
                        ),
                    );
                    None
                }
            },
        };
        if let Some((name, _)) = &detector_name {
            if name != "regex" {
                if let Some((_, pspan)) = &pattern {
                    self.err(
                        pspan.clone(),
                        "\"pattern\" only applies to detector = \"regex\"".to_owned(),
                    );
                }
                if let Some(v) = get(t, "match_inside_words") {
                    self.err(
                        v.span(),
                        "\"match_inside_words\" only applies to detector = \"regex\"".to_owned(),
                    );
                }
            }
        }

        let action_name = self.string(t, "action");
        let partial_keys = ["keep_first", "keep_last", "mask_char"];
        let name = detector_name.as_ref().map_or("regex", |(n, _)| n.as_str());
        let action = match &action_name {
            None => {
                if get(t, "action").is_none() && !misspelled(t, "action") {
                    self.err(
                        span,
                        format!(
                            "this mask rule has no action; add action = \"...\", one of: {}",
                            ACTIONS.join(", ")
                        ),
                    );
                }
                None
            }
            Some((a, aspan)) => match a.as_str() {
                "partial" => {
                    let (first, last) = builtin(name).map_or((0, 0), |b| b.keep);
                    let keep_first = self.count(t, "keep_first").unwrap_or(first);
                    let keep_last = self.count(t, "keep_last").unwrap_or(last);
                    let mask_char = match self.string(t, "mask_char") {
                        None => '*',
                        Some((s, mspan)) => {
                            let mut chars = s.chars();
                            match (chars.next(), chars.next()) {
                                // (Not a full-width digit either: the
                                // residual scan reads `１` as `1`.)
                                (Some(c), None)
                                    if !c.is_alphanumeric() && !crate::normalize::invisible(c) =>
                                {
                                    c
                                }
                                _ => {
                                    self.err(mspan, "\"mask_char\" must be one visible character that is not a letter or digit, like \"*\"".to_owned());
                                    '*'
                                }
                            }
                        }
                    };
                    Some(Action::Partial {
                        keep_first,
                        keep_last,
                        mask_char,
                    })
                }
                "full" => Some(Action::Full {
                    replacement: self
                        .string(t, "replacement")
                        .map(|(s, _)| s)
                        .unwrap_or_else(|| format!("[{name}]")),
                }),
                "hash" => {
                    let key_name = self
                        .string(t, "hash_key")
                        .map_or_else(|| "default".to_owned(), |(s, _)| s);
                    match keys.get(&key_name) {
                        Some(key) => Some(Action::Hash {
                            key: HashKey(
                                hmac::Hmac::new_from_slice(&key)
                                    .expect("HMAC takes keys of any length"),
                            ),
                        }),
                        None => {
                            self.err(
                                aspan.clone(),
                                format!(
                                    "no secret key named \"{key_name}\" is configured for hashing; start logredact with --hash-key {key_name}=env:VARIABLE or --hash-key {key_name}=file:PATH"
                                ),
                            );
                            None
                        }
                    }
                }
                "drop" => Some(Action::Drop),
                other => {
                    let hint = did_you_mean(other, ACTIONS)
                        .map(|s| format!("did you mean \"{s}\"? "))
                        .unwrap_or_default();
                    self.err(
                        aspan.clone(),
                        format!(
                            "unknown action \"{other}\"; {hint}the actions are: {}",
                            ACTIONS.join(", ")
                        ),
                    );
                    None
                }
            },
        };
        let action_is = |n: &str| action_name.as_ref().is_some_and(|(a, _)| a == n);
        for k in partial_keys {
            if let Some(v) = get(t, k) {
                if !action_is("partial") {
                    self.err(
                        v.span(),
                        format!("\"{k}\" only applies to action = \"partial\""),
                    );
                }
            }
        }
        for (k, a) in [("replacement", "full"), ("hash_key", "hash")] {
            if let Some(v) = get(t, k) {
                if !action_is(a) {
                    self.err(
                        v.span(),
                        format!("\"{k}\" only applies to action = \"{a}\""),
                    );
                }
            }
        }
        let fields = self.field_patterns(t, "fields");
        let exclude = self.field_patterns(t, "exclude");
        self.string(t, "description");
        if self.errors.len() > before {
            return None;
        }
        Some(MaskRule {
            index: 0,
            detector: detector?,
            action: action?,
            everywhere: fields.is_empty() && exclude.is_empty(),
            fields,
            exclude,
        })
    }
}

//! Warnings about rules that can never apply, where that can be decided
//! from the rules alone: a route rule behind one that takes every event (or
//! the same events) first, and a condition comparing a field with a value
//! the mask rules change before tag and route rules see the event.

use crate::condition::Condition;
use crate::json::Value;
use crate::{MaskRule, RouteRule, RuleError, TagRule};

pub(super) fn warnings(
    masks: &[(String, MaskRule)],
    tags: &[(String, TagRule)],
    tag_sites: &[RuleError],
    routes: &[(String, RouteRule)],
    route_sites: &[RuleError],
) -> Vec<RuleError> {
    let mut out = Vec::new();
    let warn = |site: &RuleError, message: String| RuleError {
        message,
        ..site.clone()
    };
    // Route rules: the first that matches decides.
    let mut earlier: Vec<(&str, Option<String>)> = Vec::new();
    for ((id, route), site) in routes.iter().zip(route_sites) {
        let this = route.when.as_ref().map(|c| format!("{c:?}"));
        let taken_by = earlier.iter().find(|(_, when)| match when {
            None => true,
            Some(w) => this.as_ref() == Some(w),
        });
        if let Some((first, when)) = taken_by {
            let why = if when.is_none() {
                "has no `when`, so it takes every event first"
            } else {
                "has the same `when` and takes those events first"
            };
            out.push(warn(
                site,
                format!(
                    "this route rule can never apply: route rule \"{first}\" before it {why}; move this rule before it (rules apply in the order of the file names, then in order within a file), or remove it"
                ),
            ));
        }
        earlier.push((id, this));
    }
    // Conditions on values the mask rules change first.
    let conditions = tags
        .iter()
        .map(|(_, t)| Some(&t.when))
        .zip(tag_sites)
        .chain(routes.iter().map(|(_, r)| r.when.as_ref()).zip(route_sites));
    for (when, site) in conditions {
        let Some(when) = when else { continue };
        let mut compared = Vec::new();
        literal_comparisons(when, &mut compared);
        for (path, texts) in compared {
            // A test that can never be true: every value it accepts is
            // one a mask rule changes.
            let masked_by = |text: &str| {
                masks.iter().find(|(_, m)| {
                    applies_to(m, path) && !m.detector.find_in(text.as_bytes()).is_empty()
                })
            };
            let first = texts.first().and_then(|t| masked_by(t));
            if let Some((mask, _)) = first.filter(|_| texts.iter().all(|t| masked_by(t).is_some()))
            {
                out.push(warn(
                    site,
                    format!(
                        "the condition on {} can never be true as written: mask rule \"{mask}\" masks the value it compares with before tag and route rules see the event; compare with the masked form, or test the field with exists or matches",
                        path.join(".")
                    ),
                ));
            }
        }
    }
    out
}

/// Every `equals` or `one_of` test on text, with the texts it accepts, that
/// must hold for the condition to hold (not under `not`, where a test that
/// is never true makes the condition always true instead).
fn literal_comparisons<'c>(c: &'c Condition, out: &mut Vec<(&'c [String], Vec<&'c str>)>) {
    match c {
        Condition::Equals(f, Value::Str(s)) => out.push((&f.path, vec![s])),
        Condition::OneOf(f, values) => {
            let texts: Vec<&str> = values
                .iter()
                .filter_map(|v| match v {
                    Value::Str(s) => Some(&**s),
                    _ => None,
                })
                .collect();
            // A number among them may still match.
            if texts.len() == values.len() && !texts.is_empty() {
                out.push((&f.path, texts));
            }
        }
        Condition::All(cs) | Condition::Any(cs) => {
            for c in cs {
                literal_comparisons(c, out);
            }
        }
        _ => {}
    }
}

/// Whether `mask` looks at the value at `path`.
fn applies_to(mask: &MaskRule, path: &[String]) -> bool {
    let keys = path.iter().map(String::as_str);
    (mask.fields.is_empty() || mask.fields.iter().any(|f| f.covers(keys.clone())))
        && !mask.exclude.iter().any(|f| f.covers(keys.clone()))
}

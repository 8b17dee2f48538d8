//! `[[route]]` rules: a condition, and the outputs an event goes to (or
//! none: dropped).

use std::ops::Range;

use toml::de::DeTable;

use super::cx::{get, Cx};
use crate::valid_name;
use crate::RouteRule;

pub(super) const ROUTE_KEYS: &[&str] = &[
    "id",
    "description",
    "enabled",
    "when",
    "outputs",
    "drop",
    "example",
];

impl Cx<'_> {
    pub(super) fn route_rule(
        &mut self,
        t: &DeTable<'_>,
        span: Range<usize>,
        outputs: &mut Vec<String>,
    ) -> Option<RouteRule> {
        let before = self.errors.len();
        let when = get(t, "when").and_then(|w| self.condition(w, 0));
        let drop = self.boolean(t, "drop").unwrap_or(false);
        let names = self.strings(t, "outputs");
        let targets = match (&names, drop) {
            (Some(_), true) => {
                self.err(
                    span,
                    "a route rule either names outputs or drops the event, not both".to_owned(),
                );
                None
            }
            (None, false) => {
                self.err(span, "this route rule sends events nowhere; add outputs = [\"hot\", \"cold\"] or drop = true".to_owned());
                None
            }
            (None, true) => None,
            (Some(list), false) => {
                if list.is_empty() {
                    self.err(
                        span,
                        "\"outputs\" is empty; to discard events write drop = true instead"
                            .to_owned(),
                    );
                }
                let mut idx = Vec::new();
                for (name, nspan) in list {
                    if !valid_name(name) {
                        self.err(nspan.clone(), format!("\"{name}\" is not an output name; use lower-case letters, digits, '-' and '_'"));
                        continue;
                    }
                    let i = outputs.iter().position(|o| o == name).unwrap_or_else(|| {
                        outputs.push(name.clone());
                        outputs.len() - 1
                    });
                    if !idx.contains(&i) {
                        idx.push(i);
                    }
                }
                Some(idx)
            }
        };
        self.string(t, "description");
        if self.errors.len() > before {
            return None;
        }
        Some(RouteRule {
            index: 0,
            when,
            outputs: targets,
        })
    }
}

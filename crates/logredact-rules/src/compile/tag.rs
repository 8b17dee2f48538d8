//! `[[tag]]` rules: a condition, and the fields and tags they set.

use std::ops::Range;

use toml::de::DeTable;

use super::cx::{get, misspelled, Cx};
use super::examples::to_json;
use crate::json::Value;
use crate::TagRule;

pub(super) const TAG_KEYS: &[&str] = &[
    "id",
    "description",
    "enabled",
    "when",
    "set",
    "add_tags",
    "example",
];

impl Cx<'_> {
    pub(super) fn tag_rule(&mut self, t: &DeTable<'_>, span: Range<usize>) -> Option<TagRule> {
        let before = self.errors.len();
        let when = match get(t, "when") {
            Some(w) => self.condition(w, 0),
            None if misspelled(t, "when") => None,
            None => {
                self.err(span.clone(), "this tag rule has no condition; add when = { field = \"...\", equals = \"...\" }".to_owned());
                None
            }
        };
        let mut set = Vec::new();
        if let Some((st, _)) = self.table(t, "set") {
            for (k, v) in st.iter() {
                let path: Vec<String> = k.get_ref().split('.').map(str::to_owned).collect();
                if path.iter().any(String::is_empty) || path.iter().any(|p| p.contains('*')) {
                    self.err(k.span(), format!("\"{}\" is not a field path; write keys separated by dots, like user.role", k.get_ref()));
                    continue;
                }
                set.push((path, Value::from_serde(&to_json(v.get_ref()))));
            }
        }
        let add_tags: Vec<String> = self
            .strings(t, "add_tags")
            .unwrap_or_default()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        if set.is_empty() && add_tags.is_empty() {
            self.err(span, "this tag rule does nothing; give it set = { field = \"value\" } or add_tags = [\"tag\"]".to_owned());
        }
        self.string(t, "description");
        if self.errors.len() > before {
            return None;
        }
        Some(TagRule {
            index: 0,
            when: when?,
            set,
            add_tags,
            append: Vec::new(),
        })
    }
}

/// Every string (and number, as text) inside a constant.
pub(super) fn collect_strings(v: &Value<'_>, out: &mut Vec<String>) {
    match v {
        Value::Str(s) => out.push(s.to_string()),
        Value::Number(_, text) => out.push(text.to_string()),
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(members) => members.iter().for_each(|(k, v)| {
            out.push(k.to_string());
            collect_strings(v, out);
        }),
        Value::Null | Value::Bool(_) => {}
    }
}

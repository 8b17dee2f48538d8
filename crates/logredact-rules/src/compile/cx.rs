//! The walk over one rule file: where errors go, and getters that check a
//! key's type and report a wrong one (or a typo of the key) where it is.

use std::collections::HashMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::path::FieldPattern;
use crate::valid_name;
use crate::{RuleError, RuleKind};

pub(super) type Item<'i> = Spanned<DeValue<'i>>;

/// Whether some key of `t` looks like a typo of `key`; the unknown-key
/// error already says so, and a second "missing" error would only confuse.
pub(super) fn misspelled(t: &DeTable<'_>, key: &str) -> bool {
    t.iter().any(|(k, _)| {
        let k = k.get_ref().as_ref();
        k != key && did_you_mean(k, &[key]).is_some()
    })
}

pub(super) fn get<'t, 'i>(t: &'t DeTable<'i>, key: &str) -> Option<&'t Item<'i>> {
    t.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
}

/// The closest allowed word, if one is close enough to be a likely typo.
pub(super) fn did_you_mean<'a>(word: &str, allowed: &[&'a str]) -> Option<&'a str> {
    // Upper case where lower is meant (`CN_Mobile`, `ID`) is a slip too.
    let word = word.to_lowercase();
    allowed
        .iter()
        .map(|a| (strsim::jaro_winkler(&word, a), *a))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, a)| a)
}

pub(super) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "text",
        DeValue::Integer(_) => "a whole number",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "true/false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

pub(super) struct Cx<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
    pub(super) errors: &'a mut Vec<RuleError>,
    /// The id of the rule being read, for error messages.
    pub(super) rule: Option<String>,
    /// Field paths that conditions read, shared by all files.
    pub(super) watched: &'a mut Vec<Vec<String>>,
}
impl Cx<'_> {
    pub(super) fn err(&mut self, span: Range<usize>, message: String) {
        self.errors.push(RuleError::at(
            self.file,
            self.text,
            span.start,
            self.rule.as_deref(),
            message,
        ));
    }

    pub(super) fn check_keys(&mut self, t: &DeTable<'_>, allowed: &[&str], what: &str) {
        for (k, _) in t.iter() {
            let key = k.get_ref().as_ref();
            if allowed.contains(&key) {
                continue;
            }
            let hint = match did_you_mean(key, allowed) {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => format!("the keys {what} can have are: {}", allowed.join(", ")),
            };
            self.err(k.span(), format!("unknown key \"{key}\" in {what}; {hint}"));
        }
    }

    pub(super) fn wrong_type(&mut self, key: &str, v: &Item<'_>, want: &str) {
        self.err(
            v.span(),
            format!("\"{key}\" must be {want}, not {}", type_name(v.get_ref())),
        );
    }

    pub(super) fn string(&mut self, t: &DeTable<'_>, key: &str) -> Option<(String, Range<usize>)> {
        let v = get(t, key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span())),
            _ => {
                self.wrong_type(key, v, "text in quotes");
                None
            }
        }
    }

    pub(super) fn int(&mut self, t: &DeTable<'_>, key: &str) -> Option<(i64, Range<usize>)> {
        let v = get(t, key)?;
        match v.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some((n, v.span())),
                Err(_) => {
                    self.err(v.span(), format!("\"{key}\" is too large"));
                    None
                }
            },
            _ => {
                self.wrong_type(key, v, "a whole number");
                None
            }
        }
    }

    pub(super) fn count(&mut self, t: &DeTable<'_>, key: &str) -> Option<usize> {
        let (n, span) = self.int(t, key)?;
        match usize::try_from(n) {
            Ok(n) if n <= 64 => Some(n),
            _ => {
                self.err(span, format!("\"{key}\" must be between 0 and 64"));
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, t: &DeTable<'_>, key: &str) -> Option<bool> {
        let v = get(t, key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, v, "true or false");
                None
            }
        }
    }

    pub(super) fn strings(
        &mut self,
        t: &DeTable<'_>,
        key: &str,
    ) -> Option<Vec<(String, Range<usize>)>> {
        let v = get(t, key)?;
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(key, v, "a list of texts, like [\"a\", \"b\"]");
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), item.span())),
                _ => self.wrong_type(key, item, "a list of texts, like [\"a\", \"b\"]"),
            }
        }
        Some(out)
    }

    pub(super) fn table<'t, 'i>(
        &mut self,
        t: &'t DeTable<'i>,
        key: &str,
    ) -> Option<(&'t DeTable<'i>, Range<usize>)> {
        let v = get(t, key)?;
        match v.get_ref() {
            DeValue::Table(inner) => Some((inner, v.span())),
            _ => {
                self.wrong_type(key, v, "a table");
                None
            }
        }
    }
    /// `[[key]]` tables, in file order.
    pub(super) fn tables<'t, 'i>(
        &mut self,
        t: &'t DeTable<'i>,
        key: &str,
    ) -> Vec<(&'t DeTable<'i>, Range<usize>)> {
        let Some(v) = get(t, key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.err(
                v.span(),
                format!("\"{key}\" must be written as [[{key}]] tables"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::Table(inner) => out.push((inner, item.span())),
                _ => self.err(
                    item.span(),
                    format!("\"{key}\" must be written as [[{key}]] tables"),
                ),
            }
        }
        out
    }

    pub(super) fn enabled(&mut self, t: &DeTable<'_>) -> bool {
        self.boolean(t, "enabled").unwrap_or(true)
    }

    /// Whether the rule is on; its examples go to `examples`, marked so
    /// (those of a rule that is off are not run).
    pub(super) fn enabled_with_examples(
        &mut self,
        t: &DeTable<'_>,
        examples: &mut Vec<crate::examples::Example>,
    ) -> bool {
        let enabled = self.enabled(t);
        let own = self.examples(t);
        examples.extend(
            own.into_iter()
                .map(|e| crate::examples::Example { enabled, ..e }),
        );
        enabled
    }
    /// Reads and checks a rule's id and makes it the context for errors.
    pub(super) fn rule_id(
        &mut self,
        t: &DeTable<'_>,
        span: Range<usize>,
        kind: RuleKind,
        seen: &mut HashMap<String, String>,
    ) -> String {
        let keys = match kind {
            RuleKind::Mask => super::mask::MASK_KEYS,
            RuleKind::Tag => super::tag::TAG_KEYS,
            RuleKind::Route => super::route::ROUTE_KEYS,
        };
        let kind = kind.as_str();
        let Some((id, id_span)) = self.string(t, "id") else {
            // The rest of the rule is still checked, so that every problem
            // shows at once; a problem is reported here whatever the case
            // (no id, a misspelt key, a wrong type), so it compiles to no
            // rule set.
            let label = format!("{kind} rule without an id");
            self.rule = Some(label.clone());
            if get(t, "id").is_none() && !misspelled(t, "id") {
                self.err(
                    span,
                    "this rule has no id; add a line like id = \"my-rule\"".to_owned(),
                );
            }
            self.check_keys(t, keys, &format!("a {kind} rule"));
            return label;
        };
        self.rule = Some(id.clone());
        if !valid_name(&id) {
            self.err(
                id_span.clone(),
                "an id may use only lower-case letters, digits, '-' and '_'".to_owned(),
            );
        }
        let (line, column) = crate::error::line_column(self.text, id_span.start);
        let here = format!("{}:{line}:{column}", self.file);
        if let Some(first) = seen.get(&id) {
            self.err(
                id_span,
                format!("the id \"{id}\" is already used at {first}; give each rule its own id"),
            );
        } else {
            seen.insert(id.clone(), here);
        }
        self.check_keys(t, keys, &format!("a {kind} rule"));
        id
    }

    pub(super) fn field_patterns(&mut self, t: &DeTable<'_>, key: &str) -> Vec<FieldPattern> {
        let mut out = Vec::new();
        for (text, span) in self.strings(t, key).unwrap_or_default() {
            match FieldPattern::parse(&text) {
                Ok(p) => out.push(p),
                Err(e) => self.err(span, e),
            }
        }
        out
    }
}

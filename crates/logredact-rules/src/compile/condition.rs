//! `when` conditions of tag and route rules.

use toml::de::DeValue;

use super::cx::{get, type_name, Cx, Item};
use super::examples::to_json;
use crate::condition::{Condition, Field};
use crate::json::Value;

const CONDITION_KEYS: &[&str] = &[
    "field", "equals", "one_of", "matches", "exists", "all", "any", "not",
];

/// Nesting limit for conditions, so a rule file cannot build a deep tree.
const MAX_CONDITION_DEPTH: usize = 16;

impl Cx<'_> {
    pub(super) fn condition(&mut self, item: &Item<'_>, depth: usize) -> Option<Condition> {
        let DeValue::Table(t) = item.get_ref() else {
            self.err(item.span(), format!("a condition must be a table like {{ field = \"action\", equals = \"login\" }}, not {}", type_name(item.get_ref())));
            return None;
        };
        if depth > MAX_CONDITION_DEPTH {
            self.err(item.span(), format!("conditions are nested more than {MAX_CONDITION_DEPTH} deep; simplify this condition"));
            return None;
        }
        self.check_keys(t, CONDITION_KEYS, "a condition");
        let tests: Vec<&str> = ["equals", "one_of", "matches", "exists"]
            .into_iter()
            .filter(|k| get(t, k).is_some())
            .collect();
        let groups: Vec<&str> = ["all", "any", "not"]
            .into_iter()
            .filter(|k| get(t, k).is_some())
            .collect();
        if let Some((field, fspan)) = self.string(t, "field") {
            let path: Vec<String> = field.split('.').map(str::to_owned).collect();
            if path.iter().any(String::is_empty) || field.contains('*') {
                self.err(fspan, format!("\"{field}\" is not a field path; write keys separated by dots, like user.role"));
                return None;
            }
            let id = match self.watched.iter().position(|w| *w == path) {
                Some(id) => id,
                None if self.watched.len() >= crate::MAX_WATCHED_FIELDS => {
                    self.err(fspan, format!(
                        "conditions may read at most {} different fields in all the rule files together, and \"{field}\" is one more; test fewer fields (`one_of` tests several values of one field)",
                        crate::MAX_WATCHED_FIELDS
                    ));
                    return None;
                }
                None => {
                    self.watched.push(path.clone());
                    self.watched.len() - 1
                }
            };
            let path = Field { id, path };
            if tests.len() != 1 || !groups.is_empty() {
                self.err(item.span(), "a condition on a field needs exactly one test: equals, one_of, matches or exists".to_owned());
                return None;
            }
            let v = get(t, tests[0]).expect("checked above");
            return match tests[0] {
                "equals" => Some(Condition::Equals(
                    path,
                    Value::from_serde(&to_json(v.get_ref())),
                )),
                "one_of" => match v.get_ref() {
                    DeValue::Array(items) if items.is_empty() => {
                        self.err(
                            v.span(),
                            "`one_of` is empty, so this condition never holds; list the values to compare with, like one_of = [\"a\", \"b\"]".to_owned(),
                        );
                        None
                    }
                    DeValue::Array(items) => Some(Condition::OneOf(
                        path,
                        items
                            .iter()
                            .map(|i| Value::from_serde(&to_json(i.get_ref())))
                            .collect(),
                    )),
                    _ => {
                        self.wrong_type("one_of", v, "a list, like [\"a\", \"b\"]");
                        None
                    }
                },
                "matches" => {
                    let (p, pspan) = self.string(t, "matches")?;
                    match regex::RegexBuilder::new(&p).size_limit(1 << 22).build() {
                        Ok(re) => Some(Condition::Matches(path, re)),
                        Err(e) => {
                            self.err(
                                pspan,
                                format!("the pattern is not a valid regular expression: {e}"),
                            );
                            None
                        }
                    }
                }
                _ => Some(Condition::Exists(path, self.boolean(t, "exists")?)),
            };
        }
        if get(t, "field").is_some() {
            return None;
        }
        if groups.len() != 1 || !tests.is_empty() {
            self.err(
                item.span(),
                "a condition needs either field = \"...\" with one test, or exactly one of all, any, not".to_owned(),
            );
            return None;
        }
        let v = get(t, groups[0]).expect("checked above");
        match groups[0] {
            "not" => Some(Condition::Not(Box::new(self.condition(v, depth + 1)?))),
            group => {
                let DeValue::Array(items) = v.get_ref() else {
                    self.wrong_type(group, v, "a list of conditions");
                    return None;
                };
                if items.is_empty() {
                    // (`all = []` would hold for every event and `any = []`
                    // for none: neither is what anyone means.)
                    let holds = if group == "all" { "every" } else { "no" };
                    self.err(
                        v.span(),
                        format!("`{group}` is empty, so this condition holds for {holds} event; list the conditions inside, like {group} = [{{ field = \"a\", exists = true }}]"),
                    );
                    return None;
                }
                let inner: Vec<Option<Condition>> =
                    items.iter().map(|i| self.condition(i, depth + 1)).collect();
                let inner: Option<Vec<Condition>> = inner.into_iter().collect();
                Some(if group == "all" {
                    Condition::All(inner?)
                } else {
                    Condition::Any(inner?)
                })
            }
        }
    }
}

//! `[[tag]]` rules: a condition, and the fields and tags they set.

use std::ops::Range;

use toml::de::DeTable;

use super::cx::{get, misspelled, Cx};
use super::examples::to_json;
use crate::json::Value;
use crate::{RuleError, TagRule};

/// Where a tag rule writes: each field of its `set`, and its `add_tags`
/// (or its header when it has none).
pub(super) struct TagSites {
    pub(super) set: Vec<RuleError>,
    pub(super) add_tags: RuleError,
}

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
    /// A tag rule, and where each field it sets (in `set`'s order) and its
    /// `add_tags` are written, for [`write_conflicts`].
    pub(super) fn tag_rule(
        &mut self,
        t: &DeTable<'_>,
        span: Range<usize>,
        id: &str,
    ) -> Option<(TagRule, TagSites)> {
        let mut here = TagSites {
            set: Vec::new(),
            add_tags: RuleError::at(
                self.file,
                self.text,
                get(t, "add_tags").map_or(span.start, |v| v.span().start),
                Some(id),
                String::new(),
            ),
        };
        let before = self.errors.len();
        let when = match get(t, "when") {
            Some(w) => self.condition(w, 0),
            None if misspelled(t, "when") => None,
            None => {
                self.err(span.clone(), "this tag rule has no condition; add when = { field = \"...\", equals = \"...\" }".to_owned());
                None
            }
        };
        let before_writes = self.errors.len();
        let mut set = Vec::new();
        if let Some((st, _)) = self.table(t, "set") {
            for (k, v) in st.iter() {
                let path: Vec<String> = k.get_ref().split('.').map(str::to_owned).collect();
                if path.iter().any(String::is_empty) || path.iter().any(|p| p.contains('*')) {
                    self.err(k.span(), format!("\"{}\" is not a field path; write keys separated by dots, like user.role", k.get_ref()));
                    continue;
                }
                set.push((path, Value::from_serde(&to_json(v.get_ref()))));
                here.set.push(RuleError::at(
                    self.file,
                    self.text,
                    k.span().start,
                    Some(id),
                    String::new(),
                ));
            }
        }
        let add_tags: Vec<String> = self
            .strings(t, "add_tags")
            .unwrap_or_default()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        // (Not when either is written but wrong: that is said where it is.)
        if set.is_empty()
            && add_tags.is_empty()
            && self.errors.len() == before_writes
            && !misspelled(t, "set")
            && !misspelled(t, "add_tags")
        {
            self.err(span, "this tag rule does nothing; give it set = { field = \"value\" } or add_tags = [\"tag\"]".to_owned());
        }
        self.string(t, "description");
        if self.errors.len() > before {
            return None;
        }
        let rule = TagRule {
            index: 0,
            when: when?,
            set,
            add_tags,
            append: Vec::new(),
        };
        Some((rule, here))
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

/// Fields that tag rules would write so that the event comes out wrong or
/// not at all; each found where it is written, for `check` to refuse:
///
/// - a field inside another the same rule sets (`a` and `a.b`): one of
///   the two is lost, or the event is held back;
/// - a field inside one an earlier rule sets to something that is not an
///   object (`a = "x"`, then `a.b`): when both apply, the event is held
///   back;
/// - a field in the redaction record (`record_field`): the record is
///   written after the tags, and the event would hold its name twice,
///   which Elasticsearch refuses;
/// - `tags` set while rules add tags: setting it replaces the tags others
///   added (an audit tag among them); and `add_tags` when the record is
///   written to `tags`.
pub(super) fn write_conflicts(
    tags: &[(String, TagRule)],
    sites: &[TagSites],
    record_field: Option<&str>,
) -> Vec<RuleError> {
    let mut errors = Vec::new();
    let mut problem = |site: &RuleError, message: String| {
        errors.push(RuleError {
            message,
            ..site.clone()
        });
    };
    let inside =
        |outer: &[String], inner: &[String]| outer.len() < inner.len() && inner.starts_with(outer);
    let adds_tags = tags.iter().find(|(_, t)| !t.add_tags.is_empty());
    for (k, ((_, tag), site)) in tags.iter().zip(sites).enumerate() {
        for (i, ((path, _), at)) in tag.set.iter().zip(&site.set).enumerate() {
            let shown = path.join(".");
            for (other, _) in &tag.set[..i] {
                let (outer, inner) = if inside(other, path) {
                    (other, &shown)
                } else if inside(path, other) {
                    (path, &other.join("."))
                } else {
                    continue;
                };
                problem(
                    at,
                    format!("this rule sets both \"{}\" and \"{inner}\", which is inside it; keep one of the two", outer.join(".")),
                );
            }
            for (earlier, etag) in &tags[..k] {
                if let Some((outer, _)) = etag
                    .set
                    .iter()
                    .find(|(p, v)| inside(p, path) && !matches!(v, Value::Object(_)))
                {
                    problem(
                        at,
                        format!("\"{shown}\" is inside \"{}\", which tag rule \"{earlier}\" sets to a value that is not an object; when both rules apply the event cannot be tagged and is held back; set another field", outer.join(".")),
                    );
                }
            }
            if record_field == Some(path[0].as_str()) {
                problem(
                    at,
                    format!("\"{shown}\" is written where the redaction record goes (record_field = \"{}\" in [settings]), so the event would hold that field twice; write another field, or choose another record_field", path[0]),
                );
            }
            if let (true, Some((adder, _))) = (path[0] == "tags", adds_tags) {
                problem(
                    at,
                    format!("\"tags\" holds the tags add_tags adds (rule \"{adder}\" adds some), and setting it would replace them; add tags with add_tags = [\"...\"] instead"),
                );
            }
        }
        if !tag.add_tags.is_empty() && record_field == Some("tags") {
            problem(
                &site.add_tags,
                "add_tags writes the field \"tags\", where the redaction record goes (record_field = \"tags\" in [settings]); choose another record_field".to_owned(),
            );
        }
    }
    errors
}

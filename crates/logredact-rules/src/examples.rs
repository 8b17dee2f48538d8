//! Examples embedded in rule files, and checking them (`logredact test`).

use super::{Routes, RuleSet, Workspace};

/// One example: an input event and what should come out.
#[derive(Debug, Clone)]
pub struct Example {
    /// The id of the rule the example sits under.
    pub rule: String,
    pub name: String,
    /// `file:line` of the example, for reports.
    pub location: String,
    /// Whether its rule is on. Examples of a rule with `enabled = false`
    /// are not run: they describe a rule that is not applied (`logredact
    /// test` lists them as skipped).
    pub enabled: bool,
    pub input: String,
    pub expect: Expectation,
}

/// What an example expects. Every part given must hold.
#[derive(Debug, Clone, Default)]
pub struct Expectation {
    /// The whole output event. The redaction record is compared only when
    /// the expected output contains it.
    pub output: Option<serde_json::Value>,
    /// Dotted path to expected value.
    pub fields: Vec<(String, serde_json::Value)>,
    /// Paths that must not be in the output.
    pub absent: Vec<String>,
    pub routes: Option<Vec<String>>,
    pub dropped: Option<bool>,
    pub rejected: Option<bool>,
}

impl Expectation {
    pub fn is_empty(&self) -> bool {
        self.output.is_none()
            && self.fields.is_empty()
            && self.absent.is_empty()
            && self.routes.is_none()
            && self.dropped.is_none()
            && self.rejected.is_none()
    }
}

impl RuleSet {
    /// Runs one example through the whole rule set. Returns what did not
    /// match, as readable sentences; empty means it passed.
    pub fn check_example(&self, example: &Example) -> Vec<String> {
        let mut work = Workspace::new();
        let mut out = Vec::new();
        let want = &example.expect;
        let verdict = match self.apply(example.input.as_bytes(), &mut out, &mut work) {
            Ok(v) => v,
            Err(reject) => {
                return match want.rejected {
                    Some(true) => Vec::new(),
                    _ => vec![format!(
                        "the event was rejected instead of processed: {reject}"
                    )],
                };
            }
        };
        let mut failures = Vec::new();
        if want.rejected == Some(true) {
            failures.push("expected the event to be rejected, but it was processed".to_owned());
        }
        let dropped = matches!(verdict.routes, Routes::Dropped(_));
        if let Some(d) = want.dropped {
            if d != dropped {
                failures.push(if d {
                    "expected the event to be dropped, but it was kept".to_owned()
                } else {
                    "expected the event to be kept, but a route rule dropped it".to_owned()
                });
            }
        }
        if let Some(routes) = &want.routes {
            let mut got: Vec<String> = match self.route_outputs(verdict.routes) {
                None => self.outputs.clone(),
                Some(list) => list.into_iter().map(str::to_owned).collect(),
            };
            let mut expected = routes.clone();
            got.sort();
            expected.sort();
            if got != expected {
                failures.push(format!("expected outputs {expected:?}, got {got:?}"));
            }
        }
        if dropped {
            if want.output.is_some() || !want.fields.is_empty() {
                failures.push("the event was dropped, so there is no output to compare".to_owned());
            }
            return failures;
        }
        let mut actual: serde_json::Value = match serde_json::from_slice(&out) {
            Ok(v) => v,
            Err(_) => return vec!["internal error: the output is not JSON".to_owned()],
        };
        for (path, expected) in &want.fields {
            match lookup(&actual, path) {
                None => failures.push(format!(
                    "expected {path} = {expected}, but the output has no {path}{}",
                    self.changed_by(example, Some(path))
                )),
                Some(got) if got != expected => failures.push(format!(
                    "expected {path} = {expected}, got {got}{}",
                    self.changed_by(example, Some(path))
                )),
                Some(_) => {}
            }
        }
        for path in &want.absent {
            if let Some(got) = lookup(&actual, path) {
                failures.push(format!(
                    "expected no {path} in the output, but it is there: {got}"
                ));
            }
        }
        if let Some(expected) = &want.output {
            if let (Some(field), serde_json::Value::Object(exp), serde_json::Value::Object(act)) =
                (&self.settings.record_field, expected, &mut actual)
            {
                if !exp.contains_key(field) {
                    act.remove(field);
                }
            }
            if &actual != expected {
                failures.push(format!(
                    "the output differs (- expected, + actual){}:\n{}",
                    self.changed_by(example, None),
                    diff(expected, &actual)
                ));
            }
        }
        failures
    }
}

impl RuleSet {
    /// Which other rules than the example's own changed the value at
    /// `path` (or anything in the event, without one), as a clause to add
    /// to a failure: an example often fails because another rule got to
    /// the field first.
    fn changed_by(&self, example: &Example, path: Option<&str>) -> String {
        let mut work = Workspace::with_explain();
        let mut out = Vec::new();
        if self
            .apply(example.input.as_bytes(), &mut out, &mut work)
            .is_err()
        {
            return String::new();
        }
        // `--explain` writes `user.phones[1]` for the dotted `user.phones.1`.
        let wanted = path.map(|p| {
            p.split('.')
                .map(|part| match part.parse::<usize>() {
                    Ok(i) => format!("[{i}]"),
                    Err(_) => format!(".{part}"),
                })
                .collect::<String>()
                .trim_start_matches('.')
                .to_owned()
        });
        let mut ids: Vec<&str> = Vec::new();
        for e in work.explained() {
            // A route rule sends the event somewhere; it changes nothing in it.
            if e.stage == "route" {
                continue;
            }
            let id = self.ids[e.rule].as_str();
            let here = match &wanted {
                None => true,
                Some(w) if e.stage == "tag" => self.tag_writes(e.rule, w),
                Some(w) => {
                    e.path == *w
                        || e.path.starts_with(&format!("{w}."))
                        || e.path.starts_with(&format!("{w}["))
                }
            };
            if here && id != example.rule && !ids.contains(&id) {
                ids.push(id);
            }
        }
        match ids.as_slice() {
            [] => String::new(),
            [one] => format!(" (rule \"{one}\" changed it)"),
            many => format!(
                " (rules {} changed it)",
                many.iter()
                    .map(|id| format!("\"{id}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl RuleSet {
    /// Whether the tag rule at `index` writes the field at `path`.
    fn tag_writes(&self, index: usize, path: &str) -> bool {
        self.tags.iter().any(|t| {
            t.index == index
                && (t.set.iter().any(|(p, _)| p.join(".") == path)
                    || (path == "tags" && !t.add_tags.is_empty()))
        })
    }
}

/// Follows a dotted path; numeric parts index arrays.
fn lookup<'v>(v: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    path.split('.').try_fold(v, |node, part| match node {
        serde_json::Value::Object(m) => m.get(part),
        serde_json::Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn diff(expected: &serde_json::Value, actual: &serde_json::Value) -> String {
    let e = serde_json::to_string_pretty(expected).unwrap_or_default() + "\n";
    let a = serde_json::to_string_pretty(actual).unwrap_or_default() + "\n";
    let mut out = String::new();
    for change in similar::TextDiff::from_lines(&e, &a).iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "- ",
            similar::ChangeTag::Insert => "+ ",
            similar::ChangeTag::Equal => "  ",
        };
        out.push_str("    ");
        out.push_str(sign);
        out.push_str(change.value());
    }
    out
}

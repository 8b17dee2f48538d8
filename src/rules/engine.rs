//! Applying a [`RuleSet`] to one event.
//!
//! Order, for every event: parse; mask rules (in rule order, on every string
//! and number value they cover); tag rules; route rules (first match wins);
//! residual scan; redaction record; serialize. A value is rewritten only when
//! a rule changes it; everything else is written back from the borrowed input.
//!
//! Fail closed: any step that cannot be done returns a [`Reject`] and no
//! output. A `Reject` never holds event content.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use hmac::Mac;

use super::detect::Scan;
use super::json::{ParseError, Value};
use super::text::{partial_mask, ScanView};
use super::{Action, MaskRule, RuleSet, TagRule};

/// Why an event was not emitted. Holds no event content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    NotUtf8,
    Json(ParseError),
    NotObject,
    /// A rule could not be applied; the event is held back rather than
    /// emitted unmasked.
    Rule {
        rule: String,
        problem: String,
    },
}

impl Reject {
    /// A low-cardinality class name, for counters and dead-letter records.
    pub fn class(&self) -> &'static str {
        match self {
            Reject::NotUtf8 => "not_utf8",
            Reject::Json(ParseError::TooDeep) => "too_deep",
            Reject::Json(_) => "not_json",
            Reject::NotObject => "not_object",
            Reject::Rule { .. } => "rule_failed",
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::NotUtf8 => f.write_str("not processed: the line is not valid UTF-8"),
            Reject::Json(e) => e.fmt(f),
            Reject::NotObject => {
                f.write_str("not processed: the event is valid JSON but not an object")
            }
            Reject::Rule { rule, problem } => write!(f, "held back by rule \"{rule}\": {problem}"),
        }
    }
}

impl std::error::Error for Reject {}

/// Where an event goes after routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    /// No route rule matched: every output.
    Default,
    /// The route rule at this index matched and names the outputs.
    Rule(usize),
    /// The route rule at this index matched and drops the event.
    Dropped(usize),
}

/// The result for one emitted (or dropped) event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub routes: Routes,
    /// Values changed by mask rules.
    pub masked: u32,
    /// Values the residual scan had to mask.
    pub residual: u32,
}

/// One thing a rule did, for `--explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub stage: &'static str,
    pub rule: usize,
    /// JSON path, like `user.phones[1]`; empty for whole-event rules.
    pub path: String,
    pub count: u32,
}

/// Scratch space reused from event to event, and the per-event counts.
#[derive(Debug, Default)]
pub struct Workspace {
    runs: Vec<Range<usize>>,
    counts: Vec<u32>,
    residual: Vec<u32>,
    matches: Vec<Range<usize>>,
    path: PathTrack,
    explain: Option<Vec<Explained>>,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace::default()
    }

    /// Also record what fired where, for `--explain`.
    pub fn with_explain() -> Workspace {
        Workspace {
            explain: Some(Vec::new()),
            ..Workspace::default()
        }
    }

    /// For the last event: how many values each rule changed (tag and
    /// route rules count 1 when they fire), indexed like `RuleSet::rule_ids`.
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// For the last event: residual hits per mask rule.
    pub fn residual_counts(&self) -> &[u32] {
        &self.residual
    }

    pub fn explained(&self) -> &[Explained] {
        self.explain.as_deref().unwrap_or(&[])
    }

    fn reset(&mut self, rules: usize, masks: usize) {
        self.counts.clear();
        self.counts.resize(rules, 0);
        self.residual.clear();
        self.residual.resize(masks, 0);
        self.path.clear();
        if let Some(e) = &mut self.explain {
            e.clear();
        }
    }

    fn note(&mut self, stage: &'static str, rule: usize, count: u32, with_path: bool) {
        if let Some(list) = &mut self.explain {
            let path = if with_path {
                self.path.render()
            } else {
                String::new()
            };
            list.push(Explained {
                stage,
                rule,
                path,
                count,
            });
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Mask,
    Residual,
}

enum Leaf {
    Unchanged,
    Changed(String),
    Drop,
}

impl RuleSet {
    /// Applies the rules to one NDJSON line and appends the redacted event to
    /// `out` (without a newline). A dropped event appends nothing.
    pub fn apply(
        &self,
        line: &[u8],
        out: &mut Vec<u8>,
        work: &mut Workspace,
    ) -> Result<Verdict, Reject> {
        work.reset(self.ids.len(), self.masks.len());
        work.path.enabled = self.scoped || work.explain.is_some();
        let text = std::str::from_utf8(line).map_err(|_| Reject::NotUtf8)?;
        let mut event = Value::parse(text).map_err(Reject::Json)?;
        if !matches!(event, Value::Object(_)) {
            return Err(Reject::NotObject);
        }

        self.walk(&mut event, work)?;
        let masked = work.counts[..self.masks.len()].iter().sum();

        for tag in &self.tags {
            if tag.when.holds(&event) {
                self.apply_tag(tag, &mut event)?;
                work.counts[tag.index] += 1;
                work.note("tag", tag.index, 1, false);
            }
        }

        let mut routes = Routes::Default;
        for route in &self.routes {
            if route.when.as_ref().is_none_or(|c| c.holds(&event)) {
                work.counts[route.index] += 1;
                work.note("route", route.index, 1, false);
                routes = match route.outputs {
                    Some(_) => Routes::Rule(route.index),
                    None => Routes::Dropped(route.index),
                };
                break;
            }
        }
        if let Routes::Dropped(_) = routes {
            return Ok(Verdict {
                routes,
                masked,
                residual: 0,
            });
        }

        let residual = work.residual.iter().sum();
        if let (Some(field), Value::Object(members)) = (&self.settings.record_field, &mut event) {
            // Ours to write: whatever an event brings under this name goes.
            members.retain(|(k, _)| k != field);
        }
        if let Some(explained) = &work.explain {
            let list = explained
                .iter()
                .map(|e| {
                    Value::Object(vec![
                        (Cow::Borrowed("stage"), Value::Str(Cow::Borrowed(e.stage))),
                        (
                            Cow::Borrowed("rule"),
                            Value::Str(Cow::Owned(self.ids[e.rule].clone())),
                        ),
                        (
                            Cow::Borrowed("path"),
                            Value::Str(Cow::Owned(e.path.clone())),
                        ),
                        (
                            Cow::Borrowed("count"),
                            Value::Number(super::json::Number::Unsigned(e.count.into())),
                        ),
                    ])
                })
                .collect();
            set_member(&mut event, "_explain", Value::Array(list));
        }
        let start = out.len();
        event.write_to(out);
        if self.settings.record_field.is_some() {
            self.write_record(out, start, work, masked, residual);
        }
        Ok(Verdict { routes, masked, residual })
    }

    /// The output names an event goes to; `None` means every output.
    pub fn route_outputs(&self, routes: Routes) -> Option<Vec<&str>> {
        match routes {
            Routes::Default => None,
            Routes::Dropped(_) => Some(Vec::new()),
            Routes::Rule(index) => {
                let rule = &self.routes[index - self.masks.len() - self.tags.len()];
                Some(
                    rule.outputs
                        .iter()
                        .flatten()
                        .map(|&o| self.outputs[o].as_str())
                        .collect(),
                )
            }
        }
    }

    /// Appends the redaction record to the serialized event that starts at
    /// `start` in `out`: `"redaction":{"masked":3,"rules":{"mask-cn-id":2,...}}`.
    /// Written as bytes, from keys escaped once at compile time.
    fn write_record(&self, out: &mut Vec<u8>, start: usize, work: &Workspace, masked: u32, residual: u32) {
        debug_assert_eq!(out.last(), Some(&b'}'));
        out.pop();
        if out.len() > start + 1 {
            out.push(b',');
        }
        out.extend_from_slice(&self.record_key);
        out.extend_from_slice(b":{\"masked\":");
        push_number(out, masked);
        out.extend_from_slice(b",\"rules\":{");
        let mut first = true;
        for (key, &n) in self.rule_keys.iter().zip(&work.counts).take(self.masks.len() + self.tags.len()) {
            if n == 0 {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(key);
            out.push(b':');
            push_number(out, n);
        }
        out.push(b'}');
        if residual > 0 {
            out.extend_from_slice(b",\"residual\":");
            push_number(out, residual);
        }
        out.extend_from_slice(b"}}");
    }

    /// Visits every value; returns whether the caller should keep it.
    fn walk(&self, v: &mut Value<'_>, work: &mut Workspace) -> Result<bool, Reject> {
        match v {
            Value::Object(members) => {
                let mut i = 0;
                while i < members.len() {
                    work.path.push_key(&members[i].0);
                    let keep = self.walk(&mut members[i].1, work);
                    work.path.pop();
                    if keep? {
                        i += 1;
                    } else {
                        members.remove(i);
                    }
                }
                Ok(true)
            }
            Value::Array(items) => {
                let mut i = 0;
                let mut shown = 0;
                while i < items.len() {
                    work.path.push_index(shown);
                    let keep = self.walk(&mut items[i], work);
                    work.path.pop();
                    shown += 1;
                    if keep? {
                        i += 1;
                    } else {
                        items.remove(i);
                    }
                }
                Ok(true)
            }
            Value::Str(s) => match self.scan_leaf(s, work)? {
                Leaf::Unchanged => Ok(true),
                Leaf::Changed(new) => {
                    *s = Cow::Owned(new);
                    Ok(true)
                }
                Leaf::Drop => Ok(false),
            },
            Value::Number(n) => {
                // Only numbers long enough to be personal data, unless a
                // custom pattern might want shorter ones.
                if !(self.has_regex || n.has_digits(11)) {
                    return Ok(true);
                }
                let text = n.to_text();
                match self.scan_leaf(&text, work)? {
                    Leaf::Unchanged => Ok(true),
                    Leaf::Changed(new) => {
                        // A masked number becomes a string.
                        *v = Value::Str(Cow::Owned(new));
                        Ok(true)
                    }
                    Leaf::Drop => Ok(false),
                }
            }
            Value::Null | Value::Bool(_) => Ok(true),
        }
    }

    /// Runs the mask rules over one string value, then the residual check.
    ///
    /// The residual check runs every mask rule's detector over the final
    /// text wherever that text is not exactly what every rule already
    /// scanned: when a rule changed it, or when a rule was scoped away from
    /// this field. An unchanged value that every rule scanned needs no second
    /// look: detectors are pure functions of the text, so they would find
    /// nothing again. Values set by tag rules are constants, checked for
    /// personal data when the rules compile.
    fn scan_leaf(&self, original: &str, work: &mut Workspace) -> Result<Leaf, Reject> {
        let mut current: Cow<'_, str> = Cow::Borrowed(original);
        let mut runs = std::mem::take(&mut work.runs);
        let mut matches = std::mem::take(&mut work.matches);
        let result = self.scan_stages(&mut current, &mut runs, &mut matches, work);
        work.runs = runs;
        work.matches = matches;
        Ok(match result? {
            true => Leaf::Drop,
            false => match current {
                Cow::Borrowed(_) => Leaf::Unchanged,
                Cow::Owned(s) => Leaf::Changed(s),
            },
        })
    }

    /// Returns whether the value is to be dropped.
    fn scan_stages(
        &self,
        current: &mut Cow<'_, str>,
        runs: &mut Vec<Range<usize>>,
        matches: &mut Vec<Range<usize>>,
        work: &mut Workspace,
    ) -> Result<bool, Reject> {
        let mut skipped = false;
        if self.scan_pass(Stage::Mask, current, runs, matches, work, &mut skipped)? {
            return Ok(true);
        }
        let changed = matches!(current, Cow::Owned(_));
        if self.settings.residual_scan && (changed || skipped) {
            return self.scan_pass(Stage::Residual, current, runs, matches, work, &mut skipped);
        }
        Ok(false)
    }

    /// One ordered pass of the mask rules over a value. After a rule
    /// rewrites the text, the following rules see the new text.
    fn scan_pass(
        &self,
        stage: Stage,
        current: &mut Cow<'_, str>,
        runs: &mut Vec<Range<usize>>,
        matches: &mut Vec<Range<usize>>,
        work: &mut Workspace,
        skipped: &mut bool,
    ) -> Result<bool, Reject> {
        let mut next_rule = 0;
        'text: loop {
            let view = ScanView::new(current);
            let scan = Scan::new(view.bytes(), runs);
            if !self.has_regex && scan.features.digits < 11 && !scan.features.has_at {
                return Ok(false);
            }
            while next_rule < self.masks.len() {
                let rule = &self.masks[next_rule];
                next_rule += 1;
                let applies = match stage {
                    Stage::Mask => rule.applies_at(&work.path),
                    Stage::Residual => !rule.excluded_at(&work.path),
                };
                if !applies {
                    *skipped = true;
                    continue;
                }
                if !rule.detector.may_match(&scan.features) {
                    continue;
                }
                matches.clear();
                rule.detector.find(&scan, matches);
                if matches.is_empty() {
                    continue;
                }
                let n = matches.len() as u32;
                let (stage_name, slot) = match stage {
                    Stage::Mask => ("mask", &mut work.counts[rule.index]),
                    Stage::Residual => ("residual", &mut work.residual[rule.index]),
                };
                if let Action::Drop = rule.action {
                    *slot += 1;
                    work.note(stage_name, rule.index, 1, true);
                    return Ok(true);
                }
                *slot += n;
                work.note(stage_name, rule.index, n, true);
                let rewritten = self.rewrite(rule, current, &view, matches)?;
                *current = Cow::Owned(rewritten);
                continue 'text;
            }
            return Ok(false);
        }
    }

    fn rewrite(
        &self,
        rule: &MaskRule,
        current: &str,
        view: &ScanView<'_>,
        matches: &[Range<usize>],
    ) -> Result<String, Reject> {
        let mut out = String::with_capacity(current.len() + 16);
        let mut last = 0;
        for m in matches {
            let orig = view.to_original(m);
            if orig.start < last
                || !current.is_char_boundary(orig.start)
                || !current.is_char_boundary(orig.end)
            {
                return Err(Reject::Rule {
                    rule: self.ids[rule.index].clone(),
                    problem: "a match did not line up with whole characters, so it could not be masked safely"
                        .to_owned(),
                });
            }
            out.push_str(&current[last..orig.start]);
            let matched = &view.bytes()[m.clone()];
            match &rule.action {
                Action::Partial {
                    keep_first,
                    keep_last,
                    mask_char,
                } => out.push_str(&partial_mask(
                    &String::from_utf8_lossy(matched),
                    *keep_first,
                    *keep_last,
                    *mask_char,
                )),
                Action::Full { replacement } => out.push_str(replacement),
                Action::Hash { key } => {
                    out.push_str(&keyed_hash(&key.0, &rule.detector.normalize(matched)))
                }
                Action::Drop => unreachable!("drop is handled before rewriting"),
            }
            last = orig.end;
        }
        out.push_str(&current[last..]);
        Ok(out)
    }

    fn apply_tag(&self, tag: &TagRule, event: &mut Value<'_>) -> Result<(), Reject> {
        let fail = |problem: String| Reject::Rule {
            rule: self.ids[tag.index].clone(),
            problem,
        };
        for (path, value) in &tag.set {
            let (last, parents) = path.split_last().expect("paths are never empty");
            let mut node = &mut *event;
            for (depth, key) in parents.iter().enumerate() {
                let Value::Object(members) = node else {
                    return Err(fail(format!(
                        "cannot set \"{}\" because \"{}\" is not an object",
                        path.join("."),
                        path[..depth].join(".")
                    )));
                };
                let pos = match members.iter().position(|(k, _)| k == key) {
                    Some(p) => p,
                    None => {
                        members.push((Cow::Owned(key.clone()), Value::Object(Vec::new())));
                        members.len() - 1
                    }
                };
                node = &mut members[pos].1;
            }
            if !matches!(node, Value::Object(_)) {
                return Err(fail(format!(
                    "cannot set \"{}\" because \"{}\" is not an object",
                    path.join("."),
                    parents.join(".")
                )));
            }
            set_member(node, last, value.clone());
        }
        if !tag.add_tags.is_empty() {
            add_tags(event, &tag.add_tags).map_err(fail)?;
        }
        Ok(())
    }
}

/// Keyed HMAC-SHA256 of `value`, marked so a reader knows it is a hash:
/// `hmac:` and the first 128 bits in hex.
pub(crate) fn keyed_hash(key: &hmac::Hmac<sha2::Sha256>, value: &[u8]) -> String {
    let mut mac = key.clone();
    mac.update(value);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(5 + 32);
    out.push_str("hmac:");
    for b in &digest[..16] {
        out.push(char::from_digit(u32::from(b >> 4), 16).expect("nibble"));
        out.push(char::from_digit(u32::from(b & 15), 16).expect("nibble"));
    }
    out
}

fn push_number(out: &mut Vec<u8>, n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn set_member<'a>(object: &mut Value<'a>, key: &str, value: Value<'a>) {
    if let Value::Object(members) = object {
        match members.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => *slot = value,
            None => members.push((Cow::Owned(key.to_owned()), value)),
        }
    }
}

fn add_tags(event: &mut Value<'_>, tags: &[String]) -> Result<(), String> {
    let Value::Object(members) = event else {
        return Ok(());
    };
    let slot = match members.iter().position(|(k, _)| k == "tags") {
        Some(p) => &mut members[p].1,
        None => {
            members.push((Cow::Borrowed("tags"), Value::Array(Vec::new())));
            &mut members.last_mut().expect("just pushed").1
        }
    };
    if let Value::Str(s) = slot {
        *slot = Value::Array(vec![Value::Str(std::mem::take(s))]);
    }
    let Value::Array(items) = slot else {
        return Err(
            "cannot add tags because the event's \"tags\" field is neither a list nor text"
                .to_owned(),
        );
    };
    for tag in tags {
        if !items.iter().any(|v| v.as_str() == Some(tag)) {
            items.push(Value::Str(Cow::Owned(tag.clone())));
        }
    }
    Ok(())
}

impl MaskRule {
    fn applies_at(&self, path: &PathTrack) -> bool {
        (self.fields.is_empty() || self.fields.iter().any(|f| f.covers(path.keys())))
            && !self.excluded_at(path)
    }

    fn excluded_at(&self, path: &PathTrack) -> bool {
        self.exclude.iter().any(|f| f.covers(path.keys()))
    }
}

/// The path of the value being visited; kept only when some rule or
/// `--explain` needs it.
#[derive(Debug, Default)]
struct PathTrack {
    enabled: bool,
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy)]
enum Segment {
    Key { start: usize, end: usize },
    Index(usize),
}

impl PathTrack {
    fn clear(&mut self) {
        self.text.clear();
        self.segments.clear();
    }

    fn push_key(&mut self, key: &str) {
        if self.enabled {
            let start = self.text.len();
            self.text.push_str(key);
            self.segments.push(Segment::Key {
                start,
                end: self.text.len(),
            });
        }
    }

    fn push_index(&mut self, i: usize) {
        if self.enabled {
            self.segments.push(Segment::Index(i));
        }
    }

    fn pop(&mut self) {
        if let Some(Segment::Key { start, .. }) = self.segments.pop() {
            self.text.truncate(start);
        }
    }

    /// Object keys from the outside in; array positions are skipped.
    fn keys(&self) -> impl Iterator<Item = &str> + Clone {
        self.segments.iter().filter_map(|s| match *s {
            Segment::Key { start, end } => Some(&self.text[start..end]),
            Segment::Index(_) => None,
        })
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for s in &self.segments {
            match *s {
                Segment::Key { start, end } => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&self.text[start..end]);
                }
                Segment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

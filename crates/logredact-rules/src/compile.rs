//! Rule files (TOML) to a compiled [`RuleSet`].
//!
//! The TOML is walked by hand, with spans, rather than through serde derive,
//! so that every problem in every file is found in one pass and reported as
//! file:line:column with the rule's id and a plain sentence.

use std::collections::HashMap;
use std::ops::Range;

use hmac::Mac;
use sha2::Digest;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::condition::{Condition, Field};
use super::detect::{builtin, detector_names, CustomRegex, Detector};
use super::examples::{Example, Expectation};
use super::json::Value;
use super::path::FieldPattern;
use super::{
    Action, HashKey, KeyRing, MaskRule, RouteRule, RuleError, RuleErrors, RuleSet, Settings,
    SourceFile, TagRule, FORMAT_VERSION,
};

const TOP_KEYS: &[&str] = &["version", "settings", "mask", "tag", "route"];
const SETTINGS_KEYS: &[&str] = &["record", "record_field", "residual_scan"];
const MASK_KEYS: &[&str] = &[
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
const TAG_KEYS: &[&str] = &[
    "id",
    "description",
    "enabled",
    "when",
    "set",
    "add_tags",
    "example",
];
const ROUTE_KEYS: &[&str] = &[
    "id",
    "description",
    "enabled",
    "when",
    "outputs",
    "drop",
    "example",
];
const CONDITION_KEYS: &[&str] = &[
    "field", "equals", "one_of", "matches", "exists", "all", "any", "not",
];
const EXAMPLE_KEYS: &[&str] = &[
    "name",
    "input",
    "output",
    "expect",
    "expect_absent",
    "expect_routes",
    "expect_dropped",
    "expect_rejected",
];
const ACTIONS: &[&str] = &["partial", "full", "hash", "drop"];

/// Nesting limit for conditions, so a rule file cannot build a deep tree.
const MAX_CONDITION_DEPTH: usize = 16;

type Item<'i> = Spanned<DeValue<'i>>;

pub(super) fn compile(files: &[SourceFile], keys: &KeyRing) -> Result<RuleSet, RuleErrors> {
    let mut errors = Vec::new();
    let mut masks: Vec<(String, MaskRule)> = Vec::new();
    let mut tags: Vec<(String, TagRule)> = Vec::new();
    // Where each tag rule sits, for the personal-data check below.
    let mut tag_sites: Vec<RuleError> = Vec::new();
    let mut routes: Vec<(String, RouteRule)> = Vec::new();
    let mut outputs: Vec<String> = Vec::new();
    let mut examples: Vec<Example> = Vec::new();
    let mut settings: Option<(Settings, String)> = None;
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut watched: Vec<Vec<String>> = Vec::new();

    for file in files {
        let mut cx = Cx {
            file: &file.name,
            text: &file.text,
            errors: &mut errors,
            rule: None,
            watched: &mut watched,
        };
        let root = match DeTable::parse(&file.text) {
            Ok(t) => t,
            Err(e) => {
                let at = e.span().map_or(0, |s| s.start);
                cx.err(
                    at..at,
                    format!("this is not valid TOML: {}", e.message().trim_end()),
                );
                continue;
            }
        };
        let root_span = root.span();
        let root = root.get_ref();
        cx.check_keys(root, TOP_KEYS, "a rule file");
        match cx.int(root, "version") {
            None if get(root, "version").is_none() => cx.err(
                root_span.start..root_span.start,
                format!("the file has no format version; add `version = {FORMAT_VERSION}` as its first line"),
            ),
            Some((v, span)) if v != FORMAT_VERSION => cx.err(
                span,
                format!("this file says version = {v}, but this logredact reads rule format version {FORMAT_VERSION}"),
            ),
            _ => {}
        }
        if let Some((t, span)) = cx.table(root, "settings") {
            let s = cx.settings(t);
            match &settings {
                Some((_, first)) => cx.err(
                    span,
                    format!("[settings] is already given in {first}; keep one [settings] table for all rule files"),
                ),
                None => settings = Some((s, file.name.clone())),
            }
        }

        for (t, span) in cx.tables(root, "mask") {
            let Some(id) = cx.rule_id(t, span.clone(), "mask", masks.len(), &mut ids) else {
                continue;
            };
            let rule = cx.mask_rule(t, span.clone(), keys);
            examples.extend(cx.examples(t));
            if let Some(rule) = rule {
                if cx.enabled(t) {
                    masks.push((id, rule));
                }
            }
            cx.rule = None;
        }
        for (t, span) in cx.tables(root, "tag") {
            let Some(id) = cx.rule_id(t, span.clone(), "tag", tags.len(), &mut ids) else {
                continue;
            };
            let site = RuleError::at(cx.file, cx.text, span.start, Some(&id), String::new());
            let rule = cx.tag_rule(t, span);
            examples.extend(cx.examples(t));
            if let Some(rule) = rule {
                if cx.enabled(t) {
                    tags.push((id, rule));
                    tag_sites.push(site);
                }
            }
            cx.rule = None;
        }
        for (t, span) in cx.tables(root, "route") {
            let Some(id) = cx.rule_id(t, span.clone(), "route", routes.len(), &mut ids) else {
                continue;
            };
            let rule = cx.route_rule(t, span, &mut outputs);
            examples.extend(cx.examples(t));
            if let Some(rule) = rule {
                if cx.enabled(t) {
                    routes.push((id, rule));
                }
            }
            cx.rule = None;
        }
    }

    // Tag rules write constants into events after masking. The residual
    // scan relies on those constants holding no personal data, so check them
    // here, once, with every detector the mask rules use.
    for ((_, tag), site) in tags.iter().zip(&tag_sites) {
        let mut texts: Vec<String> = tag.add_tags.clone();
        for (_, v) in &tag.set {
            collect_strings(v, &mut texts);
        }
        for text in &texts {
            if let Some((_, m)) = masks
                .iter()
                .find(|(_, m)| !m.detector.find_in(text.as_bytes()).is_empty())
            {
                errors.push(RuleError {
                    message: format!(
                        "a value this rule writes looks like personal data ({}); rule files must not hold personal data",
                        m.detector.name()
                    ),
                    ..site.clone()
                });
            }
        }
    }

    if !errors.is_empty() {
        // File order, then position in the file.
        let order = |name: &str| files.iter().position(|f| f.name == name);
        errors.sort_by(|a, b| {
            (order(&a.file), a.line, a.column).cmp(&(order(&b.file), b.line, b.column))
        });
        return Err(RuleErrors(errors));
    }

    // Apply order: masks, then tags, then routes, each in file and rule order.
    let mut all_ids = Vec::new();
    let masks: Vec<MaskRule> = masks
        .into_iter()
        .map(|(id, mut r)| {
            r.index = all_ids.len();
            all_ids.push(id);
            r
        })
        .collect();
    let tags: Vec<TagRule> = tags
        .into_iter()
        .map(|(id, mut r)| {
            r.index = all_ids.len();
            all_ids.push(id);
            r
        })
        .collect();
    let routes: Vec<RouteRule> = routes
        .into_iter()
        .map(|(id, mut r)| {
            r.index = all_ids.len();
            all_ids.push(id);
            r
        })
        .collect();

    let mut hasher = sha2::Sha256::new();
    for f in files {
        hasher.update(f.name.as_bytes());
        hasher.update([0]);
        hasher.update(f.text.as_bytes());
        hasher.update([0]);
    }
    let fingerprint = hasher.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let tags_on_bytes = watch_tag_fields(&tags, &mut watched);
    let settings = settings.map(|(s, _)| s).unwrap_or_default();
    let json_key = |s: &str| serde_json::to_vec(s).expect("strings serialize");
    let mut set = RuleSet {
        record_key: json_key(settings.record_field.as_deref().unwrap_or("")),
        rule_keys: all_ids.iter().map(|id| json_key(id)).collect(),
        watch_keys: watch_keys(&watched),
        watched,
        tags_on_bytes,
        scoped: masks
            .iter()
            .any(|m| !m.fields.is_empty() || !m.exclude.is_empty()),
        has_regex: masks
            .iter()
            .any(|m| matches!(m.detector, Detector::Regex(_))),
        // Detectors that need no digits need an `@` (e-mail), which the
        // gates test on its own, or are custom patterns, which turn the
        // gates off (`has_regex`).
        min_digits: masks
            .iter()
            .map(|m| m.detector.min_digits())
            .filter(|&d| d > 0)
            .min()
            .unwrap_or(usize::MAX),
        min_number_digits: masks
            .iter()
            .filter(|m| m.detector.in_numbers())
            .map(|m| m.detector.min_digits())
            .filter(|&d| d > 0)
            .min()
            .unwrap_or(usize::MAX),
        reads_keys: masks.iter().any(|m| m.detector.reads_key()),
        masks,
        tags,
        routes,
        settings,
        ids: all_ids,
        outputs,
        examples,
        fingerprint,
    };
    set.derive_tag_members();
    Ok(set)
}

/// Per depth, the keys watched paths have there, each with the paths (as
/// bits; only the first 64 paths are tracked) that have it.
fn watch_keys(watched: &[Vec<String>]) -> Vec<Vec<(String, u64)>> {
    let mut by_depth: Vec<Vec<(String, u64)>> = Vec::new();
    for (i, path) in watched.iter().enumerate().take(64) {
        for (depth, key) in path.iter().enumerate() {
            if by_depth.len() <= depth {
                by_depth.push(Vec::new());
            }
            let keys = &mut by_depth[depth];
            match keys.iter_mut().find(|(k, _)| k == key) {
                Some((_, paths)) => *paths |= 1 << i,
                None => keys.push((key.clone(), 1 << i)),
            }
        }
    }
    by_depth
}

/// Whether tag rules can be applied to the written event rather than to a
/// tree of it: each writes top-level fields only (`set` with one-key paths,
/// and `tags` when it adds tags), none writes one field twice, and no
/// condition reads a field tags write. If so, those fields become watched,
/// so that an event that has one already is tagged on a tree; the members
/// each tag appends are derived once the rule set is built
/// (`RuleSet::derive_tag_members`).
fn watch_tag_fields(tags: &[TagRule], watched: &mut Vec<Vec<String>>) -> bool {
    let mut written: Vec<&str> = Vec::new();
    for tag in tags {
        let mut own: Vec<&str> = Vec::new();
        for path in tag.set.iter().map(|(path, _)| path) {
            let [key] = path.as_slice() else {
                return false;
            };
            own.push(key);
        }
        if !tag.add_tags.is_empty() {
            own.push("tags");
        }
        for (i, key) in own.iter().enumerate() {
            if own[..i].contains(key) {
                return false;
            }
            if !written.contains(key) {
                written.push(key);
            }
        }
    }
    // Watched paths are tracked as bits of a u64.
    if watched.iter().any(|w| written.contains(&w[0].as_str()))
        || watched.len() + written.len() > 64
    {
        return false;
    }
    watched.extend(written.iter().map(|k| vec![(*k).to_owned()]));
    true
}

/// Whether some key of `t` looks like a typo of `key`; the unknown-key
/// error already says so, and a second "missing" error would only confuse.
fn misspelled(t: &DeTable<'_>, key: &str) -> bool {
    t.iter().any(|(k, _)| {
        let k = k.get_ref().as_ref();
        k != key && did_you_mean(k, &[key]).is_some()
    })
}

fn get<'t, 'i>(t: &'t DeTable<'i>, key: &str) -> Option<&'t Item<'i>> {
    t.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
}

/// The closest allowed word, if one is close enough to be a likely typo.
fn did_you_mean<'a>(word: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (strsim::jaro_winkler(word, a), *a))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, a)| a)
}

fn type_name(v: &DeValue<'_>) -> &'static str {
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

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

struct Cx<'a> {
    file: &'a str,
    text: &'a str,
    errors: &'a mut Vec<RuleError>,
    /// The id of the rule being read, for error messages.
    rule: Option<String>,
    /// Field paths that conditions read, shared by all files.
    watched: &'a mut Vec<Vec<String>>,
}

impl Cx<'_> {
    fn err(&mut self, span: Range<usize>, message: String) {
        self.errors.push(RuleError::at(
            self.file,
            self.text,
            span.start,
            self.rule.as_deref(),
            message,
        ));
    }

    fn check_keys(&mut self, t: &DeTable<'_>, allowed: &[&str], what: &str) {
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

    fn wrong_type(&mut self, key: &str, v: &Item<'_>, want: &str) {
        self.err(
            v.span(),
            format!("\"{key}\" must be {want}, not {}", type_name(v.get_ref())),
        );
    }

    fn string(&mut self, t: &DeTable<'_>, key: &str) -> Option<(String, Range<usize>)> {
        let v = get(t, key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span())),
            _ => {
                self.wrong_type(key, v, "text in quotes");
                None
            }
        }
    }

    fn int(&mut self, t: &DeTable<'_>, key: &str) -> Option<(i64, Range<usize>)> {
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

    fn count(&mut self, t: &DeTable<'_>, key: &str) -> Option<usize> {
        let (n, span) = self.int(t, key)?;
        match usize::try_from(n) {
            Ok(n) if n <= 64 => Some(n),
            _ => {
                self.err(span, format!("\"{key}\" must be between 0 and 64"));
                None
            }
        }
    }

    fn boolean(&mut self, t: &DeTable<'_>, key: &str) -> Option<bool> {
        let v = get(t, key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, v, "true or false");
                None
            }
        }
    }

    fn strings(&mut self, t: &DeTable<'_>, key: &str) -> Option<Vec<(String, Range<usize>)>> {
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

    fn table<'t, 'i>(
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
    fn tables<'t, 'i>(
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

    fn enabled(&mut self, t: &DeTable<'_>) -> bool {
        self.boolean(t, "enabled").unwrap_or(true)
    }

    fn settings(&mut self, t: &DeTable<'_>) -> Settings {
        self.check_keys(t, SETTINGS_KEYS, "[settings]");
        let mut s = Settings::default();
        if let Some((field, span)) = self.string(t, "record_field") {
            if field.is_empty() || field.contains('.') {
                self.err(
                    span,
                    "\"record_field\" must be a plain field name without dots".to_owned(),
                );
            }
            s.record_field = Some(field);
        }
        if self.boolean(t, "record") == Some(false) {
            s.record_field = None;
        }
        if let Some(r) = self.boolean(t, "residual_scan") {
            s.residual_scan = r;
        }
        s
    }

    /// Reads and checks a rule's id and makes it the context for errors.
    fn rule_id(
        &mut self,
        t: &DeTable<'_>,
        span: Range<usize>,
        kind: &str,
        nth: usize,
        seen: &mut HashMap<String, String>,
    ) -> Option<String> {
        let keys = match kind {
            "mask" => MASK_KEYS,
            "tag" => TAG_KEYS,
            _ => ROUTE_KEYS,
        };
        let Some((id, id_span)) = self.string(t, "id") else {
            self.rule = Some(format!("{kind} rule #{}", nth + 1));
            if get(t, "id").is_none() && !misspelled(t, "id") {
                self.err(
                    span,
                    "this rule has no id; add a line like id = \"my-rule\"".to_owned(),
                );
            }
            self.check_keys(t, keys, &format!("a {kind} rule"));
            return None;
        };
        self.rule = Some(id.clone());
        if !valid_name(&id) {
            self.err(
                id_span.clone(),
                "an id may use only lower-case letters, digits, '-' and '_'".to_owned(),
            );
        }
        let (line, column) = super::error::line_column(self.text, id_span.start);
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
        Some(id)
    }

    fn field_patterns(&mut self, t: &DeTable<'_>, key: &str) -> Vec<FieldPattern> {
        let mut out = Vec::new();
        for (text, span) in self.strings(t, key).unwrap_or_default() {
            match FieldPattern::parse(&text) {
                Ok(p) => out.push(p),
                Err(e) => self.err(span, e),
            }
        }
        out
    }

    fn mask_rule(
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
                    None => {
                        self.err(
                            dspan.clone(),
                            "detector = \"regex\" needs a pattern; add pattern = '...'".to_owned(),
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
                                self.err(
                                    pspan.clone(),
                                    format!("the pattern is not a valid regular expression: {e}"),
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
                                (Some(c), None) if !c.is_ascii_alphanumeric() => c,
                                _ => {
                                    self.err(mspan, "\"mask_char\" must be one character that is not a letter or digit, like \"*\"".to_owned());
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

    fn tag_rule(&mut self, t: &DeTable<'_>, span: Range<usize>) -> Option<TagRule> {
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

    fn route_rule(
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

    fn condition(&mut self, item: &Item<'_>, depth: usize) -> Option<Condition> {
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
            let id = self
                .watched
                .iter()
                .position(|w| *w == path)
                .unwrap_or_else(|| {
                    self.watched.push(path.clone());
                    self.watched.len() - 1
                });
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

    fn examples(&mut self, t: &DeTable<'_>) -> Vec<Example> {
        let rule = self.rule.clone().unwrap_or_default();
        let mut out = Vec::new();
        for (n, (ex, span)) in self.tables(t, "example").into_iter().enumerate() {
            self.check_keys(ex, EXAMPLE_KEYS, "an example");
            let (line, _) = super::error::line_column(self.text, span.start);
            let name = self
                .string(ex, "name")
                .map_or_else(|| format!("example {}", n + 1), |(s, _)| s);
            let parse_json = |cx: &mut Cx<'_>, key: &str| -> Option<serde_json::Value> {
                let (text, s) = cx.string(ex, key)?;
                match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        cx.err(s, format!("the example's {key} is not valid JSON: {e}"));
                        None
                    }
                }
            };
            let input = self.string(ex, "input");
            if input.is_none() && get(ex, "input").is_none() {
                self.err(
                    span.clone(),
                    "this example has no input; add input = '{\"field\": \"value\"}'".to_owned(),
                );
            }
            if let Some((text, s)) = &input {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
                    self.err(
                        s.clone(),
                        format!("the example's input is not valid JSON: {e}"),
                    );
                }
            }
            let output = parse_json(self, "output");
            let expect = self.table(ex, "expect").map(|(et, _)| {
                et.iter()
                    .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                    .collect::<Vec<_>>()
            });
            let absent = self
                .strings(ex, "expect_absent")
                .map(|v| v.into_iter().map(|(s, _)| s).collect());
            let routes = self
                .strings(ex, "expect_routes")
                .map(|v| v.into_iter().map(|(s, _)| s).collect());
            let dropped = self.boolean(ex, "expect_dropped");
            let rejected = self.boolean(ex, "expect_rejected");
            let expectation = Expectation {
                output,
                fields: expect.unwrap_or_default(),
                absent: absent.unwrap_or_default(),
                routes,
                dropped,
                rejected,
            };
            if expectation.is_empty() {
                self.err(
                    span.clone(),
                    "this example expects nothing; add output = '...' or expect = { \"field\" = \"value\" }".to_owned(),
                );
            }
            if let Some((input, _)) = input {
                out.push(Example {
                    rule: rule.clone(),
                    name,
                    location: format!("{}:{line}", self.file),
                    input,
                    expect: expectation,
                });
            }
        }
        out
    }
}

/// Every string (and number, as text) inside a constant.
fn collect_strings(v: &Value<'_>, out: &mut Vec<String>) {
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

/// A TOML value as JSON, for constants in conditions, `set` and examples.
fn to_json(v: &DeValue<'_>) -> serde_json::Value {
    match v {
        DeValue::String(s) => serde_json::Value::String(s.to_string()),
        DeValue::Integer(i) => {
            i64::from_str_radix(i.as_str(), i.radix()).map_or(serde_json::Value::Null, Into::into)
        }
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        DeValue::Boolean(b) => serde_json::Value::Bool(*b),
        DeValue::Datetime(d) => serde_json::Value::String(d.to_string()),
        DeValue::Array(a) => {
            serde_json::Value::Array(a.iter().map(|i| to_json(i.get_ref())).collect())
        }
        DeValue::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}

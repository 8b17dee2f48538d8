//! Rule files (TOML) to a compiled [`RuleSet`].
//!
//! The TOML is walked by hand, with spans, rather than through serde derive,
//! so that every problem in every file is found in one pass and reported as
//! file:line:column with the rule's id and a plain sentence.
//!
//! - `cx`: the walk's context (the file, the errors so far) and its typed
//!   getters, each reporting a wrong type or a typo where it is.
//! - `settings`, `mask`, `tag`, `route`: one rule kind each.
//! - `condition`: `when` conditions of tag and route rules.
//! - `examples`: the examples a rule file carries.
//! - `syntax`: a file that is not valid TOML, said so its author can act.
//! - `shadow`: warnings about rules that can never apply.

mod condition;
mod cx;
mod examples;
mod mask;
mod route;
mod settings;
mod shadow;
mod syntax;
mod tag;

use std::collections::HashMap;

use sha2::Digest;
use toml::de::DeTable;

use crate::detect::Detector;
use crate::examples::Example;
use crate::{
    KeyRing, MaskRule, RouteRule, RuleError, RuleErrors, RuleKind, RuleSet, Settings, SourceFile,
    TagRule, FORMAT_VERSION,
};
use cx::{get, Cx};
use tag::{collect_strings, write_conflicts, TagSites};

const TOP_KEYS: &[&str] = &["version", "settings", "mask", "tag", "route"];

pub(super) fn compile(files: &[SourceFile], keys: &KeyRing) -> Result<RuleSet, RuleErrors> {
    let mut errors = Vec::new();
    let mut masks: Vec<(String, MaskRule)> = Vec::new();
    let mut tags: Vec<(String, TagRule)> = Vec::new();
    // Where each tag rule sits, for the personal-data check below.
    // Other text rules write into every event they touch (ids into the
    // redaction record, replacements), each with where it is written and
    // what it is, for the personal-data check below.
    let mut written: Vec<(String, RuleError, &str)> = Vec::new();
    // Partial masks that leave more readable than the detector's usual.
    let mut keep_warnings: Vec<RuleError> = Vec::new();
    // Where each tag rule writes, for the conflicts checked below.
    let mut tag_writes: Vec<TagSites> = Vec::new();
    let mut routes: Vec<(String, RouteRule)> = Vec::new();
    let mut route_sites: Vec<RuleError> = Vec::new();
    // Where each tag rule's condition is, for warnings about it.
    let mut tag_when_sites: Vec<RuleError> = Vec::new();
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
        // Every syntax error in the file, not only the first.
        let (root, syntax_errors) = DeTable::parse_recoverable(&file.text);
        if !syntax_errors.is_empty() {
            cx.errors
                .extend(syntax::problems(&file.name, &file.text, &syntax_errors));
            continue;
        }
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

        for (t, span) in cx.tables(root, RuleKind::Mask.as_str()) {
            let id = cx.rule_id(t, span.clone(), RuleKind::Mask, &mut ids);
            written.extend(written_id(&cx, t, &id));
            if let Some(r) = get(t, "replacement").filter(|r| r.get_ref().as_str().is_some()) {
                let text = r.get_ref().as_str().unwrap_or_default().to_owned();
                let at = RuleError::at(cx.file, cx.text, r.span().start, Some(&id), String::new());
                written.push((text, at, "the replacement"));
            }
            let rule = cx.mask_rule(t, span.clone(), keys);
            if let Some(w) = rule.as_ref().and_then(|r| keeps_more(&cx, t, &id, r)) {
                keep_warnings.push(w);
            }
            let enabled = cx.enabled_with_examples(t, &mut examples);
            if let Some(rule) = rule {
                if enabled {
                    masks.push((id, rule));
                }
            }
            cx.rule = None;
        }
        for (t, span) in cx.tables(root, RuleKind::Tag.as_str()) {
            let id = cx.rule_id(t, span.clone(), RuleKind::Tag, &mut ids);
            written.extend(written_id(&cx, t, &id));
            let when_site = RuleError::at(
                cx.file,
                cx.text,
                when_at(t, &span),
                Some(&id),
                String::new(),
            );
            let rule = cx.tag_rule(t, span, &id);
            let enabled = cx.enabled_with_examples(t, &mut examples);
            if let Some((rule, writes)) = rule {
                if enabled {
                    // Tag rules write constants into events after masking,
                    // where the residual scan does not look.
                    let what = "a value this rule writes";
                    for tag in &rule.add_tags {
                        written.push((tag.clone(), writes.add_tags.clone(), what));
                    }
                    for ((_, value), at) in rule.set.iter().zip(&writes.set) {
                        let mut texts = Vec::new();
                        collect_strings(value, &mut texts);
                        written.extend(texts.into_iter().map(|t| (t, at.clone(), what)));
                    }
                    tags.push((id, rule));
                    tag_writes.push(writes);
                    tag_when_sites.push(when_site);
                }
            }
            cx.rule = None;
        }
        for (t, span) in cx.tables(root, RuleKind::Route.as_str()) {
            let id = cx.rule_id(t, span.clone(), RuleKind::Route, &mut ids);
            written.extend(written_id(&cx, t, &id));
            let site = RuleError::at(
                cx.file,
                cx.text,
                when_at(t, &span),
                Some(&id),
                String::new(),
            );
            let rule = cx.route_rule(t, span, &mut outputs);
            let enabled = cx.enabled_with_examples(t, &mut examples);
            if let Some(rule) = rule {
                if enabled {
                    routes.push((id, rule));
                    route_sites.push(site);
                }
            }
            cx.rule = None;
        }
    }

    // Tag rules write constants into events after masking, and every rule
    // writes its id into the redaction record, which the residual scan
    // does not look at; replacements stand where a match was. So check
    // them here, once, with every detector the mask rules use.
    for (text, site, what) in &written {
        if let Some((id, m)) = masks
            .iter()
            .find(|(_, m)| !m.detector.find_in(text.as_bytes()).is_empty())
        {
            let own_pattern = *what == "the replacement"
                && site.rule.as_ref() == Some(id)
                && matches!(m.detector, Detector::Regex(_));
            let message = if own_pattern {
                // A pattern that takes in the key (`token=\S+`) meets it
                // again in its own replacement (`token=***`).
                "the rule's own pattern matches its replacement, so the residual scan would find it in every event this rule masks; write a replacement the pattern does not match, like \"[token]\"".to_owned()
            } else {
                format!(
                    "{what} looks like personal data ({}), and rules write it into events; rule files must not hold personal data",
                    m.detector.name()
                )
            };
            errors.push(RuleError {
                message,
                ..site.clone()
            });
        }
    }
    let record_field = match &settings {
        Some((s, _)) => s.record_field.clone(),
        None => Settings::default().record_field,
    };
    errors.extend(write_conflicts(&tags, &tag_writes, record_field.as_deref()));

    if !errors.is_empty() {
        // File order, then position in the file.
        let order = |name: &str| files.iter().position(|f| f.name == name);
        errors.sort_by(|a, b| {
            (order(&a.file), a.line, a.column).cmp(&(order(&b.file), b.line, b.column))
        });
        return Err(RuleErrors(errors));
    }

    let mut warnings = shadow::warnings(&masks, &tags, &tag_when_sites, &routes, &route_sites);
    warnings.extend(keep_warnings);

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

    // The files' names (which order them) and contents, not the folder
    // they were read from: `rules`, `./rules` and an absolute path give one
    // fingerprint, so replicas with the same rules report the same one.
    let mut hasher = sha2::Sha256::new();
    for f in files {
        let name = f.name.rsplit(['/', '\\']).next().unwrap_or(&f.name);
        hasher.update(name.as_bytes());
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
        warnings,
    };
    set.derive_tag_members();
    Ok(set)
}

/// A warning when a partial mask keeps more characters readable than its
/// built-in detector's usual mask (`keep_first = 6` on a mobile leaves 10
/// of 11 digits): allowed, since a policy may want it, but said, at the
/// setting.
fn keeps_more(cx: &Cx<'_>, t: &DeTable<'_>, id: &str, rule: &MaskRule) -> Option<RuleError> {
    let (
        crate::Action::Partial {
            keep_first,
            keep_last,
            ..
        },
        Detector::Builtin(b),
    ) = (&rule.action, &rule.detector)
    else {
        return None;
    };
    let (first, last) = b.keep;
    if keep_first + keep_last <= first + last {
        return None;
    }
    let at = get(t, "keep_first")
        .or_else(|| get(t, "keep_last"))?
        .span()
        .start;
    Some(RuleError::at(
        cx.file,
        cx.text,
        at,
        Some(id),
        format!(
            "this rule leaves {} characters of each {} readable, more than its usual mask (the first {first} and the last {last}); make sure what stays readable cannot identify a person",
            keep_first + keep_last,
            b.name
        ),
    ))
}

/// A rule's id, where it is written, for the personal-data check: ids go
/// into every event's redaction record.
fn written_id(cx: &Cx<'_>, t: &DeTable<'_>, id: &str) -> Option<(String, RuleError, &'static str)> {
    let at = get(t, "id")?.span().start;
    let site = RuleError::at(cx.file, cx.text, at, Some(id), String::new());
    Some((id.to_owned(), site, "the id"))
}

/// Where a rule's `when` is written, or its header when it has none: where
/// a warning about its condition points.
fn when_at(t: &DeTable<'_>, header: &std::ops::Range<usize>) -> usize {
    get(t, "when").map_or(header.start, |w| w.span().start)
}

/// Per depth, the keys watched paths have there, each with the paths (as
/// bits; conditions read at most `MAX_WATCHED_FIELDS`) that have it.
fn watch_keys(watched: &[Vec<String>]) -> Vec<Vec<(String, u64)>> {
    debug_assert!(watched.len() <= crate::MAX_WATCHED_FIELDS);
    let mut by_depth: Vec<Vec<(String, u64)>> = Vec::new();
    for (i, path) in watched.iter().enumerate().take(crate::MAX_WATCHED_FIELDS) {
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
        || watched.len() + written.len() > crate::MAX_WATCHED_FIELDS
    {
        return false;
    }
    watched.extend(written.iter().map(|k| vec![(*k).to_owned()]));
    true
}

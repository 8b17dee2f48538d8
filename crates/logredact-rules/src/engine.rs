//! Applying a [`RuleSet`] to one event.
//!
//! Order, for every event: one pass over the JSON text (see `rewrite`) runs
//! the mask rules and the residual check on every string and number value;
//! then tag rules; route rules (first match wins); the redaction record. A
//! value is rewritten only when a rule changes it; everything else is copied
//! from the input.
//!
//! Fail closed: any step that cannot be done returns a [`Reject`] and no
//! output. A `Reject` never holds event content.

use std::borrow::Cow;
use std::ops::Range;

use hmac::Mac;

use super::condition::{FieldSource, Watched};
use super::detect::{Features, Scan, ScanBuffers};
use super::json::{ParseError, Value};
use super::normalize::{has_foldable, wide_digits_and_at, NormBuffers, NormView};
use super::rewrite::{write_json_string, Rewriter};
use super::text::partial_mask_into;
use super::{Action, MaskRule, RuleSet, TagRule};

/// Why an event was not emitted. Holds no event content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    #[error("not processed: the line is not valid UTF-8")]
    NotUtf8,
    #[error(transparent)]
    Json(ParseError),
    #[error("not processed: the event is valid JSON but not an object")]
    NotObject,
    /// A rule could not be applied; the event is held back rather than
    /// emitted unmasked. Boxed: this is the rare path, and it keeps
    /// `Result<_, Reject>` small on the hot one.
    #[error("held back by rule \"{}\": {}", .0.rule, .0.problem)]
    Rule(Box<RuleFailure>),
}

/// Which rule could not be applied, and why (never the event's content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFailure {
    pub rule: String,
    pub problem: String,
}

impl Reject {
    /// A rule could not be applied.
    pub fn rule(rule: &str, problem: impl Into<String>) -> Reject {
        Reject::Rule(Box::new(RuleFailure {
            rule: rule.to_owned(),
            problem: problem.into(),
        }))
    }

    /// A low-cardinality class name, for counters and dead-letter records.
    pub fn class(&self) -> &'static str {
        match self {
            Reject::NotUtf8 => "not_utf8",
            Reject::Json(ParseError::TooDeep) => "too_deep",
            Reject::Json(_) => "not_json",
            Reject::NotObject => "not_object",
            Reject::Rule(_) => "rule_failed",
        }
    }
}

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
pub(crate) struct Explained {
    pub stage: &'static str,
    pub rule: usize,
    /// JSON path, like `user.phones[1]`; empty for whole-event rules.
    pub path: String,
    pub count: u32,
}

/// Scratch space reused from event to event, and the per-event counts.
#[derive(Debug, Default)]
pub struct Workspace {
    scratch: LeafScratch,
    /// The text of the last value a pass changed (UTF-8), and a spare
    /// buffer for the residual pass over it.
    leaf_text: Vec<u8>,
    leaf_spare: Vec<u8>,
    /// Output ranges of values at watched field paths: (field id, start, end).
    watched: Vec<(u32, u32, u32)>,
    /// Per level entered, the watched paths (as bits) still matching the
    /// keys entered so far; `watch_indices` counts array levels among them.
    /// Once no path matches, deeper levels are only counted, in
    /// `watch_dead`: below such a level nothing can match again.
    watch_stack: Vec<u64>,
    watch_indices: usize,
    watch_dead: usize,
    /// A copy of the masked event, when tag rules need a tree of it.
    tree_buf: Vec<u8>,
    counts: Vec<u32>,
    residual: Vec<u32>,
    path: PathTrack,
    explain: Option<Vec<Explained>>,
}

/// Buffers the scan of one value works in.
#[derive(Debug, Default)]
struct LeafScratch {
    scan: ScanBuffers,
    norm: NormBuffers,
    /// Matches a pass keeps, with the index of the mask rule that found each.
    accepted: Vec<(Range<usize>, usize)>,
    matches: Vec<Range<usize>>,
}

/// What the scan of one value counts and records, borrowed from the
/// [`Workspace`] apart from its buffers.
struct Tally<'w> {
    /// The field name the value belongs to, for detectors that read it.
    key: &'w [u8],
    counts: &'w mut [u32],
    residual: &'w mut [u32],
    path: &'w PathTrack,
    explain: &'w mut Option<Vec<Explained>>,
}

impl Tally<'_> {
    fn note(&mut self, stage: &'static str, rule: usize, count: u32) {
        if let Some(list) = self.explain {
            list.push(Explained {
                stage,
                rule,
                path: self.path.render(),
                count,
            });
        }
    }
}

impl Workspace {
    /// Whether the pass needs the text of each key.
    pub(crate) fn wants_keys(&self, rules: &RuleSet) -> bool {
        // Below the depth of every watched path the bits are zero, and
        // keys no longer matter to watching.
        self.path.enabled
            || (!rules.watched.is_empty()
                && self.watch_dead == 0
                && self.watch_stack.last().is_some_and(|&bits| bits != 0))
    }

    /// Entering the value of member `key`.
    pub(crate) fn enter_key(&mut self, rules: &RuleSet, key: &str) {
        self.path.push_key(key);
        if self.watch_dead > 0 {
            self.watch_dead += 1;
        } else if !rules.watched.is_empty() {
            // Keep the watched paths whose next key is this one.
            let depth = self.watch_stack.len() - 1 - self.watch_indices;
            let bits = *self.watch_stack.last().unwrap_or(&0);
            let next = rules
                .watch_keys
                .get(depth)
                .and_then(|keys| keys.iter().find(|(k, _)| k == key))
                .map_or(0, |&(_, paths)| paths & bits);
            if next == 0 {
                self.watch_dead = 1;
            } else {
                self.watch_stack.push(next);
            }
        }
    }

    /// Entering element `index` of an array; arrays are transparent to paths.
    pub(crate) fn enter_index(&mut self, rules: &RuleSet, index: usize) {
        self.path.push_index(index);
        if self.watch_dead > 0 {
            self.watch_dead += 1;
        } else if !rules.watched.is_empty() {
            let top = *self.watch_stack.last().unwrap_or(&0);
            self.watch_stack.push(top);
            self.watch_indices += 1;
        }
    }

    /// Leaving what the last `enter_*` entered.
    pub(crate) fn leave(&mut self, rules: &RuleSet, was_key: bool) {
        self.path.pop();
        if self.watch_dead > 0 {
            self.watch_dead -= 1;
        } else if !rules.watched.is_empty() {
            self.watch_stack.pop();
            if !was_key {
                self.watch_indices -= 1;
            }
        }
    }

    pub fn new() -> Workspace {
        Workspace::default()
    }

    /// Where the tokenizer profiles a string value for `scan_leaf`.
    pub(crate) fn scan_buffers(&mut self) -> &mut ScanBuffers {
        &mut self.scratch.scan
    }

    /// The new text of the value `scan_leaf` last reported as changed.
    pub(crate) fn leaf_text(&self) -> &[u8] {
        &self.leaf_text
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

    fn reset(&mut self, rules: usize, masks: usize, watched: usize) {
        self.counts.clear();
        self.counts.resize(rules, 0);
        self.residual.clear();
        self.residual.resize(masks, 0);
        self.path.clear();
        self.watched.clear();
        self.watch_stack.clear();
        // At the top, every watched path is still possible.
        self.watch_stack.push(if watched >= 64 {
            u64::MAX
        } else {
            (1u64 << watched) - 1
        });
        self.watch_indices = 0;
        self.watch_dead = 0;
        if let Some(e) = &mut self.explain {
            e.clear();
        }
    }

    /// Records where the value just written sits, if a condition reads it.
    pub(crate) fn watch(&mut self, rules: &RuleSet, start: usize, end: usize) {
        if self.watch_dead > 0 || rules.watched.is_empty() {
            return;
        }
        let depth = self.watch_stack.len() - 1 - self.watch_indices;
        let mut bits = *self.watch_stack.last().unwrap_or(&0);
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if rules.watched.get(i).is_some_and(|p| p.len() == depth) {
                self.watched.push((i as u32, start as u32, end as u32));
            }
        }
    }

    /// Forgets recorded values at or after `pos` (their bytes were removed).
    pub(crate) fn unwatch_from(&mut self, pos: usize) {
        self.watched.retain(|&(_, start, _)| (start as usize) < pos);
    }

    pub(crate) fn note(&mut self, stage: &'static str, rule: usize, count: u32, with_path: bool) {
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

pub(crate) enum Leaf {
    Unchanged,
    /// The new text is in [`Workspace::leaf_text`].
    Changed,
    Drop,
}

impl RuleSet {
    /// Applies the rules to one NDJSON line and appends the redacted event to
    /// `out` (without a newline). A dropped or rejected event appends nothing.
    pub fn apply(
        &self,
        line: &[u8],
        out: &mut Vec<u8>,
        work: &mut Workspace,
    ) -> Result<Verdict, Reject> {
        let start = out.len();
        let result = self.apply_inner(line, out, work, start);
        if result.is_err()
            || matches!(
                result,
                Ok(Verdict {
                    routes: Routes::Dropped(_),
                    ..
                })
            )
        {
            out.truncate(start);
        }
        result
    }

    fn apply_inner(
        &self,
        line: &[u8],
        out: &mut Vec<u8>,
        work: &mut Workspace,
        start: usize,
    ) -> Result<Verdict, Reject> {
        work.reset(self.ids.len(), self.masks.len(), self.watched.len());
        work.path.enabled = self.scoped || work.explain.is_some();
        let text = simdutf8::basic::from_utf8(line).map_err(|_| Reject::NotUtf8)?;

        // Masks and the residual check, in one pass over the text.
        let written = Rewriter::new(self, text, out).event(work)?;
        let mut has_members = written.members > 0;
        let masked = work.counts[..self.masks.len()].iter().sum();

        // Tags and routes read the values the pass recorded. Once a tag
        // fires, the event becomes a tree for the rest (tags change it).
        let first_tag = self.tags.iter().position(|t| {
            t.when.holds(&Watched {
                buf: out,
                spans: &work.watched,
            })
        });
        let first_tag = match first_tag {
            Some(first) if self.tags_on_bytes => {
                self.append_tags(first, out, work, &mut has_members)
            }
            other => other,
        };
        let routes = match first_tag {
            None => {
                let spans = std::mem::take(&mut work.watched);
                let routes = self.route(
                    &Watched {
                        buf: out,
                        spans: &spans,
                    },
                    work,
                );
                work.watched = spans;
                routes
            }
            Some(first) => {
                let mut copy = std::mem::take(&mut work.tree_buf);
                copy.clear();
                copy.extend_from_slice(&out[start..]);
                out.truncate(start);
                let result = self.tags_on_tree(&copy, first, out, work);
                work.tree_buf = copy;
                let (routes, members) = result?;
                has_members = members;
                routes
            }
        };
        if let Routes::Dropped(_) = routes {
            return Ok(Verdict {
                routes,
                masked,
                residual: 0,
            });
        }

        let residual = work.residual.iter().sum();
        if let Some(explained) = &work.explain {
            let list: Vec<serde_json::Value> = explained
                .iter()
                .map(|e| serde_json::json!({"stage": e.stage, "rule": self.ids[e.rule], "path": e.path, "count": e.count}))
                .collect();
            let key = serde_json::to_vec("_explain").expect("strings serialize");
            append_member(
                out,
                has_members,
                &key,
                &serde_json::to_vec(&list).expect("values serialize"),
            );
        }
        if self.settings.record_field.is_some() {
            self.write_record(
                out,
                has_members || work.explain.is_some(),
                work,
                masked,
                residual,
            );
        }
        Ok(Verdict {
            routes,
            masked,
            residual,
        })
    }

    /// When `tags_on_bytes`: gives each tag the members it appends, with
    /// the watched id of each one's field. They are what `apply_tag` makes
    /// of an empty object, so both ways of tagging share one definition.
    pub(super) fn derive_tag_members(&mut self) {
        if !self.tags_on_bytes {
            return;
        }
        let mut members = Vec::with_capacity(self.tags.len());
        for tag in &self.tags {
            let mut empty = Value::Object(Vec::new());
            let (Ok(()), Value::Object(written)) = (self.apply_tag(tag, &mut empty), empty) else {
                // Cannot happen for top-level fields; the tree is always right.
                self.tags_on_bytes = false;
                return;
            };
            let mut appended = Vec::with_capacity(written.len());
            for (key, value) in written {
                let Some(id) = self.watched.iter().position(|w| *w == [&*key]) else {
                    self.tags_on_bytes = false;
                    return;
                };
                let mut member = Vec::new();
                write_json_string(&mut member, &key);
                member.push(b':');
                value.write_to(&mut member);
                appended.push((id, member));
            }
            members.push(appended);
        }
        for (tag, appended) in self.tags.iter_mut().zip(members) {
            tag.append = appended;
        }
    }

    /// Applies tag rules from `first` (whose condition holds) to the event
    /// written at the end of `out`, appending the members they set. Returns
    /// the tag from which a tree must take over: one that sets a field the
    /// event has already (the tree replaces its value).
    fn append_tags(
        &self,
        first: usize,
        out: &mut Vec<u8>,
        work: &mut Workspace,
        has_members: &mut bool,
    ) -> Option<usize> {
        // Watched ids (below 64) of the members appended so far.
        let mut appended = 0u64;
        for (i, tag) in self.tags.iter().enumerate().skip(first) {
            if i != first
                && !tag.when.holds(&Watched {
                    buf: out,
                    spans: &work.watched,
                })
            {
                continue;
            }
            let present = |id: usize| {
                appended & (1 << id) != 0 || work.watched.iter().any(|&(w, _, _)| w as usize == id)
            };
            if tag.append.iter().any(|&(id, _)| present(id)) {
                return Some(i);
            }
            for (id, member) in &tag.append {
                open_member(out, *has_members);
                out.extend_from_slice(member);
                out.push(b'}');
                *has_members = true;
                appended |= 1 << id;
            }
            work.counts[tag.index] += 1;
            work.note("tag", tag.index, 1, false);
        }
        None
    }

    /// Applies tag rules from `first` (whose condition holds) on a tree of
    /// the masked event in `masked`, routes it, and writes it to `out`.
    fn tags_on_tree(
        &self,
        masked: &[u8],
        first: usize,
        out: &mut Vec<u8>,
        work: &mut Workspace,
    ) -> Result<(Routes, bool), Reject> {
        let text = simdutf8::basic::from_utf8(masked).map_err(|_| Reject::NotUtf8)?;
        // The rewriting pass wrote `masked` from text it checked as strictly
        // as serde_json does.
        let mut event = Value::parse_valid(text).map_err(Reject::Json)?;
        for (i, tag) in self.tags.iter().enumerate().skip(first) {
            if i == first || tag.when.holds(&event) {
                self.apply_tag(tag, &mut event)?;
                work.counts[tag.index] += 1;
                work.note("tag", tag.index, 1, false);
            }
        }
        let routes = self.route(&event, work);
        if !matches!(routes, Routes::Dropped(_)) {
            event.write_to(out);
        }
        let has_members = matches!(&event, Value::Object(m) if !m.is_empty());
        Ok((routes, has_members))
    }

    /// First route rule that matches, or every output.
    fn route(&self, event: &dyn FieldSource, work: &mut Workspace) -> Routes {
        for route in &self.routes {
            if route.when.as_ref().is_none_or(|c| c.holds(event)) {
                work.counts[route.index] += 1;
                work.note("route", route.index, 1, false);
                return match route.outputs {
                    Some(_) => Routes::Rule(route.index),
                    None => Routes::Dropped(route.index),
                };
            }
        }
        Routes::Default
    }

    /// Masks raw text that could not be processed as an event, so that it
    /// can be kept (dead-lettered) without personal data. Every mask rule's
    /// detector runs over the whole text, whatever the rule's fields, on
    /// its normalised view (escapes decoded, full-width forms folded); each
    /// match is replaced by `[detector]` in the original, covering every
    /// byte it was decoded from. Bytes that are not UTF-8 are replaced
    /// first.
    pub fn mask_text(&self, raw: &[u8]) -> String {
        if raw.len() >= u32::MAX as usize {
            // Beyond the view's 32-bit map: nothing of it is kept.
            return "[too large to mask]".to_owned();
        }
        let text = String::from_utf8_lossy(raw);
        let original = text.as_bytes();
        let mut found: Vec<(Range<usize>, &'static str)> = Vec::new();
        for rule in &self.masks {
            for r in rule.detector.find_in(original) {
                found.push((r, rule.detector.name()));
            }
        }
        found.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (r, name) in found {
            if r.start < at {
                // Overlaps a match already masked; cover the rest of it.
                at = at.max(r.end);
                continue;
            }
            push_lossy(&mut out, &original[at..r.start]);
            out.push('[');
            out.push_str(name);
            out.push(']');
            at = r.end;
        }
        push_lossy(&mut out, &original[at.min(original.len())..]);
        out
    }

    /// [`RuleSet::mask_text`], then cut to at most `max` bytes. The cut
    /// comes after masking, so it cannot leave part of a value unmasked;
    /// and it falls right after a sign that ends a value however the text
    /// is read (a quote, comma, bracket, semicolon, tab or newline: not a
    /// space, dash or plus, which join digit groups, nor `%` or `\\`,
    /// which start escapes), so the text kept holds only whole tokens, each
    /// already judged in its full context. Without such a sign, nothing is
    /// kept.
    /// Returns the text and whether it was cut.
    pub fn mask_text_cut(&self, raw: &[u8], max: usize) -> (String, bool) {
        let mut masked = self.mask_text(raw);
        let cut_it = masked.len() > max;
        if cut_it {
            let hard = |b: &u8| {
                matches!(
                    b,
                    b'"' | b','
                        | b';'
                        | b'{'
                        | b'}'
                        | b'['
                        | b']'
                        | b'\t'
                        | b'\n'
                        | b'\r'
                        | b'\''
                        | b'<'
                        | b'>'
                        | b'|'
                )
            };
            let cut = masked.as_bytes()[..max]
                .iter()
                .rposition(hard)
                .map_or(0, |i| i + 1);
            masked.truncate(cut);
        }
        (masked, cut_it)
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

    /// Appends the redaction record to the event at the end of `out`:
    /// `"redaction":{"masked":3,"rules":{"mask-cn-id":2,...}}`.
    /// Written as bytes, from keys escaped once at compile time.
    fn write_record(
        &self,
        out: &mut Vec<u8>,
        has_members: bool,
        work: &Workspace,
        masked: u32,
        residual: u32,
    ) {
        open_member(out, has_members);
        out.extend_from_slice(&self.record_key);
        out.extend_from_slice(b":{\"masked\":");
        push_number(out, masked);
        out.extend_from_slice(b",\"rules\":{");
        let mut first = true;
        for (key, &n) in self
            .rule_keys
            .iter()
            .zip(&work.counts)
            .take(self.masks.len() + self.tags.len())
        {
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

    /// Runs the mask rules over one string value, then the residual check.
    /// On [`Leaf::Changed`] the new text is in `work.leaf_text()`.
    ///
    /// The residual check runs every mask rule's detector over the final
    /// text wherever that text is not exactly what every rule already
    /// scanned: when a rule changed it, or when a rule was scoped away from
    /// this field. An unchanged value that every rule scanned needs no second
    /// look: detectors are pure functions of the text, so they would find
    /// nothing again. Values set by tag rules are constants, checked for
    /// personal data when the rules compile.
    ///
    /// `profiled`: the features of `original` when `work.scan_buffers()`
    /// holds its profile already (the tokenizer made it).
    pub(crate) fn scan_leaf(
        &self,
        original: &[u8],
        profiled: Option<Features>,
        key: &[u8],
        work: &mut Workspace,
    ) -> Result<Leaf, Reject> {
        if self.masks.is_empty() {
            return Ok(Leaf::Unchanged);
        }
        let Workspace {
            scratch,
            leaf_text,
            leaf_spare,
            counts,
            residual,
            path,
            explain,
            ..
        } = work;
        let mut tally = Tally {
            counts,
            residual,
            path,
            explain,
            key,
        };
        let mut skipped = false;
        let masked = self.scan_pass(
            Stage::Mask,
            original,
            profiled,
            leaf_text,
            scratch,
            &mut tally,
            &mut skipped,
        )?;
        if !self.settings.residual_scan {
            return Ok(masked);
        }
        match masked {
            Leaf::Drop => Ok(Leaf::Drop),
            Leaf::Unchanged if !skipped => Ok(Leaf::Unchanged),
            // A rule was scoped away from this value: look at it whole.
            Leaf::Unchanged => self.scan_pass(
                Stage::Residual,
                original,
                None,
                leaf_text,
                scratch,
                &mut tally,
                &mut skipped,
            ),
            Leaf::Changed => {
                let residual = self.scan_pass(
                    Stage::Residual,
                    leaf_text,
                    None,
                    leaf_spare,
                    scratch,
                    &mut tally,
                    &mut skipped,
                )?;
                if let Leaf::Changed = residual {
                    std::mem::swap(leaf_text, leaf_spare);
                }
                Ok(match residual {
                    Leaf::Drop => Leaf::Drop,
                    _ => Leaf::Changed,
                })
            }
        }
    }

    /// Whether no mask rule could find anything in `text`, which holds no
    /// `\\` (`features` are its profile), even in its normalised view: too
    /// few digits, counting full-width ones, no `@` of either width, no
    /// `%`. Decoding only ever shortens text and each encoded digit keeps
    /// an ASCII digit (`%31`, `\\u0031`), so this holds for the view too.
    #[inline]
    pub(crate) fn plain_text_holds_nothing(&self, text: &[u8], features: Features) -> bool {
        if self.has_regex || features.has_at || features.has_percent {
            return false;
        }
        if features.digits >= self.min_digits {
            return false;
        }
        if !features.has_high {
            return true;
        }
        // Only full-width digits (or a full-width `@`) could make up the
        // difference.
        let (wide, at) = wide_digits_and_at(text);
        features.digits + wide < self.min_digits && !at
    }

    /// One pass of the mask rules over a value. Every rule looks at the
    /// same text; where matches overlap, the earlier rule masks them
    /// together; then one
    /// rewrite applies them all, into `out`. (Anything a rewrite could newly
    /// expose is caught by the residual pass, which runs on every changed
    /// value.)
    #[allow(clippy::too_many_arguments)]
    fn scan_pass(
        &self,
        stage: Stage,
        current: &[u8],
        profiled: Option<Features>,
        out: &mut Vec<u8>,
        scratch: &mut LeafScratch,
        tally: &mut Tally<'_>,
        skipped: &mut bool,
    ) -> Result<Leaf, Reject> {
        let LeafScratch {
            scan: scan_buffers,
            norm,
            accepted,
            matches,
        } = scratch;
        let raw = match profiled {
            Some(features) => features,
            None => scan_buffers.profile(current),
        };
        // Text with no escape can only change in the view by folding
        // characters above ASCII; a `\` exists only in decoded text or in
        // numbers (never), where `profiled` is `None`.
        if current.len() >= u32::MAX as usize {
            // The view's map holds 32-bit offsets: fail closed.
            return Err(Reject::rule(
                &self.ids[self.masks[0].index],
                "a value of 4 GiB or more cannot be scanned",
            ));
        }
        let escaped =
            raw.has_percent || (profiled.is_none() && memchr::memchr(b'\\', current).is_some());
        if !escaped && self.plain_text_holds_nothing(current, raw) {
            return Ok(Leaf::Unchanged);
        }
        let foldable = raw.has_high && has_foldable(current, self.has_regex);
        let view = NormView::new(current, escaped || foldable, norm);
        let features = if view.is_normalized() {
            scan_buffers.profile(view.bytes())
        } else {
            raw
        };
        let mut scan = Scan::new(view.bytes(), features, tally.key, scan_buffers);
        if self.find_all(stage, &mut scan, accepted, matches, tally, skipped) {
            return Ok(Leaf::Drop);
        }
        if accepted.is_empty() {
            return Ok(Leaf::Unchanged);
        }
        accepted.sort_unstable_by_key(|(r, _)| r.start);
        out.clear();
        self.rewrite(current, &view, accepted, out)?;
        Ok(Leaf::Changed)
    }

    /// Runs every rule that applies over `scan`, keeping the matches that do
    /// not overlap an earlier rule's in `accepted`, and merging those that
    /// do into the earlier rule's. Returns whether a drop
    /// rule matched.
    fn find_all(
        &self,
        stage: Stage,
        scan: &mut Scan<'_>,
        accepted: &mut Vec<(Range<usize>, usize)>,
        matches: &mut Vec<Range<usize>>,
        tally: &mut Tally<'_>,
        skipped: &mut bool,
    ) -> bool {
        accepted.clear();
        for (i, rule) in self.masks.iter().enumerate() {
            let applies = rule.everywhere
                || match stage {
                    Stage::Mask => rule.applies_at(tally.path),
                    Stage::Residual => !rule.excluded_at(tally.path),
                };
            if !applies {
                *skipped = true;
                continue;
            }
            if !rule.detector.may_match(scan) {
                continue;
            }
            matches.clear();
            rule.detector.find(scan, matches);
            let mut new_hits = 0u32;
            for m in matches.iter() {
                match accepted
                    .iter()
                    .position(|(a, _)| a.start < m.end && m.start < a.end)
                {
                    None => {
                        accepted.push((m.clone(), i));
                        new_hits += 1;
                    }
                    // Overlapping an earlier rule's match: the earlier rule
                    // masks both together, so no part of this one is left
                    // readable (`010-4483 1522 9999999`, a landline glued to
                    // digits that read as a mobile).
                    Some(_) => {
                        let mut merged = m.clone();
                        let mut rule = usize::MAX;
                        // Take in every accepted match the union reaches.
                        while let Some(k) = accepted
                            .iter()
                            .position(|(a, _)| a.start < merged.end && merged.start < a.end)
                        {
                            let (a, r) = accepted.swap_remove(k);
                            merged = merged.start.min(a.start)..merged.end.max(a.end);
                            rule = rule.min(r);
                        }
                        accepted.push((merged, rule));
                    }
                }
            }
            let hits = new_hits;
            if hits == 0 {
                continue;
            }
            let drop = matches!(rule.action, Action::Drop);
            let hits = if drop { 1 } else { hits };
            let (stage_name, slot) = match stage {
                Stage::Mask => ("mask", &mut tally.counts[rule.index]),
                Stage::Residual => ("residual", &mut tally.residual[rule.index]),
            };
            *slot += hits;
            tally.note(stage_name, rule.index, hits);
            if drop {
                return true;
            }
        }
        false
    }

    /// Writes `current` to `out` with each accepted match (sorted, not
    /// overlapping) replaced by what its rule's action makes of it. `current`
    /// is UTF-8, and so is what this writes: matches are cut only at
    /// character boundaries, and every replacement is UTF-8.
    fn rewrite(
        &self,
        current: &[u8],
        view: &NormView<'_>,
        accepted: &[(Range<usize>, usize)],
        out: &mut Vec<u8>,
    ) -> Result<(), Reject> {
        // What `str::is_char_boundary` checks: not a UTF-8 continuation byte.
        let boundary =
            |at: usize| at == current.len() || current.get(at).is_some_and(|&b| (b as i8) >= -0x40);
        out.reserve(current.len() + 16);
        let mut last = 0;
        for (m, rule) in accepted {
            let rule = &self.masks[*rule];
            let orig = view.to_original(m);
            if orig.start < last || !boundary(orig.start) || !boundary(orig.end) {
                return Err(Reject::rule(
                    &self.ids[rule.index],
                    "a match did not line up with whole characters, so it could not be masked safely",
                ));
            }
            out.extend_from_slice(&current[last..orig.start]);
            let matched = &view.bytes()[m.clone()];
            match &rule.action {
                Action::Partial {
                    keep_first,
                    keep_last,
                    mask_char,
                } => partial_mask_into(out, matched, *keep_first, *keep_last, *mask_char),
                Action::Full { replacement } => out.extend_from_slice(replacement.as_bytes()),
                Action::Hash { key } => out.extend_from_slice(
                    keyed_hash(&key.0, &rule.detector.normalize(matched)).as_bytes(),
                ),
                Action::Drop => unreachable!("a drop ends the pass before rewriting"),
            }
            last = orig.end;
        }
        out.extend_from_slice(&current[last..]);
        Ok(())
    }

    fn apply_tag(&self, tag: &TagRule, event: &mut Value<'_>) -> Result<(), Reject> {
        let fail = |problem: String| Reject::rule(&self.ids[tag.index], problem);
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

/// Reopens the event at the end of `out` so a member can be appended: drops
/// its closing brace, and adds a comma if it has members.
fn open_member(out: &mut Vec<u8>, has_members: bool) {
    debug_assert_eq!(out.last(), Some(&b'}'));
    out.pop();
    if has_members {
        out.push(b',');
    }
}

/// Appends `"key":value` (both already JSON) to the event at the end of `out`.
fn append_member(out: &mut Vec<u8>, has_members: bool, key: &[u8], value: &[u8]) {
    open_member(out, has_members);
    out.extend_from_slice(key);
    out.push(b':');
    out.extend_from_slice(value);
    out.push(b'}');
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
pub(crate) struct PathTrack {
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

    pub(crate) fn push_key(&mut self, key: &str) {
        if self.enabled {
            let start = self.text.len();
            self.text.push_str(key);
            self.segments.push(Segment::Key {
                start,
                end: self.text.len(),
            });
        }
    }

    pub(crate) fn push_index(&mut self, i: usize) {
        if self.enabled {
            self.segments.push(Segment::Index(i));
        }
    }

    pub(crate) fn pop(&mut self) {
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

/// Appends bytes that are UTF-8 (they were cut from a `str` on character
/// boundaries) to `out`.
fn push_lossy(out: &mut String, bytes: &[u8]) {
    out.push_str(&String::from_utf8_lossy(bytes));
}

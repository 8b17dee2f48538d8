//! Scratch space reused from event to event, the per-event counts, the path
//! of the value being visited, and where the values that tag and route
//! conditions read were written.

use super::overlap::Matches;
use crate::detect::ScanBuffers;
use crate::normalize::NormBuffers;
use crate::RuleSet;

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
    pub(super) scratch: LeafScratch,
    /// The text of the last value a pass changed (UTF-8), and a spare
    /// buffer for the residual pass over it.
    pub(super) leaf_text: Vec<u8>,
    pub(super) leaf_spare: Vec<u8>,
    /// Output ranges of values at watched field paths: (field id, start, end).
    pub(super) watched: Vec<(u32, u32, u32)>,
    /// Per level entered, the watched paths (as bits) still matching the
    /// keys entered so far; `watch_indices` counts array levels among them.
    /// Once no path matches, deeper levels are only counted, in
    /// `watch_dead`: below such a level nothing can match again.
    pub(super) watch_stack: Vec<u64>,
    pub(super) watch_indices: usize,
    pub(super) watch_dead: usize,
    /// A copy of the masked event, when tag rules need a tree of it.
    pub(super) tree_buf: Vec<u8>,
    pub(super) counts: Vec<u32>,
    pub(super) residual: Vec<u32>,
    pub(super) path: PathTrack,
    pub(super) explain: Option<Vec<Explained>>,
}

/// Buffers the scan of one value works in.
#[derive(Debug, Default)]
pub(super) struct LeafScratch {
    pub(super) scan: ScanBuffers,
    pub(super) norm: NormBuffers,
    /// Matches a pass keeps, and each rule's as its detector finds them.
    pub(super) matches: Matches,
}

/// What the scan of one value counts and records, borrowed from the
/// [`Workspace`] apart from its buffers.
pub(super) struct Tally<'w> {
    /// The field name the value belongs to and the one around it, for
    /// detectors that read them.
    pub(super) keys: [&'w [u8]; 2],
    /// The value is a number a double held, which lost its last digits.
    pub(super) lost_digits: bool,
    /// An earlier pass over the value found no Chinese numerals in runs
    /// in it, so a later pass over its masked text finds none either
    /// (masks write `*`, digits and the rules' own words).
    pub(super) no_numerals: bool,
    pub(super) counts: &'w mut [u32],
    pub(super) residual: &'w mut [u32],
    pub(super) path: &'w PathTrack,
    pub(super) explain: &'w mut Option<Vec<Explained>>,
}

impl Tally<'_> {
    pub(super) fn note(&mut self, stage: &'static str, rule: usize, count: u32) {
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

    /// What fired where in the last event, when made `with_explain`.
    pub(crate) fn explained(&self) -> &[Explained] {
        self.explain.as_deref().unwrap_or_default()
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

    pub(super) fn reset(&mut self, rules: usize, masks: usize, watched: usize) {
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

/// The path of the value being visited; kept only when some rule or
/// `--explain` needs it.
#[derive(Debug, Default)]
pub(crate) struct PathTrack {
    pub(super) enabled: bool,
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy)]
enum Segment {
    Key { start: usize, end: usize },
    Index(usize),
}

impl PathTrack {
    pub(super) fn clear(&mut self) {
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
    pub(super) fn keys(&self) -> impl Iterator<Item = &str> + Clone {
        self.segments.iter().filter_map(|s| match *s {
            Segment::Key { start, end } => Some(&self.text[start..end]),
            Segment::Index(_) => None,
        })
    }

    pub(super) fn render(&self) -> String {
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

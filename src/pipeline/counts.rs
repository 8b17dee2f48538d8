//! Per-rule counts gathered on the consumer thread and folded into the
//! shared stats now and then.

use std::sync::Arc;

use super::ActiveRules;
use crate::rules::{Routes, RuleKind, Workspace};
use crate::stats::Stats;

/// Per-rule counts gathered on the consumer thread and folded into the
/// shared stats now and then, so the hot loop takes no lock per event.
pub(super) struct RuleCounts {
    /// The rule set counted last; one pointer comparison per event tells
    /// whether it is still the live one (held, so its address is not reused).
    followed: Option<Arc<ActiveRules>>,
    fingerprint: String,
    ids: Vec<(String, RuleKind, Option<&'static str>)>,
    counts: Vec<u64>,
    /// Per rule: whether it is a route rule that drops events.
    drops: Vec<bool>,
    /// Rule engine time per event (µs), merged into the stats on flush.
    pub(super) rule_time: crate::stats::Histogram,
}

impl Default for RuleCounts {
    fn default() -> RuleCounts {
        RuleCounts {
            followed: None,
            fingerprint: String::new(),
            ids: Vec::new(),
            counts: Vec::new(),
            drops: Vec::new(),
            rule_time: crate::stats::new_histogram(),
        }
    }
}

impl RuleCounts {
    /// Switches to `set` when the rules were reloaded; counts of the old
    /// set go out first.
    pub(super) fn follow(&mut self, rules: &Arc<ActiveRules>, stats: &Stats) {
        if self
            .followed
            .as_ref()
            .is_some_and(|f| Arc::ptr_eq(f, rules))
        {
            return;
        }
        self.followed = Some(rules.clone());
        let set = &rules.set;
        if self.fingerprint != set.fingerprint() {
            self.flush(stats);
            self.fingerprint = set.fingerprint().to_owned();
            self.ids = set
                .rule_ids()
                .iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), set.kind_of(i), set.detector_of(i)))
                .collect();
            self.counts = vec![0; self.ids.len()];
            // Route rules without outputs drop the events they match.
            self.drops = (0..self.ids.len())
                .map(|i| {
                    set.kind_of(i) == RuleKind::Route
                        && set
                            .route_outputs(Routes::Rule(i))
                            .is_some_and(|o| o.is_empty())
                })
                .collect();
        }
    }

    pub(super) fn add(&mut self, work: &Workspace) {
        for (total, n) in self.counts.iter_mut().zip(work.counts()) {
            *total += u64::from(*n);
        }
    }

    pub(super) fn flush(&mut self, stats: &Stats) {
        let mut d = stats.detail();
        let total = d.rule_time.get_or_insert_with(crate::stats::new_histogram);
        let _ = total.add(&self.rule_time);
        self.rule_time.reset();
        for (i, ((id, kind, detector), n)) in
            self.ids.iter().zip(self.counts.iter_mut()).enumerate()
        {
            if *n == 0 {
                continue;
            }
            match (*kind, detector) {
                (RuleKind::Mask, Some(detector)) => {
                    *d.masks.entry((id.clone(), detector)).or_default() += *n;
                }
                (RuleKind::Tag, _) => *d.tags.entry(id.clone()).or_default() += *n,
                (RuleKind::Route, _) if self.drops[i] => {
                    *d.drops.entry(id.clone()).or_default() += *n;
                }
                _ => continue,
            }
            *n = 0;
        }
    }
}

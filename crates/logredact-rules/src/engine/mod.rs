//! Applying a [`RuleSet`] to one event.
//!
//! Order, for every event: one pass over the JSON text (`json::rewrite`,
//! driven by [`visit::Pass`]) runs the mask rules and the residual check on
//! every string, number and key; then tag rules; route rules (first match
//! wins); the redaction record. A value is rewritten only when a rule
//! changes it; everything else is copied from the input.
//!
//! Fail closed: any step that cannot be done returns a [`Reject`] and no
//! output. A `Reject` never holds event content.
//!
//! - `workspace`: scratch space and per-event counts, the path being
//!   visited, and the values conditions read (watched paths).
//! - `visit`: what the rewriting pass asks of the engine at each value.
//! - `scan`: the mask rules and the residual check over one value.
//! - `overlap`: merging each rule's matches into those kept, in linear time.
//! - `tags`: tag rules, appended to the written bytes or on a tree.
//! - `record`: the redaction record each event carries.
//! - `text`: masking text that is not an event (dead letters).

mod overlap;
mod record;
mod scan;
mod tags;
mod text;
mod visit;
mod workspace;

pub use workspace::Workspace;

use crate::condition::{FieldSource, Watched};
use crate::json::rewrite::{Rewriter, Stop};
use crate::{Reject, RuleSet};

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

impl RuleSet {
    /// Applies the rules to one NDJSON line and appends the redacted event to
    /// `out` (without a newline). A dropped or rejected event appends nothing.
    /// What is appended is one line: an event written over several lines
    /// (pretty-printed, as a Kafka message may be) has its line breaks
    /// between tokens turned into spaces.
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
        // A byte-order mark before the event (a Windows program's UTF-8
        // output) is no part of it; JSON parsers refuse it.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);

        // Masks and the residual check, in one pass over the text.
        let written = Rewriter::new(text, out)
            .event(&mut visit::Pass { rules: self, work })
            .map_err(|stop| match stop {
                Stop::Json(e) => Reject::Json(e),
                Stop::NotObject => Reject::NotObject,
                Stop::Visitor(reject) => reject,
            })?;
        if written.line_breaks {
            // Same length, so the recorded spans still hold.
            for b in &mut out[start..] {
                if matches!(*b, b'\n' | b'\r') {
                    *b = b' ';
                }
            }
        }
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

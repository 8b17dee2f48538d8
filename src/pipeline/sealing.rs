//! The consumer thread's side of sealing (docs/audit.md): what each
//! message tells the seals, cutting seals at each commit, sending them to
//! their writers, and taking their acknowledgements back. The tracker keeps
//! the chains; the seal writers (`sink::seals`) store the seals.

use std::sync::mpsc::Receiver;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::ActiveRules;
use crate::seal::{doc_hash, SealKey};
use crate::sink::seals::{SealAck, SealItem};
use crate::source::{OffsetTracker, SealInfo};

/// Fates gathered and seals unstored, over all partitions, above which
/// consumption pauses (about 100 bytes each).
pub(super) const MAX_UNSEALED: usize = 500_000;

pub(super) struct Sealing {
    /// The key read at start, for rule sets read without one.
    pub(super) key: Arc<SealKey>,
    pub(super) max_events: usize,
    /// Bit per sealed output index.
    pub(super) sealed_mask: u64,
    /// Each sealed output's writer queue, by output index.
    pub(super) writers: Vec<(u8, mpsc::UnboundedSender<Vec<SealItem>>)>,
    pub(super) acks: Receiver<Vec<SealAck>>,
}

impl Sealing {
    /// What the seals need of a routed (or dropped) message.
    pub(super) fn routed(
        &self,
        routes: u64,
        body: &[u8],
        dropped_by: Option<Arc<str>>,
    ) -> Box<SealInfo> {
        Box::new(SealInfo {
            routes,
            dead: 0,
            // Hashing the bytes the outputs will write, once for all of them.
            hash: if routes & self.sealed_mask != 0 {
                doc_hash(body)
            } else {
                [0; 32]
            },
            rejected: None,
            dropped_by,
            lost_before: None,
        })
    }

    /// What the seals need of a message dead-lettered before any output.
    pub(super) fn rejected(&self, class: &'static str) -> Box<SealInfo> {
        Box::new(SealInfo {
            rejected: Some(class),
            ..SealInfo::default()
        })
    }

    /// Cuts seals of everything completed and sends them to their writers,
    /// signed with the key read with the rules in use (a reload may have
    /// rotated it), or else the key read at start.
    pub(super) fn cut(&self, tracker: &mut OffsetTracker, rules: &ActiveRules) {
        let key = rules.seal_key.as_deref().unwrap_or(&*self.key);
        let cuts = tracker.cut_seals(
            key,
            rules.set.fingerprint(),
            self.max_events,
            crate::stats::now_ms(),
        );
        if cuts.is_empty() {
            return;
        }
        let mut per_output: Vec<Vec<SealItem>> = vec![Vec::new(); self.writers.len()];
        for c in cuts {
            if let Some(i) = self.writers.iter().position(|(o, _)| *o == c.output) {
                per_output[i].push(SealItem {
                    slot: c.slot,
                    generation: c.generation,
                    through: c.cut.through,
                    id: c.cut.id,
                    line: c.cut.line,
                });
            }
        }
        for ((_, writer), items) in self.writers.iter().zip(per_output) {
            if !items.is_empty() && writer.send(items).is_err() {
                tracing::error!(
                    "a seal writer stopped; the offsets its seals cover stay uncommitted"
                );
            }
        }
    }

    /// Takes in the writers' acknowledgements; returns whether any came.
    pub(super) fn take_acks(&self, tracker: &mut OffsetTracker) -> bool {
        let mut any = false;
        while let Ok(acks) = self.acks.try_recv() {
            for a in acks {
                tracker.seal_acked(a.slot, a.generation, a.output, a.through);
            }
            any = true;
        }
        any
    }
}

//! Which offsets may be committed.
//!
//! Invariant: the commit offset of a partition never passes a message that
//! is not complete. A message is complete when every output it was routed
//! to has acknowledged it (indexed, or dead-lettered), or a rule dropped it.
//! Completions can arrive in any order; the watermark advances only over
//! the contiguous completed prefix, so one failed item never lets a later
//! success commit past it.

//!
//! With sealing on (docs/audit.md), each partition also keeps one seal
//! chain per sealed output: completed messages give their fates to the
//! chains in offset order, and the commit offset never passes what an
//! acknowledged seal covers.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::seal::{Chain, Cut, Fate, SealKey};
use crate::sink::{Ack, Generations, Token};

#[derive(Debug)]
struct Entry {
    offset: i64,
    /// Outputs that have yet to acknowledge.
    remaining: u16,
    dead_lettered: bool,
    bytes: u32,
    /// What sealed outputs need to know of it; only with sealing on.
    seal: Option<Box<SealInfo>>,
}

/// What the seals say of one message, gathered as it goes.
#[derive(Debug, Clone, Default)]
pub struct SealInfo {
    /// The outputs it was routed to (bit per output index).
    pub routes: u64,
    /// Outputs that dead-lettered it instead of writing it.
    pub dead: u64,
    /// SHA-256 of the document, when a sealed output was routed to.
    pub hash: [u8; 32],
    /// Dead-lettered before any output, with this reason class.
    pub rejected: Option<&'static str>,
    /// The route rule that dropped it.
    pub dropped_by: Option<Arc<str>>,
    /// Offsets right before it (first, count) that Kafka deleted before
    /// they were read.
    pub lost_before: Option<(i64, i64)>,
}

impl SealInfo {
    /// The fate of the message for output `output`.
    fn fate(&self, output: u8) -> Fate {
        if let Some(class) = self.rejected {
            return Fate::DeadLettered(class.to_owned());
        }
        let bit = 1u64 << output;
        if self.routes & bit != 0 {
            if self.dead & bit != 0 {
                Fate::DeadLettered("refused_by_output".to_owned())
            } else {
                Fate::Indexed(self.hash)
            }
        } else if self.routes == 0 {
            Fate::Dropped(self.dropped_by.as_deref().unwrap_or("").to_owned())
        } else {
            Fate::Elsewhere
        }
    }
}

/// A seal cut for one output of one partition, to be written.
#[derive(Debug)]
pub struct SealOut {
    pub output: u8,
    pub slot: u32,
    pub generation: u32,
    pub cut: Cut,
}

#[derive(Debug)]
struct PartitionState {
    topic: Arc<str>,
    partition: i32,
    generation: u32,
    /// Messages taken and not yet below the watermark, in offset order.
    pending: VecDeque<Entry>,
    /// The next offset to commit: every message before it is complete.
    ready: Option<i64>,
    /// The offset last committed (or known committed).
    committed: Option<i64>,
    /// One chain per sealed output (by output index); empty without
    /// sealing.
    chains: Vec<(u8, Chain)>,
    /// Where reading resumes (the committed offset), until the first
    /// message is taken.
    resume: Option<i64>,
    /// The offset of the last message taken.
    last: Option<i64>,
    /// Offsets (first, count) deleted before they were read, right before
    /// the next message taken.
    lost: Option<(i64, i64)>,
}

impl PartitionState {
    fn advance(&mut self) {
        while let Some(front) = self.pending.front() {
            if front.remaining > 0 {
                break;
            }
            self.ready = Some(front.offset + 1);
            let done = self.pending.pop_front().expect("front exists");
            self.seal(done.offset, done.seal.as_deref());
        }
    }

    /// Gives a completed message's fate to every chain.
    fn seal(&mut self, offset: i64, info: Option<&SealInfo>) {
        let lost = info.and_then(|i| i.lost_before);
        for (output, chain) in &mut self.chains {
            if let Some((from, count)) = lost {
                chain.push(from, Fate::Lost(count));
            }
            let fate = info.map_or(Fate::Elsewhere, |i| i.fate(*output));
            chain.push(offset, fate);
        }
    }

    /// The next offset that may be committed: complete and, with sealing,
    /// covered by acknowledged seals of every chain.
    fn commit_point(&self) -> Option<i64> {
        if self.chains.is_empty() {
            return self.ready;
        }
        let mut point = self.ready?;
        for (_, chain) in &self.chains {
            point = point.min(chain.acked_through()?);
        }
        Some(point)
    }
}

/// What finished when an ack completed a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completed {
    pub bytes: u32,
    pub dead_lettered: bool,
}

/// Messages of a revoked partition that were still awaiting acks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Released {
    pub events: u64,
    pub bytes: u64,
}

/// An offset to commit: (topic, partition, next offset to read).
pub type CommitPoint = (Arc<str>, i32, i64);

/// Per-partition completion state for the partitions this consumer owns.
/// State is removed on revoke, so it holds only assigned partitions and
/// only messages in flight.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    slots: Vec<Option<PartitionState>>,
    /// Slots by topic, then partition; looked up per message by `&str`.
    by_partition: HashMap<Arc<str>, HashMap<i32, u32>>,
    generation: u32,
    /// The slot `slot` found last (it may have been freed or reused since:
    /// checked before use).
    last_slot: std::cell::Cell<u32>,
    /// Sealed outputs: (output index, name).
    sealed: Vec<(u8, String)>,
    /// Each slot's generation, as the outputs see it.
    generations: Arc<Generations>,
}

impl OffsetTracker {
    pub fn new() -> OffsetTracker {
        OffsetTracker::default()
    }

    /// The slots' generations, for the outputs (see [`Generations`]).
    pub fn generations(&self) -> Arc<Generations> {
        self.generations.clone()
    }

    /// Turns sealing on for these outputs (index, name), for partitions
    /// assigned from now on.
    pub fn seal_outputs(&mut self, outputs: Vec<(u8, String)>) {
        self.sealed = outputs;
    }

    /// Whether any output is sealed.
    pub fn sealing(&self) -> bool {
        !self.sealed.is_empty()
    }

    /// Starts tracking a newly assigned partition; returns its slot.
    pub fn assign(&mut self, topic: &str, partition: i32) -> u32 {
        if let Some(slot) = self.slot(topic, partition) {
            return slot;
        }
        self.generation = self.generation.wrapping_add(1);
        let state = PartitionState {
            topic: topic.into(),
            partition,
            generation: self.generation,
            pending: VecDeque::new(),
            ready: None,
            committed: None,
            chains: self
                .sealed
                .iter()
                .map(|(i, name)| (*i, Chain::new(name, crate::stats::now_ms())))
                .collect(),
            resume: None,
            last: None,
            lost: None,
        };
        let slot = match self.slots.iter().position(Option::is_none) {
            Some(free) => {
                self.slots[free] = Some(state);
                free
            }
            None => {
                self.slots.push(Some(state));
                self.slots.len() - 1
            }
        } as u32;
        self.by_partition
            .entry(topic.into())
            .or_default()
            .insert(partition, slot);
        self.generations.set(slot, Some(self.generation));
        slot
    }

    /// Notes where the consumer resumes reading a newly assigned partition
    /// (its committed offset), for [`OffsetTracker::unread_before`].
    pub fn resume_at(&mut self, topic: &str, partition: i32, offset: i64) {
        let Some(slot) = self.slot(topic, partition) else {
            return;
        };
        if let Some(Some(state)) = self.slots.get_mut(slot as usize) {
            if state.pending.is_empty() && state.ready.is_none() {
                state.resume = Some(offset);
            }
        }
    }

    /// The offsets reading jumped over to reach `offset` in `slot`, whose
    /// message is about to be taken: from the message before it (or, for
    /// the partition's first, from where reading resumed, when known) up
    /// to `offset`. `None` when there are none. The `bool` says whether
    /// this is the partition's first message since it was assigned.
    #[inline]
    pub fn unread_before(&mut self, slot: u32, offset: i64) -> Option<(i64, bool)> {
        let state = self.slots.get_mut(slot as usize)?.as_mut()?;
        let (from, first) = match state.last {
            Some(last) => (last + 1, false),
            None => (state.resume.take()?, true),
        };
        (from < offset).then_some((from, first))
    }

    /// Notes that the `count` offsets from `first`, right before the next
    /// message of `slot`, were deleted before they were read: the seals
    /// say so (`Fate::Lost`).
    pub fn note_lost(&mut self, slot: u32, first: i64, count: i64) {
        if let Some(Some(state)) = self.slots.get_mut(slot as usize) {
            state.lost = Some((first, count));
        }
    }

    /// Starts the chains of `slot` at `offset`, before its first message
    /// (see `Chain::resume_at`).
    pub fn start_chains_at(&mut self, slot: u32, offset: i64) {
        if let Some(Some(state)) = self.slots.get_mut(slot as usize) {
            for (_, chain) in &mut state.chains {
                chain.resume_at(offset);
            }
        }
    }

    /// Called before a message at `offset` of `slot` is taken: when that
    /// is not past the partition's last message, reading moved back while
    /// the partition stayed assigned (librdkafka reset its position: the
    /// log was truncated after a leader change, or the topic was made
    /// anew). The partition then starts over from `offset` as if assigned
    /// again: what is in flight there is released (acks that come for it
    /// later are stale), nothing is committed for it until the new reading
    /// completes, and with sealing a new segment starts at `offset`, as
    /// after a restart. Returns the partition's new slot and what was
    /// released; `None` when reading did not move back.
    pub fn moved_back(&mut self, slot: u32, offset: i64) -> Option<(u32, Released)> {
        let state = self.slots.get(slot as usize)?.as_ref()?;
        if state.last.is_none_or(|last| last < offset) {
            return None;
        }
        let (topic, partition) = (state.topic.clone(), state.partition);
        // (The commit point of what completed before is not committed: it
        // lies past where reading now is.)
        let (_, released) = self.revoke(&topic, partition);
        let slot = self.assign(&topic, partition);
        self.start_chains_at(slot, offset);
        Some((slot, released))
    }

    /// Stops tracking a revoked partition. Returns the offset to commit for
    /// it (if it moved since the last commit) and the count and bytes of its
    /// messages still awaiting acks, which will now be ignored.
    pub fn revoke(&mut self, topic: &str, partition: i32) -> (Option<CommitPoint>, Released) {
        let Some(slot) = self
            .by_partition
            .get_mut(topic)
            .and_then(|m| m.remove(&partition))
        else {
            return (None, Released::default());
        };
        if self.by_partition.get(topic).is_some_and(HashMap::is_empty) {
            self.by_partition.remove(topic);
        }
        let Some(state) = self.slots[slot as usize].take() else {
            return (None, Released::default());
        };
        self.generations.set(slot, None);
        // Entries already complete (behind an incomplete one) were settled
        // when their last ack came; only the others are still in flight.
        let mut released = Released::default();
        for e in state.pending.iter().filter(|e| e.remaining > 0) {
            released.events += 1;
            released.bytes += u64::from(e.bytes);
        }
        let commit = match state.commit_point() {
            Some(r) if state.committed != Some(r) => Some((state.topic, state.partition, r)),
            _ => None,
        };
        (commit, released)
    }

    /// The slot of an assigned partition.
    pub fn slot(&self, topic: &str, partition: i32) -> Option<u32> {
        // Messages come in runs from one partition: try the last slot found
        // before hashing the topic and partition.
        let last = self.last_slot.get();
        if let Some(Some(state)) = self.slots.get(last as usize) {
            if state.partition == partition && *state.topic == *topic {
                return Some(last);
            }
        }
        let slot = self.by_partition.get(topic)?.get(&partition).copied()?;
        self.last_slot.set(slot);
        Some(slot)
    }

    /// The topic name of a slot, shared rather than copied per message.
    pub fn topic(&self, slot: u32) -> Option<Arc<str>> {
        Some(self.slots.get(slot as usize)?.as_ref()?.topic.clone())
    }

    /// Records a message taken from `slot`, to be acknowledged by `outputs`
    /// outputs (0 for a message dropped by a rule, which is complete now).
    /// Offsets of one partition must be tracked in increasing order.
    /// With sealing on, `seal` says what the seals need of it.
    pub fn track(
        &mut self,
        slot: u32,
        offset: i64,
        outputs: u16,
        bytes: u32,
        seal: Option<Box<SealInfo>>,
    ) -> Option<Token> {
        let state = self.slots.get_mut(slot as usize)?.as_mut()?;
        debug_assert!(state.pending.back().is_none_or(|e| e.offset < offset));
        state.last = Some(offset);
        let mut seal = seal;
        if let (Some(lost), Some(info)) = (state.lost.take(), seal.as_mut()) {
            info.lost_before = Some(lost);
        }
        if state.pending.is_empty() && outputs == 0 {
            state.ready = Some(offset + 1);
            state.seal(offset, seal.as_deref());
        } else {
            state.pending.push_back(Entry {
                offset,
                remaining: outputs,
                dead_lettered: false,
                bytes,
                seal,
            });
            state.advance();
        }
        Some(Token {
            slot,
            generation: state.generation,
            offset,
        })
    }

    /// Applies one output's acknowledgement. Returns what completed, or
    /// `None` when the message is not complete yet or the ack is stale
    /// (its partition was revoked since).
    pub fn ack(&mut self, ack: Ack) -> Option<Completed> {
        let t = ack.token;
        let state = self.slots.get_mut(t.slot as usize)?.as_mut()?;
        if state.generation != t.generation {
            return None;
        }
        let i = state
            .pending
            .binary_search_by_key(&t.offset, |e| e.offset)
            .ok()?;
        let entry = &mut state.pending[i];
        if entry.remaining == 0 {
            return None;
        }
        entry.remaining -= 1;
        entry.dead_lettered |= ack.dead_lettered;
        if let (true, Some(info)) = (ack.dead_lettered, &mut entry.seal) {
            if let Some(output) = ack.output {
                info.dead |= 1 << output;
            }
        }
        if entry.remaining > 0 {
            return None;
        }
        let done = Completed {
            bytes: entry.bytes,
            dead_lettered: entry.dead_lettered,
        };
        if i == 0 {
            state.advance();
        }
        Some(done)
    }

    /// Offsets that moved since they were last committed.
    pub fn to_commit(&self) -> Vec<CommitPoint> {
        self.slots
            .iter()
            .flatten()
            .filter_map(|s| match s.commit_point() {
                Some(r) if s.committed != Some(r) => Some((s.topic.clone(), s.partition, r)),
                _ => None,
            })
            .collect()
    }

    /// Cuts seals of everything completed and not yet sealed.
    pub fn cut_seals(
        &mut self,
        key: &SealKey,
        rules: &str,
        max_events: usize,
        now_ms: i64,
    ) -> Vec<SealOut> {
        let mut out = Vec::new();
        for (slot, state) in self.slots.iter_mut().enumerate() {
            let Some(state) = state else { continue };
            for (output, chain) in &mut state.chains {
                for cut in chain.cut(
                    &state.topic,
                    state.partition,
                    key,
                    rules,
                    max_events,
                    now_ms,
                ) {
                    out.push(SealOut {
                        output: *output,
                        slot: slot as u32,
                        generation: state.generation,
                        cut,
                    });
                }
            }
        }
        out
    }

    /// Notes that output `output` stored the seal of `slot` ending before
    /// `through`; stale (revoked) generations are ignored.
    pub fn seal_acked(&mut self, slot: u32, generation: u32, output: u8, through: i64) {
        let Some(Some(state)) = self.slots.get_mut(slot as usize) else {
            return;
        };
        if state.generation != generation {
            return;
        }
        for (o, chain) in &mut state.chains {
            if *o == output {
                chain.acked(through);
            }
        }
    }

    /// Fates of offsets complete and not yet covered by a stored seal
    /// (gathered, or in seals not yet stored), over every partition:
    /// bounded by back-pressure. A run of skipped or lost offsets counts
    /// once.
    pub fn unsealed(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .flat_map(|s| &s.chains)
            .map(|(_, c)| c.pending() + c.unacked())
            .sum()
    }

    /// Notes that the broker confirmed these offsets committed. A late
    /// confirmation of an older commit never moves the mark back; partitions
    /// no longer assigned are ignored.
    pub fn committed(&mut self, points: &[CommitPoint]) {
        for (topic, partition, offset) in points {
            if let Some(slot) = self.slot(topic, *partition) {
                if let Some(s) = &mut self.slots[slot as usize] {
                    s.committed = Some(s.committed.map_or(*offset, |c| c.max(*offset)));
                }
            }
        }
    }

    /// Messages taken and not yet complete (or complete but behind an
    /// incomplete one).
    pub fn in_flight(&self) -> usize {
        self.slots.iter().flatten().map(|s| s.pending.len()).sum()
    }

    /// Assigned partitions.
    pub fn partitions(&self) -> Vec<(Arc<str>, i32)> {
        self.slots
            .iter()
            .flatten()
            .map(|s| (s.topic.clone(), s.partition))
            .collect()
    }
}

#[cfg(test)]
mod tests;

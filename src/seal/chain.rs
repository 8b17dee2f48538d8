//! The writer's side of one chain: one output, one partition, one segment.
//!
//! Fates come in offset order as events complete; `cut` turns what has
//! gathered into signed seals (at most `max_events` fates each), linked to
//! the previous seal; `acked` notes that the store took a seal. The offsets
//! a seal covers may be committed to Kafka only once it is acknowledged
//! (`acked_through`). Memory: the fates not yet cut, plus the ends of the
//! seals not yet acknowledged.

use std::collections::VecDeque;

use super::record::{encode_line, fold_chain, write_fates, Fate, SealBody, SEAL_VERSION};
use super::SealKey;

/// A seal ready to be written.
#[derive(Debug, Clone)]
pub struct Cut {
    /// The seal's document id.
    pub id: String,
    /// The seal line, without a newline.
    pub line: Vec<u8>,
    /// The offset after the last one it covers.
    pub through: i64,
}

#[derive(Debug)]
pub struct Chain {
    output: String,
    segment: String,
    segment_started_ms: i64,
    seq: u64,
    /// Fates not yet in a seal; the first is for `first`.
    pending: Vec<Fate>,
    first: Option<i64>,
    /// The offset after the last pending fate.
    next: Option<i64>,
    /// Where the consumer resumed reading, before the first fate.
    resume: Option<i64>,
    chain: [u8; 32],
    prev: Option<String>,
    acked: Option<i64>,
    /// Seals cut and not yet stored: (the offset after, fates held).
    unacked: VecDeque<(i64, i64)>,
}

impl Chain {
    /// A new segment for `output`, started now.
    pub fn new(output: &str, now_ms: i64) -> Chain {
        let id: [u8; 8] = rand::random();
        Chain {
            output: output.to_owned(),
            segment: hex::encode(id),
            segment_started_ms: now_ms,
            seq: 0,
            pending: Vec::new(),
            first: None,
            next: None,
            resume: None,
            chain: [0; 32],
            prev: None,
            acked: None,
            unacked: VecDeque::new(),
        }
    }

    /// Notes where the consumer resumes reading a newly assigned partition
    /// (its committed offset, still in the log). The offsets from there to
    /// the first message read hold none (a transaction marker, aborted or
    /// compacted records) and are sealed as such, so the segment starts
    /// where the one before it ended instead of leaving a gap.
    pub fn resume_at(&mut self, offset: i64) {
        if self.first.is_none() && self.next.is_none() {
            self.resume = Some(offset);
        }
    }

    /// Adds the fate of `offset`. Offsets come in increasing order; offsets
    /// skipped (compacted away, transaction markers) are recorded as such.
    pub fn push(&mut self, offset: i64, fate: Fate) {
        if let Some(resume) = self.resume.take() {
            // Not when reading went back before it (the log was cut and
            // reading restarted from its start).
            if resume < offset && self.next.is_none() {
                self.next = Some(resume);
            }
        }
        if self.first.is_none() {
            // After a cut, the next seal starts where the last one ended,
            // skipped offsets included.
            self.first = Some(self.next.unwrap_or(offset));
        }
        if let Some(next) = self.next {
            if offset > next {
                self.pending.push(Fate::Skipped(offset - next));
            }
        }
        self.next = Some(offset + fate.span());
        self.pending.push(fate);
    }

    /// Fates gathered and not yet sealed.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Fates whose seal is sent and not yet acknowledged (a run of
    /// offsets that held no message, or were lost, is one fate: what
    /// memory holds, not how many offsets).
    pub fn unacked(&self) -> usize {
        self.unacked.iter().map(|(_, n)| *n as usize).sum()
    }

    /// Seals what has gathered, `max_events` fates a seal at most.
    pub fn cut(
        &mut self,
        topic: &str,
        partition: i32,
        key: &SealKey,
        rules: &str,
        max_events: usize,
        now_ms: i64,
    ) -> Vec<Cut> {
        let mut cuts = Vec::new();
        let mut first = match self.first {
            Some(f) => f,
            None => return cuts,
        };
        let pending = std::mem::take(&mut self.pending);
        for part in pending.chunks(max_events.max(1)) {
            let span: i64 = part.iter().map(Fate::span).sum();
            let last = first + span - 1;
            let mut fates_json = Vec::with_capacity(part.len() * 70 + 2);
            write_fates(&mut fates_json, part);
            self.chain = fold_chain(self.chain, &fates_json);
            let body = SealBody {
                v: SEAL_VERSION,
                output: self.output.clone(),
                topic: topic.to_owned(),
                partition,
                segment: self.segment.clone(),
                segment_started_ms: self.segment_started_ms,
                seq: self.seq,
                first_offset: first,
                last_offset: last,
                fates: Vec::new(),
                chain: hex::encode(self.chain),
                prev: self.prev.clone(),
                rules: rules.to_owned(),
                key_id: key.id().to_owned(),
                sealed_at_ms: now_ms,
            };
            let (line, hash) = encode_line(&body, &fates_json, key);
            self.prev = Some(hash);
            self.seq += 1;
            self.unacked.push_back((last + 1, part.len() as i64));
            cuts.push(Cut {
                id: body.id(),
                line,
                through: last + 1,
            });
            first = last + 1;
        }
        self.first = None;
        cuts
    }

    /// Notes that the store took the seal ending before `through`. Seals
    /// of one chain are acknowledged in the order they were cut.
    pub fn acked(&mut self, through: i64) {
        while let Some(&(end, _)) = self.unacked.front() {
            if end > through {
                break;
            }
            self.unacked.pop_front();
            self.acked = Some(self.acked.map_or(end, |a| a.max(end)));
        }
    }

    /// The offset after the last acknowledged seal: every offset before it
    /// is sealed and stored.
    pub fn acked_through(&self) -> Option<i64> {
        self.acked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::record::parse_line;

    /// Offsets deleted before they were read take their own fate, and the
    /// markers after them are skipped as usual.
    #[test]
    fn lost_offsets_are_sealed_as_lost() {
        let key = SealKey::generate();
        let mut c = Chain::new("cold", 5);
        c.push(5, Fate::Elsewhere);
        c.push(6, Fate::Lost(3));
        c.push(11, Fate::Elsewhere);
        let cuts = c.cut("t", 0, &key, "fp", 100, 9);
        let body = parse_line(&cuts[0].line, "a".into()).unwrap().body;
        assert_eq!(body.fates, ["r", "l:3", "s:2", "r"]);
        assert_eq!((body.first_offset, body.last_offset), (5, 11));
        // Back-pressure weighs what is held: four fates, not seven offsets.
        assert_eq!(c.unacked(), 4);
    }

    #[test]
    fn seals_link_and_cover_gaps_and_are_cut_to_size() {
        let key = SealKey::generate();
        let mut c = Chain::new("cold", 5);
        for o in [10, 11, 12, 15, 16] {
            c.push(o, Fate::Elsewhere);
        }
        let cuts = c.cut("t", 2, &key, "fp", 3, 9);
        assert_eq!(cuts.len(), 2);
        let a = parse_line(&cuts[0].line, "a".into()).unwrap().body;
        let b = parse_line(&cuts[1].line, "b".into()).unwrap().body;
        assert_eq!((a.first_offset, a.last_offset), (10, 12));
        assert_eq!(b.fates, ["s:2", "r", "r"]);
        assert_eq!((b.first_offset, b.last_offset), (13, 16));
        assert_eq!(
            b.prev,
            Some(crate::seal::record::seal_hash(
                &parse_line(&cuts[0].line, "a".into()).unwrap().bytes
            ))
        );
        assert_eq!((a.seq, b.seq), (0, 1));
        assert_eq!(cuts[1].through, 17);
        assert_eq!(c.acked_through(), None);
        c.acked(13);
        assert_eq!(c.acked_through(), Some(13));
        c.acked(17);
        assert_eq!(c.acked_through(), Some(17));
        assert!(c.cut("t", 2, &key, "fp", 3, 9).is_empty());

        // Offsets skipped right after a cut belong to the next seal.
        c.push(20, Fate::Elsewhere);
        let cuts = c.cut("t", 2, &key, "fp", 3, 9);
        let d = parse_line(&cuts[0].line, "d".into()).unwrap().body;
        assert_eq!((d.first_offset, d.last_offset), (17, 20));
        assert_eq!(d.fates, ["s:3", "r"]);
    }

    #[test]
    fn a_segment_starts_where_reading_resumed() {
        let key = SealKey::generate();
        // Resumed at a transaction marker (offset 40): the first message
        // read is 41.
        let mut c = Chain::new("cold", 5);
        c.resume_at(40);
        c.push(41, Fate::Elsewhere);
        let cuts = c.cut("t", 2, &key, "fp", 10, 9);
        let body = parse_line(&cuts[0].line, "a".into()).unwrap().body;
        assert_eq!((body.first_offset, body.last_offset), (40, 41));
        assert_eq!(body.fates, ["s:1", "r"]);
        // Resumed right at a message, or reading went back before the
        // point: the segment starts at the first message read.
        for resume in [41, 50] {
            let mut c = Chain::new("cold", 5);
            c.resume_at(resume);
            c.push(41, Fate::Elsewhere);
            let cuts = c.cut("t", 2, &key, "fp", 10, 9);
            let body = parse_line(&cuts[0].line, "a".into()).unwrap().body;
            assert_eq!((body.first_offset, body.fates.len()), (41, 1), "{resume}");
        }
    }
}

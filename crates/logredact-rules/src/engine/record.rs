//! The redaction record each event carries: what was masked, by which
//! rule. Written as bytes, from keys escaped once at compile time.

use super::open_member;
use super::workspace::Workspace;
use crate::RuleSet;

impl RuleSet {
    /// Appends the redaction record to the event at the end of `out`:
    /// `"redaction":{"rule_set":"1a2b3c4d5e6f","masked":3,"rules":{"mask-cn-id":2,...}}`.
    /// The rule set's fingerprint says which rules produced the document
    /// (seals and audits name it too).
    /// Written as bytes, from keys escaped once at compile time.
    pub(super) fn write_record(
        &self,
        out: &mut Vec<u8>,
        has_members: bool,
        work: &Workspace,
        masked: u32,
        residual: u32,
    ) {
        open_member(out, has_members);
        out.extend_from_slice(&self.record_key);
        out.extend_from_slice(b":{\"rule_set\":\"");
        // Hex digits: nothing to escape.
        out.extend_from_slice(self.fingerprint.as_bytes());
        out.extend_from_slice(b"\",\"masked\":");
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
}

fn push_number(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

//! The seal record: its fields, its one encoding, its hashes.
//!
//! A seal covers a contiguous range of one partition's offsets for one
//! output and says what became of each offset there (its fate). It is
//! written as one JSON line, `{"seal":{…},"signature":"…"}`; the signature
//! covers the exact bytes of the `seal` object as written, so `verify`
//! checks the bytes it reads back, not a re-encoding of them.
//!
//! The chain: each seal's `chain` is the SHA-256 fold of its fates over the
//! previous seal's `chain` (32 zero bytes at the start of a segment), and
//! `prev` is the SHA-256 of the previous seal's bytes. A segment is one
//! run of one writer over one partition (from an assignment to a revoke or
//! a stop); a replay after a crash starts a new segment over the same
//! offsets, and `verify` takes the newer segment's word for them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The seal format this build writes and reads.
pub const SEAL_VERSION: u32 = 1;

/// What became of one offset, as far as one output is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Written to the output; the SHA-256 of the exact document bytes.
    Indexed([u8; 32]),
    /// Went to the dead-letter output instead, with its reason class.
    DeadLettered(String),
    /// A route rule dropped it (the rule's id, when known).
    Dropped(String),
    /// Routed to other outputs only.
    Elsewhere,
}

impl Fate {
    /// The fate's one text form: `i:<sha256 hex>`, `d:<class>`,
    /// `x:<rule>`, `r`.
    pub fn encode(&self) -> String {
        match self {
            Fate::Indexed(h) => format!("i:{}", hex::encode(h)),
            Fate::DeadLettered(class) => format!("d:{class}"),
            Fate::Dropped(rule) => format!("x:{rule}"),
            Fate::Elsewhere => "r".to_owned(),
        }
    }

    pub fn decode(text: &str) -> Option<Fate> {
        if text == "r" {
            return Some(Fate::Elsewhere);
        }
        let (kind, rest) = text.split_once(':')?;
        match kind {
            "i" => {
                let mut h = [0u8; 32];
                hex::decode_to_slice(rest, &mut h).ok()?;
                Some(Fate::Indexed(h))
            }
            "d" => Some(Fate::DeadLettered(rest.to_owned())),
            "x" => Some(Fate::Dropped(rest.to_owned())),
            _ => None,
        }
    }
}

/// The signed part of a seal. Field order is the encoding's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealBody {
    pub v: u32,
    pub output: String,
    pub topic: String,
    pub partition: i32,
    /// Random per writer run over this partition (hex).
    pub segment: String,
    /// When the segment started (ms since the epoch): orders segments
    /// over the same offsets, the newer one's word counts.
    pub segment_started_ms: i64,
    /// The seal's number within its segment, from 0.
    pub seq: u64,
    pub first_offset: i64,
    pub last_offset: i64,
    /// One per offset from `first_offset` to `last_offset`, in order.
    pub fates: Vec<String>,
    /// The chain value after these fates (hex).
    pub chain: String,
    /// SHA-256 of the previous seal of the segment (hex); none for seq 0.
    pub prev: Option<String>,
    /// The rule set's fingerprint when the seal was made.
    pub rules: String,
    pub key_id: String,
    pub sealed_at_ms: i64,
}

impl SealBody {
    /// The document id of the seal: unique per segment and range, so
    /// seals are only ever created, never overwritten.
    pub fn id(&self) -> String {
        format!(
            "{}-{}-{}-{}-{}",
            self.output, self.topic, self.partition, self.first_offset, self.segment
        )
    }
}

/// Folds fates into a chain value.
pub fn fold_chain<'a>(start: [u8; 32], fates: impl IntoIterator<Item = &'a str>) -> [u8; 32] {
    let mut chain = start;
    for fate in fates {
        let mut h = Sha256::new();
        h.update(chain);
        h.update(fate.as_bytes());
        chain = h.finalize().into();
    }
    chain
}

/// SHA-256 of a document's bytes, as written.
pub fn doc_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of a seal's bytes, in hex: what the next seal's `prev` holds.
pub fn seal_hash(body_bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(body_bytes))
}

/// Writes the seal line (`{"seal":…,"signature":"…"}`, no newline) and
/// returns it with the body's bytes' hash.
pub fn encode_line(body: &SealBody, key: &super::SealKey) -> (Vec<u8>, String) {
    let bytes = serde_json::to_vec(body).expect("a seal always encodes");
    let signature = key.sign(&bytes);
    let mut line = Vec::with_capacity(bytes.len() + 110);
    line.extend_from_slice(b"{\"seal\":");
    line.extend_from_slice(&bytes);
    line.extend_from_slice(b",\"signature\":\"");
    line.extend_from_slice(signature.as_bytes());
    line.extend_from_slice(b"\"}");
    (line, seal_hash(&bytes))
}

/// A seal read back: its bytes as stored, parsed.
#[derive(Debug, Clone)]
pub struct ReadSeal {
    pub body: SealBody,
    /// The exact bytes of the `seal` object, which the signature covers.
    pub bytes: Vec<u8>,
    pub signature: String,
    /// Where it was read (an `_id`, or file:line), for reports.
    pub place: String,
}

/// Parses a stored seal line; `None` when it is not one (reported as a
/// malformed seal by the caller).
pub fn parse_line(line: &[u8], place: String) -> Result<ReadSeal, String> {
    #[derive(Deserialize)]
    struct Line<'a> {
        #[serde(borrow)]
        seal: &'a serde_json::value::RawValue,
        signature: String,
    }
    let parsed: Line<'_> =
        serde_json::from_slice(line).map_err(|e| format!("not a seal record ({e})"))?;
    let bytes = parsed.seal.get().as_bytes().to_vec();
    let body: SealBody =
        serde_json::from_slice(&bytes).map_err(|e| format!("not a seal record ({e})"))?;
    Ok(ReadSeal {
        body,
        bytes,
        signature: parsed.signature,
        place,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fates_round_trip_through_their_text() {
        for f in [
            Fate::Indexed(doc_hash(b"{}")),
            Fate::DeadLettered("indexing_rejected".into()),
            Fate::Dropped("drop-health".into()),
            Fate::Elsewhere,
        ] {
            assert_eq!(Fate::decode(&f.encode()), Some(f));
        }
        assert_eq!(Fate::decode("i:zz"), None);
        assert_eq!(Fate::decode("q:1"), None);
    }

    #[test]
    fn a_line_reads_back_to_the_bytes_that_were_signed() {
        let key = super::super::SealKey::generate();
        let body = SealBody {
            v: SEAL_VERSION,
            output: "cold".into(),
            topic: "t".into(),
            partition: 0,
            segment: "ab".into(),
            segment_started_ms: 1,
            seq: 0,
            first_offset: 0,
            last_offset: 0,
            fates: vec!["r".into()],
            chain: hex::encode(fold_chain([0; 32], ["r"])),
            prev: None,
            rules: "f".into(),
            key_id: key.id().into(),
            sealed_at_ms: 2,
        };
        let (line, hash) = encode_line(&body, &key);
        let read = parse_line(&line, "x".into()).unwrap();
        assert_eq!(read.body, body);
        assert_eq!(seal_hash(&read.bytes), hash);
        assert!(super::super::key::signature_holds(
            &key.public(),
            &read.bytes,
            &read.signature
        ));
    }

    #[test]
    fn the_chain_depends_on_every_fate_and_its_order() {
        let a = fold_chain([0; 32], ["r", "x:y"]);
        assert_ne!(a, fold_chain([0; 32], ["x:y", "r"]));
        assert_ne!(a, fold_chain([0; 32], ["r"]));
        assert_ne!(a, fold_chain([1; 32], ["r", "x:y"]));
    }
}

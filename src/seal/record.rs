//! The seal record: its fields, its one encoding, its hashes.
//!
//! A seal covers a contiguous range of one partition's offsets for one
//! output and says what became of each offset there (its fate). It is
//! written as one JSON line, `{"seal":{…},"signature":"…"}`; the Ed25519
//! signature is over the SHA-256 of the exact bytes of the `seal` object
//! as written, so `verify` checks the bytes it reads back, not a
//! re-encoding of them (and signing costs the same for any seal size).
//!
//! The chain: each seal's `chain` is the SHA-256 of the previous seal's
//! `chain` (32 zero bytes at the start of a segment) followed by its
//! `fates` array as JSON (as written: no spaces), and
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
    /// This many offsets hold no message (compacted away, transaction
    /// markers).
    Skipped(i64),
    /// This many offsets held messages Kafka's retention deleted before
    /// logredact read them: lost upstream, never written.
    Lost(i64),
}

/// The fate's one text form: `i:<sha256 hex>`, `d:<class>`, `x:<rule>`,
/// `r`, `s:<count>`, `l:<count>`. Written without allocating: fates are written once
/// per event.
impl std::fmt::Display for Fate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fate::Indexed(h) => {
                let mut text = [0u8; 64];
                hex::encode_to_slice(h, &mut text).expect("64 hex digits fit");
                f.write_str("i:")?;
                f.write_str(std::str::from_utf8(&text).expect("hex is ASCII"))
            }
            Fate::DeadLettered(class) => write!(f, "d:{class}"),
            Fate::Dropped(rule) => write!(f, "x:{rule}"),
            Fate::Elsewhere => f.write_str("r"),
            Fate::Skipped(n) => write!(f, "s:{n}"),
            Fate::Lost(n) => write!(f, "l:{n}"),
        }
    }
}

impl Fate {
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
            "s" => rest.parse().ok().filter(|n| *n > 0).map(Fate::Skipped),
            "l" => rest.parse().ok().filter(|n| *n > 0).map(Fate::Lost),
            _ => None,
        }
    }

    /// How many offsets the fate stands for.
    pub fn span(&self) -> i64 {
        match self {
            Fate::Skipped(n) | Fate::Lost(n) => *n,
            _ => 1,
        }
    }
}

/// Writes fates as the seal's JSON array of texts, straight from the
/// fates: what `serde_json` writes for the same texts, byte for byte.
pub fn write_fates(out: &mut Vec<u8>, fates: &[Fate]) {
    out.push(b'[');
    for (i, fate) in fates.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match fate {
            // Hex needs no escaping: the common case, written directly.
            Fate::Indexed(h) => {
                out.extend_from_slice(b"\"i:");
                let at = out.len();
                out.resize(at + 64, 0);
                hex::encode_to_slice(h, &mut out[at..]).expect("64 hex digits fit");
                out.push(b'"');
            }
            Fate::Elsewhere => out.extend_from_slice(b"\"r\""),
            other => serde_json::to_writer(&mut *out, &other.to_string())
                .expect("writing to memory never fails"),
        }
    }
    out.push(b']');
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
    /// One per offset from `first_offset` to `last_offset`, in order
    /// (`s:N` for N offsets).
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

/// The chain value after a seal whose `fates` array is `fates_json`.
pub fn fold_chain(start: [u8; 32], fates_json: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(start);
    h.update(fates_json);
    h.finalize().into()
}

/// SHA-256 of a document's bytes, as written.
pub fn doc_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of a seal's bytes: what is signed, and (in hex) what the next
/// seal's `prev` holds.
pub fn seal_digest(body_bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(body_bytes).into()
}

/// `seal_digest` in hex.
pub fn seal_hash(body_bytes: &[u8]) -> String {
    hex::encode(seal_digest(body_bytes))
}

/// Writes the seal line (`{"seal":…,"signature":"…"}`, no newline) of
/// `body`, whose `fates` are left empty and given as `fates_json` (written
/// by `write_fates`), and returns it with the seal's hash.
pub fn encode_line(body: &SealBody, fates_json: &[u8], key: &super::SealKey) -> (Vec<u8>, String) {
    debug_assert!(body.fates.is_empty());
    let head = serde_json::to_vec(body).expect("a seal always encodes");
    // Every other field is a number or a name without quotes, so this is
    // the one place the empty list is.
    let at = find(&head, b"\"fates\":[]").expect("the fates field is written") + 8;
    let mut bytes = Vec::with_capacity(head.len() + fates_json.len());
    bytes.extend_from_slice(&head[..at]);
    bytes.extend_from_slice(fates_json);
    bytes.extend_from_slice(&head[at + 2..]);
    let digest = seal_digest(&bytes);
    let signature = key.sign(&digest);
    let mut line = Vec::with_capacity(bytes.len() + 110);
    line.extend_from_slice(b"{\"seal\":");
    line.extend_from_slice(&bytes);
    line.extend_from_slice(b",\"signature\":\"");
    line.extend_from_slice(signature.as_bytes());
    line.extend_from_slice(b"\"}");
    (line, hex::encode(digest))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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

/// The first seal of a segment of partition 0 of `t`, for tests, over
/// `first..=last` with these fates (as written by `write_fates`), ready
/// for `encode_line`.
#[cfg(test)]
pub(crate) fn test_body(
    key: &super::SealKey,
    first: i64,
    last: i64,
    fates_json: &[u8],
) -> SealBody {
    SealBody {
        v: SEAL_VERSION,
        output: "cold".into(),
        topic: "t".into(),
        partition: 0,
        segment: "ab".into(),
        segment_started_ms: 1,
        seq: 0,
        first_offset: first,
        last_offset: last,
        fates: Vec::new(),
        chain: hex::encode(fold_chain([0; 32], fates_json)),
        prev: None,
        rules: "f".into(),
        key_id: key.id().into(),
        sealed_at_ms: 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fates() -> Vec<Fate> {
        vec![
            Fate::Indexed(doc_hash(b"{}")),
            Fate::DeadLettered("indexing_rejected".into()),
            Fate::Dropped("drop-health".into()),
            Fate::Elsewhere,
            Fate::Skipped(3),
        ]
    }

    #[test]
    fn fates_round_trip_through_their_text_and_are_written_as_serde_json_would() {
        let fates = fates();
        for f in &fates {
            assert_eq!(Fate::decode(&f.to_string()).as_ref(), Some(f));
        }
        assert_eq!(Fate::decode("i:zz"), None);
        assert_eq!(Fate::decode("q:1"), None);
        assert_eq!(Fate::decode("s:0"), None);
        // `verify` folds the texts it reads, re-encoded by serde_json.
        let texts: Vec<String> = fates.iter().map(ToString::to_string).collect();
        let mut written = Vec::new();
        write_fates(&mut written, &fates);
        assert_eq!(written, serde_json::to_vec(&texts).unwrap());
    }

    #[test]
    fn a_line_reads_back_to_the_bytes_that_were_signed() {
        let key = super::super::SealKey::generate();
        let fates = fates();
        let mut fates_json = Vec::new();
        write_fates(&mut fates_json, &fates);
        let body = test_body(&key, 0, 6, &fates_json);
        let (line, hash) = encode_line(&body, &fates_json, &key);
        let read = parse_line(&line, "x".into()).unwrap();
        let texts: Vec<String> = fates.iter().map(ToString::to_string).collect();
        assert_eq!(
            read.body,
            SealBody {
                fates: texts,
                ..body
            }
        );
        assert_eq!(seal_hash(&read.bytes), hash);
        assert!(super::super::key::signature_holds(
            &key.public(),
            &seal_digest(&read.bytes),
            &read.signature
        ));
    }

    #[test]
    fn the_chain_depends_on_every_fate_its_order_and_its_start() {
        let a = fold_chain([0; 32], br#"["r","x:y"]"#);
        assert_ne!(a, fold_chain([0; 32], br#"["x:y","r"]"#));
        assert_ne!(a, fold_chain([0; 32], br#"["r"]"#));
        assert_ne!(a, fold_chain([1; 32], br#"["r","x:y"]"#));
    }
}

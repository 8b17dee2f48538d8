//! Outputs: Elasticsearch bulk writers, NDJSON files, and the dead-letter
//! output. Every document a sink takes ends in exactly one [`Ack`]: indexed
//! (or written), or dead-lettered with a reason.

pub mod dead_letter;
pub mod elasticsearch;
pub mod file;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

pub use dead_letter::{DeadLetter, DeadLetterWriter};

/// Names one consumed Kafka message for the offset tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token {
    /// The tracker's slot for the (topic, partition).
    pub slot: u32,
    /// Bumped on each assignment, so acks for a partition that was revoked
    /// and assigned again are recognised as stale.
    pub generation: u32,
    pub offset: i64,
}

/// One output is finished with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub token: Token,
    /// The event went to the dead-letter output instead of this output.
    pub dead_lettered: bool,
}

/// Where acks go, a batch at a time: the consumer thread, which owns the
/// offset tracker.
pub type AckSender = std::sync::mpsc::Sender<Vec<Ack>>;

/// Documents travel to an output in small batches, so the consumer thread
/// wakes an output once per batch rather than once per event.
pub type DocBatch = Vec<Arc<Doc>>;

/// A redacted event on its way to the outputs it was routed to; shared by
/// them, so the body is held once.
#[derive(Debug)]
pub struct Doc {
    pub token: Token,
    /// Deterministic `_id` (topic/partition/offset): a replay overwrites.
    pub id: String,
    /// The redacted event, without a trailing newline.
    pub body: Bytes,
    /// Event time (`@timestamp`, else the Kafka timestamp), for index names.
    pub time_ms: i64,
    /// The Kafka message timestamp, for end-to-end latency.
    pub kafka_ts_ms: Option<i64>,
    pub topic: Arc<str>,
    pub partition: i32,
    /// When the consumer took it, for the time an event waits in a batch.
    pub consumed_at: Instant,
}

impl Doc {
    /// Time from the event's production (its Kafka timestamp) to `now`,
    /// or from its consumption when the message has no timestamp.
    pub fn age(&self, now: &crate::stats::Now) -> std::time::Duration {
        match self.kafka_ts_ms {
            Some(ts) => std::time::Duration::from_millis(now.ms.saturating_sub(ts).max(0) as u64),
            None => now.instant.saturating_duration_since(self.consumed_at),
        }
    }

    /// Approximate memory held, for back-pressure accounting.
    pub fn weight(&self) -> usize {
        self.body.len() + self.id.len() + 128
    }
}

/// The deterministic document id for a Kafka message.
pub fn doc_id(topic: &str, partition: i32, offset: i64) -> String {
    // Built by hand: this runs for every event, and `format!` costs more
    // than the rest of it.
    let mut id = String::with_capacity(topic.len() + 24);
    id.push_str(topic);
    id.push('-');
    push_int(&mut id, i64::from(partition));
    id.push('-');
    push_int(&mut id, offset);
    id
}

fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[i..].iter().map(|&d| char::from(d)));
}

/// An index name with `%Y`, `%m`, `%d`, `%H` taken from the event time (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexTemplate {
    parts: Vec<Part>,
    dated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Year,
    Month,
    Day,
    Hour,
}

impl IndexTemplate {
    pub fn parse(template: &str) -> Result<IndexTemplate, String> {
        if template.is_empty() {
            return Err("the index name is empty".into());
        }
        if template.starts_with(['-', '_', '+', '.']) && template != "." {
            return Err(format!(
                "\"{template}\": an index name cannot start with '-', '_', '+' or '.'"
            ));
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                if c.is_ascii_uppercase() || "\\/*?\"<>| ,#:".contains(c) {
                    return Err(format!(
                        "\"{template}\": index names must be lowercase and cannot contain \\ / * ? \" < > | space , # :"
                    ));
                }
                text.push(c);
                continue;
            }
            let part = match chars.next() {
                Some('Y') => Part::Year,
                Some('m') => Part::Month,
                Some('d') => Part::Day,
                Some('H') => Part::Hour,
                Some('%') => {
                    text.push('%');
                    continue;
                }
                other => {
                    return Err(format!(
                        "\"{template}\": %{} is not a date field; use %Y, %m, %d or %H",
                        other.map(String::from).unwrap_or_default()
                    ))
                }
            };
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(part);
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        let dated = parts.iter().any(|p| !matches!(p, Part::Text(_)));
        Ok(IndexTemplate { parts, dated })
    }

    /// Whether the name depends on the event time.
    pub fn is_dated(&self) -> bool {
        self.dated
    }

    /// The index name for an event at `time_ms` (milliseconds since the
    /// epoch, UTC).
    pub fn render(&self, time_ms: i64) -> String {
        use chrono::{Datelike, Timelike};
        let t = chrono::DateTime::from_timestamp_millis(time_ms).unwrap_or_default();
        let mut out = String::with_capacity(32);
        for part in &self.parts {
            match part {
                Part::Text(s) => out.push_str(s),
                Part::Year => out.push_str(&format!("{:04}", t.year())),
                Part::Month => out.push_str(&format!("{:02}", t.month())),
                Part::Day => out.push_str(&format!("{:02}", t.day())),
                Part::Hour => out.push_str(&format!("{:02}", t.hour())),
            }
        }
        out
    }
}

/// Renders index names, remembering the last hour's name: events arrive
/// roughly in time order, so this avoids formatting per event. Holds one
/// entry, so dated indices that have rolled over leave nothing behind.
#[derive(Debug)]
pub struct IndexNamer {
    template: IndexTemplate,
    last: Option<(i64, Arc<str>)>,
}

impl IndexNamer {
    pub fn new(template: IndexTemplate) -> IndexNamer {
        IndexNamer {
            template,
            last: None,
        }
    }

    pub fn name(&mut self, time_ms: i64) -> Arc<str> {
        let hour = if self.template.is_dated() {
            time_ms.div_euclid(3_600_000)
        } else {
            0
        };
        match &self.last {
            Some((h, name)) if *h == hour => name.clone(),
            _ => {
                let name: Arc<str> = self.template.render(time_ms).into();
                self.last = Some((hour, name.clone()));
                name
            }
        }
    }
}

/// The event time in milliseconds: the top-level `@timestamp` when it is an
/// RFC 3339 string or epoch milliseconds, else `None`.
///
/// `body` is JSON the rule engine has validated. The key is found with a
/// SIMD search, and only the text before it is walked to check that it
/// sits at the top level, so the cost is small when the key comes early,
/// as it usually does in access logs.
pub fn event_time_ms(body: &[u8]) -> Option<i64> {
    static KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"@timestamp\""));
    let mut walker = DepthWalker::default();
    let mut from = 0;
    loop {
        let at = from + KEY.find(&body[from..])?;
        walker.advance(&body[..at]);
        // A key at depth 1, outside any string, is a top-level member name.
        if walker.depth == 1 && !walker.in_string {
            return time_value(&body[at + 12..]);
        }
        from = at + 1;
    }
}

/// Tracks JSON nesting depth over a growing prefix.
#[derive(Default)]
struct DepthWalker {
    pos: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl DepthWalker {
    fn advance(&mut self, prefix: &[u8]) {
        for &b in &prefix[self.pos.min(prefix.len())..] {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        self.pos = prefix.len();
    }
}

/// Reads `: "2026-…"` or `: 1767323045678` after a key.
fn time_value(rest: &[u8]) -> Option<i64> {
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    match rest.first()? {
        b'"' => {
            let end = 1 + memchr::memchr(b'"', &rest[1..])?;
            let raw = &rest[1..end];
            let text: std::borrow::Cow<'_, str> = if raw.contains(&b'\\') {
                // Escaped text: let serde_json decode the whole string.
                let end = rest.len().min(256);
                let mut de = serde_json::Deserializer::from_slice(&rest[..end]);
                std::borrow::Cow::Owned(<String as serde::Deserialize>::deserialize(&mut de).ok()?)
            } else {
                std::borrow::Cow::Borrowed(std::str::from_utf8(raw).ok()?)
            };
            chrono::DateTime::parse_from_rfc3339(&text)
                .ok()
                .map(|t| t.timestamp_millis())
        }
        b'-' | b'0'..=b'9' => {
            let end = rest
                .iter()
                .position(|b| !(b.is_ascii_digit() || *b == b'-'))
                .unwrap_or(rest.len());
            let next = rest.get(end).copied();
            if matches!(next, Some(b'.' | b'e' | b'E')) {
                return None;
            }
            std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_template_renders_utc_dates() {
        let t = IndexTemplate::parse("logs-hot-%Y.%m.%d").unwrap();
        // 2026-03-01T01:30:00+08:00 is still February 28th in UTC.
        let ms = chrono::DateTime::parse_from_rfc3339("2026-03-01T01:30:00+08:00")
            .unwrap()
            .timestamp_millis();
        assert_eq!(t.render(ms), "logs-hot-2026.02.28");
        assert!(IndexTemplate::parse("Logs").is_err());
        assert!(IndexTemplate::parse("logs-%q").is_err());
        assert_eq!(IndexTemplate::parse("a%%b").unwrap().render(0), "a%b");
    }

    #[test]
    fn event_time_comes_from_top_level_timestamp_only() {
        assert_eq!(
            event_time_ms(br#"{"a":1,"@timestamp":"2026-01-02T03:04:05.678Z"}"#),
            Some(1767323045678)
        );
        assert_eq!(
            event_time_ms(br#"{"@timestamp":1767323045678}"#),
            Some(1767323045678)
        );
        assert_eq!(
            event_time_ms(br#"{"x":{"@timestamp":"2026-01-02T03:04:05Z"}}"#),
            None
        );
        assert_eq!(event_time_ms(br#"{"@timestamp":"yesterday"}"#), None);
        assert_eq!(event_time_ms(br#"{"b":2}"#), None);
        // Nested first, top-level later; a key inside a string is no key.
        assert_eq!(
            event_time_ms(br#"{"x":{"@timestamp":1},"s":"\"@timestamp\":2","@timestamp" : 3}"#),
            Some(3)
        );
        assert_eq!(
            event_time_ms(br#"{"@timestamp":"2026-01-02T03:04:05\u002e678Z"}"#),
            Some(1767323045678)
        );
        assert_eq!(event_time_ms(br#"{"@timestamp":1.5}"#), None);
    }

    #[test]
    fn doc_ids_are_topic_partition_offset() {
        for (p, o) in [
            (0, 0),
            (3, 42),
            (11, -1),
            (i32::MAX, i64::MAX),
            (-2, i64::MIN),
        ] {
            assert_eq!(doc_id("access-logs", p, o), format!("access-logs-{p}-{o}"));
        }
    }

    #[test]
    fn namer_follows_the_hour_and_keeps_one_entry() {
        let mut n = IndexNamer::new(IndexTemplate::parse("x-%Y.%m.%d").unwrap());
        assert_eq!(&*n.name(0), "x-1970.01.01");
        assert_eq!(&*n.name(86_400_000), "x-1970.01.02");
        assert_eq!(&*n.name(0), "x-1970.01.01");
    }
}

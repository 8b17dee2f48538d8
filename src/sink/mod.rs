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
    out.push_str(itoa::Buffer::new().format(n));
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
            rfc3339_ms(text.as_bytes()).or_else(|| {
                chrono::DateTime::parse_from_rfc3339(&text)
                    .ok()
                    .map(|t| t.timestamp_millis())
            })
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

/// Milliseconds since the epoch of an RFC 3339 time written the usual way,
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, read digit by digit
/// (it is on every event's path); `None` for any other form, which chrono
/// then reads. Agrees with chrono's `timestamp_millis` (tested).
fn rfc3339_ms(t: &[u8]) -> Option<i64> {
    let digit = |i: usize| -> Option<i64> {
        let b = *t.get(i)?;
        b.is_ascii_digit().then(|| i64::from(b - b'0'))
    };
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let at = |i: usize, b: u8| t.get(i) == Some(&b);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return None;
    }
    let year = two(0)? * 100 + two(2)?;
    let (month, day) = (two(5)?, two(8)?);
    let (hour, minute, second) = (two(11)?, two(14)?, two(17)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > crate::rules::calendar::days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if at(i, b'.') {
        i += 1;
        let first = i;
        let mut scale = 100;
        while let Some(d) = digit(i) {
            millis += d * scale;
            scale /= 10;
            i += 1;
        }
        if i == first {
            return None;
        }
    }
    let offset_minutes = match *t.get(i)? {
        b'Z' => {
            i += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            let (h, m) = (two(i + 1)?, two(i + 4)?);
            if !at(i + 3, b':') || h > 23 || m > 59 {
                return None;
            }
            i += 6;
            if sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        _ => return None,
    };
    if i != t.len() {
        return None;
    }
    let minutes = (days_from_civil(year, month, day) * 24 + hour) * 60 + minute - offset_minutes;
    Some(minutes * 60_000 + second * 1000 + millis)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_time_reader_agrees_with_chrono() {
        let chrono_ms = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| t.timestamp_millis())
        };
        let fixed = [
            "2026-11-20T08:15:30.123Z",
            "2026-11-20T08:15:30Z",
            "1969-12-31T23:59:59.999Z",
            "0000-03-01T00:00:00Z",
            "2024-02-29T12:00:00+08:00",
            "2023-02-29T12:00:00Z",
            "2100-02-29T00:00:00Z",
            "2000-02-29T23:59:59.1234567-05:30",
            "2026-11-20T08:15:60Z",
            "2026-11-20t08:15:30Z",
            "2026-11-20 08:15:30Z",
            "2026-11-20T08:15:30.Z",
            "2026-11-20T08:15:30+0800",
            "2026-11-20T08:15:30",
            "2026-13-01T00:00:00Z",
            "2026-11-20T24:00:00Z",
            "2026-11-20T08:15:30Zx",
        ];
        for t in fixed {
            if let Some(ms) = rfc3339_ms(t.as_bytes()) {
                assert_eq!(Some(ms), chrono_ms(t), "{t}");
            }
        }
        assert!(rfc3339_ms(b"2026-11-20T08:15:30.123Z").is_some());
        let mut seed = 5u64;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((seed >> 33) % m) as i64
        };
        for _ in 0..20_000 {
            let fraction = match next(4) {
                0 => String::new(),
                n => format!(
                    ".{:0width$}",
                    next(10i64.pow(n as u32 * 2) as u64),
                    width = 2 * n as usize
                ),
            };
            let zone = match next(3) {
                0 => "Z".to_owned(),
                1 => format!("+{:02}:{:02}", next(24), next(60)),
                _ => format!("-{:02}:{:02}", next(24), next(60)),
            };
            let t = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}{zone}",
                next(10_000),
                1 + next(12),
                1 + next(31),
                next(24),
                next(60),
                next(60)
            );
            let quick = rfc3339_ms(t.as_bytes());
            let want = chrono_ms(&t);
            assert_eq!(quick, want, "{t}");
        }
    }

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

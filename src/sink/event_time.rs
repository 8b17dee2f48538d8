//! The event time of a redacted event: its top-level `@timestamp`, read
//! without parsing the event (a SIMD search for the key, a depth walk over
//! the text before it) and without a date library on the hot path.

use crate::rules::calendar::{days_from_civil, days_in_month};

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
        || day > days_in_month(year, month)
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
}

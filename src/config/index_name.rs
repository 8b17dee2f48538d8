//! Index names from templates (`logs-hot-%Y.%m.%d`), rendered from the
//! event time in UTC, with one cached name.

use std::sync::Arc;

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
    fn namer_follows_the_hour_and_keeps_one_entry() {
        let mut n = IndexNamer::new(IndexTemplate::parse("x-%Y.%m.%d").unwrap());
        assert_eq!(&*n.name(0), "x-1970.01.01");
        assert_eq!(&*n.name(86_400_000), "x-1970.01.02");
        assert_eq!(&*n.name(0), "x-1970.01.01");
    }
}

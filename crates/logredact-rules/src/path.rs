//! Field paths that mask rules and conditions name.
//!
//! A path is dot-separated object keys: `user.phone`. Arrays are transparent:
//! `items.phone` reaches the `phone` of every element of `items`. In mask
//! rules a segment may be `*` (exactly one key) or `**` (any number of keys,
//! none included), and a pattern covers everything beneath the fields it
//! names: `user` and `user.*` both cover `user.address.city`.

/// A compiled field pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPattern {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    AnyOne,
    AnyMany,
}

impl FieldPattern {
    /// Parses a pattern; the error is a sentence for the rule author.
    pub fn parse(text: &str) -> Result<FieldPattern, String> {
        if text.is_empty() {
            return Err("a field path cannot be empty".to_owned());
        }
        let mut segments = Vec::new();
        for part in text.split('.') {
            segments.push(match part {
                "" => {
                    return Err(format!(
                        "the field path \"{text}\" has an empty part; write keys separated by single dots, like \"user.phone\""
                    ))
                }
                "*" => Segment::AnyOne,
                "**" => Segment::AnyMany,
                key if key.contains('*') => {
                    return Err(format!(
                        "the field path \"{text}\" uses * inside a key; * must stand alone between dots, like \"user.*\""
                    ))
                }
                key => Segment::Key(key.to_owned()),
            });
        }
        Ok(FieldPattern {
            text: text.to_owned(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern covers a field at `path` (its keys, outermost first).
    pub fn covers<'p>(&self, path: impl Iterator<Item = &'p str> + Clone) -> bool {
        covers(&self.segments, path)
    }
}

fn covers<'p>(pattern: &[Segment], mut path: impl Iterator<Item = &'p str> + Clone) -> bool {
    let Some((first, rest)) = pattern.split_first() else {
        // The whole pattern matched a prefix: everything beneath is covered.
        return true;
    };
    match first {
        Segment::AnyMany => {
            let mut probe = path.clone();
            loop {
                if covers(rest, probe.clone()) {
                    return true;
                }
                if probe.next().is_none() {
                    return false;
                }
            }
        }
        Segment::AnyOne => path.next().is_some() && covers(rest, path),
        Segment::Key(k) => path.next() == Some(k.as_str()) && covers(rest, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(p: &str, path: &str) -> bool {
        FieldPattern::parse(p).unwrap().covers(path.split('.'))
    }

    #[test]
    fn prefixes_cover_subtrees() {
        assert!(covers("user", "user.phone"));
        assert!(covers("user.*", "user.address.city"));
        assert!(!covers("user.*", "user"));
        assert!(!covers("user", "username"));
        assert!(covers("request.headers.*", "request.headers.x-phone"));
    }

    #[test]
    fn double_star_spans_levels() {
        assert!(covers("**.phone", "a.b.c.phone"));
        assert!(covers("**.phone", "phone"));
        assert!(!covers("**.phone", "a.phones"));
        assert!(covers("**", "anything.at.all"));
    }

    #[test]
    fn bad_patterns_explain_themselves() {
        assert!(FieldPattern::parse("user..x")
            .unwrap_err()
            .contains("empty part"));
        assert!(FieldPattern::parse("us*r")
            .unwrap_err()
            .contains("stand alone"));
    }
}

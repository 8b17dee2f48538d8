//! Conditions of tag and route rules, evaluated against one event.

use super::json::{plain_string, Number, Value};

/// A field a condition reads: its dotted path, and its position in the rule
/// set's list of watched fields.
#[derive(Debug, Clone)]
pub struct Field {
    pub id: usize,
    pub path: Vec<String>,
}

/// A test on an event. Field paths are exact dotted keys; when a path passes
/// through an array, the test holds if it holds for any element.
#[derive(Debug)]
pub enum Condition {
    Equals(Field, Value<'static>),
    OneOf(Field, Vec<Value<'static>>),
    Matches(Field, regex::Regex),
    Exists(Field, bool),
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

/// Where conditions read field values from: a parsed tree, or the values
/// the rewriting pass recorded.
pub trait FieldSource {
    /// Whether `pred` holds for any value at `field`.
    fn any_at(&self, field: &Field, pred: &mut dyn FnMut(&Value<'_>) -> bool) -> bool;

    /// Whether any value at `field` is the [`same`] as one of `wants`.
    fn any_same(&self, field: &Field, wants: &[Value<'static>]) -> bool {
        self.any_at(field, &mut |v| wants.iter().any(|w| same(v, w)))
    }
}

impl FieldSource for Value<'_> {
    fn any_at(&self, field: &Field, pred: &mut dyn FnMut(&Value<'_>) -> bool) -> bool {
        self.lookup(&field.path).into_iter().any(pred)
    }
}

/// Values recorded during the rewriting pass: `(field id, start, end)`
/// byte ranges of the output.
pub struct Watched<'b> {
    pub buf: &'b [u8],
    pub spans: &'b [(u32, u32, u32)],
}

impl Watched<'_> {
    /// The recorded values at `field`, as JSON text.
    fn values_at<'s>(&'s self, field: &'s Field) -> impl Iterator<Item = &'s [u8]> + 's {
        self.spans
            .iter()
            .filter(|(id, _, _)| *id as usize == field.id)
            .map(|&(_, s, e)| &self.buf[s as usize..e as usize])
    }
}

/// Whether `pred` holds for the value the rewriting pass wrote as `raw`
/// (valid JSON).
fn parsed_holds(raw: &[u8], pred: &mut dyn FnMut(&Value<'_>) -> bool) -> bool {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|t| Value::parse_valid(t).ok())
        .is_some_and(|v| pred(&v))
}

impl FieldSource for Watched<'_> {
    fn any_at(&self, field: &Field, pred: &mut dyn FnMut(&Value<'_>) -> bool) -> bool {
        self.values_at(field).any(|raw| parsed_holds(raw, pred))
    }

    fn any_same(&self, field: &Field, wants: &[Value<'static>]) -> bool {
        self.values_at(field).any(|raw| match plain_string(raw) {
            // A string is the same as an equal string, or as a number
            // written that way (see `same`).
            Some(text) => wants.iter().any(|w| match w {
                Value::Str(want) => want.as_bytes() == text,
                Value::Number(..) => parsed_holds(raw, &mut |v| same(v, w)),
                _ => false,
            }),
            None => parsed_holds(raw, &mut |v| wants.iter().any(|w| same(v, w))),
        })
    }
}

impl Condition {
    pub fn holds(&self, event: &dyn FieldSource) -> bool {
        match self {
            Condition::Equals(f, want) => event.any_same(f, std::slice::from_ref(want)),
            Condition::OneOf(f, wants) => event.any_same(f, wants),
            Condition::Matches(f, re) => event.any_at(f, &mut |v| match v {
                Value::Str(s) => re.is_match(s),
                Value::Number(_, text) => re.is_match(text),
                Value::Bool(b) => re.is_match(if *b { "true" } else { "false" }),
                _ => false,
            }),
            Condition::Exists(f, want) => event.any_at(f, &mut |v| *v != Value::Null) == *want,
            Condition::All(cs) => cs.iter().all(|c| c.holds(event)),
            Condition::Any(cs) => cs.iter().any(|c| c.holds(event)),
            Condition::Not(c) => !c.holds(event),
        }
    }
}

/// Equality as a rule author means it: numbers compare by value, whatever
/// width they were parsed with; text and numbers compare as written
/// (`equals = "403"` holds for the number 403, and `equals = 403` for the
/// text "403", as logs write a status either way); a value inside an array
/// counts.
fn same(have: &Value<'_>, want: &Value<'_>) -> bool {
    match (have, want) {
        (Value::Array(items), _) if !matches!(want, Value::Array(_)) => {
            items.iter().any(|i| same(i, want))
        }
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Number(a, _), Value::Number(b, _)) => number_eq(*a, *b),
        (Value::Number(_, text), Value::Str(b)) => text == b,
        (Value::Str(a), Value::Number(b, _)) => {
            !a.is_empty()
                && a.bytes()
                    .all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c))
                && matches!(Value::parse_valid(a), Ok(Value::Number(n, _)) if number_eq(n, *b))
        }
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Null, Value::Null) => true,
        _ => have == want,
    }
}

fn number_eq(a: Number, b: Number) -> bool {
    match (a, b) {
        (Number::Unsigned(x), Number::Unsigned(y)) => x == y,
        (Number::Signed(x), Number::Signed(y)) => x == y,
        (Number::Unsigned(x), Number::Signed(y)) | (Number::Signed(y), Number::Unsigned(x)) => {
            i64::try_from(x).is_ok_and(|x| x == y)
        }
        (x, y) => to_f64(x) == to_f64(y),
    }
}

fn to_f64(n: Number) -> f64 {
    match n {
        Number::Unsigned(x) => x as f64,
        Number::Signed(x) => x as f64,
        Number::Float(x) => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Field {
        Field {
            id: 0,
            path: s.split('.').map(str::to_owned).collect(),
        }
    }

    #[test]
    fn combinators() {
        let ev = Value::parse(r#"{"action":"delete_user","user":{"roles":["admin","ops"]},"n":3}"#)
            .unwrap();
        let admin = Condition::Equals(p("user.roles"), Value::Str("admin".into()));
        let del = Condition::OneOf(
            p("action"),
            vec![
                Value::Str("grant_role".into()),
                Value::Str("delete_user".into()),
            ],
        );
        assert!(admin.holds(&ev));
        assert!(del.holds(&ev));
        assert!(Condition::All(vec![
            Condition::Exists(p("user"), true),
            Condition::Exists(p("nope"), false)
        ])
        .holds(&ev));
        assert!(!Condition::Not(Box::new(del)).holds(&ev));
        assert!(
            Condition::Equals(p("n"), Value::Number(Number::Float(3.0), "3.0".into())).holds(&ev)
        );
        assert!(Condition::Matches(p("action"), regex::Regex::new("^delete_").unwrap()).holds(&ev));
        assert!(!Condition::Any(vec![]).holds(&ev));
    }

    /// `equals = "403"` holds for the number 403 and `equals = 403` for the
    /// text "403": logs write a status either way.
    #[test]
    fn text_and_numbers_compare_as_written() {
        let status = |raw: &str| {
            let v: serde_json::Value =
                serde_json::from_str(&format!(r#"{{"status":{raw}}}"#)).unwrap();
            Value::from_serde(&v)
        };
        let text = Condition::Equals(p("status"), Value::Str("403".into()));
        let number = Condition::Equals(
            p("status"),
            Value::Number(Number::Unsigned(403), "403".into()),
        );
        for (raw, holds) in [
            ("403", true),
            (r#""403""#, true),
            ("4030", false),
            (r#""403 ""#, false),
            (r#""x403""#, false),
        ] {
            assert_eq!(text.holds(&status(raw)), holds, "{raw}");
            assert_eq!(number.holds(&status(raw)), holds, "{raw}");
        }
        // By value for numbers, as written for text.
        assert!(number.holds(&status("403.0")));
        assert!(!text.holds(&status("403.0")));
    }

    /// The values the rewriting pass records answer as the parsed tree does,
    /// whether a string holds escapes or not.
    #[test]
    fn recorded_values_answer_like_the_tree() {
        let cases = [
            r#""delete_user""#,
            r#""delete\u005fuser""#,
            r#""delete_user ""#,
            r#""王伟""#,
            r#""\u738b\u4f1f""#,
            r#""""#,
            r#"["x","delete_user"]"#,
            r#"3"#,
            r#"3.0"#,
            r#"null"#,
            r#"{"a":1}"#,
            r#"403"#,
            r#""403""#,
            r#"" 403""#,
            r#"403.0"#,
        ];
        let wants = [
            Value::Str("delete_user".into()),
            Value::Str("王伟".into()),
            Value::Str("".into()),
            Value::Number(Number::Unsigned(3), "3".into()),
            Value::Str("403".into()),
            Value::Number(Number::Unsigned(403), "403".into()),
        ];
        let matches = Condition::Matches(p("action"), regex::Regex::new("^delete_").unwrap());
        for raw in cases {
            let event = format!(r#"{{"action":{raw}}}"#);
            let tree = Value::parse(&event).unwrap();
            let buf = format!("xx{raw}yy");
            let recorded = Watched {
                buf: buf.as_bytes(),
                spans: &[(0, 2, 2 + raw.len() as u32)],
            };
            for want in &wants {
                let c = Condition::Equals(p("action"), want.clone());
                assert_eq!(c.holds(&recorded), c.holds(&tree), "{raw} = {want:?}");
            }
            assert_eq!(matches.holds(&recorded), matches.holds(&tree), "{raw}");
        }
    }
}

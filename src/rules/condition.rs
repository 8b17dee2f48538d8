//! Conditions of tag and route rules, evaluated against one event.

use super::json::{Number, Value};

/// A test on an event. Field paths are exact dotted keys; when a path passes
/// through an array, the test holds if it holds for any element.
#[derive(Debug)]
pub enum Condition {
    Equals(Vec<String>, Value<'static>),
    OneOf(Vec<String>, Vec<Value<'static>>),
    Matches(Vec<String>, regex::Regex),
    Exists(Vec<String>, bool),
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    pub fn holds(&self, event: &Value<'_>) -> bool {
        match self {
            Condition::Equals(path, want) => event.lookup(path).into_iter().any(|v| same(v, want)),
            Condition::OneOf(path, wants) => event
                .lookup(path)
                .into_iter()
                .any(|v| wants.iter().any(|w| same(v, w))),
            Condition::Matches(path, re) => event.lookup(path).into_iter().any(|v| match v {
                Value::Str(s) => re.is_match(s),
                Value::Number(n) => re.is_match(&n.to_text()),
                Value::Bool(b) => re.is_match(if *b { "true" } else { "false" }),
                _ => false,
            }),
            Condition::Exists(path, want) => {
                let exists = event.lookup(path).into_iter().any(|v| *v != Value::Null);
                exists == *want
            }
            Condition::All(cs) => cs.iter().all(|c| c.holds(event)),
            Condition::Any(cs) => cs.iter().any(|c| c.holds(event)),
            Condition::Not(c) => !c.holds(event),
        }
    }
}

/// Equality as a rule author means it: numbers compare by value, whatever
/// width they were parsed with; a value inside an array counts.
fn same(have: &Value<'_>, want: &Value<'_>) -> bool {
    match (have, want) {
        (Value::Array(items), _) if !matches!(want, Value::Array(_)) => {
            items.iter().any(|i| same(i, want))
        }
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => number_eq(*a, *b),
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

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(str::to_owned).collect()
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
        assert!(Condition::Equals(p("n"), Value::Number(Number::Float(3.0))).holds(&ev));
        assert!(Condition::Matches(p("action"), regex::Regex::new("^delete_").unwrap()).holds(&ev));
        assert!(!Condition::Any(vec![]).holds(&ev));
    }
}

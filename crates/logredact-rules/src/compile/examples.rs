//! The examples a rule file carries (`[[mask.example]]` and the like).

use toml::de::{DeTable, DeValue};

use super::cx::{get, Cx};
use crate::examples::{Example, Expectation};

const EXAMPLE_KEYS: &[&str] = &[
    "name",
    "input",
    "output",
    "expect",
    "expect_absent",
    "expect_routes",
    "expect_dropped",
    "expect_rejected",
];

impl Cx<'_> {
    pub(super) fn examples(&mut self, t: &DeTable<'_>) -> Vec<Example> {
        let rule = self.rule.clone().unwrap_or_default();
        let mut out = Vec::new();
        for (n, (ex, span)) in self.tables(t, "example").into_iter().enumerate() {
            self.check_keys(ex, EXAMPLE_KEYS, "an example");
            let (line, _) = crate::error::line_column(self.text, span.start);
            let name = self
                .string(ex, "name")
                .map_or_else(|| format!("example {}", n + 1), |(s, _)| s);
            let parse_json = |cx: &mut Cx<'_>, key: &str| -> Option<serde_json::Value> {
                let (text, s) = cx.string(ex, key)?;
                match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        cx.err(s, format!("the example's {key} is not valid JSON: {e}"));
                        None
                    }
                }
            };
            let input = self.string(ex, "input");
            if input.is_none() && get(ex, "input").is_none() {
                self.err(
                    span.clone(),
                    "this example has no input; add input = '{\"field\": \"value\"}'".to_owned(),
                );
            }
            if let Some((text, s)) = &input {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
                    self.err(
                        s.clone(),
                        format!("the example's input is not valid JSON: {e}"),
                    );
                }
            }
            let output = parse_json(self, "output");
            let expect = self.table(ex, "expect").map(|(et, _)| {
                et.iter()
                    .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                    .collect::<Vec<_>>()
            });
            let absent = self
                .strings(ex, "expect_absent")
                .map(|v| v.into_iter().map(|(s, _)| s).collect());
            let routes = self
                .strings(ex, "expect_routes")
                .map(|v| v.into_iter().map(|(s, _)| s).collect());
            let dropped = self.boolean(ex, "expect_dropped");
            let rejected = self.boolean(ex, "expect_rejected");
            let expectation = Expectation {
                output,
                fields: expect.unwrap_or_default(),
                absent: absent.unwrap_or_default(),
                routes,
                dropped,
                rejected,
            };
            if expectation.is_empty() {
                self.err(
                    span.clone(),
                    "this example expects nothing; add output = '...' or expect = { \"field\" = \"value\" }".to_owned(),
                );
            }
            if let Some((input, _)) = input {
                out.push(Example {
                    rule: rule.clone(),
                    name,
                    location: format!("{}:{line}", self.file),
                    enabled: true,
                    input,
                    expect: expectation,
                });
            }
        }
        out
    }
}

/// A TOML value as JSON, for constants in conditions, `set` and examples.
pub(super) fn to_json(v: &DeValue<'_>) -> serde_json::Value {
    match v {
        DeValue::String(s) => serde_json::Value::String(s.to_string()),
        DeValue::Integer(i) => {
            i64::from_str_radix(i.as_str(), i.radix()).map_or(serde_json::Value::Null, Into::into)
        }
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        DeValue::Boolean(b) => serde_json::Value::Bool(*b),
        DeValue::Datetime(d) => serde_json::Value::String(d.to_string()),
        DeValue::Array(a) => {
            serde_json::Value::Array(a.iter().map(|i| to_json(i.get_ref())).collect())
        }
        DeValue::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}

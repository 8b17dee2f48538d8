//! Why an event was not emitted. The bottom of the engine: the JSON layer
//! and the engine both report through it.

use crate::json::ParseError;

/// Why an event was not emitted. Holds no event content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    #[error("not processed: the line is not valid UTF-8")]
    NotUtf8,
    #[error(transparent)]
    Json(ParseError),
    #[error("not processed: the event is valid JSON but not an object")]
    NotObject,
    /// A rule could not be applied; the event is held back rather than
    /// emitted unmasked. Boxed: this is the rare path, and it keeps
    /// `Result<_, Reject>` small on the hot one.
    #[error("held back by rule \"{}\": {}", .0.rule, .0.problem)]
    Rule(Box<RuleFailure>),
}

/// Which rule could not be applied, and why (never the event's content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFailure {
    pub rule: String,
    pub problem: String,
}

impl Reject {
    /// A rule could not be applied.
    pub fn rule(rule: &str, problem: impl Into<String>) -> Reject {
        Reject::Rule(Box::new(RuleFailure {
            rule: rule.to_owned(),
            problem: problem.into(),
        }))
    }

    /// A low-cardinality class name, for counters and dead-letter records.
    pub fn class(&self) -> &'static str {
        match self {
            Reject::NotUtf8 => "not_utf8",
            Reject::Json(ParseError::TooDeep) => "too_deep",
            Reject::Json(_) => "not_json",
            Reject::NotObject => "not_object",
            Reject::Rule(_) => "rule_failed",
        }
    }
}

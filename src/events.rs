//! Things the daemon reports: each event is one value whose `emit` writes
//! its one log line and bumps its one counter, so the two cannot drift
//! apart (Vector's "internal events"). Emitted where the thing happens.
//! Fields hold names, counts and classes: never event content.

use std::fmt::Display;

use crate::stats::Stats;

/// Why a bulk request did not go through as a whole.
pub enum BulkProblem<'a> {
    /// No answer: a timeout or a connection error. Retried.
    NoAnswer {
        timeout: bool,
        error: &'a dyn Display,
    },
    /// 429 or 5xx. Retried.
    Refused { status: u16 },
    /// The answer was cut off. Retried.
    CutOff { error: &'a dyn Display },
    /// 413: later batches are made smaller; resent at once.
    TooLarge { new_max_docs: usize },
    /// 401 or 403: retried until an operator fixes the credentials.
    Credentials { status: u16 },
    /// Another 4xx: the documents are dead-lettered.
    Rejected { status: u16, error_type: &'a str },
    /// The answer is not the JSON Elasticsearch sends. Retried.
    NotElasticsearch,
    /// The answer does not list every item. Retried.
    MissingItems { items: usize },
}

/// A bulk request of `docs` documents to `output` that did not go through.
pub struct BulkRequestProblem<'a> {
    pub output: &'a str,
    pub docs: usize,
    pub problem: BulkProblem<'a>,
}

impl BulkRequestProblem<'_> {
    pub fn emit(self, stats: &Stats) {
        let (output, docs) = (self.output, self.docs);
        let outcome = match self.problem {
            BulkProblem::NoAnswer { timeout, error } => {
                tracing::warn!(output, error = %error, docs, "bulk request failed; will retry");
                if timeout {
                    "timeout"
                } else {
                    "connection_error"
                }
            }
            BulkProblem::Refused { status } => {
                tracing::warn!(output, status, docs, "bulk request refused; will retry");
                "retryable_status"
            }
            BulkProblem::CutOff { error } => {
                tracing::warn!(output, error = %error, "bulk response was cut off; will retry");
                "connection_error"
            }
            BulkProblem::TooLarge { new_max_docs } => {
                tracing::warn!(
                    output,
                    docs,
                    new_max_docs,
                    "Elasticsearch found the bulk request too large; sending smaller batches"
                );
                "too_large"
            }
            BulkProblem::Credentials { status } => {
                tracing::error!(
                    output,
                    status,
                    "Elasticsearch refused the credentials; fix them, documents are kept and retried"
                );
                "auth_error"
            }
            BulkProblem::Rejected { status, error_type } => {
                tracing::error!(
                    output,
                    status,
                    error_type,
                    "bulk request rejected as a whole; dead-lettering its documents"
                );
                "rejected"
            }
            BulkProblem::NotElasticsearch => {
                tracing::warn!(
                    output,
                    "bulk response is not the JSON Elasticsearch sends; will retry"
                );
                "bad_response"
            }
            BulkProblem::MissingItems { items } => {
                tracing::warn!(
                    output,
                    items,
                    docs,
                    "bulk response does not list every item; will retry"
                );
                "bad_response"
            }
        };
        stats.bulk_request(output, outcome);
    }
}

/// A new rule set is active (or the same one again).
pub struct RulesReloaded<'a> {
    pub from: &'a str,
    pub to: &'a str,
}

impl RulesReloaded<'_> {
    pub fn emit(self, stats: &Stats) {
        if self.from == self.to {
            tracing::info!(rules = %self.to, "rules reloaded: unchanged");
        } else {
            tracing::info!(from = %self.from, to = %self.to, "rules reloaded");
        }
        *stats.detail().reloads.entry("ok").or_default() += 1;
    }
}

/// Kafka deleted records (its retention) before the daemon read them:
/// reading jumped from `from` over `count` offsets that are gone. The
/// events they held are lost upstream of logredact, never masked nor
/// written; consumer lag grew past the topic's retention.
pub struct LostBeforeRead<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub from: i64,
    pub count: i64,
}

impl LostBeforeRead<'_> {
    pub fn emit(self, stats: &Stats) {
        Stats::add(&stats.lost_before_read, self.count as u64);
        tracing::error!(
            topic = %self.topic,
            partition = self.partition,
            from_offset = self.from,
            offsets = self.count,
            "Kafka deleted records before logredact read them (the topic's retention ran out while they waited): up to this many events are lost; consumer lag must stay well inside retention (docs/operations.md)"
        );
    }
}

/// A reload read a different seal signing key: the seals cut from now on
/// are signed with it. Key ids are public (the hash of the public key).
pub struct SealKeyRotated<'a> {
    pub from: &'a str,
    pub to: &'a str,
}

impl SealKeyRotated<'_> {
    pub fn emit(self) {
        tracing::info!(from = %self.from, to = %self.to, "seal signing key rotated: seals from now on are signed with the new key; verify needs the old key's public half in seal.trusted_keys (docs/audit.md)");
    }
}

/// A reload was refused; the previous rules stay active.
pub struct RuleReloadRefused<'a> {
    /// The problems, one a line: positions and kinds, never rule text.
    pub problems: &'a [String],
}

impl RuleReloadRefused<'_> {
    pub fn emit(self, stats: &Stats) {
        for line in self.problems.iter().filter(|l| !l.trim().is_empty()) {
            tracing::error!(problem = %line, "rule reload refused; the previous rules stay active (`logredact check` shows the whole problem)");
        }
        *stats.detail().reloads.entry("error").or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bulk_problem_counts_under_the_outcome_dashboards_read() {
        let stats = Stats::default();
        let error = "connection reset";
        for problem in [
            BulkProblem::NoAnswer {
                timeout: true,
                error: &error,
            },
            BulkProblem::NoAnswer {
                timeout: false,
                error: &error,
            },
            BulkProblem::Refused { status: 429 },
            BulkProblem::CutOff { error: &error },
            BulkProblem::TooLarge { new_max_docs: 10 },
            BulkProblem::Credentials { status: 401 },
            BulkProblem::Rejected {
                status: 400,
                error_type: "x",
            },
            BulkProblem::NotElasticsearch,
            BulkProblem::MissingItems { items: 1 },
        ] {
            BulkRequestProblem {
                output: "hot",
                docs: 2,
                problem,
            }
            .emit(&stats);
        }
        let d = stats.detail();
        let count = |outcome: &str| d.bulk_requests[&("hot".to_owned(), outcome)];
        assert_eq!(count("timeout"), 1);
        assert_eq!(count("connection_error"), 2);
        assert_eq!(count("retryable_status"), 1);
        assert_eq!(count("too_large"), 1);
        assert_eq!(count("auth_error"), 1);
        assert_eq!(count("rejected"), 1);
        assert_eq!(count("bad_response"), 2);
    }
}

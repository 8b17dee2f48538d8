//! Retries with exponential backoff and jitter (failed items only, through
//! the batcher, so a retry never holds a request slot), dead-lettering what
//! cannot be indexed, and noticing when an outage ends.
//!
//! Failures back off in two ways. A whole request that got no answer, or
//! a 5xx, is the cluster's state: its backoff grows with the output's run
//! of such failures, and the next answered request ends the run and sends
//! every document waiting on it at once, so an outage leaves no long
//! backoff behind and the commit point follows the recovery. Refusals (a
//! 429 for a whole request, refused credentials, single items refused in
//! an answered request) back off by the document's own run of refusals
//! and wait it out: an overloaded cluster is not hurried by another
//! request's success. During an outage a probe (`GET /`, as Logstash's
//! resurrectionist does) notices the cluster's return within
//! [`PROBE_INTERVAL`], even when the next retry is due much later; it wakes
//! the waiting documents only if it saw the cluster down (no answer, or no
//! answer to `GET /` either), not when only `_bulk` fails.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{Pending, Shared};
use crate::sink::dead_letter::{Content, DeadLetter};
use crate::stats::Stats;

/// How often an output whose requests go unanswered asks the cluster
/// whether it is back (at most `retry_max_backoff`).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// Why documents go back for another attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// The whole request went unanswered or its answer was cut off: the
    /// cluster, or the way to it, is down. The probe watches for its return.
    NoAnswer,
    /// The whole request got a 5xx, or an answer that cannot be read.
    ServerError,
    /// The whole request was refused for a reason time or an operator may
    /// fix (429 for all of it, refused credentials).
    Refused,
    /// Single items of an answered request (429 or 5xx per item).
    Items,
}

impl Failure {
    /// Whether the cluster is down or broken (rather than refusing): such
    /// documents wait on the output's run of failures, and go as soon as a
    /// request is answered again.
    fn is_outage(self) -> bool {
        matches!(self, Failure::NoAnswer | Failure::ServerError)
    }
}

pub(super) fn dead_letter(shared: &Shared, p: Pending, class: &'static str, reason: String) {
    let doc = &p.doc;
    let record = DeadLetter {
        token: doc.token,
        topic: doc.topic.clone(),
        partition: doc.partition,
        offset: doc.token.offset,
        class,
        reason,
        output: Some(shared.name.clone()),
        output_index: Some(shared.index),
        content: Content::Event(doc.body.clone()),
    };
    if shared.dead_letters.send(record).is_err() {
        tracing::error!(output = %shared.name, "the dead-letter output has stopped; the event stays uncommitted and will be read again");
    }
    shared.outstanding.fetch_sub(1, Ordering::SeqCst);
}

/// Hands documents back to the batcher after a backoff (cut short when the
/// cluster answers again after an outage), or dead-letters those that have
/// used up their attempts.
pub(super) fn retry(shared: &Arc<Shared>, docs: Vec<Pending>, failure: Failure) {
    let docs = shared.without_released(docs);
    // Subscribed before the run of failures grows, so that an answer in
    // between (which ends the run) is not missed.
    let mut answers_again = shared.answers_again.subscribe();
    let step = if failure.is_outage() {
        shared.failing.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        0
    };
    let mut again = Vec::with_capacity(docs.len());
    let mut item_step = 0;
    for mut p in docs {
        p.attempts += 1;
        p.item_failures = if failure.is_outage() {
            0
        } else {
            p.item_failures + 1
        };
        let max = shared.config.max_attempts;
        if max > 0 && p.attempts >= max {
            dead_letter(
                shared,
                p,
                "retries_exhausted",
                format!("Elasticsearch did not take the document after {max} attempts"),
            );
        } else {
            item_step = item_step.max(p.item_failures);
            again.push(p);
        }
    }
    if failure.is_outage() {
        if failure == Failure::NoAnswer {
            shared.seen_down.store(true, Ordering::SeqCst);
        }
        start_probe(shared);
    }
    if again.is_empty() {
        return;
    }
    Stats::add(&shared.stats.retried_items, again.len() as u64);
    let delay = backoff(
        step.max(item_step),
        shared.config.retry_initial_backoff,
        shared.config.retry_max_backoff,
    );
    let tx = shared.retry.clone();
    let wakeable = failure.is_outage();
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = answers_again.changed(), if wakeable => {}
        }
        // The writer outlives its retries (it waits for `outstanding`).
        let _ = tx.send(again);
    });
}

impl Shared {
    /// Lets go of documents whose events were released (their partition
    /// was revoked, or its reading moved back): they are read again, and
    /// what a retry of the old copy did would not count. Kept, they would
    /// pile up through an outage with each rebalance, while back-pressure,
    /// which no longer counts them, let more in.
    fn without_released(&self, mut docs: Vec<Pending>) -> Vec<Pending> {
        let Some(generations) = &self.generations else {
            return docs;
        };
        let before = docs.len();
        docs.retain(|p| generations.is_current(&p.doc.token));
        let released = before - docs.len();
        if released > 0 {
            self.outstanding.fetch_sub(released, Ordering::SeqCst);
            tracing::info!(
                output = %self.name,
                documents = released,
                "not retrying documents of partitions whose events were released; they are read again"
            );
        }
        docs
    }

    /// A bulk request was answered: any outage is over.
    pub(super) fn answered(&self) {
        self.seen_down.store(false, Ordering::SeqCst);
        if self.failing.swap(0, Ordering::SeqCst) > 0 {
            tracing::info!(output = %self.name, "Elasticsearch answers again; documents waiting for a retry are sent now");
            self.wake_retries();
        }
    }

    /// Sends every document waiting for a retry now.
    fn wake_retries(&self) {
        self.answers_again.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Starts the probe unless one runs: while requests go unanswered, asks the
/// cluster every [`PROBE_INTERVAL`] whether it is back, and when it is,
/// sends the waiting documents at once (their requests then end the run of
/// failures).
fn start_probe(shared: &Arc<Shared>) {
    if shared.probing.swap(true, Ordering::SeqCst) {
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        let every = PROBE_INTERVAL.min(shared.config.retry_max_backoff);
        let needed = |s: &Shared| {
            s.failing.load(Ordering::SeqCst) > 0 && s.outstanding.load(Ordering::SeqCst) > 0
        };
        loop {
            tokio::time::sleep(every).await;
            if !needed(&shared) {
                shared.probing.store(false, Ordering::SeqCst);
                // A new outage may have begun as this one ended, while the
                // flag still said a probe runs: go on for it.
                if needed(&shared) && !shared.probing.swap(true, Ordering::SeqCst) {
                    continue;
                }
                return;
            }
            if super::check_reachable(&shared.name, &shared.client)
                .await
                .is_err()
            {
                shared.seen_down.store(true, Ordering::SeqCst);
                continue;
            }
            // It answers. Wake the waiting documents only if it was seen
            // down: a cluster that answers `GET /` all along while bulk
            // requests get 5xx (a proxy in front of `_bulk`) is not back,
            // and its documents wait out their backoff.
            let was_down = shared.seen_down.swap(false, Ordering::SeqCst);
            shared
                .stats
                .detail()
                .reachable
                .insert(shared.name.to_string(), true);
            // Cleared first: should the woken documents find no answer
            // again, their failure starts a new probe.
            shared.probing.store(false, Ordering::SeqCst);
            if was_down {
                shared.wake_retries();
            }
            return;
        }
    });
}

/// Exponential backoff with jitter: a random delay between half and all of
/// `initial * 2^(attempt-1)`, capped at `max`.
pub fn backoff(attempt: u32, initial: Duration, max: Duration) -> Duration {
    let exp = initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let cap = exp.min(max);
    let half = cap / 2;
    half + cap.saturating_sub(half).mul_f64(rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let i = Duration::from_millis(100);
        let m = Duration::from_secs(5);
        for attempt in 1..40 {
            let d = backoff(attempt, i, m);
            let cap = (i * 2u32.pow((attempt - 1).min(20))).min(m);
            assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d:?}");
        }
    }
}

//! Retries with exponential backoff and jitter (failed items only, through
//! the batcher, so a retry never holds a request slot), and dead-lettering
//! what cannot be indexed.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Pending, Shared};
use crate::sink::dead_letter::{Content, DeadLetter};
use crate::stats::Stats;

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
        content: Content::Event(doc.body.clone()),
    };
    if shared.dead_letters.send(record).is_err() {
        tracing::error!(output = %shared.name, "the dead-letter output has stopped; the event stays uncommitted and will be read again");
    }
    shared.outstanding.fetch_sub(1, Ordering::SeqCst);
}

/// Hands documents back to the batcher after a backoff, or dead-letters
/// those that have used up their attempts.
pub(super) fn retry(shared: &Shared, docs: Vec<Pending>) {
    let mut again = Vec::with_capacity(docs.len());
    let mut attempts = 0;
    for mut p in docs {
        p.attempts += 1;
        let max = shared.config.max_attempts;
        if max > 0 && p.attempts >= max {
            dead_letter(
                shared,
                p,
                "retries_exhausted",
                format!("Elasticsearch did not take the document after {max} attempts"),
            );
        } else {
            attempts = attempts.max(p.attempts);
            again.push(p);
        }
    }
    if again.is_empty() {
        return;
    }
    Stats::add(&shared.stats.retried_items, again.len() as u64);
    let delay = backoff(
        attempts,
        shared.config.retry_initial_backoff,
        shared.config.retry_max_backoff,
    );
    let tx = shared.retry.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        // The writer outlives its retries (it waits for `outstanding`).
        let _ = tx.send(again);
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

//! The consumer thread's hand-over of documents to the outputs: gathered
//! per output, sent a batch at a time, and waited for while an output's
//! queue is full (back-pressure), but never past what the caller allows.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::sink::DocBatch;

/// Documents gathered per output on the consumer thread, not yet handed
/// over.
pub(super) struct Handover {
    pub(super) docs: Vec<DocBatch>,
    /// When the oldest gathered document was added.
    pub(super) since: Option<Instant>,
}

impl Handover {
    /// Sends the gathered documents to their outputs; waits while an
    /// output's queue is full (back-pressure), until `give_up` says to
    /// stop waiting: then what an output could not take stays gathered
    /// (`since` too), for the next call or, at the end, uncommitted, to be
    /// read again after the restart. (Waiting on a queue that an output
    /// stuck in retries does not empty, the consumer thread never saw a
    /// stop, and a SIGTERM went unheeded past `shutdown_timeout`.)
    pub(super) fn send(&mut self, outputs: &[mpsc::Sender<DocBatch>], give_up: &dyn Fn() -> bool) {
        let mut all_sent = true;
        for (docs, output) in self.docs.iter_mut().zip(outputs) {
            if docs.is_empty() {
                continue;
            }
            let mut batch = std::mem::take(docs);
            loop {
                match output.try_send(batch) {
                    Ok(()) => break,
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        tracing::error!("an output stopped; its events stay uncommitted");
                        break;
                    }
                    Err(mpsc::error::TrySendError::Full(back)) => {
                        if give_up() {
                            *docs = back;
                            all_sent = false;
                            break;
                        }
                        batch = back;
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
            }
        }
        if all_sent {
            self.since = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;
    use crate::sink::{self, Doc};

    /// With an output's queue full and not emptying (an output stuck in
    /// retries), a stop is heeded: the documents stay unsent rather than
    /// the consumer thread waiting for ever.
    #[test]
    fn a_full_queue_does_not_hold_a_stop_back() {
        let (tx, mut rx) = mpsc::channel::<DocBatch>(1);
        tx.try_send(Vec::new()).unwrap();
        let doc = |offset| {
            Arc::new(Doc {
                token: sink::Token {
                    slot: 0,
                    generation: 1,
                    offset,
                },
                id: format!("t-0-{offset}"),
                body: Bytes::from_static(b"{}"),
                time_ms: 0,
                kafka_ts_ms: None,
                topic: "t".into(),
                partition: 0,
                consumed_at: Instant::now(),
            })
        };
        let mut handover = Handover {
            docs: vec![vec![doc(1)]],
            since: Some(Instant::now()),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stopper = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                stop.store(true, Relaxed);
            })
        };
        let started = Instant::now();
        handover.send(std::slice::from_ref(&tx), &|| stop.load(Relaxed));
        stopper.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        // Only what was queued before went: the document stays gathered.
        assert!(rx.try_recv().unwrap().is_empty());
        assert!(rx.try_recv().is_err());
        assert_eq!(handover.docs[0].len(), 1);
        assert!(handover.since.is_some());

        // Without a stop, it waits for room and then sends.
        let mut handover = Handover {
            docs: vec![vec![doc(2)]],
            since: Some(Instant::now()),
        };
        tx.try_send(Vec::new()).unwrap();
        let reader = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let first = rx.blocking_recv().unwrap();
            let second = rx.blocking_recv().unwrap();
            (first.len(), second.len())
        });
        handover.send(std::slice::from_ref(&tx), &|| false);
        assert_eq!(reader.join().unwrap(), (0, 1));
    }
}

//! Asynchronous offset commits whose outcome is known.
//!
//! rdkafka's `BaseConsumer` never hears the broker's answer to an
//! asynchronous commit: it does not set librdkafka's `offset_commit_cb`, so
//! `ConsumerContext::commit_callback` is not called for them. Commits
//! therefore go through `rd_kafka_commit_queue` with a queue of our own,
//! whose answers the consumer thread serves after each poll
//! ([`Committer::answers`]). Offsets count as committed only once the
//! broker has confirmed them, and a failed commit is tried again at the
//! next commit interval. A commit never blocks the consumer thread.
//!
//! This is, with `unread.rs`, the daemon's only `unsafe` code: three
//! librdkafka calls and the reading of the partition list librdkafka hands
//! the callback.

use std::ffi::{c_void, CStr};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use rdkafka::bindings as rdsys;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::{Offset, TopicPartitionList};

use super::CommitPoint;

/// The broker's answer to one commit.
#[derive(Debug, Default)]
pub struct Answer {
    /// Offsets the broker confirmed.
    pub confirmed: Vec<CommitPoint>,
    /// Why the commit (or part of it) failed, if it did.
    pub error: Option<String>,
}

/// Sends commits and collects the broker's answers. Must be dropped before
/// the consumer it was made for (its queue belongs to that client).
pub struct Committer {
    queue: NonNull<rdsys::rd_kafka_queue_t>,
    /// Filled by [`on_commit`] while [`Committer::answers`] serves the queue.
    answers: Box<Mutex<Vec<Answer>>>,
}

// The queue is used from the consumer thread only; librdkafka queues may be
// used from any thread.
unsafe impl Send for Committer {}

impl Committer {
    pub fn new<C: ConsumerContext>(consumer: &BaseConsumer<C>) -> Committer {
        // SAFETY: the client pointer is valid for the consumer's lifetime,
        // which outlives the committer (see the type's documentation).
        let queue = unsafe { rdsys::rd_kafka_queue_new(consumer.client().native_ptr()) };
        Committer {
            queue: NonNull::new(queue).expect("librdkafka returned no queue"),
            answers: Box::default(),
        }
    }

    /// Asks the broker to commit `points`; the answer comes back through
    /// [`Committer::answers`]. Errs only when the request could not be made.
    pub fn commit<C: ConsumerContext>(
        &self,
        consumer: &BaseConsumer<C>,
        points: &[CommitPoint],
    ) -> Result<(), String> {
        let mut list = TopicPartitionList::new();
        for (topic, partition, offset) in points {
            let _ = list.add_partition_offset(topic, *partition, Offset::Offset(*offset));
        }
        let opaque = &*self.answers as *const Mutex<Vec<Answer>> as *mut c_void;
        // SAFETY: librdkafka copies the list; the queue and the answers box
        // live as long as `self`, and the callback runs only inside
        // `answers()` (librdkafka destroys unserved answers with the queue).
        let err = unsafe {
            rdsys::rd_kafka_commit_queue(
                consumer.client().native_ptr(),
                list.ptr(),
                self.queue.as_ptr(),
                Some(on_commit),
                opaque,
            )
        };
        if err == rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            Ok(())
        } else {
            Err(error_text(err))
        }
    }

    /// The answers that have arrived since the last call.
    pub fn answers(&self) -> Vec<Answer> {
        // SAFETY: the queue is valid; this serves the callbacks of answers
        // that have arrived, on this thread, without waiting.
        unsafe { rdsys::rd_kafka_queue_poll_callback(self.queue.as_ptr(), 0) };
        std::mem::take(&mut *self.answers.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        // SAFETY: made by `rd_kafka_queue_new`, destroyed once.
        unsafe { rdsys::rd_kafka_queue_destroy(self.queue.as_ptr()) };
    }
}

fn error_text(err: rdsys::rd_kafka_resp_err_t) -> String {
    // SAFETY: librdkafka returns a static, NUL-terminated string.
    unsafe { CStr::from_ptr(rdsys::rd_kafka_err2str(err)) }
        .to_string_lossy()
        .into_owned()
}

/// librdkafka's callback with the answer to one commit.
unsafe extern "C" fn on_commit(
    _rk: *mut rdsys::rd_kafka_t,
    err: rdsys::rd_kafka_resp_err_t,
    offsets: *mut rdsys::rd_kafka_topic_partition_list_t,
    opaque: *mut c_void,
) {
    use rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR as NO_ERROR;
    let mut answer = Answer::default();
    if err != NO_ERROR {
        answer.error = Some(error_text(err));
    }
    // SAFETY: librdkafka hands a valid list (or none) for the duration of
    // the call; its elements hold NUL-terminated topic names.
    let elems: &[rdsys::rd_kafka_topic_partition_t] = match offsets.as_ref() {
        Some(list) if !list.elems.is_null() && list.cnt > 0 => {
            std::slice::from_raw_parts(list.elems, list.cnt as usize)
        }
        _ => &[],
    };
    for e in elems {
        if e.err != NO_ERROR {
            answer.error.get_or_insert_with(|| error_text(e.err));
        } else if err == NO_ERROR && e.offset >= 0 && !e.topic.is_null() {
            let topic = CStr::from_ptr(e.topic).to_string_lossy();
            answer
                .confirmed
                .push((Arc::from(&*topic), e.partition, e.offset));
        }
    }
    // SAFETY: `opaque` is the committer's answers box (see `commit`).
    let answers = &*(opaque as *const Mutex<Vec<Answer>>);
    answers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(answer);
}

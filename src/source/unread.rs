//! Offsets a partition's reading jumped over. Most hold no message
//! (transaction markers, records compacted away or aborted); some held
//! messages Kafka's retention deleted before they were read, which are
//! lost. The two are told apart by where the partition's log starts: when
//! it is past the jump's first offset, reading was reset over deleted
//! records, and the whole jump is counted lost (with
//! `auto.offset.reset = "latest"` the reset goes to the log's end, past
//! records that were still there).
//!
//! librdkafka keeps the log start each fetch response names (Fetch v5 and
//! later), so it is known without asking the broker, as of its latest
//! fetch. That may be ahead of the message being handled (fetched messages
//! wait in its queue): when reading lags so far that retention deletes
//! records already fetched, a marker in that stretch is counted lost too.
//! The count is an upper bound, and the consumer it flags is at the edge
//! of retention either way. Reading the log start is, besides `commit.rs`,
//! the daemon's only `unsafe` code: one librdkafka call.

use std::ffi::CString;

use rdkafka::bindings as rdsys;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};

/// Where `partition` of `topic` starts, as of the last fetch response;
/// `None` when librdkafka does not know (no fetch yet, or an old broker).
pub fn log_start<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    let topic = CString::new(topic).ok()?;
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: the client pointer is valid while `consumer` lives; the topic
    // is a NUL-terminated string that outlives the call; librdkafka only
    // writes the two offsets through the pointers, which point at locals.
    let err = unsafe {
        rdsys::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            topic.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (err == rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && low >= 0).then_some(low)
}

/// How many of the offsets `from..to`, which reading jumped over, count
/// as lost, when the log starts at `start`: all of them when the log
/// start is past `from` (reading was reset over deleted records), none
/// otherwise (they held no message).
pub fn lost(from: i64, to: i64, start: i64) -> i64 {
    if start > from {
        to - from
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_over_the_log_start_is_lost_whole() {
        // A transaction marker at 10, the log starting far behind.
        assert_eq!(lost(10, 11, 0), 0);
        assert_eq!(lost(100, 500, 100), 0);
        // Retention deleted up to 500; reading was at 100 and resumed at 500.
        assert_eq!(lost(100, 500, 500), 400);
        // The log start moved past the message read after the jump too
        // (deleted since that fetch): only the jump counts.
        assert_eq!(lost(100, 500, 700), 400);
        // Reset to the log's end (`latest`) over records still there.
        assert_eq!(lost(100, 9_000, 500), 8_900);
    }
}

//! Offsets a partition's reading jumped over. Most hold no message
//! (transaction markers, records compacted away or aborted); some held
//! messages Kafka's retention deleted before they were read, which are
//! lost. The two are told apart by where the partition's log starts now:
//! whatever lies before the log start was deleted.
//!
//! librdkafka keeps the log start that each fetch response names (Fetch v5
//! and later), so it is known, without asking the broker, as of the fetch
//! that brought the message after the jump. Reading it is, besides
//! `commit.rs`, the daemon's only `unsafe` code: one librdkafka call.

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

/// How many of the offsets `from..to`, which reading jumped over, were
/// deleted before they could be read, when the log now starts at `start`:
/// those before it. (Offsets past the log start that reading skipped held
/// no message.)
pub fn lost(from: i64, to: i64, start: i64) -> i64 {
    (start.min(to) - from).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_offsets_before_the_log_start_are_lost() {
        // A transaction marker at 10, the log starting far behind.
        assert_eq!(lost(10, 11, 0), 0);
        // Retention deleted up to 500; reading was at 100 and resumed at 500.
        assert_eq!(lost(100, 500, 500), 400);
        // The log start moved past the message read after the jump too
        // (deleted since that fetch): only the jump counts.
        assert_eq!(lost(100, 500, 700), 400);
        // Deleted up to 300, then markers or aborted records up to 500.
        assert_eq!(lost(100, 500, 300), 200);
        assert_eq!(lost(100, 500, 100), 0);
    }
}

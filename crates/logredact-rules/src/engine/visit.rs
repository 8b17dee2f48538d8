//! What the rewriting pass (`json::rewrite`) asks of the engine at each key
//! and value: whether it could hold something a mask rule finds (cheap
//! gates on the raw bytes, before anything is decoded), what the rules make
//! of it, and the path being walked.

use super::workspace::Workspace;
use crate::bytes::Classes;
use crate::detect::{Features, Profiler};
use crate::json::rewrite::{Leaf, Visitor};
use crate::{Reject, RuleSet};

/// The engine as the rewriting pass's visitor, for one event.
pub(super) struct Pass<'r, 'w> {
    pub rules: &'r RuleSet,
    pub work: &'w mut Workspace,
}

impl Visitor for Pass<'_, '_> {
    type Error = Reject;
    type Profile = Features;
    type Profiler = Profiler;

    #[inline(always)]
    fn looks_at_values(&self) -> bool {
        !self.rules.masks.is_empty()
    }

    #[inline(always)]
    fn short_plain_may_hold(&self, text: &[u8], classes: Classes) -> bool {
        // A custom pattern may match anything. The shortest built-in match
        // is six bytes (a@b.cn).
        self.rules.has_regex
            || (text.len() >= 6
                && !self
                    .rules
                    .plain_text_holds_nothing(text, Features::of_classes(classes)))
    }

    #[inline(always)]
    fn profiler(&mut self) -> Profiler {
        Profiler::start(self.work.scan_buffers())
    }

    #[inline(always)]
    fn profile(&mut self, profiler: &mut Profiler, classes: Classes) {
        profiler.add(self.work.scan_buffers(), classes);
    }

    #[inline(always)]
    fn profile_end(&mut self, profiler: Profiler, len: usize) -> Features {
        profiler.finish(self.work.scan_buffers(), len)
    }

    #[inline(always)]
    fn string_may_hold(&self, raw: &[u8], escaped: bool, profile: Option<Features>) -> bool {
        // Decoding only shortens text, so six bytes is still the floor.
        escaped
            || self.rules.has_regex
            || !(raw.len() < 6
                || profile.is_some_and(|f| self.rules.plain_text_holds_nothing(raw, f)))
    }

    /// Enough digits, an `@`, an escape, or text above ASCII. Most keys are
    /// short ASCII names and stop here.
    #[inline]
    fn key_may_hold(&self, key: &[u8], escaped: bool, chunk: Option<&[u8; 16]>) -> bool {
        if escaped || self.rules.has_regex {
            return true;
        }
        if let Some(chunk) = chunk {
            if key.len() <= 16 {
                // Most keys: their bytes' classes from one load.
                let c = crate::bytes::classes(chunk).first_n(key.len());
                let at_inside = c.at & !1;
                return c.percent != 0
                    || c.high != 0
                    || at_inside != 0
                    || c.digits.count_ones() as usize >= self.rules.min_digits;
            }
        }
        let mut digits = 0;
        for (i, &b) in key.iter().enumerate() {
            if b.is_ascii_digit() {
                digits += 1;
            } else if b == b'%' || b >= 0x80 || (b == b'@' && i > 0) {
                // (`@timestamp` and the like hold no address.)
                return true;
            }
        }
        digits >= self.rules.min_digits
    }

    /// Only numbers long enough to be personal data, unless a custom
    /// pattern might want shorter ones; and none that its key names a
    /// measurement (see [`names_a_quantity`]).
    #[inline]
    fn number_may_hold(&self, number: &[u8], key: &[u8]) -> bool {
        (self.rules.has_regex
            || number.iter().filter(|b| b.is_ascii_digit()).count() >= self.rules.min_number_digits)
            && !names_a_quantity(key)
    }

    #[inline(always)]
    fn removed_member(&self) -> Option<&str> {
        self.rules.settings.record_field.as_deref()
    }

    #[inline(always)]
    fn reads_keys(&self) -> bool {
        self.rules.reads_keys
    }

    #[inline]
    fn leaf(
        &mut self,
        text: &[u8],
        profile: Option<Features>,
        keys: [&[u8]; 2],
    ) -> Result<Leaf, Reject> {
        self.rules.scan_leaf(text, profile, keys, false, self.work)
    }

    #[inline]
    fn number_leaf(
        &mut self,
        reading: &[u8],
        lost_digits: bool,
        keys: [&[u8]; 2],
    ) -> Result<Leaf, Reject> {
        self.rules
            .scan_leaf(reading, None, keys, lost_digits, self.work)
    }

    #[inline(always)]
    fn leaf_text(&self) -> &[u8] {
        self.work.leaf_text()
    }

    #[inline(always)]
    fn wants_keys(&self) -> bool {
        self.work.wants_keys(self.rules)
    }

    #[inline(always)]
    fn enter_key(&mut self, key: &str) {
        self.work.enter_key(self.rules, key);
    }

    #[inline(always)]
    fn enter_index(&mut self, index: usize) {
        self.work.enter_index(self.rules, index);
    }

    #[inline(always)]
    fn leave(&mut self, was_key: bool) {
        self.work.leave(self.rules, was_key);
    }

    #[inline(always)]
    fn watch(&mut self, start: usize, end: usize) {
        self.work.watch(self.rules, start, end);
    }

    #[inline(always)]
    fn unwatch_from(&mut self, at: usize) {
        self.work.unwatch_from(at);
    }
}

/// Last words of a key that name a measurement, not a person: a number
/// there is a duration, a size or a count (Go's request durations in
/// nanoseconds, memory and disk sizes, Kafka offsets run through the
/// range of mobile numbers), and masking it would turn the number into
/// text that Elasticsearch refuses in a numeric field.
const QUANTITY_WORDS: &[&[u8]] = &[
    b"bytes",
    b"count",
    b"disk",
    b"duration",
    b"elapsed",
    b"free",
    b"latency",
    b"len",
    b"length",
    b"mem",
    b"memory",
    b"micros",
    b"millis",
    b"ms",
    b"nanos",
    b"ns",
    b"offset",
    b"seq",
    b"sequence",
    b"size",
    b"took",
    b"total",
    b"us",
    b"used",
];

/// Whether a key's last word names a measurement: `latency`,
/// `duration_ns`, `elapsedNs`, `mem_total`, `DISK_FREE`. Only the last
/// word counts: `freeCallNumber` and `contact_nums` name no measurement.
fn names_a_quantity(key: &[u8]) -> bool {
    let end = key.len();
    let mut start = end;
    if key.last().is_some_and(u8::is_ascii_uppercase) {
        // An upper-case word (`DISK_FREE`, `elapsed_NS`).
        while start > 0 && key[start - 1].is_ascii_uppercase() {
            start -= 1;
        }
    } else {
        while start > 0 && key[start - 1].is_ascii_lowercase() {
            start -= 1;
        }
        // A camel-case word begins at its capital (`elapsedNs`).
        if start > 0 && key[start - 1].is_ascii_uppercase() {
            start -= 1;
        }
    }
    let word = &key[start..end];
    word.len() >= 2
        && word.len() <= 8
        && QUANTITY_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::names_a_quantity;

    #[test]
    fn a_key_names_a_quantity_by_its_last_word() {
        for key in [
            "latency",
            "duration_ns",
            "elapsedNs",
            "mem_total",
            "DISK_FREE",
            "offset",
            "took",
            "request.bytes",
            "size",
            "durationMs",
        ] {
            assert!(names_a_quantity(key.as_bytes()), "{key}");
        }
        for key in [
            "phone",
            "freeCallNumber",
            "contact_nums",
            "mobile",
            "user_id",
            "items",
            "status",
            "",
        ] {
            assert!(!names_a_quantity(key.as_bytes()), "{key}");
        }
    }
}

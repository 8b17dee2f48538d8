//! `logredact diff`: what a change to the rules will do to real traffic,
//! before it goes live.
//!
//! Every event is run through the old and the new rule set. The report
//! counts the events whose output changes, and per rule the events it
//! fires on under each set: newly firing, no longer firing. A few examples
//! per rule show the fields that change. The preview never shows personal
//! data: a value either set would still mask is replaced by a notice, so
//! an old value that leaked (what a new rule is for) is not shown either,
//! and two masked forms of one value show only what neither hides.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::panic::AssertUnwindSafe;

use crate::commands::apply::{Line, LineReader};
use crate::rules::{Routes, RuleSet, Workspace};

/// Changed fields shown per example, and characters per value.
const FIELDS_PER_EXAMPLE: usize = 4;
const VALUE_CHARS: usize = 80;

pub struct Options {
    /// Examples kept per rule and direction.
    pub examples: usize,
    pub max_line_bytes: usize,
    /// Total input bytes when known and standard error is a terminal.
    pub progress_len: Option<u64>,
}

/// What the new rules do differently, over the events read.
#[derive(Debug, Default)]
pub struct Report {
    pub events: u64,
    pub changed: u64,
    pub refused: (u64, u64),
    pub dropped: (u64, u64),
    /// Events whose outputs (where they are routed) differ.
    pub rerouted: u64,
    /// Per rule id, in the order first seen (old set, then new).
    pub rules: Vec<(String, RuleDiff)>,
}

/// One rule's firing under the old and the new set, in events.
#[derive(Debug, Default)]
pub struct RuleDiff {
    pub old: u64,
    pub new: u64,
    pub newly: u64,
    pub no_longer: u64,
    /// Events it fires on under both sets whose output changes while the
    /// same rules fire: it masks them differently (what it keeps, its
    /// replacement).
    pub differently: u64,
    /// Examples of events it newly fires on, no longer fires on, and masks
    /// differently.
    pub newly_examples: Vec<String>,
    pub no_longer_examples: Vec<String>,
    pub differently_examples: Vec<String>,
}

/// One rule set's verdict on one event.
struct Outcome {
    /// The output, or the reason class of a refusal.
    result: Result<Vec<u8>, &'static str>,
    outputs: Option<Vec<String>>,
    dropped: bool,
    fired: Vec<usize>,
}

fn outcome(set: &RuleSet, event: &[u8], work: &mut Workspace) -> Outcome {
    let mut out = Vec::new();
    let verdict = std::panic::catch_unwind(AssertUnwindSafe(|| set.apply(event, &mut out, work)));
    match verdict {
        Ok(Ok(v)) => Outcome {
            dropped: matches!(v.routes, Routes::Dropped(_)),
            outputs: set
                .route_outputs(v.routes)
                .map(|o| o.into_iter().map(str::to_owned).collect()),
            result: Ok(out),
            fired: work
                .counts()
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, _)| i)
                .collect(),
        },
        Ok(Err(reject)) => Outcome {
            result: Err(reject.class()),
            outputs: None,
            dropped: false,
            fired: Vec::new(),
        },
        Err(_) => Outcome {
            result: Err("internal"),
            outputs: None,
            dropped: false,
            fired: Vec::new(),
        },
    }
}

/// Runs every line of `input` through both sets.
pub fn run(
    new: &RuleSet,
    old: &RuleSet,
    input: &mut dyn BufRead,
    options: &Options,
) -> std::io::Result<Report> {
    let mut report = Report::default();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for id in old.rule_ids().iter().chain(new.rule_ids()) {
        if !index.contains_key(id) {
            index.insert(id.clone(), report.rules.len());
            report.rules.push((id.clone(), RuleDiff::default()));
        }
    }
    let (mut old_work, mut new_work) = (Workspace::new(), Workspace::new());
    let mut reader = LineReader {
        inner: input,
        max: options.max_line_bytes,
    };
    let progress = options.progress_len.map(crate::commands::apply::bytes_bar);
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
    loop {
        let (kind, consumed) = reader.next(&mut line)?;
        if let Some(bar) = &progress {
            bar.inc(consumed);
        }
        match kind {
            Line::End => break,
            Line::TooLong => {
                number += 1;
                continue;
            }
            Line::Text => number += 1,
        }
        let Some(text) = crate::commands::apply::event_text(&line) else {
            continue;
        };
        report.events += 1;
        let was = outcome(old, text, &mut old_work);
        let now = outcome(new, text, &mut new_work);
        report.refused.0 += u64::from(was.result.is_err());
        report.refused.1 += u64::from(now.result.is_err());
        report.dropped.0 += u64::from(was.dropped);
        report.dropped.1 += u64::from(now.dropped);
        if was.outputs != now.outputs || was.dropped != now.dropped {
            report.rerouted += 1;
        }
        let same_result = match (&was.result, &now.result) {
            // Each redaction record names its own rule set: not a change.
            (Ok(a), Ok(b)) => {
                without_rule_set(a, old.fingerprint()) == without_rule_set(b, new.fingerprint())
            }
            (a, b) => a == b,
        };
        let changed = !same_result || was.outputs != now.outputs || was.dropped != now.dropped;
        if changed {
            report.changed += 1;
        }
        let ids = |set: &RuleSet, fired: &[usize]| -> Vec<usize> {
            let mut ids: Vec<usize> = fired.iter().map(|&i| index[&set.rule_ids()[i]]).collect();
            ids.sort_unstable();
            ids
        };
        let (before, after) = (ids(old, &was.fired), ids(new, &now.fired));
        if changed && before == after && !same_result {
            // Nothing fires anew or stops, and the output changes: one of
            // the mask or tag rules that fired masks (or tags)
            // differently. Each of them is counted; route rules change
            // nothing in an event.
            let is_route = |id: &str| {
                new.rule_ids()
                    .iter()
                    .position(|i| i == id)
                    .is_some_and(|i| new.kind_of(i) == crate::rules::RuleKind::Route)
            };
            let changers: Vec<usize> = after
                .iter()
                .copied()
                .filter(|&r| !is_route(&report.rules[r].0))
                .collect();
            for r in changers {
                let d = &mut report.rules[r].1;
                d.differently += 1;
                if d.differently_examples.len() < options.examples {
                    d.differently_examples
                        .push(example(number, new, old, &was, &now));
                }
            }
        }
        for &r in &before {
            report.rules[r].1.old += 1;
        }
        for &r in &after {
            report.rules[r].1.new += 1;
        }
        for (set_a, set_b, newly) in [(&after, &before, true), (&before, &after, false)] {
            for &r in set_a.iter().filter(|r| !set_b.contains(r)) {
                let d = &mut report.rules[r].1;
                let (count, examples) = if newly {
                    (&mut d.newly, &mut d.newly_examples)
                } else {
                    (&mut d.no_longer, &mut d.no_longer_examples)
                };
                *count += 1;
                if examples.len() < options.examples {
                    examples.push(example(number, new, old, &was, &now));
                }
            }
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok(report)
}

/// `event` without the rule set's name in its redaction record (the last
/// `"rule_set":"FINGERPRINT",` in it: the record comes last).
fn without_rule_set<'a>(event: &'a [u8], fingerprint: &str) -> std::borrow::Cow<'a, [u8]> {
    let needle = format!("\"rule_set\":\"{fingerprint}\",");
    match event
        .windows(needle.len())
        .rposition(|w| w == needle.as_bytes())
    {
        Some(at) => {
            let mut v = event[..at].to_vec();
            v.extend_from_slice(&event[at + needle.len()..]);
            std::borrow::Cow::Owned(v)
        }
        None => std::borrow::Cow::Borrowed(event),
    }
}

/// What changed in one event, as one line per changed field, with every
/// value either set would mask replaced by a notice.
fn example(line: u64, new: &RuleSet, old: &RuleSet, was: &Outcome, now: &Outcome) -> String {
    let parse = |o: &Outcome| -> Result<serde_json::Value, String> {
        if o.dropped {
            return Err("dropped".to_owned());
        }
        match &o.result {
            Ok(bytes) => {
                let mut v: serde_json::Value =
                    serde_json::from_slice(bytes).map_err(|_| "not JSON".to_owned())?;
                // The redaction record changes with every rule change.
                for field in [new.record_field(), old.record_field()]
                    .into_iter()
                    .flatten()
                {
                    if let Some(m) = v.as_object_mut() {
                        m.remove(field);
                    }
                }
                Ok(v)
            }
            Err(class) => Err(format!("refused ({class})")),
        }
    };
    let mut text = format!("line {line}:");
    match (parse(was), parse(now)) {
        (Ok(a), Ok(b)) => {
            let mut changes = Vec::new();
            changed_fields(&a, &b, &mut Vec::new(), &mut changes);
            if changes.is_empty() {
                text.push_str(
                    " the same fields (the rule fired on values already masked the same way)",
                );
            }
            let shown_changes = changes.len().min(FIELDS_PER_EXAMPLE);
            keys_apart(&mut changes[..shown_changes]);
            for (path, before, after) in changes.iter_mut().take(FIELDS_PER_EXAMPLE) {
                if let (Some(serde_json::Value::String(a)), Some(serde_json::Value::String(b))) =
                    (before.as_mut(), after.as_mut())
                {
                    (*a, *b) = apart(a, b);
                }
                text.push_str(&format!(
                    "\n      {}: {} -> {}",
                    shown_path(path, new, old),
                    shown(path, before.as_ref(), new, old),
                    shown(path, after.as_ref(), new, old)
                ));
            }
            if changes.len() > FIELDS_PER_EXAMPLE {
                text.push_str(&format!(
                    "\n      … and {} more fields",
                    changes.len() - FIELDS_PER_EXAMPLE
                ));
            }
        }
        (a, b) if !(was.dropped || now.dropped) => {
            let say = |r: Result<serde_json::Value, String>| {
                r.err().unwrap_or_else(|| "processed".into())
            };
            text.push_str(&format!(" {} -> {}", say(a), say(b)));
        }
        _ => {}
    }
    if was.dropped != now.dropped || was.outputs != now.outputs {
        let routes = |o: &Outcome| match (&o.outputs, o.dropped) {
            (_, true) => "dropped".to_owned(),
            (None, _) => "every output".to_owned(),
            (Some(list), _) => list.join(", "),
        };
        text.push_str(&format!(
            "\n      routed to: {} -> {}",
            routes(was),
            routes(now)
        ));
    }
    text
}

/// Two masked forms of one value, each as it may be shown beside the other:
/// where each shows a letter or digit the other hides, those are shown as
/// `•`. Side by side, `139****5678` and
/// `1391234****` would give the whole number; `139****••••` and
/// `139••••****` show only what changed: which characters each keeps.
/// (Values of different lengths are a replacement against a partial
/// mask, or unmasked text, which `shown` hides.)
fn apart(before: &str, after: &str) -> (String, String) {
    let shows_more = |mine: &str, other: &str| {
        mine.chars()
            .zip(other.chars())
            .any(|(m, o)| m != o && m.is_alphanumeric())
    };
    // Where one shows all the other does and more, side by side they give
    // no more than it alone.
    if before.chars().count() != after.chars().count()
        || !(shows_more(before, after) && shows_more(after, before))
    {
        return (before.to_owned(), after.to_owned());
    }
    let hide = |mine: char, other: char| {
        if mine != other && mine.is_alphanumeric() {
            '•'
        } else {
            mine
        }
    };
    before
        .chars()
        .zip(after.chars())
        .map(|(a, b)| (hide(a, b), hide(b, a)))
        .unzip()
}

/// [`apart`] for keys: a key masked one way under the old rules and
/// another way under the new ones is a member gone and a member added,
/// side by side in the preview.
fn keys_apart(changes: &mut [Change]) {
    for i in 0..changes.len() {
        for j in 0..changes.len() {
            let (gone, added) = (&changes[i], &changes[j]);
            let pair = gone.1.is_some()
                && gone.2.is_none()
                && added.1.is_none()
                && added.2.is_some()
                && gone.0.len() == added.0.len()
                && gone.0.split_last().map(|(_, p)| p) == added.0.split_last().map(|(_, p)| p);
            let (Some(Step::Key(a)), Some(Step::Key(b))) = (gone.0.last(), added.0.last()) else {
                continue;
            };
            if pair {
                let (a, b) = apart(a, b);
                if let Some(last) = changes[i].0.last_mut() {
                    *last = Step::Key(a);
                }
                if let Some(last) = changes[j].0.last_mut() {
                    *last = Step::Key(b);
                }
            }
        }
    }
}

/// One step of a path into an event: a member's key or an array index.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A changed field: where, and its values before and after (`None`: absent).
type Change = (
    Vec<Step>,
    Option<serde_json::Value>,
    Option<serde_json::Value>,
);

/// Leaf paths where `a` and `b` differ, with both values.
fn changed_fields(
    a: &serde_json::Value,
    b: &serde_json::Value,
    path: &mut Vec<Step>,
    out: &mut Vec<Change>,
) {
    use serde_json::Value::{Array, Object};
    match (a, b) {
        (Object(x), Object(y)) => {
            for (k, v) in x {
                path.push(Step::Key(k.clone()));
                match y.get(k) {
                    Some(w) => changed_fields(v, w, path, out),
                    None => out.push((path.clone(), Some(v.clone()), None)),
                }
                path.pop();
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    path.push(Step::Key(k.clone()));
                    out.push((path.clone(), None, Some(w.clone())));
                    path.pop();
                }
            }
        }
        (Array(x), Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                path.push(Step::Index(i));
                changed_fields(v, w, path, out);
                path.pop();
            }
        }
        _ if a != b => out.push((path.clone(), Some(a.clone()), Some(b.clone()))),
        _ => {}
    }
}

/// A path for the preview, dotted; a key either set would mask (personal
/// data used as a key, such as a phone number counting requests) is not
/// shown.
fn shown_path(path: &[Step], new: &RuleSet, old: &RuleSet) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|step| match step {
            Step::Index(i) => i.to_string(),
            Step::Key(k)
                if [new, old]
                    .iter()
                    .any(|set| set.mask_text(k.as_bytes()) != *k) =>
            {
                "(personal data)".to_owned()
            }
            Step::Key(k) => k.clone(),
        })
        .collect();
    if parts.is_empty() {
        "(the whole event)".to_owned()
    } else {
        parts.join(".")
    }
}

/// A value for the preview: absent, a notice if either set would mask
/// anything in it, or its JSON text, cut to a readable length.
fn shown(path: &[Step], value: Option<&serde_json::Value>, new: &RuleSet, old: &RuleSet) -> String {
    let Some(value) = value else {
        return "(absent)".to_owned();
    };
    let text = value.to_string();
    if [new, old]
        .iter()
        .any(|set| would_mask(set, path, value, &text))
    {
        return "(personal data, not shown)".to_owned();
    }
    // A keyed hash of a value with few possible inputs (a phone number) can
    // be reversed by trying them all when the key is known, and `diff`
    // without --hash-key uses the public example key.
    if text.contains("hmac:") {
        return "(a keyed hash, not shown)".to_owned();
    }
    if text.chars().count() > VALUE_CHARS {
        let cut: String = text.chars().take(VALUE_CHARS).collect();
        return format!("{cut}…");
    }
    text
}

/// Whether `set` would mask anything in `value`, as free text or where it
/// sits in an event (at `path`, so that detectors that read the field's
/// name, and rules limited to some fields, see it as they would there).
fn would_mask(set: &RuleSet, path: &[Step], value: &serde_json::Value, text: &str) -> bool {
    if set.mask_text(text.as_bytes()) != text {
        return true;
    }
    // The event rebuilt around the value, key by key as it was.
    let mut event = value.clone();
    for step in path.iter().rev() {
        event = match step {
            Step::Index(_) => serde_json::Value::Array(vec![event]),
            Step::Key(k) => {
                let mut m = serde_json::Map::new();
                m.insert(k.clone(), event);
                serde_json::Value::Object(m)
            }
        };
    }
    let mut out = Vec::new();
    let mut work = Workspace::new();
    let input = event.to_string();
    match std::panic::catch_unwind(AssertUnwindSafe(|| {
        set.apply(input.as_bytes(), &mut out, &mut work)
    })) {
        // Any mask rule that fired changed something in it.
        Ok(Ok(_)) => {
            set.rule_ids().iter().enumerate().any(|(i, _)| {
                set.kind_of(i) == crate::rules::RuleKind::Mask && work.counts()[i] > 0
            })
        }
        // Refused or failed: show nothing of it.
        _ => true,
    }
}

/// The report, for a person.
pub fn write_report(
    out: &mut dyn Write,
    report: &Report,
    new: (&str, &RuleSet),
    old: (&str, &RuleSet),
) -> std::io::Result<()> {
    let pct = |n: u64| 100.0 * n as f64 / report.events.max(1) as f64;
    writeln!(
        out,
        "{} (set {}) against {} (set {}), {}",
        new.0,
        new.1.fingerprint(),
        old.0,
        old.1.fingerprint(),
        super::count(report.events, "event")
    )?;
    writeln!(
        out,
        "  events that change:   {} ({:.1}%)",
        report.changed,
        pct(report.changed)
    )?;
    writeln!(out, "  routed differently:   {}", report.rerouted)?;
    writeln!(
        out,
        "  refused:              {} -> {}",
        report.refused.0, report.refused.1
    )?;
    writeln!(
        out,
        "  dropped by a rule:    {} -> {}",
        report.dropped.0, report.dropped.1
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "  {:<32} {:>21} {:>14} {:>17}  {:>18}",
        "rule", "events fired on", "newly firing", "no longer firing", "changes its output"
    )?;
    for (id, d) in &report.rules {
        let state = match (old.1.rule_ids().contains(id), new.1.rule_ids().contains(id)) {
            (false, true) => " (not in the old set)",
            (true, false) => " (not in the new set)",
            _ => "",
        };
        writeln!(
            out,
            "  {:<32} {:>21} {:>14} {:>17}  {:>18}",
            format!("{id}{state}"),
            format!("{} -> {}", d.old, d.new),
            d.newly,
            d.no_longer,
            d.differently
        )?;
    }
    let any = report.rules.iter().any(|(_, d)| {
        !d.newly_examples.is_empty()
            || !d.no_longer_examples.is_empty()
            || !d.differently_examples.is_empty()
    });
    if any {
        writeln!(out)?;
        writeln!(
            out,
            "examples (values either rule set masks are not shown):"
        )?;
        for (id, d) in &report.rules {
            for (what, examples) in [
                ("newly fires", &d.newly_examples),
                ("no longer fires", &d.no_longer_examples),
                (
                    "fires on both, and the output changes",
                    &d.differently_examples,
                ),
            ] {
                if examples.is_empty() {
                    continue;
                }
                writeln!(out, "  {id} {what}:")?;
                for e in examples {
                    writeln!(out, "    {e}")?;
                }
            }
        }
    }
    Ok(())
}

/// The newest messages of `topic`, about `count` of them spread over its
/// partitions, as NDJSON (a message's line breaks, which valid JSON holds
/// only between tokens, become spaces). Reads without joining a consumer
/// group and commits nothing.
pub fn sample_topic(brokers: &str, topic: &str, count: usize) -> anyhow::Result<Vec<u8>> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Message;
    use std::time::{Duration, Instant};

    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("logredact-diff-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .create()
        .map_err(|e| anyhow::anyhow!("cannot create a Kafka consumer: {e}"))?;
    let timeout = Duration::from_secs(10);
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(|e| anyhow::anyhow!("cannot reach Kafka at {brokers} ({e}); check --brokers"))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        anyhow::bail!("topic \"{topic}\" does not exist at {brokers}; check --from-topic");
    }
    let share = count.div_ceil(partitions.len()) as i64;
    let mut list = rdkafka::TopicPartitionList::new();
    let mut ends = std::collections::HashMap::new();
    for &p in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, p, timeout)
            .map_err(|e| anyhow::anyhow!("cannot read partition {p} of \"{topic}\": {e}"))?;
        if high > low {
            list.add_partition_offset(topic, p, rdkafka::Offset::Offset(low.max(high - share)))?;
            ends.insert(p, high);
        }
    }
    consumer.assign(&list)?;
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new(count as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "reading {msg}: {bar:30} {pos}/{len} events  {per_sec}",
            )
            .expect("static template"),
        );
        bar.set_message(topic.to_owned());
        bar
    });
    let mut out = Vec::new();
    let (mut taken, mut last) = (0usize, Instant::now());
    while taken < count && !ends.is_empty() && last.elapsed() < Duration::from_secs(30) {
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message.map_err(|e| anyhow::anyhow!("reading \"{topic}\": {e}"))?;
        last = Instant::now();
        let payload = message.payload().unwrap_or_default();
        out.extend(
            payload
                .iter()
                .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
        );
        out.push(b'\n');
        taken += 1;
        if let Some(bar) = &progress {
            bar.set_position(taken as u64);
        }
        if ends
            .get(&message.partition())
            .is_some_and(|&end| message.offset() + 1 >= end)
        {
            ends.remove(&message.partition());
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok(out)
}

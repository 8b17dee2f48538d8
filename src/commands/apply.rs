//! `logredact apply`: NDJSON in, redacted NDJSON out, with a summary.

use std::io::{BufRead, IsTerminal, Write};
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use crate::rules::{Reject, Routes, RuleKind, RuleSet, Workspace};

/// Lines longer than this are rejected without being held in memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 8 << 20;

/// Totals for one run; also what the summary prints.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub bytes: u64,
    pub written: u64,
    pub dropped: u64,
    pub rejected_by_class: std::collections::BTreeMap<&'static str, u64>,
    /// Per rule, indexed like `RuleSet::rule_ids`.
    pub per_rule: Vec<u64>,
    pub residual_per_rule: Vec<u64>,
    /// Events per output name; "*" counts events routed to every output.
    pub per_output: std::collections::BTreeMap<String, u64>,
}

impl Summary {
    pub fn rejected(&self) -> u64 {
        self.rejected_by_class.values().sum()
    }
}

/// One line read by [`LineReader`].
pub(crate) enum Line {
    Text,
    TooLong,
    End,
}

/// Reads newline-separated lines, never holding more than `max` bytes of one.
pub(crate) struct LineReader<R> {
    pub(crate) inner: R,
    pub(crate) max: usize,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn next(&mut self, buf: &mut Vec<u8>) -> std::io::Result<(Line, u64)> {
        buf.clear();
        let mut consumed = 0u64;
        let mut too_long = false;
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                let kind = if consumed == 0 {
                    Line::End
                } else if too_long {
                    Line::TooLong
                } else {
                    Line::Text
                };
                return Ok((kind, consumed));
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if buf.len() + take > self.max.saturating_add(2) {
                    too_long = true;
                    buf.clear();
                } else {
                    buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.inner.consume(take);
            consumed += take as u64;
            if done {
                return Ok((if too_long { Line::TooLong } else { Line::Text }, consumed));
            }
        }
    }
}

/// A progress bar over `len` bytes of input (shared by `apply` and `diff`).
pub(crate) fn bytes_bar(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("static template"),
    );
    bar
}

/// The event a line holds, without its line break; `None` for a blank line.
pub(crate) fn event_text(line: &[u8]) -> Option<&[u8]> {
    let mut text = line;
    while let [rest @ .., b'\n' | b'\r'] = text {
        text = rest;
    }
    (!text.iter().all(u8::is_ascii_whitespace)).then_some(text)
}

/// Options for [`run`].
pub struct Options {
    pub explain: bool,
    pub max_line_bytes: usize,
    /// Total input size when known, for the progress bar.
    pub progress_len: Option<u64>,
}

/// Processes every line of `input`; redacted events go to `out`, one per
/// line and in order; rejects go to `rejects` as JSON lines with the line
/// number and reason, never the content.
pub fn run(
    rules: &RuleSet,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    rejects: &mut dyn Write,
    options: &Options,
) -> std::io::Result<Summary> {
    let mut summary = Summary {
        per_rule: vec![0; rules.rule_ids().len()],
        residual_per_rule: vec![0; rules.rule_ids().len()],
        ..Summary::default()
    };
    let mut work = if options.explain {
        Workspace::with_explain()
    } else {
        Workspace::new()
    };
    let mut reader = LineReader {
        inner: input,
        max: options.max_line_bytes,
    };
    let mut line = Vec::with_capacity(4096);
    let mut event = Vec::with_capacity(4096);
    let progress = options.progress_len.map(bytes_bar);
    loop {
        let (kind, consumed) = reader.next(&mut line)?;
        summary.bytes += consumed;
        let verdict = match kind {
            Line::End => break,
            Line::TooLong => {
                summary.lines += 1;
                Err(None)
            }
            Line::Text => {
                summary.lines += 1;
                let Some(text) = event_text(&line) else {
                    continue;
                };
                event.clear();
                // A panic in the rules must not let the event out unmasked
                // nor stop the run: it becomes a reject like any other.
                match std::panic::catch_unwind(AssertUnwindSafe(|| {
                    rules.apply(text, &mut event, &mut work)
                })) {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(reject)) => Err(Some(reject)),
                    Err(_) => Err(Some(Reject::rule(
                        "(internal)",
                        "an internal error stopped processing; please report it",
                    ))),
                }
            }
        };
        match verdict {
            Ok(v) => {
                for (total, n) in summary.per_rule.iter_mut().zip(work.counts()) {
                    *total += u64::from(*n);
                }
                for (total, n) in summary
                    .residual_per_rule
                    .iter_mut()
                    .zip(work.residual_counts())
                {
                    *total += u64::from(*n);
                }
                match rules.route_outputs(v.routes) {
                    _ if matches!(v.routes, Routes::Dropped(_)) => summary.dropped += 1,
                    None => *summary.per_output.entry("*".to_owned()).or_default() += 1,
                    Some(names) => {
                        for n in names {
                            *summary.per_output.entry(n.to_owned()).or_default() += 1;
                        }
                    }
                }
                if !matches!(v.routes, Routes::Dropped(_)) {
                    event.push(b'\n');
                    out.write_all(&event)?;
                    summary.written += 1;
                }
            }
            Err(reject) => {
                let (class, reason) = match reject {
                    Some(r) => (r.class(), r.to_string()),
                    None => (
                        "too_large",
                        format!(
                            "not processed: the line is longer than {} bytes",
                            options.max_line_bytes
                        ),
                    ),
                };
                *summary.rejected_by_class.entry(class).or_default() += 1;
                let record =
                    serde_json::json!({ "line": summary.lines, "class": class, "reason": reason });
                writeln!(rejects, "{record}")?;
            }
        }
        if let Some(bar) = &progress {
            if summary.lines % 1024 == 0 {
                bar.set_position(summary.bytes);
            }
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    out.flush()?;
    rejects.flush()?;
    Ok(summary)
}

/// Writes the end-of-run summary for a person.
pub fn write_summary(
    w: &mut dyn Write,
    rules: &RuleSet,
    s: &Summary,
    started: Instant,
) -> std::io::Result<()> {
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    writeln!(
        w,
        "logredact apply: {} in {:.2} s ({:.0} events/s, {:.1} MB/s), rule set {}",
        super::count(s.lines, "event"),
        secs,
        s.lines as f64 / secs,
        s.bytes as f64 / secs / 1e6,
        rules.fingerprint()
    )?;
    writeln!(w, "  written      {:>10}", s.written)?;
    let classes: Vec<String> = s
        .rejected_by_class
        .iter()
        .map(|(c, n)| format!("{c}: {n}"))
        .collect();
    let detail = if classes.is_empty() {
        String::new()
    } else {
        format!("  ({})", classes.join(", "))
    };
    writeln!(w, "  rejected     {:>10}{detail}", s.rejected())?;
    writeln!(w, "  dropped      {:>10}", s.dropped)?;
    writeln!(
        w,
        "  residual     {:>10}",
        s.residual_per_rule.iter().sum::<u64>()
    )?;
    let ids = rules.rule_ids();
    let width = ids.iter().map(String::len).max().unwrap_or(0);
    for (kind, title) in [
        (RuleKind::Mask, "masked values by rule"),
        (RuleKind::Tag, "tags by rule"),
        (RuleKind::Route, "routes by rule"),
    ] {
        writeln!(w, "  {title}:")?;
        for (i, id) in ids
            .iter()
            .enumerate()
            .filter(|(i, _)| rules.kind_of(*i) == kind)
        {
            let residual = s.residual_per_rule[i];
            let extra = if residual > 0 {
                format!("  (+{residual} residual)")
            } else {
                String::new()
            };
            writeln!(w, "    {id:<width$}  {:>10}{extra}", s.per_rule[i])?;
        }
    }
    let outputs: Vec<String> = s
        .per_output
        .iter()
        .map(|(o, n)| {
            if o == "*" {
                format!("every output {n}")
            } else {
                format!("{o} {n}")
            }
        })
        .collect();
    writeln!(
        w,
        "  outputs:     {}",
        if outputs.is_empty() {
            "none".to_owned()
        } else {
            outputs.join(", ")
        }
    )?;
    Ok(())
}

/// Whether to draw a progress bar: only for a file, only on a terminal.
pub fn progress_len(input: Option<&std::path::Path>) -> Option<u64> {
    let path = input?;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    std::fs::metadata(path).ok().map(|m| m.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_reader_bounds_long_lines() {
        let data = format!("short\n{}\nnext\nlast", "x".repeat(100));
        let mut r = LineReader {
            inner: std::io::BufReader::with_capacity(8, data.as_bytes()),
            max: 10,
        };
        let mut buf = Vec::new();
        let mut kinds = Vec::new();
        loop {
            let (kind, _) = r.next(&mut buf).unwrap();
            match kind {
                Line::End => break,
                Line::TooLong => kinds.push("long".to_owned()),
                Line::Text => kinds.push(String::from_utf8(buf.clone()).unwrap()),
            }
            assert!(buf.len() <= 12);
        }
        assert_eq!(kinds, ["short\n", "long", "next\n", "last"]);
    }
}

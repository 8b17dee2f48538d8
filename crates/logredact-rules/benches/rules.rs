//! Rule engine throughput: parse -> shipped rules -> serialize.
//!
//! `one_event`: one realistic ~1 KB access-log event (IDs, phones, a card,
//! e-mails, URL-encoded query, Chinese free text, decoys).
//! `sample_mix`: every line of samples/access.ndjson in turn.
//! `forms_corpus`: every line of crates/logredact-rules/tests/data/forms.ndjson in turn: personal
//! data the way Chinese logs write it (full-width, escaped at every level,
//! in groups, in keys, in nested JSON documents) among many look-alikes.
//! `naive_baseline`: the same event through serde_json::Value and four
//! ASCII regexes, walked and re-serialized: the approach the engine replaces,
//! kept here so the comparison can be rerun on any machine.
//! Run: cargo bench -p logredact-rules --bench rules

use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use logredact_rules::{KeyRing, RuleSet, Workspace};

mod common;
use common::{Naive, EVENT};

fn bench(c: &mut Criterion) {
    // The shipped rules and samples live at the workspace root.
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let rules = RuleSet::load(&root.join("rules"), &KeyRing::new()).expect("shipped rules load");
    let mut work = Workspace::new();
    let mut out = Vec::with_capacity(2048);

    let mut group = c.benchmark_group("rules");
    group.throughput(Throughput::Bytes(EVENT.len() as u64));
    group.bench_function("one_event", |b| {
        b.iter(|| {
            out.clear();
            rules
                .apply(EVENT.as_bytes(), &mut out, &mut work)
                .expect("event is processed");
        })
    });

    let sample =
        std::fs::read_to_string(root.join("samples/access.ndjson")).expect("sample exists");
    let lines: Vec<&str> = sample.lines().collect();
    group.throughput(Throughput::Bytes(sample.len() as u64));
    group.sample_size(20);
    group.bench_function("sample_mix", |b| {
        b.iter_batched(
            || (),
            |()| {
                for line in &lines {
                    out.clear();
                    let _ = rules.apply(line.as_bytes(), &mut out, &mut work);
                }
            },
            BatchSize::SmallInput,
        )
    });
    let forms =
        std::fs::read_to_string(root.join("crates/logredact-rules/tests/data/forms.ndjson"))
            .expect("corpus exists");
    let form_lines: Vec<&str> = forms.lines().collect();
    group.throughput(Throughput::Bytes(forms.len() as u64));
    group.bench_function("forms_corpus", |b| {
        b.iter_batched(
            || (),
            |()| {
                for line in &form_lines {
                    out.clear();
                    let _ = rules.apply(line.as_bytes(), &mut out, &mut work);
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.throughput(Throughput::Bytes(EVENT.len() as u64));
    group.sample_size(100);
    let naive = Naive::new();
    group.bench_function("naive_baseline", |b| {
        b.iter(|| {
            out.clear();
            naive.apply(EVENT, &mut out);
        })
    });
    group.finish();
    eprintln!(
        "one_event is {} bytes; sample_mix is {} events, {} bytes; forms_corpus is {} events, {} bytes",
        EVENT.len(),
        lines.len(),
        sample.len(),
        form_lines.len(),
        forms.len()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);

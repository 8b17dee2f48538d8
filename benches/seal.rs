//! What sealing costs the consumer thread per event: the same tracker work
//! (track, acknowledge, commit point) with and without a sealed output, on
//! the sample events. With sealing: the SHA-256 of each document, the fate
//! into the chain, and a seal cut and signed every 2,000 events (about what
//! one partition completes per commit interval at 4,000 events/s).
//!
//! Run: cargo bench --bench seal. The seal writer's share (sending the
//! seal lines, about 70 bytes per event, in one bulk request per commit)
//! is measured end to end: `E2E_SEAL=1 scripts/bench-e2e`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use logredact::seal::{doc_hash, SealKey};
use logredact::sink::Ack;
use logredact::source::{OffsetTracker, SealInfo};

const BATCH: usize = 2_000;

fn events() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/access.ndjson"
    ))
    .unwrap();
    text.lines()
        .filter(|l| l.starts_with('{'))
        .cycle()
        .take(BATCH)
        .map(|l| l.as_bytes().to_vec())
        .collect()
}

/// Tracks and acknowledges a batch of events on one partition; with
/// `key`, output 0 is sealed and a seal is cut at the end.
fn run(
    tracker: &mut OffsetTracker,
    slot: u32,
    start: i64,
    docs: &[Vec<u8>],
    key: Option<&SealKey>,
) {
    for (i, doc) in docs.iter().enumerate() {
        let seal = key.map(|_| {
            Box::new(SealInfo {
                routes: 0b11,
                hash: doc_hash(doc),
                ..SealInfo::default()
            })
        });
        let token = tracker
            .track(slot, start + i as i64, 2, doc.len() as u32, seal)
            .unwrap();
        for output in [0, 1] {
            tracker.ack(Ack {
                token,
                dead_lettered: false,
                output: Some(output),
            });
        }
    }
    if let Some(key) = key {
        let cuts = tracker.cut_seals(key, "5c24d6a2ae64", 10_000, 0);
        for c in cuts {
            tracker.seal_acked(c.slot, c.generation, c.output, c.cut.through);
        }
    }
    std::hint::black_box(tracker.to_commit());
}

fn bench(c: &mut Criterion) {
    let docs = events();
    let key = SealKey::generate();
    let mut group = c.benchmark_group("seal");
    group.throughput(Throughput::Elements(BATCH as u64));
    for sealed in [false, true] {
        let name = if sealed { "sealed" } else { "unsealed" };
        group.bench_function(name, |b| {
            let mut tracker = OffsetTracker::new();
            if sealed {
                tracker.seal_outputs(vec![(0, "cold".to_owned())]);
            }
            let slot = tracker.assign("access", 0);
            let mut offset = 0;
            b.iter_batched(
                || (),
                |()| {
                    run(&mut tracker, slot, offset, &docs, sealed.then_some(&key));
                    offset += BATCH as i64;
                },
                BatchSize::PerIteration,
            )
        });
    }
    // The document hash alone, the part no seal can do without.
    group.bench_function("document_hashes", |b| {
        b.iter(|| {
            for doc in &docs {
                std::hint::black_box(doc_hash(doc));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Scratch timing of the engine's floor; not part of the suite.
use logredact::rules::{KeyRing, RuleSet, SourceFile, Workspace};
use std::time::Instant;
fn main() {
    let ev = include_str!("../benches/rules.rs")
        .split("const EVENT: &str = r#\"")
        .nth(1)
        .unwrap()
        .split("\"#;")
        .next()
        .unwrap();
    let n: usize = std::env::args()
        .nth(1)
        .map_or(200_000, |a| a.parse().unwrap());
    let mut out = Vec::new();
    let rules = "[[route]]\nid=\"r\"\noutputs=[\"hot\"]\n";
    let set = RuleSet::compile(
        &[SourceFile {
            name: "x".into(),
            text: format!("version=1\n{rules}"),
        }],
        &KeyRing::new(),
    )
    .unwrap();
    let mut w = Workspace::new();
    let t = Instant::now();
    for _ in 0..n {
        out.clear();
        set.apply(ev.as_bytes(), &mut out, &mut w).unwrap();
    }
    println!(
        "route only: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        let _: serde::de::IgnoredAny = serde_json::from_str(std::hint::black_box(ev)).unwrap();
    }
    println!(
        "serde_json validate only: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        out.clear();
        out.extend_from_slice(std::hint::black_box(ev.as_bytes()));
        std::hint::black_box(&out);
    }
    println!(
        "memcpy: {:.3} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
#[allow(dead_code)]
fn unused() {}

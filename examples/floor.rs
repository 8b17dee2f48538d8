//! Scratch timing of the engine's parts; not part of the suite.
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
    let shipped: String = ["10-mask.toml", "20-tag.toml", "30-route.toml"]
        .iter()
        .map(|f| {
            std::fs::read_to_string(format!("rules/{f}"))
                .unwrap()
                .replace("version = 1", "")
        })
        .collect();
    for (name, rules) in [
        (
            "route only",
            "[[route]]\nid=\"r\"\noutputs=[\"hot\"]\n".to_owned(),
        ),
        ("shipped", shipped.clone()),
        (
            "shipped, no residual",
            format!("[settings]\nresidual_scan=false\n{shipped}"),
        ),
        (
            "shipped, no record",
            format!("[settings]\nrecord=false\n{shipped}"),
        ),
        (
            "shipped, no tags",
            shipped.split("[[tag]]").next().unwrap().to_owned()
                + "[[route]]\nid=\"r\"\noutputs=[\"hot\"]\n",
        ),
    ]
    .into_iter()
    .filter(|(name, _)| std::env::args().nth(2).is_none_or(|only| *name == only))
    {
        let set = RuleSet::compile(
            &[SourceFile {
                name: "x".into(),
                text: format!("version=1\n{rules}"),
            }],
            &KeyRing::new(),
        )
        .unwrap();
        let mut w = Workspace::new();
        let mut out = Vec::new();
        let t = Instant::now();
        for _ in 0..n {
            out.clear();
            set.apply(std::hint::black_box(ev.as_bytes()), &mut out, &mut w)
                .unwrap();
        }
        println!(
            "{name}: {:.2} us",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}

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

/// A representative event, about 1 KB.
const EVENT: &str = r#"{"@timestamp":"2026-11-20T08:15:30.123Z","ts_ms":1795162530123,"host":"portal-web-03","service":"citizen-portal","level":"INFO","trace_id":"1842785349445926","request":{"method":"POST","path":"/api/v1/applications","query":"phone=13812345678&email=zhang.wei%40example.com&page=1","headers":{"user-agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36","x-forwarded-for":"10.22.77.13","referer":"https://portal.gov.example/login?next=%2Fapplications"},"bytes":2317},"response":{"status":200,"bytes":51173,"duration_ms":479},"user":{"uid":"u-820849","name":"王伟","id_no":"11010519491231002X","phone":13912345678,"email":"wang.wei@mail.example.cn"},"action":"submit_application","order_no":"320102198603052142","message":"用户王伟(身份证11010519491231002X)通过手机13912345678提交了申请，支付卡号6222 0212 3456 7890 128","payment":{"card_no":"4111111111111111","amount":3386.27}}"#;

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

/// The straightforward way: a serde_json tree, four regexes on every string.
struct Naive {
    patterns: Vec<regex::Regex>,
}

impl Naive {
    fn new() -> Naive {
        let patterns = [
            r"(?-u:\b)[1-9][0-9]{16}[0-9Xx](?-u:\b)",
            r"(?-u:\b)1[3-9][0-9]{9}(?-u:\b)",
            r"(?-u:\b)[0-9]{15,19}(?-u:\b)",
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        ];
        Naive {
            patterns: patterns
                .iter()
                .map(|p| regex::Regex::new(p).expect("valid"))
                .collect(),
        }
    }

    fn apply(&self, line: &str, out: &mut Vec<u8>) {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        self.walk(&mut v);
        serde_json::to_writer(out, &v).expect("in memory");
    }

    fn walk(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => {
                for p in &self.patterns {
                    if p.is_match(s) {
                        *s = p.replace_all(s, "***").into_owned();
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.walk(x)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| self.walk(x)),
            _ => {}
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

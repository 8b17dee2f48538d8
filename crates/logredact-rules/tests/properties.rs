//! Property tests of the shipped rules' masking invariants:
//! in random events with planted personal data, no planted value survives in
//! any form, and look-alike decoys survive untouched.

use std::path::Path;

use logredact_rules::detect::{cn_id_check_char, luhn_valid};
use logredact_rules::{KeyRing, RuleSet, Workspace};
use proptest::prelude::*;

fn shipped() -> RuleSet {
    RuleSet::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules"),
        &KeyRing::new(),
    )
    .expect("shipped rules load")
}

/// A planted value: how it is written, and its canonical form to look for.
#[derive(Debug, Clone)]
struct Planted {
    canonical: String,
    /// JSON text for the value, already in its chosen form.
    json: String,
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n)
        .prop_map(|v| v.into_iter().map(|d| char::from(b'0' + d)).collect())
}

fn cn_id() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["110105", "310104", "440305", "510107", "650102"]),
        1900u32..2024,
        1u32..13,
        1u32..29,
        digits(3),
        any::<bool>(),
    )
        .prop_map(|(region, y, m, d, seq, lower)| {
            let first17 = format!("{region}{y:04}{m:02}{d:02}{seq}");
            let check = cn_id_check_char(first17.as_bytes()) as char;
            let check = if lower {
                check.to_ascii_lowercase()
            } else {
                check
            };
            format!("{first17}{check}")
        })
}

fn mobile() -> impl Strategy<Value = String> {
    (3u8..10, digits(9)).prop_map(|(second, rest)| format!("1{second}{rest}"))
}

fn bank_card() -> impl Strategy<Value = String> {
    let issuer = prop::sample::select(vec![
        (15, "37"),
        (16, "4"),
        (16, "5"),
        (16, "62"),
        (17, "62"),
        (18, "62"),
        (19, "62"),
        (19, "4"),
    ]);
    (issuer, digits(19)).prop_map(|((len, prefix), body)| {
        let mut card: String = format!("{prefix}{}", &body[..len - 1 - prefix.len()]);
        for last in b'0'..=b'9' {
            let candidate = format!("{card}{}", last as char);
            if luhn_valid(candidate.as_bytes()) {
                card = candidate;
                break;
            }
        }
        card
    })
}

fn email() -> impl Strategy<Value = String> {
    (
        "[a-z]{1,8}(\\.[a-z]{1,5})?",
        "[a-z]{2,8}",
        prop::sample::select(vec!["com", "cn", "org", "com.cn"]),
    )
        .prop_map(|(local, domain, tld)| format!("{local}@{domain}.{tld}"))
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn percent_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn unicode_escaped(s: &str) -> String {
    format!(
        "\"{}\"",
        s.chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect::<String>()
    )
}

/// Writes `value` (the text of a planted value) in one of many forms.
fn written(value: String, kind: u8) -> impl Strategy<Value = Planted> {
    let canonical = value.to_ascii_lowercase().replace([' ', '-'], "");
    (
        0u8..9,
        prop::sample::select(vec!["用户", "电话：", "(", " ", "，", "id="]),
        0usize..100,
    )
        .prop_map(move |(form, before, pad)| {
            let v = value.clone();
            // Text before the value, so that it starts anywhere in the
            // 16-byte chunks and 64-byte blocks the scanners work in.
            let filler: String = "ab中 文x-.".chars().cycle().take(pad).collect();
            let all_digits = v.bytes().all(|b| b.is_ascii_digit());
            let json = match form {
                0 => json_str(&v),
                1 if all_digits && !v.starts_with('0') && v.parse::<u64>().is_ok() => v.clone(),
                2 => json_str(&format!("{filler}{before}{v}谢谢")),
                3 => json_str(&format!("/api/v1/x?page=1&k={v}&lang=zh-CN")),
                4 => json_str(&format!("q={}", percent_all(&v))),
                5 => unicode_escaped(&v),
                6 if kind == 1 => json_str(&format!("+86 {} {} {}", &v[..3], &v[3..7], &v[7..])),
                7 if kind == 2 => {
                    let groups: Vec<&str> = v
                        .as_bytes()
                        .chunks(4)
                        .map(|c| std::str::from_utf8(c).unwrap())
                        .collect();
                    json_str(&format!(
                        "card {}",
                        groups.join(if v.len() % 2 == 0 { " " } else { "-" })
                    ))
                }
                8 if kind == 3 => json_str(&format!("mail={}", v.replace('@', "%40"))),
                _ => json_str(&format!("{filler}{before}{v}")),
            };
            Planted {
                canonical: canonical.clone(),
                json,
            }
        })
}

fn planted() -> impl Strategy<Value = Planted> {
    prop_oneof![
        cn_id().prop_flat_map(|v| written(v, 0)),
        mobile().prop_flat_map(|v| written(v, 1)),
        bank_card().prop_flat_map(|v| written(v, 2)),
        email().prop_flat_map(|v| written(v, 3)),
    ]
}

/// Look-alikes the rules must keep verbatim.
fn decoy() -> impl Strategy<Value = String> {
    prop_oneof![
        // 18-digit order number whose check character is wrong
        cn_id().prop_map(|id| {
            let check = cn_id_check_char(&id.as_bytes()[..17]);
            let wrong = (b'0'..=b'9').find(|&c| c != check).unwrap();
            format!("{}{}", &id[..17], wrong as char)
        }),
        // 18-digit order number that starts with a date
        (2020u32..2030, 1u32..13, 1u32..29, digits(10))
            .prop_map(|(y, m, d, rest)| format!("{y}{m:02}{d:02}{rest}")),
        // 13-digit epoch milliseconds
        (1_500_000_000_000u64..1_900_000_000_000).prop_map(|t| t.to_string()),
        // 16-digit trace id that fails Luhn
        digits(16).prop_map(|d| {
            let mut b = d.into_bytes();
            while luhn_valid(&b) {
                b[15] = b'0' + (b[15] - b'0' + 1) % 10;
            }
            String::from_utf8(b).unwrap()
        }),
    ]
}

/// Wraps `inner` JSON in `depth` levels of objects and arrays.
fn nest(inner: String, depth: usize, arrays: bool) -> String {
    (0..depth).fold(inner, |acc, i| {
        if arrays && i % 3 == 0 {
            format!("[{acc}]")
        } else {
            format!("{{\"n{i}\":{acc}}}")
        }
    })
}

/// Every string in a JSON value, percent-decoded, flattened.
fn all_text(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) => {
            out.push_str(&percent_decode(s));
            out.push('\n');
        }
        serde_json::Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        serde_json::Value::Array(a) => a.iter().for_each(|i| all_text(i, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, v)| {
            out.push_str(k);
            out.push('\n');
            all_text(v, out);
        }),
        _ => {}
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn planted_pii_never_survives_and_decoys_always_do(
        plants in proptest::collection::vec((planted(), 0usize..14, any::<bool>()), 1..6),
        decoys in proptest::collection::vec(decoy(), 0..4),
    ) {
        let set = shipped();
        let mut fields = Vec::new();
        for (i, (p, depth, arrays)) in plants.iter().enumerate() {
            fields.push(format!("\"p{i}\":{}", nest(p.json.clone(), *depth, *arrays)));
        }
        for (i, d) in decoys.iter().enumerate() {
            fields.push(format!("\"d{i}\":\"{d}\",\"dn{i}\":\"ref {d}。\""));
        }
        let input = format!("{{{}}}", fields.join(","));
        let mut out = Vec::new();
        let verdict = set.apply(input.as_bytes(), &mut out, &mut Workspace::new());
        prop_assert!(verdict.is_ok(), "rejected {:?}: {}", verdict, input);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let mut text = String::new();
        all_text(&value, &mut text);
        let squeezed = text.to_ascii_lowercase().replace([' ', '-'], "");
        for (p, _, _) in &plants {
            prop_assert!(!squeezed.contains(&p.canonical), "{} survived in {}", p.canonical, text);
        }
        for d in &decoys {
            prop_assert!(text.contains(&format!("{d}\n")), "decoy {} was changed: {}", d, text);
            prop_assert!(text.contains(&format!("ref {d}。")), "decoy {} in text was changed", d);
        }
        prop_assert_eq!(value["redaction"]["residual"].as_u64(), None, "the shipped rules leave no gaps");
    }

    #[test]
    fn apply_is_deterministic(plants in proptest::collection::vec(planted(), 1..4)) {
        let set = shipped();
        let fields: Vec<String> = plants.iter().enumerate().map(|(i, p)| format!("\"f{i}\":{}", p.json)).collect();
        let input = format!("{{{}}}", fields.join(","));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        set.apply(input.as_bytes(), &mut a, &mut Workspace::new()).unwrap();
        set.apply(input.as_bytes(), &mut b, &mut Workspace::new()).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn arbitrary_input_never_panics_and_output_is_json(input in ".{0,200}") {
        let set = shipped();
        let mut out = Vec::new();
        if set.apply(input.as_bytes(), &mut out, &mut Workspace::new()).is_ok() {
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
        }
    }
}

/// Random JSON values, as serde_json sees them.
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<u64>().prop_map(|n| serde_json::json!(n)),
        (-1e12f64..1e12).prop_map(|f| serde_json::json!(f)),
        "\\PC{0,12}".prop_map(serde_json::Value::String),
        "[a-z0-9 %@+\\-]{0,20}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map("\\PC{0,8}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn no_op_rules() -> RuleSet {
    let files = [logredact_rules::SourceFile {
        name: "noop.toml".into(),
        text: "version = 1\n[settings]\nrecord = false\n[[mask]]\nid = \"m\"\ndetector = \"regex\"\npattern = 'NEVER-MATCHES-\\x00'\naction = \"full\"\n".into(),
    }];
    RuleSet::compile(&files, &KeyRing::new()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// The rewriting pass agrees with serde_json: an object it leaves alone
    /// comes out as the same JSON value, whatever its escapes or layout,
    /// and on one line (a pretty-printed event's line breaks once went
    /// into the bulk body, where each ended the document).
    #[test]
    fn rewriter_preserves_any_json_object(members in proptest::collection::btree_map("\\PC{0,8}", arb_json(), 0..8), layout in 0u8..4) {
        let value = serde_json::Value::Object(members.into_iter().collect());
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let text = match layout {
            0 => serde_json::to_string(&value).unwrap(),
            1 => pretty.replace('\n', " "),
            2 => pretty,
            _ => pretty.replace('\n', "\r\n"),
        };
        let mut out = Vec::new();
        no_op_rules().apply(text.as_bytes(), &mut out, &mut Workspace::new()).unwrap();
        prop_assert!(!out.iter().any(|b| matches!(b, b'\n' | b'\r')), "{}", String::from_utf8_lossy(&out));
        let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
        // Compare with serde_json's reading of the same text (its float
        // parsing is not exactly rounded, so not with `value` itself).
        let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, expected);
    }

    /// Accepts exactly what serde_json accepts (as an object), on inputs
    /// made by damaging valid JSON.
    #[test]
    fn rewriter_accepts_what_serde_json_accepts(value in arb_json(), cut in any::<prop::sample::Index>(), byte in any::<u8>(), mode in 0u8..3) {
        let mut text = serde_json::to_vec(&serde_json::json!({"v": value})).unwrap();
        let at = cut.index(text.len() + 1);
        match mode {
            0 => text.truncate(at),
            1 => text.insert(at, byte),
            _ => if at < text.len() { text[at] = byte },
        }
        let ours = no_op_rules().apply(&text, &mut Vec::new(), &mut Workspace::new());
        let theirs = serde_json::from_slice::<serde_json::Value>(&text);
        let theirs_ok = matches!(theirs, Ok(serde_json::Value::Object(_)));
        prop_assert_eq!(ours.is_ok(), theirs_ok, "ours {:?} vs serde_json {:?} on {:?}", ours, theirs.map(|_| ()), String::from_utf8_lossy(&text));
    }

    /// A second pass over redacted output finds nothing left to mask.
    #[test]
    fn redaction_is_idempotent(plants in proptest::collection::vec(planted(), 1..6)) {
        let set = shipped();
        let fields: Vec<String> = plants.iter().enumerate().map(|(i, p)| format!("\"f{i}\":{}", p.json)).collect();
        let input = format!("{{{}}}", fields.join(","));
        let mut once = Vec::new();
        set.apply(input.as_bytes(), &mut once, &mut Workspace::new()).unwrap();
        let mut work = Workspace::new();
        let verdict = set.apply(&once, &mut Vec::new(), &mut work).unwrap();
        prop_assert_eq!(verdict.masked, 0);
        prop_assert_eq!(verdict.residual, 0);
    }
}

/// Cards are dropped; mobiles (here: in keys) are masked.
fn drop_cards_rules() -> RuleSet {
    let files = [logredact_rules::SourceFile {
        name: "drop.toml".into(),
        text: "version = 1\n[settings]\nrecord = false\n[[mask]]\nid = \"d\"\ndetector = \"bank_card\"\naction = \"drop\"\n[[mask]]\nid = \"m\"\ndetector = \"cn_mobile\"\naction = \"partial\"\nkeep_first = 3\nkeep_last = 4\n".into(),
    }];
    RuleSet::compile(&files, &KeyRing::new()).unwrap()
}

/// Whether `text` holds what the built-in detector `name` finds.
fn holds(name: &str, text: &str) -> bool {
    let detector = logredact_rules::detect::builtin(name).expect("a built-in");
    !logredact_rules::detect::Detector::Builtin(detector)
        .find_in(text.as_bytes())
        .is_empty()
}

/// Whether a leaf's text holds a bank card, judged by the detector alone.
fn holds_card(text: &str) -> bool {
    holds("bank_card", text)
}

/// Whether any key or leaf of `v` holds a mobile.
fn any_mobile(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => holds("cn_mobile", s),
        serde_json::Value::Number(n) => holds("cn_mobile", &n.to_string()),
        serde_json::Value::Array(a) => a.iter().any(any_mobile),
        serde_json::Value::Object(o) => o
            .iter()
            .any(|(k, v)| holds("cn_mobile", k) || any_mobile(v)),
        _ => false,
    }
}

/// The tree with every leaf that holds a card removed (members and
/// elements alike).
fn without_cards(v: &serde_json::Value) -> Option<serde_json::Value> {
    match v {
        serde_json::Value::String(s) if holds_card(s) => None,
        serde_json::Value::Number(n) if holds_card(&n.to_string()) => None,
        serde_json::Value::Array(a) => Some(serde_json::Value::Array(
            a.iter().filter_map(without_cards).collect(),
        )),
        serde_json::Value::Object(o) => Some(serde_json::Value::Object(
            o.iter()
                .filter_map(|(k, v)| without_cards(v).map(|v| (k.clone(), v)))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Dropping members and elements anywhere (first, middle, last, all of
    /// them) leaves valid JSON with exactly the other values, whatever the
    /// layout of the input, and whether or not a rule masked the dropped
    /// member's key (which is written before its value is looked at).
    #[test]
    fn drops_leave_exactly_the_rest(
        members in proptest::collection::vec(("[a-z]{1,3}", arb_json(), any::<bool>(), any::<bool>()), 0..8),
        layout in 0u8..3,
    ) {
        let card = serde_json::Value::String("4111 1111 1111 1111".into());
        let mut object = serde_json::Map::new();
        let mut expected_keys = Vec::new();
        for (i, (k, v, plant, mobile_key)) in members.into_iter().enumerate() {
            prop_assume!(!any_mobile(&v));
            let v = match (plant, v) {
                (true, serde_json::Value::Array(mut a)) => { let at = i % (a.len() + 1); a.insert(at, card.clone()); serde_json::Value::Array(a) }
                (true, _) => card.clone(),
                (false, v) => v,
            };
            let (key, masked) = if mobile_key {
                (format!("1381234{i:04}"), format!("138****{i:04}"))
            } else {
                (format!("{k}{i}"), format!("{k}{i}"))
            };
            expected_keys.push((key.clone(), masked));
            object.insert(key, v);
        }
        let value = serde_json::Value::Object(object);
        let text = match layout {
            0 => serde_json::to_string(&value).unwrap(),
            1 => serde_json::to_string_pretty(&value).unwrap().replace('\n', " "),
            _ => serde_json::to_string_pretty(&value).unwrap().replace('\n', "\t"),
        };
        let mut out = Vec::new();
        drop_cards_rules().apply(text.as_bytes(), &mut out, &mut Workspace::new()).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("invalid output {e}: {}", String::from_utf8_lossy(&out)));
        let input: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut expected = without_cards(&input).unwrap();
        if let serde_json::Value::Object(o) = &mut expected {
            for (key, masked) in &expected_keys {
                if let Some(v) = o.remove(key) {
                    o.insert(masked.clone(), v);
                }
            }
        }
        prop_assert_eq!(back, expected);
    }
}

//! Planted values written the ways systems encode them, placed in events
//! among look-alikes.

use serde_json::{json, Value};

use super::*;

/// How a written value is encoded in the text that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Plain,
    /// Full-width digits, letters and signs, as input methods type them.
    FullWidth,
    /// Spaces between groups become no-break or thin spaces.
    UnicodeSpaces,
    /// A zero-width space inside the digits.
    ZeroWidth,
    /// Every byte as `%XX`.
    Percent,
    /// Percent-encoding applied twice (`%2531`).
    PercentTwice,
    /// A form body: `+` for spaces, the rest percent-encoded where needed.
    Form,
    /// nginx's `\xHH` for every byte.
    Nginx,
    /// Every character as `\uXXXX`, as text inside a string.
    UnicodeEscapes,
    /// Digits as Chinese numerals, as people write a number in words
    /// (`一三八…`, spoken `幺三八…`, financial `壹叁捌…`).
    ChineseNumerals,
}

pub const ENCODINGS: [Encoding; 10] = [
    Encoding::Plain,
    Encoding::FullWidth,
    Encoding::UnicodeSpaces,
    Encoding::ZeroWidth,
    Encoding::Percent,
    Encoding::PercentTwice,
    Encoding::Form,
    Encoding::Nginx,
    Encoding::UnicodeEscapes,
    Encoding::ChineseNumerals,
];

/// Chinese numerals for 0-9, in the styles people write digits in.
const NUMERALS: [[char; 10]; 3] = [
    ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'],
    ['零', '幺', '二', '三', '四', '五', '六', '七', '八', '九'],
    ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'],
];

pub fn encode(s: &str, e: Encoding, rng: &mut Dice) -> String {
    match e {
        Encoding::Plain => s.to_owned(),
        Encoding::FullWidth => s
            .chars()
            .map(|c| match c {
                ' ' => '\u{3000}',
                '!'..='~' => char::from_u32(c as u32 + 0xfee0).expect("full-width form"),
                other => other,
            })
            .collect(),
        Encoding::UnicodeSpaces => {
            let space = rng.pick(&['\u{a0}', '\u{2009}', '\u{202f}', '\u{3000}']);
            s.replace(' ', &space.to_string())
        }
        Encoding::ZeroWidth => {
            let mark = rng.pick(&['\u{200b}', '\u{200d}', '\u{feff}', '\u{200e}']);
            let mut out = String::new();
            for (i, c) in s.chars().enumerate() {
                if i > 0 && i % 3 == 0 {
                    out.push(mark);
                }
                out.push(c);
            }
            out
        }
        Encoding::Percent => s.bytes().map(|b| format!("%{b:02X}")).collect(),
        Encoding::PercentTwice => s.bytes().map(|b| format!("%25{b:02X}")).collect(),
        Encoding::Form => s
            .bytes()
            .map(|b| match b {
                b' ' => "+".to_owned(),
                b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'.' | b'-' | b'_' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect(),
        Encoding::Nginx => s.bytes().map(|b| format!("\\x{b:02X}")).collect(),
        Encoding::UnicodeEscapes => {
            let mut out = String::new();
            for unit in s.encode_utf16() {
                out.push_str(&format!("\\u{unit:04x}"));
            }
            out
        }
        Encoding::ChineseNumerals => {
            let style = NUMERALS[rng.below(NUMERALS.len())];
            s.chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) => style[d as usize],
                    None => c,
                })
                .collect()
        }
    }
}

/// Where in an event the value stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A field of its own.
    Field,
    /// Inside Chinese text, touching it on both sides.
    Chinese,
    /// A URL's query string.
    Query,
    /// As an object key.
    Key,
    /// An element of a list.
    List,
    /// A JSON number (when it can be one).
    Number,
    /// Inside a JSON document serialized into a string (non-ASCII as
    /// `\uXXXX`), one to three levels deep.
    Nested,
}

pub const PLACES: [Place; 7] = [
    Place::Field,
    Place::Chinese,
    Place::Query,
    Place::Key,
    Place::List,
    Place::Number,
    Place::Nested,
];

/// Serializes like Python's `json.dumps` (ensure_ascii): every non-ASCII
/// character as `\uXXXX`.
pub fn dumps_ascii(v: &Value) -> String {
    let text = serde_json::to_string(v).expect("values serialize");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// The member (`"key": value`) that holds `p`, encoded `e`, placed at
/// `place`. `name` is the member's key (a passport's key names it).
/// A planted value's written form in encoding `e`, as it is found: numbers
/// are written in numerals, but addresses and passport numbers, copied
/// from a screen or a document, are not (they stay plain).
pub fn encode_planted(p: &Planted, e: Encoding, rng: &mut Dice) -> String {
    let e = match p.kind {
        Kind::Email | Kind::EmailIdn | Kind::Passport if e == Encoding::ChineseNumerals => {
            Encoding::Plain
        }
        _ => e,
    };
    encode(&p.written, e, rng)
}

pub fn member(p: &Planted, e: Encoding, place: Place, rng: &mut Dice) -> (String, Value) {
    let text = format!("{}{}", p.context, encode_planted(p, e, rng));
    let name = if p.kind == Kind::Passport {
        "passportNo".to_owned()
    } else {
        rng.pick(&["lxdh", "certNo", "contact", "value", "remark", "detail"])
            .to_owned()
    };
    let prefix = rng.pick(&["用户", "电话", "联系方式：", "请核实", "（", ""]);
    let value = match place {
        Place::Field => json!(text),
        Place::Chinese => json!(format!("{prefix}{text}谢谢，已核验")),
        Place::Query => json!(format!("/api/v1/user?page=1&q={text}&lang=zh-CN")),
        Place::Key => json!({ text: 3 }),
        Place::List => json!(["ok", text, 7]),
        Place::Number if p.numeric && e == Encoding::Plain => {
            serde_json::from_str(&p.written).expect("digits are a number")
        }
        Place::Number => json!(text),
        Place::Nested => {
            let mut inner = json!({ "request": { name.clone(): text, "note": "已提交" } });
            for _ in 0..1 + rng.below(3) {
                inner = json!({ "body": dumps_ascii(&inner), "level": "INFO" });
            }
            inner
        }
    };
    (name, value)
}

/// Look-alikes that must come out exactly as they went in.
pub fn decoys(rng: &mut Dice) -> Vec<String> {
    let id_wrong_check = {
        let (y, m, d) = date(rng, 1950, 2010);
        let first = format!("110105{y}{m:02}{d:02}{}", rng.digits(3));
        let right = check_char(&first);
        let wrong = "0123456789".chars().find(|&c| c != right).expect("a digit");
        format!("{first}{wrong}")
    };
    let trace_id = loop {
        let t = rng.number(16);
        if !luhn_ok(&t) {
            break t;
        }
    };
    vec![
        // Case and order numbers shaped like IDs, with a wrong check.
        id_wrong_check,
        // Snowflake ids (19 digits from the 2020s epoch: start 18-19).
        format!("18{}", rng.digits(17)),
        trace_id,
        // Trace ids in hex, UUIDs.
        format!("{:016x}{:016x}", rng.next(), rng.next()),
        "3f2b8c1e-9d4a-4b6e-8f10-2a7c5e9b1d34".to_owned(),
        // Epoch milli- and microseconds.
        format!("17{}", rng.digits(11)),
        format!("17{}", rng.digits(14)),
        // Times, GPS, amounts, IP addresses.
        "2026-11-20 08:15:30.123".to_owned(),
        "2026-11-20T08:15:30+08:00".to_owned(),
        format!("39.{},116.{}", rng.digits(6), rng.digits(6)),
        format!("{}.{:02}", rng.number(4), rng.below(100)),
        format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            rng.below(256)
        ),
        // Hotlines.
        rng.pick(&[
            "95588",
            "12345",
            "10086",
            "400-810-8888",
            "800-820-8820",
            "12315",
        ])
        .to_owned(),
        // 11 digits starting 10-12 are no mobile numbers.
        format!("1{}{}", rng.below(3), rng.digits(9)),
        // An organisation's credit code.
        "91350100M000100Y43".to_owned(),
        // An image name with an @, a passport-shaped part number.
        "/static/img/logo@2x.png".to_owned(),
        format!("E{}", rng.digits(8)),
        // An order number with a date.
        format!("ORD{}{}", "20261120", rng.digits(8)),
    ]
}

/// One event of the corpus: planted values in every combination, and the
/// decoys. Returns the event's JSON text, the planted values and the
/// decoys.
pub fn event(seq: usize, rng: &mut Dice) -> (String, Vec<Planted>, Vec<String>) {
    let mut object = serde_json::Map::new();
    object.insert("@timestamp".into(), json!("2026-11-20T08:15:30.123Z"));
    object.insert("seq".into(), json!(seq));
    let mut plants = Vec::new();
    for i in 0..3 {
        let kind = KINDS[(seq * 3 + i) % KINDS.len()];
        let e = ENCODINGS[(seq / 4 + i) % ENCODINGS.len()];
        let place = PLACES[(seq / 36 + i) % PLACES.len()];
        let p = planted(kind, rng);
        let (name, value) = member(&p, e, place, rng);
        object.insert(format!("{name}{i}"), value);
        plants.push(p);
    }
    let decoys = decoys(rng);
    for (i, d) in decoys.iter().enumerate() {
        object.insert(format!("d{i}"), json!(d));
        object.insert(format!("t{i}"), json!(format!("参考编号{d}，")));
    }
    (
        serde_json::to_string(&Value::Object(object)).expect("serializes"),
        plants,
        decoys,
    )
}

//! How Chinese platform logs really write personal data, and the
//! look-alikes they hold: the generator of the forms corpus.
//!
//! Written from what real systems emit: input methods type full-width
//! digits; clients send form bodies with `+` for spaces and URLs encoded
//! twice by a proxy; services log a request body as a JSON document inside
//! a string, serialized with `ensure_ascii` (every non-ASCII character as
//! `\uXXXX`, glued to the digits), sometimes two or three levels deep; nginx
//! logs bodies with `\xHH` escapes; people write numbers in groups with
//! spaces, dashes, no-break and zero-width spaces, and next to Chinese text
//! with no space at all; counters key their maps by phone number.
//!
//! Shared by this crate's tests/leaks.rs (which also keeps tests/data/
//! forms.ndjson, the corpus benches/rules.rs reads, in step with it), the
//! daemon's tests/pipeline.rs and the `forms` fuzz target, so the corpus and
//! the tests cannot drift apart.

#![allow(dead_code)]

use serde_json::{json, Value};

/// A fixed pseudo-random sequence (xorshift64).
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    /// Digits whose first is not 0.
    pub fn number(&mut self, n: usize) -> String {
        let mut s = char::from(b'1' + self.below(9) as u8).to_string();
        s.push_str(&self.digits(n - 1));
        s
    }
}

/// What kind of personal data a planted value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Id18,
    Id15,
    Foreigner,
    Mobile,
    Landline,
    HongKong,
    Macau,
    Taiwan,
    Card,
    Email,
    EmailIdn,
    Passport,
}

pub const KINDS: [Kind; 12] = [
    Kind::Id18,
    Kind::Id15,
    Kind::Foreigner,
    Kind::Mobile,
    Kind::Landline,
    Kind::HongKong,
    Kind::Macau,
    Kind::Taiwan,
    Kind::Card,
    Kind::Email,
    Kind::EmailIdn,
    Kind::Passport,
];

/// A planted value: as a person wrote it, and what must not be readable.
#[derive(Debug, Clone)]
pub struct Planted {
    pub kind: Kind,
    /// As written (grouping, prefixes), before any encoding.
    pub written: String,
    /// The letters and digits that identify the person, lower case: the
    /// output must not hold them in a row in any field, in any form.
    pub secret: String,
    /// Whether it can stand as a JSON number.
    pub numeric: bool,
    /// Text that must stand right before it (a passport's keyword).
    pub context: &'static str,
}

const PROVINCES: [u32; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 81, 82, 83,
];

fn check_char(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    char::from(b"10X98765432"[(sum % 11) as usize])
}

fn luhn_ok(d: &str) -> bool {
    let mut sum = 0;
    for (i, c) in d.bytes().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

fn date(rng: &mut Dice, from: u32, to: u32) -> (u32, u32, u32) {
    let y = from + rng.below((to - from) as usize) as u32;
    (y, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32)
}

fn squeeze(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn groups(s: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut at = 0;
    for &n in sizes {
        out.push(&s[at..(at + n).min(s.len())]);
        at += n;
    }
    if at < s.len() {
        out.push(&s[at..]);
    }
    out.join(sep)
}

/// A value of `kind`, written one of the ways people and systems write it.
pub fn planted(kind: Kind, rng: &mut Dice) -> Planted {
    let sep = rng.pick(&[" ", "-"]);
    let (written, secret, numeric, context) = match kind {
        Kind::Id18 => {
            let (y, m, d) = date(rng, 1940, 2020);
            let first = format!(
                "{}{:02}{:02}{y}{m:02}{d:02}{}",
                rng.pick(&PROVINCES),
                1 + rng.below(20),
                1 + rng.below(30),
                rng.digits(3)
            );
            let id = format!("{first}{}", check_char(&first));
            let written = match rng.below(4) {
                0 => groups(&id, &[6, 8], sep),
                1 => groups(&id, &[4, 4, 4, 4], " "),
                2 => id.to_ascii_lowercase(),
                _ => id.clone(),
            };
            let numeric = !id.ends_with('X') && !written.contains([' ', '-']);
            (written, id.to_ascii_lowercase(), numeric, "")
        }
        Kind::Id15 => {
            let (y, m, d) = date(rng, 1930, 2000);
            let id = format!(
                "{}{:02}{:02}{:02}{m:02}{d:02}{}",
                rng.pick(&PROVINCES),
                1 + rng.below(20),
                1 + rng.below(30),
                y % 100,
                rng.digits(3)
            );
            let written = if rng.below(3) == 0 {
                groups(&id, &[6, 6], sep)
            } else {
                id.clone()
            };
            let numeric = !written.contains([' ', '-']);
            (written, id, numeric, "")
        }
        Kind::Foreigner => {
            let (y, m, d) = date(rng, 1950, 2010);
            let first = format!(
                "9{}{}{y}{m:02}{d:02}{}",
                rng.pick(&PROVINCES),
                rng.pick(&["156", "840", "392", "410", "250", "826"]),
                rng.digits(3)
            );
            let id = format!("{first}{}", check_char(&first));
            let numeric = !id.ends_with('X');
            (id.clone(), id.to_ascii_lowercase(), numeric, "")
        }
        Kind::Mobile => {
            let m = format!("1{}{}", 3 + rng.below(7), rng.digits(9));
            let written = match rng.below(10) {
                0 => groups(&m, &[3, 4], sep),
                1 => format!("+86 {}", groups(&m, &[3, 4], " ")),
                2 => format!("+86{m}"),
                3 => format!("86{m}"),
                4 => format!("0086-{m}"),
                5 => format!("0{m}"),
                6 => format!("(+86){}", groups(&m, &[3, 4], "-")),
                7 => groups(&m, &[3, 8], " "),
                _ => m.clone(),
            };
            let numeric = written.bytes().all(|b| b.is_ascii_digit()) && !written.starts_with('0');
            (written, m, numeric, "")
        }
        Kind::Landline => {
            let (area, local) = match rng.below(3) {
                0 => ("010", format!("{}{}", 2 + rng.below(8), rng.digits(7))),
                1 => ("021", format!("{}{}", 2 + rng.below(8), rng.digits(7))),
                _ => {
                    let area = rng.pick(&["0755", "0571", "0512", "0731", "0898"]);
                    let len = 6 + rng.below(2);
                    (area, format!("{}{}", 2 + rng.below(8), rng.digits(len)))
                }
            };
            let written = match rng.below(6) {
                0 => format!("{area}-{local}"),
                1 => format!("({area}){}", groups(&local, &[local.len() - 4], " ")),
                2 => format!("{area}-{}", groups(&local, &[local.len() - 4], " ")),
                3 => format!("{area}{local}"),
                4 => format!("+86 {} {local}", &area[1..]),
                _ => format!("{area}-{local}转{}", rng.number(3)),
            };
            (written, format!("{}{local}", &area[1..]), false, "")
        }
        Kind::HongKong => {
            let n = format!("{}{}", rng.pick(&["5", "6", "9"]), rng.digits(7));
            let written = match rng.below(3) {
                0 => format!("+852 {}", groups(&n, &[4], " ")),
                1 => format!("+852{n}"),
                _ => format!("(852) {}", groups(&n, &[4], "-")),
            };
            (written, n, false, "")
        }
        Kind::Macau => {
            let n = format!("6{}", rng.digits(7));
            (format!("+853 {}", groups(&n, &[4], " ")), n, false, "")
        }
        Kind::Taiwan => {
            let n = format!("9{}", rng.digits(8));
            let written = if rng.below(2) == 0 {
                format!("+886 {}", groups(&n, &[3, 3], " "))
            } else {
                format!("+886-0{}", groups(&n, &[3, 3], "-"))
            };
            (written, n, false, "")
        }
        Kind::Card => {
            let len = rng.pick(&[16, 16, 19]);
            let prefix = rng.pick(&["622202", "621700", "436742", "622848", "524354"]);
            let body = format!("{prefix}{}", rng.digits(len - 7));
            let card = (0..10)
                .map(|d| format!("{body}{d}"))
                .find(|c| luhn_ok(c))
                .expect("one check digit passes");
            let written = if rng.below(2) == 0 {
                groups(&card, &[4, 4, 4, 4], sep)
            } else {
                card.clone()
            };
            let numeric = !written.contains([' ', '-']);
            (written, card, numeric, "")
        }
        Kind::Email => {
            let local = format!(
                "{}{}",
                rng.pick(&["zhang.wei", "li_na", "wangfang", "chen-min", "liu.yang"]),
                rng.below(100)
            );
            let domain = rng.pick(&[
                "example.com",
                "mail.example.cn",
                "corp.example.org",
                "qq.com",
            ]);
            let address = format!("{local}@{domain}");
            (address.clone(), squeeze(&address), false, "")
        }
        Kind::EmailIdn => {
            // A local part in Chinese carries no ASCII digits: where ASCII
            // stands right before the `@`, the address is taken to start
            // there, and Chinese text before it is left as text.
            let local = rng.pick(&["用户", "张伟", "李娜", "wang.fang"]);
            let domain = rng.pick(&[
                "例子.中国",
                "公司.网络",
                "例子.公司",
                "xn--fsqu00a.xn--fiqs8s",
            ]);
            let address = format!("{local}@{domain}");
            (address.clone(), squeeze(&address), false, "")
        }
        Kind::Passport => {
            let number = match rng.below(3) {
                0 => format!("E{}", rng.digits(8)),
                1 => format!("E{}{}", rng.pick(&["A", "B", "C", "D"]), rng.digits(7)),
                _ => format!("G{}", rng.digits(8)),
            };
            let context = rng.pick(&["护照号", "passport: ", "护照号码：", "Passport No. "]);
            (number.clone(), number.to_ascii_lowercase(), false, context)
        }
    };
    Planted {
        kind,
        written,
        secret,
        numeric,
        context,
    }
}

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
}

pub const ENCODINGS: [Encoding; 9] = [
    Encoding::Plain,
    Encoding::FullWidth,
    Encoding::UnicodeSpaces,
    Encoding::ZeroWidth,
    Encoding::Percent,
    Encoding::PercentTwice,
    Encoding::Form,
    Encoding::Nginx,
    Encoding::UnicodeEscapes,
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
pub fn member(p: &Planted, e: Encoding, place: Place, rng: &mut Dice) -> (String, Value) {
    let text = format!("{}{}", p.context, encode(&p.written, e, rng));
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

/// What a person reads in `s`: escapes undone at every level, full-width
/// forms folded, invisible marks gone. Written independently of the
/// engine's view (whole-string passes until nothing changes), as the
/// tests' oracle.
pub fn reads(s: &str) -> String {
    let mut text = s.to_owned();
    for _ in 0..8 {
        let before = text.clone();
        text = undo_once(&text);
        if text == before {
            break;
        }
    }
    text.chars()
        .filter_map(|c| match c as u32 {
            0xff01..=0xff5e => char::from_u32(c as u32 - 0xfee0),
            0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xfeff => None,
            0xa0 | 0x2000..=0x200a | 0x202f | 0x3000 => Some(' '),
            _ => Some(c),
        })
        .collect()
}

fn undo_once(s: &str) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let hex = |x: &[u8]| {
        std::str::from_utf8(x)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.len() >= 3 && rest[0] == b'%' && rest[1..3].iter().all(u8::is_ascii_hexdigit) {
            out.push(hex(&rest[1..3]).expect("hex") as u8);
            i += 3;
        } else if rest.len() >= 4
            && rest.starts_with(b"\\x")
            && rest[2..4].iter().all(u8::is_ascii_hexdigit)
        {
            out.push(hex(&rest[2..4]).expect("hex") as u8);
            i += 4;
        } else if rest.len() >= 6
            && rest.starts_with(b"\\u")
            && rest[2..6].iter().all(u8::is_ascii_hexdigit)
        {
            let unit = hex(&rest[2..6]).expect("hex");
            match char::from_u32(unit) {
                Some(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                None => out.extend_from_slice(&rest[..6]),
            }
            i += 6;
        } else if rest.len() >= 2 && rest[0] == b'\\' && b"\\\"/nrtbf".contains(&rest[1]) {
            out.push(match rest[1] {
                b'n' | b'r' | b't' | b'b' | b'f' => b' ',
                other => other,
            });
            i += 2;
        } else if rest[0] == b'+' {
            out.push(b' ');
            i += 1;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Letters and digits only, lower case: what a reader could still piece
/// together.
pub fn squeezed(s: &str) -> String {
    squeeze(s)
}

/// Every string and key of a JSON value.
pub fn texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            texts(x, out);
        }),
        _ => {}
    }
}

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

mod events;
mod reader;

pub use events::*;
pub use reader::*;

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
            // (Banks' own 19-digit debit cards from before UnionPay start
            // 94 or 95.)
            let prefix = if len == 19 {
                rng.pick(&["622202", "621700", "436742", "622848", "955880", "955990"])
            } else {
                rng.pick(&["622202", "621700", "436742", "622848", "524354"])
            };
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

//! The oracle: a reader that undoes encodings its own way (not the
//! engine's view) and says what a person could still read.

use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use super::squeeze;

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
    // Styled digits read as digits: compatibility forms (`①` `¹` `𝟏`),
    // and the dingbat circles, which have none.
    text.nfkc()
        .filter_map(|c| match c as u32 {
            0x2776..=0x277e => char::from_digit(c as u32 - 0x2775, 10),
            0x2780..=0x2788 => char::from_digit(c as u32 - 0x277f, 10),
            0x278a..=0x2792 => char::from_digit(c as u32 - 0x2789, 10),
            0x24f5..=0x24fd => char::from_digit(c as u32 - 0x24f4, 10),
            0x24ff => Some('0'),
            // The katakana prolonged sound mark is a letter to Unicode, a
            // dash to a reader between digits.
            0x30fc | 0xff70 => Some('-'),
            0xff01..=0xff5e => char::from_u32(c as u32 - 0xfee0),
            // Chinese numerals, read digit by digit.
            _ if "〇零幺壹贰叁肆伍陆柒捌玖一二三四五六七八九".contains(c) => {
                chinese_numeral(c)
            }
            0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xfeff => None,
            0xa0 | 0x2000..=0x200a | 0x202f | 0x3000 => Some(' '),
            _ => Some(c),
        })
        .collect()
}

/// The digit a Chinese numeral stands for, with its financial form.
fn chinese_numeral(c: char) -> Option<char> {
    let d = match c {
        '〇' | '零' => 0,
        '一' | '幺' | '壹' => 1,
        '二' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        _ => 9,
    };
    char::from_digit(d, 10)
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
            && (rest.starts_with(b"\\u") || rest.starts_with(b"%u"))
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
    lossy_with_gbk_full_width(&out)
}

/// `bytes` as text, where bytes that are no UTF-8 but a full-width
/// character in GBK (`A3B1` is `１`; `A1A1` the ideographic space) are read
/// as what they show, as a legacy GBK page's server reads them: two bytes
/// at a time from the first that is no UTF-8.
fn lossy_with_gbk_full_width(bytes: &[u8]) -> String {
    let mut text = String::new();
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                text.push_str(s);
                return text;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                text.push_str(std::str::from_utf8(good).expect("valid up to here"));
                match bad {
                    [0xa3, b @ 0xa1..=0xfe, ..] => text.push(char::from(b - 0x80)),
                    [0xa1, 0xa1, ..] => text.push(' '),
                    // Any other GBK character: its two bytes go together
                    // (in `海１`, `BA A3 A3 B1`, the first `A3` ends `海`).
                    [0x81..=0xfe, 0x40..=0xfe, ..] => text.push('\u{fffd}'),
                    _ => {
                        text.push('\u{fffd}');
                        rest = &bad[e.error_len().unwrap_or(bad.len())..];
                        continue;
                    }
                }
                rest = &bad[2..];
            }
        }
    }
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

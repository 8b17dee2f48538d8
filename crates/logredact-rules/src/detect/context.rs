//! Context for detectors whose shape alone is weak evidence: a keyword in
//! the field's name, in the name of the field around it, or in the text
//! near a candidate (`护照号E12345678`, `{"idCard": …}`). Pure functions of
//! their arguments.

use std::ops::{Not, Range};

use crate::normalize::{NormBuffers, NormView};

/// How far before a candidate a keyword may stand, and after it.
const BEFORE: usize = 48;
const AFTER: usize = 24;

/// Whether any of `words` stands in `text` (`lower` is it in lower case).
/// Most texts hold the first byte of few of the words: those are the only
/// ones searched for.
fn any_named(text: &[u8], lower: &[u8], words: &[&str]) -> bool {
    let mut present = [0u64; 4];
    for &b in lower {
        present[usize::from(b >> 6)] |= 1 << (b & 63);
    }
    words.iter().any(|w| {
        let (starts, ends, word) = marks(w.as_bytes());
        word.first()
            .is_some_and(|&b| present[usize::from(b >> 6)] & (1 << (b & 63)) != 0)
            && names(text, lower, word, starts, ends)
    })
}

/// A word of a list without its marks, and whether it had each: `^` (it
/// must begin a word in the text) and `$` (it must end one).
#[inline]
fn marks(word: &[u8]) -> (bool, bool, &[u8]) {
    let (starts, word) = match word {
        [b'^', rest @ ..] => (true, rest),
        _ => (false, word),
    };
    match word {
        [rest @ .., b'$'] => (starts, true, rest),
        _ => (starts, false, word),
    }
}

/// Whether `word` stands in `text` (`lower` is it in lower case):
/// anywhere (`userpassportno`, `khzjhm`: names run together), except that
/// a word written `^cert` must begin a word there, after a non-letter or
/// at a capital that follows a small letter (`certNo`, `cert_no`,
/// `userCertNo`, since `cert` ends many an English word: `concertTicketNo`
/// and `uncertain` name no document), and one written `tel$` must end one,
/// before a non-letter or a capital (`tel`, `telNo`, `officeTel`, not
/// `telemetry`).
fn names(text: &[u8], lower: &[u8], word: &[u8], starts: bool, ends: bool) -> bool {
    places(lower, word).any(|at| {
        let end = at + word.len();
        (!starts
            || at == 0
            || !text[at - 1].is_ascii_alphabetic()
            || (text[at - 1].is_ascii_lowercase() && text[at].is_ascii_uppercase()))
            && (!ends
                || end == text.len()
                || !text[end].is_ascii_alphabetic()
                || (text[end - 1].is_ascii_lowercase() && text[end].is_ascii_uppercase()))
    })
}

/// Where `word` stands in `text`. (Texts here are a key or a few dozen
/// bytes: a search for the first byte and a comparison cost less than
/// building a substring searcher for each word.)
fn places<'t>(text: &'t [u8], word: &'t [u8]) -> impl Iterator<Item = usize> + 't {
    let (first, rest) = word.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
    memchr::memchr_iter(first, text)
        .filter(move |&at| !word.is_empty() && text[at + 1..].starts_with(rest))
}

pub(super) fn key_has_any(key: &[u8], words: &[&str]) -> bool {
    if key.contains(&b'\\') || key.contains(&0xef) {
        // A key as written in JSON, escaped (`\\u62a4\\u7167`), or in
        // full-width letters (`ｐａｓｓｐｏｒｔ`): read it.
        let mut buffers = NormBuffers::default();
        let view = NormView::new(key, true, &mut buffers);
        return has_any(view.bytes(), words);
    }
    has_any(key, words)
}

/// Whether any of `words` stands in `text`, a key as it reads or a few
/// dozen bytes of text around a candidate.
pub(super) fn has_any(text: &[u8], words: &[&str]) -> bool {
    let mut small = [0u8; 64];
    let long;
    let lower: &[u8] = match small.get_mut(..text.len()) {
        Some(lower) => {
            lower.copy_from_slice(text);
            lower.make_ascii_lowercase();
            lower
        }
        // A long generated name (`..._holder_passport_number`): read all
        // of it.
        None => {
            long = text.to_ascii_lowercase();
            &long
        }
    };
    any_named(text, lower, words)
}

pub(super) fn context(
    hay: &[u8],
    keys: [&[u8]; 2],
    candidate: &Range<usize>,
    words: &[&str],
) -> bool {
    // The field's name, or the name around it (`{"passport":{"no":…}}`).
    if keys.iter().any(|key| key_has_any(key, words)) {
        return true;
    }
    let from = candidate.start.saturating_sub(BEFORE);
    let to = (candidate.end + AFTER).min(hay.len());
    has_any(&hay[from..candidate.start], words) || has_any(&hay[candidate.end..to], words)
}

/// The word that names the number at `start`: the word right before it
/// (letters, digits, `_`, characters above ASCII but punctuation, up to 24
/// bytes), perhaps with signs between ([`between_word_and_number`]:
/// `联系电话：`, `tel=`, `手机，`, `"officeTel":"`, `<tel>`, `【电话】`,
/// `电话（`, `Tel. `, `[tel] => `, `<th>电话</th><td>`); or the word before
/// a word that only says a number follows or a note in brackets
/// (`Phone No.: `, `办公电话(分机)：`); or, for a JSON member named only
/// `number` written as text, its object's name. `None` when no word stands
/// there. (`：` reads as `:` here: the view folds it.) A word ends at
/// Chinese punctuation other than `、` (`电话未填，订单` is two words,
/// `手机、微信` one).
pub(super) fn word_before(hay: &[u8], start: usize) -> Option<Range<usize>> {
    let mut word = one_word_before(hay, start)?;
    // A JSON member named only "number", written as text (a document in a
    // field, a dead-letter record): the name of its object names it.
    if word.start > 0 && hay[word.start - 1] == b'"' && is_number_name(&hay[word.clone()]) {
        if let Some(object) = object_name_before(hay, word.start - 1) {
            return Some(object);
        }
    }
    // A word that says a number follows, after the word that names it
    // (`Phone No.: `, `phone number is `, `Tel. No.: `), or a note in
    // brackets after it before a `:` (`办公电话(分机)：`, `Tel (office): `):
    // the word before names the number (`users (mobile): ` names none),
    // two steps at most.
    for _ in 0..2 {
        let filler = FILLERS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&hay[word.clone()]));
        let note = word.start > 0
            && hay[word.start - 1] == b'('
            && matches!(hay.get(word.end..word.end + 2), Some([b')', b':' | b'=']));
        if !(filler || note) {
            break;
        }
        let at = word.start - usize::from(note);
        match one_word_before(hay, at) {
            Some(before)
                if at - before.end <= 3
                    && hay[before.end..at]
                        .iter()
                        .all(|b| matches!(b, b'.' | b'-' | b' ')) =>
            {
                word = before;
            }
            _ => break,
        }
    }
    Some(word)
}

/// The name of the JSON object, written as text, that `at` is in
/// (`"phone":{"areaCode":"0755","number":` → `phone`; `"phones":[{"type":
/// "home","number":` → `phones`, and so in the list's next item), read
/// back at most 160 bytes.
fn object_name_before(hay: &[u8], at: usize) -> Option<Range<usize>> {
    let mut depth = 0usize;
    for i in (at.saturating_sub(160)..at).rev() {
        match hay[i] {
            b'}' | b']' => depth += 1,
            b'{' | b'[' if depth > 0 => depth -= 1,
            // (An object in a list: the list's name names it, whichever
            // item it is.)
            b'{' if hay[..i].trim_ascii_end().ends_with(b",") => {}
            b'{' | b'[' => {
                let name_end = i - hay[..i]
                    .iter()
                    .rev()
                    .take_while(|&&b| matches!(b, b'[' | b' '))
                    .count();
                return one_word_before(hay, name_end);
            }
            _ => {}
        }
    }
    None
}

/// Words that say a number follows, not what it is: the word before
/// them names it ([`NUMBER`]'s and `is`).
const FILLERS: &[&[u8]] = &[b"no", b"nr", b"num", b"nbr", b"number", b"is"];

/// [`word_before`], one word alone.
fn one_word_before(hay: &[u8], start: usize) -> Option<Range<usize>> {
    let end = between_word_and_number(hay, start);
    // (A word may end in a digit or two: `tel2`, `<mobile2>`.)
    let numbered = hay[..end]
        .iter()
        .rev()
        .take(2)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if end == numbered
        || !(hay[end - numbered - 1].is_ascii_alphabetic() || hay[end - numbered - 1] >= 0x80)
    {
        return None;
    }
    let mut from = end;
    while end - from < 24 && from > 0 {
        let b = hay[from - 1];
        if b.is_ascii_alphanumeric() || b == b'_' {
            from -= 1;
            continue;
        }
        if b < 0x80 {
            break;
        }
        // A character above ASCII: its first byte, and whether it is
        // punctuation (CJK symbols and punctuation, general punctuation,
        // full-width signs).
        let len = (1..=4.min(from))
            .find(|&n| hay[from - n] >= 0xc0)
            .unwrap_or(1);
        let cp = hay[from - len + 1..from]
            .iter()
            .fold(u32::from(hay[from - len]) & (0x7f >> len), |cp, &b| {
                cp << 6 | u32::from(b & 0x3f)
            });
        // (`、` joins the items of a list: `手机、微信：`.)
        let punctuation = cp != 0x3001
            && matches!(cp, 0x2000..=0x206f | 0x3000..=0x303f | 0xff00..=0xff0f | 0xff1a..=0xff20 | 0xff3b..=0xff40 | 0xff5b..=0xff65);
        if punctuation {
            break;
        }
        from -= len;
    }
    (from < end).then_some(from..end)
}

/// Where the signs that may stand between a word and the number it names
/// begin, reading back from `start`: `:`, `=`, quotes, spaces and line
/// breaks, brackets (`电话（`, `【电话】`, `[tel] => `, `user[tel]=`), `|`,
/// `#`, an arrow's or a lone dash (`tel -> `, `电话-`), MySQL's backticks, Chinese commas (`手机，`), the dot of an
/// abbreviation (`Tel. `, `FAX.:`), and the tags of an HTML table or text
/// (`<th>电话</th><td>`, `电话：<span>`); a tag that names the field
/// itself is the word (`<tel>`). At most 48 bytes.
fn between_word_and_number(hay: &[u8], start: usize) -> usize {
    let mut end = start;
    while start - end < 48 && end > 0 {
        end -= match hay[..end] {
            [.., b':' | b'=' | b'"' | b'\'' | b'`' | b' ' | b'\t' | b'\r' | b'\n'] => 1,
            // (Brackets only where a name or a list is written: `["`, `[tel]
            // => `, `user[tel]=`, and a note before `：`, `电话(办公)：`; not
            // `[mobile] 2345678 users`.)
            [.., b'['] if matches!(hay.get(end), Some(b'"' | b'\'')) => 1,
            [.., b']'] if hay[end..].starts_with(b"=") || hay[end..].starts_with(b" =>") => 1,
            [.., b')'] if matches!(hay.get(end), Some(b':' | b'=')) => 1,
            // (An opening bracket only around the number alone: `电话（
            // 88886666）`, not `mobile (2345678 users)`.)
            [.., b'('] if closed_after(hay, start) => 1,
            // (A table's `|` between spaces: `| 电话 | 88886666 |`; not
            // `login|mobile|28374651`, a record's fields.)
            [.., b' ', b'|'] if hay.get(end) == Some(&b' ') => 1,
            // (A dash in an arrow or after Chinese text: `tel -> `, `电话-`;
            // not `mobile-20261130`, a name, nor `mobile - 2345678 sessions`.)
            [.., w, b'-'] if w >= 0x80 || hay.get(end) == Some(&b'>') => 1,
            // `】`, `，`, `；`, `、`.
            [.., 0xe3, 0x80, 0x91 | 0x81] | [.., 0xef, 0xbc, 0x8c | 0x9b] => 3,
            // (A Chinese comma folded to ASCII, after Chinese text.)
            [.., c, b',' | b';'] if c >= 0x80 => 1,
            [.., b'.'] if abbreviation(&hay[..end - 1]) => 1,
            // `→`.
            [.., 0xe2, 0x86, 0x92] => 3,
            [.., b'>'] => html_tag_before(hay, end).unwrap_or(1),
            _ => break,
        };
    }
    end
}

/// Whether a closing bracket follows the number at `start`, with only
/// digits, spaces and dashes before it.
fn closed_after(hay: &[u8], start: usize) -> bool {
    hay[start..]
        .iter()
        .take(24)
        .find(|&&b| !matches!(b, b'0'..=b'9' | b' ' | b'-'))
        == Some(&b')')
}

/// Whether `text` ends in an abbreviation that a dot follows (`Tel.`,
/// `FAX.`, `No.`).
fn abbreviation(text: &[u8]) -> bool {
    [&b"tel"[..], b"fax", b"no"].iter().any(|a| {
        let n = text.len();
        n >= a.len()
            && text[n - a.len()..].eq_ignore_ascii_case(a)
            && (n == a.len() || !text[n - a.len() - 1].is_ascii_alphabetic())
    })
}

/// The length of the HTML tag that ends at `end`, when it is one that lays
/// out a table or text (`<td>`, `</th>`, `<span class="x">`), not one
/// that names a field (`<tel>`).
fn html_tag_before(hay: &[u8], end: usize) -> Option<usize> {
    const LAYOUT: &[&[u8]] = &[
        b"td", b"th", b"tr", b"span", b"div", b"p", b"b", b"i", b"em", b"strong", b"label",
        b"font", b"li", b"dd", b"dt", b"br", b"u",
    ];
    // (Where the `<` is, counted back from the `>`; none when the `>`
    // begins the text.)
    let back = hay[..end - 1]
        .iter()
        .rev()
        .take(40)
        .position(|&b| b == b'<')?;
    let open = end - 2 - back;
    let tag = &hay[open + 1..end - 1];
    let name = tag.strip_prefix(b"/").unwrap_or(tag);
    let name = &name[..name
        .iter()
        .position(|&b| b == b' ' || b == b'/')
        .unwrap_or(name.len())];
    LAYOUT
        .iter()
        .any(|l| l.eq_ignore_ascii_case(name))
        .then_some(end - open)
}

/// The signs that list numbers, besides `、`, `，` and `；`: between two
/// phone numbers (`88886666,88886667`, one a line).
const LIST_SIGNS: &[u8] = b",;/|\t\n";

/// Whether `text` is one sign that lists numbers ([`LIST_SIGNS`], `、`,
/// `，`, `；`).
fn is_list_sign(text: &[u8]) -> bool {
    match text {
        [b] => LIST_SIGNS.contains(b),
        [0xe3, 0x80, 0x81] | [0xef, 0xbc, 0x8c | 0x9b] => true,
        _ => false,
    }
}

/// How long the sign that lists numbers ending at `at` is, 0 when none
/// ends there.
fn list_sign_before(hay: &[u8], at: usize) -> usize {
    [1, 3]
        .into_iter()
        .find(|&n| at >= n && is_list_sign(&hay[at - n..at]))
        .unwrap_or(0)
}

/// Whether only a sign that lists numbers, perhaps with spaces and quotes
/// around it, stands between `end`, where a number ends, and `start`,
/// where the next begins: the next number of the same list, however long
/// the list (`电话：88886600、88886601、…`).
pub(super) fn listed_next(hay: &[u8], end: usize, start: usize) -> bool {
    let loose = |b: &u8| matches!(b, b' ' | b'"' | b'\'');
    let gap = hay.get(end..start).unwrap_or_default();
    let from = gap.iter().take_while(|b| loose(b)).count();
    let to = gap.len() - gap.iter().rev().take_while(|b| loose(b)).count();
    from < to && is_list_sign(&gap[from..to])
}

/// The word before the number at `start` ([`word_before`]), or, where
/// none stands right before it, the word before the list of numbers it
/// ends ([`list_start`]: `电话：88886666、88886667`).
pub(super) fn word_or_list_before(hay: &[u8], start: usize) -> Option<Range<usize>> {
    word_before(hay, start).or_else(|| {
        let first = list_start(hay, start);
        (first < start).then(|| word_before(hay, first)).flatten()
    })
}

/// Where a list of numbers that ends right before `start` begins: back
/// past each number and the sign that joins it to the next
/// ([`is_list_sign`], spaces and quotes around), so that the word before the first
/// names them all (`手机：0912345678、0922333444`, `电话：88886666，88886667`).
/// `start` when no such number stands before it. An item is a number of
/// seven digits or more, perhaps in groups (`0755-8888 6666`), so list
/// numbering (`1、2、`) is no item; eight items at most are read.
pub(super) fn list_start(hay: &[u8], start: usize) -> usize {
    // (Spaces, and the quotes around the items of a JSON list written as
    // text: `"tel":["88886666","88886667"]`.)
    let spaces = |mut at: usize| {
        while at > 0 && matches!(hay[at - 1], b' ' | b'"' | b'\'') {
            at -= 1;
        }
        at
    };
    let mut first = start;
    for _ in 0..8 {
        let at = spaces(first);
        let sign = list_sign_before(hay, at);
        if sign == 0 {
            break;
        }
        let at = at - sign;
        let end = spaces(at);
        // The number: digits, and the signs inside one, ending in a digit.
        let mut from = end;
        let mut digits = 0;
        while from > 0 && end - from < 24 {
            match hay[from - 1] {
                b'0'..=b'9' => digits += 1,
                b'-' | b'(' | b')' | b'+' | b' ' => {}
                _ => break,
            }
            from -= 1;
        }
        let from = from + hay[from..end].iter().take_while(|&&b| b == b' ').count();
        let before = from
            - hay[..from]
                .iter()
                .rev()
                .take_while(|&&b| matches!(b, b'"' | b'\''))
                .count();
        // (Not a part of a longer word: `x88886666`.)
        if digits < 7
            || !hay[..end].last().is_some_and(u8::is_ascii_digit)
            || (before > 0 && hay[before - 1].is_ascii_alphanumeric())
        {
            break;
        }
        first = from;
    }
    first
}

/// Whether a phone field's value holds phone numbers only: digits and the
/// signs that write and list them (`0912345678;0922333444`,
/// `0912345678、0922333444`, `0912-345-678 / 0922 333 444`,
/// `(0912) 345678`), no words
/// (`iPhone 15 SKU 0912345678` holds a code, not a phone number).
pub(super) fn numbers_only(value: &[u8]) -> bool {
    let mut rest = value;
    while let Some((&b, tail)) = rest.split_first() {
        rest = match rest {
            // Digits, the signs inside a number, and those between.
            _ if b.is_ascii_digit() || b" -+()#".contains(&b) || LIST_SIGNS.contains(&b) => tail,
            [a, b, c, tail @ ..] if is_list_sign(&[*a, *b, *c]) => tail,
            _ => return false,
        };
    }
    true
}

/// Whether a value is a list of phone numbers in a field named for a
/// phone: [`numbers_only`] (asked first: most values hold more), under a
/// key with a [`PHONE`] word.
pub(super) fn phone_list_field(value: &[u8], keys: [&[u8]; 2]) -> bool {
    numbers_only(value) && phone_field(keys)
}

/// Whether a field is named for a phone number (`keys`: its name, and the
/// name of the field around it): its name [`names_phone`]; or its name
/// says only that it holds a number, and the field around it is named for
/// a phone (`{"phone": {"areaCode": "0755", "number": "88886666"}}`,
/// `{"phones": [{"type": "home", "number": "88886666"}]}`).
pub(super) fn phone_field(keys: [&[u8]; 2]) -> bool {
    names_phone(keys[0]) || (is_number_name(keys[0]) && names_phone(keys[1]))
}

/// Whether a name or a word holds a [`PHONE`] word and does not end in a
/// word that says it is about a phone but no number (`phone_model`,
/// `mobileAppId`, `tel_sdk_version`, `phone_updated`; `updatedPhone` is a
/// phone's number).
pub(super) fn names_phone(name: &[u8]) -> bool {
    key_has_any(name, PHONE) && {
        let n = name.len();
        NOT_THE_NUMBER
            .iter()
            .any(|w| n >= w.len() && name[n - w.len()..].eq_ignore_ascii_case(w))
            .not()
    }
}

/// How the names of fields about a phone but no number end.
const NOT_THE_NUMBER: &[&[u8]] = &[
    b"model",
    b"brand",
    b"sdk",
    b"version",
    b"appid",
    b"app_id",
    b"updated",
    b"updated_at",
    b"verified",
    b"type",
    b"status",
    b"count",
    b"time",
    b"date",
];

/// Whether a field's name says only that it holds a number: the name of
/// the field around it names the number.
fn is_number_name(name: &[u8]) -> bool {
    NUMBER.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Those names.
const NUMBER: &[&[u8]] = &[b"number", b"no", b"num", b"nbr", b"value", b"val"];

/// Words that name a field for a phone number, lower case (`tel`,
/// `telNo`, `officeTel`, `mobilePhone`, `lxdh`, `联系电话`): such a field
/// may hold the number without its area or country code, which another
/// field holds (`{"areaCode":"0755","tel":"88886666"}`).
pub(super) const PHONE: &[&str] = &[
    "^tel$",
    "phone",
    "mobile",
    "^cell",
    "^fax$",
    "lxdh",
    "dianhua",
    "shouji",
    // Pinyin initials of forms' field names: 固定电话, 办公电话, 家庭电话,
    // 住宅电话, 单位电话, 移动电话, 电话号码, 手机号码, 传真号码, 联系方式;
    // and words spelled out.
    "gddh",
    "bgdh",
    "jtdh",
    "zzdh",
    "dwdh",
    "yddh",
    "dhhm",
    "sjhm",
    "czhm",
    "lxfs",
    "zuoji",
    "guhua",
    "chuanzhen",
    "landline",
    "msisdn",
    "电话",
    "手机",
    "座机",
    "固话",
    "传真",
    "联系方式",
    "联系号码",
    "总机",
    "電話",
    "聯繫方式",
    "聯絡方式",
    "手機",
    "傳真",
];

#[cfg(test)]
mod word_tests {
    use super::*;

    #[test]
    fn the_word_before_a_number_ends_at_punctuation_and_after_separators() {
        let word = |text: &str| {
            let hay = text.as_bytes();
            word_before(hay, hay.len()).map(|w| String::from_utf8_lossy(&hay[w]).into_owned())
        };
        assert_eq!(word("联系电话：").as_deref(), None); // (folded to `:` in the view)
        assert_eq!(word("联系电话:").as_deref(), Some("联系电话"));
        assert_eq!(word("电话未填，订单").as_deref(), Some("订单"));
        assert_eq!(word("note — 手机、微信:").as_deref(), Some("手机、微信"));
        assert_eq!(word("手机，").as_deref(), Some("手机"));
        assert_eq!(word("手机,").as_deref(), Some("手机"));
        assert_eq!(word("order,").as_deref(), None);
        assert_eq!(word("\"officeTel\":\"").as_deref(), Some("officeTel"));
        assert_eq!(word("mobile. ").as_deref(), None);
        assert_eq!(word("12 ").as_deref(), None);
        assert_eq!(word("<Contact><tel>").as_deref(), Some("tel"));
        assert_eq!(word("<mobile2>").as_deref(), Some("mobile2"));
        assert_eq!(word("mobile 123 ").as_deref(), None);
        assert_eq!(word("【联系电话】:").as_deref(), Some("联系电话"));
        assert_eq!(word("Tel. ").as_deref(), Some("Tel"));
        assert_eq!(word("hotel. ").as_deref(), None);
        assert_eq!(word("<th>电话</th><td>").as_deref(), Some("电话"));
        assert_eq!(
            word("<td>电话</td><td class=\"v\"><b>").as_deref(),
            Some("电话")
        );
        assert_eq!(word("Array ( [tel] => ").as_deref(), Some("tel"));
        assert_eq!(word("`phone`='").as_deref(), Some("phone"));
        assert_eq!(word("name=\"tel\"\r\n\r\n").as_deref(), Some("tel"));
        assert_eq!(word("tel -> ").as_deref(), Some("tel"));
        assert_eq!(word("mobile-").as_deref(), None);
        // (A `>` that begins the text: no tag before it.)
        assert_eq!(word(">").as_deref(), None);
    }

    #[test]
    fn a_list_of_numbers_begins_after_the_word_that_names_it() {
        let list = |text: &str| {
            let hay = text.as_bytes();
            String::from_utf8_lossy(&hay[..list_start(hay, hay.len())]).into_owned()
        };
        assert_eq!(list("手机：0912345678、"), "手机：");
        assert_eq!(list("电话:88886666，8888 6667, "), "电话:");
        assert_eq!(list("tel 0755-8888 6666 / 66668888; "), "tel ");
        assert_eq!(list("电话：1、"), "电话：1、");
        assert_eq!(list("电话：88886666 "), "电话：88886666 ");
        assert_eq!(list("order x88886666, "), "order x88886666, ");
        assert_eq!(list(r#""tel":["88886666",""#), r#""tel":[""#);
        assert_eq!(list("tel 88886666\n"), "tel ");
    }

    #[test]
    fn the_next_number_of_a_list_stands_after_one_sign() {
        let hay = "88886666、 88886667,\"88886668\" 88886669;;88886670".as_bytes();
        assert!(listed_next(hay, 8, 12));
        assert!(listed_next(hay, 20, 22));
        assert!(!listed_next(hay, 31, 32));
        assert!(!listed_next(hay, 40, 42));
    }
}

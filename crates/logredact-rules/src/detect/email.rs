//! `email`: e-mail addresses, `local@domain.tld`, where the top-level
//! domain is a real one (the Public Suffix List, through the `psl` crate),
//! so `logo@2x.png` is kept, or the name of a private network's domain
//! (`zhangsan@corp.local`: `PRIVATE_TLDS`) after which a version is no
//! name (`v1.2@build.local` is kept), nor a Kubernetes service's. Internationalised addresses are found too:
//! a domain in Chinese (`用户@例子.中国`) or in punycode (`xn--`), and a
//! local part in another script when no ASCII or accented Latin one stands
//! before the `@`.
//! Accented Latin letters (`françois@bücher.de`) join ASCII ones in a
//! local part or a label; letters of other scripts do not, as text in
//! them touches an address (`联系zhang@example.com`, `письмоivan@mail.ru`),
//! and a top-level domain ends where its ASCII letters do
//! (`max@example.deöffnen`).
//! (Full-width `＠` and letters are folded before detectors look.) The dot
//! between domain labels may be the full stop a Chinese input method types
//! (`zhang@example。com`).

use std::ops::Range;

use super::after_colour_code;
use super::registry::Builtin;

pub(super) const DETECTOR: Builtin = Builtin {
    name: "email",
    summary: "E-mail addresses whose top-level domain is real, internationalised and punycode domains included",
    keep: (1, 0),
    min_digits: 0,
    in_numbers: false,
    reads_key: false,
    may_match: |scan| scan.features.has_at,
    find: |scan, out| find(scan.hay, out),
    canonical: |m| m.to_ascii_lowercase(),
    keep_first_in: super::registry::keep_as_written,
    finds: &[
        "mail «alice.w+x@example.com.cn», ok",
        "联系«zhang_san@mail.qq.com»谢谢",
        "«ｚｈａｎｇ＠example.com»",
        "«用户@例子.中国»",
        "«wang@例子.公司»谢谢",
        "«wang@xn--55qx5d.xn--fiqs8s»",
        "«ops@Example.ORG».",
        "联系«zhang@example.com»——请勿外传",
        "«li@example.cn»-- 谢谢",
        "x 0999@«mail.ex%%ang43@mail.example.cn» y",
        "邮箱«zhang.wei@example。com»，谢谢",
        "«françois.dupont@example.fr»",
        "联系«müller@bücher.de»谢谢",
        "«zoë.smith@gmail.com»",
        "Kontakt:«max@example.de»öffnen",
        "«ivan@mail.ru»-почта",
        "письмо«ivan@mail.ru»",
        "«max@example.co.uk»Übersicht",
        "«max@example.de»¹",
        "«o'brien@example.com»",
        "'«zhang@example.com»'",
        "b'«zhang@example.com»'",
        "N'«zhang@example.com»'",
        "«jose\u{301}@example.es»",
        "bind «zhangsan@corp.local» ok",
        "«ZhangSan@CORP.LOCAL»",
        "工号«20231234@corp.local»登录",
        "«zhangsan@login01.cluster.local»",
        "«1.2.3-zhangsan@corp.local»",
        "«wang@mail.corp»",
    ],
    keeps: &[
        "/static/img/logo@2x.png",
        "user@localhost",
        "@example.com",
        "x@y.c0m",
        "icon@3x.jpg",
        "v1.2@build.local",
        "2.0.1@ci.lan",
        "1.2.3-rc1@build.local",
        "V1.2@build.local",
        "node rabbit@rabbitmq-0.rabbitmq.default.svc.cluster.local up",
        "postgres://app@db.default.svc.cluster.local:5432/x",
        "ubuntu@ip-10-0-0-1.ec2.internal",
        "v2.1.0-SNAPSHOT@ci.lan",
        "root@localhost.localdomain",
        "user@local",
    ],
};

/// Bit 0: may be in an ASCII local part; bit 1: in an ASCII domain label.
const EMAIL_CHARS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        // (An apostrophe in a name, `o'brien@`; one before the address
        // is a quote, dropped as a leading dot is.)
        if alnum || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'') {
            table[b] |= 1;
        }
        if alnum || c == b'-' {
            table[b] |= 2;
        }
        b += 1;
    }
    table
};

fn is_local_char(b: u8) -> bool {
    EMAIL_CHARS[usize::from(b)] & 1 != 0
}

fn is_label_char(b: u8) -> bool {
    EMAIL_CHARS[usize::from(b)] & 2 != 0
}

/// The letter or digit of another script that starts at `at`, and its
/// length in bytes.
fn wide_letter_at(hay: &[u8], at: usize) -> Option<usize> {
    let first = *hay.get(at)?;
    let len = match first {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let c = std::str::from_utf8(hay.get(at..at + len)?)
        .ok()?
        .chars()
        .next()?;
    c.is_alphanumeric().then_some(len)
}

/// Whether an accented Latin letter (U+00C0 to U+024F: Latin-1 and Latin
/// Extended-A and -B, `×` and `÷` aside) starts at `at`.
fn latin_letter_at(hay: &[u8], at: usize) -> bool {
    match hay.get(at..at + 2) {
        Some(&[a @ 0xc3..=0xc9, b @ 0x80..=0xbf]) => {
            let c = (u32::from(a & 0x1f) << 6) | u32::from(b & 0x3f);
            c <= 0x24f && c != 0xd7 && c != 0xf7
        }
        _ => false,
    }
}

/// Whether a combining diacritical mark (U+0300-U+036F) starts at `at`:
/// an accent written after its letter (`é` as `e` and U+0301, as macOS
/// and some input methods write it).
fn combining_mark_at(hay: &[u8], at: usize) -> bool {
    matches!(
        hay.get(at..at + 2),
        Some(&[0xcc, 0x80..=0xbf] | &[0xcd, 0x80..=0xaf])
    )
}

/// The length of the character at `at` in an address part whose ASCII
/// characters `ascii` takes: 1 for one of those, 2 for an accented Latin
/// letter (they join ASCII ones: `josé.garcía@`) or a combining accent,
/// 0 otherwise.
fn part_char_at(hay: &[u8], at: usize, ascii: fn(u8) -> bool) -> usize {
    if hay.get(at).is_some_and(|&b| ascii(b)) {
        1
    } else if latin_letter_at(hay, at) || combining_mark_at(hay, at) {
        2
    } else {
        0
    }
}

/// [`part_char_at`] for the character that ends at `end`.
fn part_char_before(hay: &[u8], end: usize, ascii: fn(u8) -> bool) -> usize {
    if end > 0 && ascii(hay[end - 1]) {
        1
    } else if end >= 2 && (latin_letter_at(hay, end - 2) || combining_mark_at(hay, end - 2)) {
        2
    } else {
        0
    }
}

/// The letter or digit of another script that ends at `end`, and its
/// length.
fn wide_letter_before(hay: &[u8], end: usize) -> Option<usize> {
    (2..=4)
        .filter(|&len| len <= end)
        .find(|&len| wide_letter_at(hay, end - len) == Some(len))
}

/// Whether `label` (lower case) is a top-level domain.
fn is_tld(label: &[u8]) -> bool {
    !label.is_empty() && psl::suffix(label).is_some_and(|s| s.is_known() && s.as_bytes() == label)
}

/// Top-level names that are on no public list but name a private network
/// (lower case): `local` (RFC 6762, and where Active Directory domains
/// were long told to live: `zhangsan@corp.local` is an employee's
/// account), and the names company networks use for the same (`corp`,
/// `lan`, `home`, `intranet`, `private`). Not `internal`: clouds name
/// machines there (`ubuntu@ip-10-0-0-1.ec2.internal`); not `localhost` or
/// `localdomain` (`root@localhost.localdomain`); and a Kubernetes
/// service's name (`…svc.cluster.local`) is no address either
/// (`KUBERNETES_DOMAINS`).
const PRIVATE_TLDS: [&[u8]; 6] = [b"local", b"corp", b"lan", b"home", b"intranet", b"private"];

/// The domains Kubernetes names services and pods in
/// (`app@db.default.svc.cluster.local` is a database user at a service,
/// in a connection string); a host such as `login01.cluster.local` is
/// some company's own.
const KUBERNETES_DOMAINS: [&[u8]; 2] = [b".svc.cluster.local", b".pod.cluster.local"];

/// Whether a local part is a version rather than a name: what stands
/// before `@` in a build's or a package's id (`v1.2@build.local`,
/// `1.2.3-rc1@ci.lan`): perhaps `v`, then digits with at least one dot,
/// then perhaps `-` and a release tag (`rc1`, `beta.2`, `SNAPSHOT`: a
/// name after the dash is a person's, `1.2.3-zhangsan`). (Digits alone
/// are an employee's number: `20231234@corp.local`.)
fn is_version(local: &[u8]) -> bool {
    let rest = match local {
        [b'v' | b'V', rest @ ..] => rest,
        _ => local,
    };
    let (numbers, tag) = match rest.iter().position(|&b| b == b'-') {
        Some(dash) => (&rest[..dash], &rest[dash + 1..]),
        None => (rest, &b""[..]),
    };
    numbers.first().is_some_and(u8::is_ascii_digit)
        && numbers.contains(&b'.')
        && numbers.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        && is_release_tag(tag)
}

/// Whether `tag` is empty or a release tag: a word for a stage, then
/// perhaps digits and dots (`rc1`, `beta.2`, `SNAPSHOT`, `alpha`).
fn is_release_tag(tag: &[u8]) -> bool {
    const STAGES: [&[u8]; 8] = [
        b"alpha",
        b"beta",
        b"rc",
        b"snapshot",
        b"dev",
        b"pre",
        b"release",
        b"build",
    ];
    let word = tag.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    (word == 0 || STAGES.iter().any(|s| tag[..word].eq_ignore_ascii_case(s)))
        && tag[word..].iter().all(|&b| b.is_ascii_digit() || b == b'.')
}

/// The length of the dot between two labels at `at`, 0 when none is: `.`,
/// or the full stop a Chinese input method types for it (`。`, and the
/// half-width `｡`), as in `zhang@example。com`.
fn label_dot(hay: &[u8], at: usize) -> usize {
    match hay.get(at..) {
        Some([b'.', ..]) => 1,
        Some([0xe3, 0x80, 0x82, ..] | [0xef, 0xbd, 0xa1, ..]) => 3,
        _ => 0,
    }
}

/// The end of a domain starting at `from`: its labels, and then the
/// longest run of them that ends in a real top-level domain, or in a
/// private network's (`PRIVATE_TLDS`) after one label at least; and
/// whether it is a private one.
fn domain_end(hay: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut labels: [Range<usize>; 16] = Default::default();
    let mut count = 0;
    let mut pos = from;
    while count < labels.len() {
        let start = pos;
        let mut dashes_after = false;
        if part_char_at(hay, pos, is_label_char) > 0 {
            loop {
                match part_char_at(hay, pos, is_label_char) {
                    0 => break,
                    n => pos += n,
                }
            }
            // A label never ends in `-`: dashes after it (`a@b.com--`,
            // a dash folded from `——`) are text after the address.
            while pos > start && hay[pos - 1] == b'-' {
                pos -= 1;
                dashes_after = true;
            }
        } else {
            while let Some(len) = wide_letter_at(hay, pos) {
                pos += len;
            }
        }
        if pos == start {
            break;
        }
        labels[count] = start..pos;
        count += 1;
        let dot = label_dot(hay, pos);
        if dashes_after || dot == 0 {
            break;
        }
        pos += dot;
    }
    let ok = |l: &Range<usize>| hay[l.start] != b'-' && hay[l.end - 1] != b'-';
    let mut tld_buf = [0u8; 64];
    for k in (1..count).rev() {
        if !labels[..=k].iter().all(ok) {
            continue;
        }
        let mut tld = &hay[labels[k].clone()];
        if tld[0].is_ascii() {
            // Only its ASCII letters, digits and inner dashes: text with
            // accents may follow with no space (`example.deöffnen`).
            let mut end = tld.iter().position(|b| !b.is_ascii()).unwrap_or(tld.len());
            while end > 0 && tld[end - 1] == b'-' {
                end -= 1;
            }
            tld = &tld[..end];
        }
        if tld.len() > tld_buf.len() {
            continue;
        }
        let lower = &mut tld_buf[..tld.len()];
        lower.copy_from_slice(tld);
        lower.make_ascii_lowercase();
        if tld.first().is_some_and(u8::is_ascii) {
            if is_tld(lower) {
                return Some((labels[k].start + tld.len(), false));
            }
            if PRIVATE_TLDS.contains(&&*lower) {
                let domain = &hay[from..labels[k].start + tld.len()];
                let kubernetes = KUBERNETES_DOMAINS.iter().any(|k| {
                    domain.len() > k.len()
                        && domain[domain.len() - k.len()..].eq_ignore_ascii_case(k)
                });
                if kubernetes {
                    return None;
                }
                return Some((labels[k].start + tld.len(), true));
            }
            continue;
        }
        // A top-level domain in another script may run on into the text
        // after it (`例子.中国谢谢`): the longest start of it that is one.
        let mut end = tld.len();
        while end > 0 {
            if is_tld(&lower[..end]) {
                return Some((labels[k].start + end, false));
            }
            end -= (1..=4)
                .find(|&n| n <= end && std::str::from_utf8(&tld[end - n..end]).is_ok())
                .unwrap_or(end);
        }
    }
    None
}

/// Whether a byte that begins or ends no character stands right before
/// `at`: one an escape decoded (`%da` is the byte 0xDA), where the text
/// itself, valid UTF-8, holds none.
fn lone_byte_before(hay: &[u8], at: usize) -> bool {
    if at == 0 || hay[at - 1] < 0x80 {
        return false;
    }
    let lead = (1..=4.min(at))
        .map(|n| at - n)
        .find(|&i| hay[i] & 0xc0 != 0x80)
        .unwrap_or(at - 1);
    std::str::from_utf8(&hay[lead..at]).is_err()
}

/// `local@domain.tld`.
fn find(hay: &[u8], out: &mut Vec<Range<usize>>) {
    let mut from = 0;
    while let Some(off) = memchr::memchr(b'@', &hay[from..]) {
        let at = from + off;
        from = at + 1;
        let mut start = at;
        loop {
            match part_char_before(hay, start, is_local_char) {
                0 => break,
                n => start -= n,
            }
        }
        if lone_byte_before(hay, start) {
            // A `%` that is no sure escape, read as one (`LIKE
            // '%dave.li@…'`, `'%ce.wang@…'`): a reader sees its letters,
            // the address's first, so they are masked with it.
            start -= 1;
        } else {
            while start < at && matches!(hay[start], b'.' | b'\'') {
                start += 1;
            }
        }
        // A terminal colour code before the address (`ESC[33mzhang@`,
        // `ESC[1;36mli@`): the address begins after its `m`.
        let digits = hay[start..at]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let after_m = start + digits + 1;
        if hay[start + digits] == b'm' && after_m < at && after_colour_code(hay, after_m) {
            start = after_m;
        }
        if start == at {
            // A local part in another script (`用户@`), at most 64 bytes.
            while let Some(len) = wide_letter_before(hay, start) {
                if at - (start - len) > 64 {
                    break;
                }
                start -= len;
            }
            if start == at {
                continue;
            }
        }
        let Some((end, private)) = domain_end(hay, at + 1) else {
            continue;
        };
        if private && is_version(&hay[start..at]) {
            continue;
        }
        if hay.get(end) == Some(&b'\'') {
            // A quoted string with a prefix (Python's `b'…'`, SQL's
            // `N'…'`): the address begins after the quote.
            if let Some(quote) = hay[start..at].iter().rposition(|&b| b == b'\'') {
                start += quote + 1;
                if start == at {
                    continue;
                }
            }
        }
        match out.last_mut() {
            // The domain of the last address runs on into this one's
            // local part (`a@b.cn%x@c.cn`): one match covers both, or
            // masking the first would leave the second standing.
            Some(last) if last.end > start => last.end = end,
            _ => out.push(start..end),
        }
        from = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accented_latin_letters_are_told_apart() {
        let at0 = |s: &str| latin_letter_at(s.as_bytes(), 0);
        for c in ["À", "ç", "ö", "ÿ", "ɏ", "œ", "ł"] {
            assert!(at0(c), "{c}");
        }
        for c in ["×", "÷", "¿", "ɐ", "¹", "п", "ش", "a", "中", "\u{a0}"] {
            assert!(!at0(c), "{c}");
        }
        assert!(!latin_letter_at("xç".as_bytes(), 2));
    }

    #[test]
    fn a_colour_code_before_an_address_is_not_part_of_it() {
        let hay = b"\x1b[33mzhang@qq.com\x1b[0m [1;36mli@qq.com [m";
        let mut out = Vec::new();
        find(hay, &mut out);
        let found: Vec<&[u8]> = out.iter().map(|r| &hay[r.clone()]).collect();
        assert_eq!(found, [&b"zhang@qq.com"[..], &b"li@qq.com"[..]]);
    }

    #[test]
    fn top_level_domains_are_real_ones() {
        for tld in [
            "com",
            "cn",
            "org",
            "中国",
            "xn--fiqs8s",
            "公司",
            "io",
            "museum",
        ] {
            assert!(is_tld(tld.as_bytes()), "{tld}");
        }
        for tld in ["png", "jpg", "local", "localhost", "c0m", "x"] {
            assert!(!is_tld(tld.as_bytes()), "{tld}");
        }
    }
}

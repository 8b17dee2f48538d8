//! `passport`: passports and travel permits, found only with context.
//!
//! The shapes are weak evidence on their own (`E12345678` could be an
//! order or a part number), so, as Presidio and Datadog's scanner do, a
//! match needs a keyword in the field's name or in the text near it
//! (`护照`, `passport`, `通行证`, `certNo`…).
//!
//! Shapes (letters in either case): a letter and eight digits (`E12345678`,
//! `G12345678` passports; `C`, `H`, `M`, `L`, `T` permits; `D`, `S`, `P`,
//! `K`), two letters and seven digits (`EA1234567`, `CA1234567`,
//! `SE1234567`), `H` or `M` and ten digits (older home-return permits);
//! and, next to a keyword naming Taiwan residents' permits (`台胞证`), eight
//! or ten digits alone. Next to a word that names a passport itself
//! (`passport`, `护照`), other countries' shapes too: any letter and
//! seven or eight digits, any two letters and seven, nine digits.

use std::ops::Range;

use super::context::{context, has_any, key_has_any};
use super::registry::Builtin;
use super::scan::{run_lengths, Scan};
use super::{is_word, left_bounded};

pub(super) const DETECTOR: Builtin = Builtin {
    name: "passport",
    summary: "Passport and travel-permit numbers (E12345678, EA1234567, G12345678, C/H/M/L/T permits), with a keyword nearby or in the field name",
    keep: (1, 2),
    min_digits: 7,
    // Taiwan residents' permits are digits only, and may be stored as
    // numbers under a key that names them.
    in_numbers: true,
    reads_key: true,
    may_match,
    find,
    canonical: |m| super::registry::alnum_upper(m),
    keep_first_in: super::registry::keep_as_written,
    finds: &[
        "护照号«E12345678»已核验",
        "passport: «EA1234567»",
        "Passport No. «G12345678»",
        "往来港澳通行证«C12345678»",
        "回乡证 «H1234567801»",
        "台胞证号码«12345678»",
        "证件号码：«SE1234567»",
        "travel permit «L12345678»",
        "護照號碼«E12345678»",
        "往來港澳通行證«C12345678»",
        "userPassportNo «E12345678»",
        "passport «XE1234567»",
        "US passport «123456789»",
        "Indian passport «J8369854»",
        "passport no. «TK1234567»",
        "idNo=«E12345678»",
        "credentialNo: «G12345678»",
        "paperNo «EA1234567»",
        "SSR FOID MU HK1 PP«E12345678»/P1",
        "SSR FOID CA HK1 PP«EA1234567»/P2",
        "SSR DOCS CA HK1 P/CN/«G12345678»/CN/01JAN80/M/01JAN30/ZHANG/SAN",
        "SSR DOCS YY HK1 P/GBR/«123456789»/GBR/12JUL64/M/23AUG29/SMITH/JOHN",
        "SSR FOID CA HK1 PP«123456789»/P1",
    ],
    keeps: &[
        "E12345678",
        "order E12345678",
        "护照号E123456789",
        "passport AE12345678",
        "护照12345678",
        "order XE1234567",
        "document 123456789",
        "passport upload ok size=123456789",
        // Words that hold a keyword but name no document.
        "concert E12345678",
        "uncertain E12345678",
        "newspaper E12345678",
        "rapidNote E12345678",
        "SSR FOID MU HK1 XPPE12345678/P1",
        "SSR FOID MU HK1 ppE12345678/P1",
        "order P/US/123456789/x",
        "route PP123456789/P1",
    ],
};

const RUNS: u32 = run_lengths(&[7, 8, 9, 10]);

fn may_match(scan: &mut Scan<'_>) -> bool {
    scan.features.digits >= 7 && scan.prefilter().has_run(RUNS)
}

/// Words that say a document number is near, lower case. Field names are
/// matched against the ASCII ones, text against all.
const KEYWORDS: &[&str] = &[
    "passport",
    "permit",
    "huzhao",
    "hzhm",
    "txz",
    "tongxingzheng",
    "travel",
    "^cert",
    "zjhm",
    "zjh",
    "zhengjian",
    "^hzh",
    "document",
    // Names of a field for any identity document's number, which holds a
    // passport's for a foreigner (`idNo`, `idCardNo`, `credentialNo`,
    // `paperNo`, `证件号码`).
    "^idno",
    "id_no",
    "^idnum",
    "id_num",
    "^idcard",
    "id_card",
    "credential",
    "^paper",
    // An airline reservation's elements for a passenger's documents
    // (`SSR FOID MU HK1 PPE12345678/P1`, `SSR DOCS CA HK1
    // P/CN/E12345678/…`).
    "ssr foid",
    "ssr docs",
    "护照",
    "通行证",
    "回乡证",
    "台胞证",
    "旅行证",
    "证件",
    "证照",
    "居留",
    // The same in traditional characters (Hong Kong, Macau, Taiwan).
    "護照",
    "通行證",
    "回鄉證",
    "台胞證",
    "臺胞證",
    "旅行證",
    "證件",
    "證照",
];

/// Words that name a passport itself, for other countries' numbers.
const PASSPORT: &[&str] = &["passport", "huzhao", "护照", "護照"];

/// Words that name Taiwan residents' permits, whose numbers are digits only.
const TAIWAN: &[&str] = &[
    "台胞证",
    "台湾居民",
    "台胞證",
    "臺胞證",
    "台灣居民",
    "mtp",
    "tbz",
];

/// How far before another country's passport number the word may stand.
const NEAR: usize = 16;

fn find(scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
    let keys = scan.keys;
    let (hay, runs) = scan.hay_and_runs();
    for run in runs {
        // (A reservation's number follows a `/` or its code's letters.)
        if run.start > 0 && (hay[run.start - 1] == b'/' || hay[run.start - 1].is_ascii_uppercase())
        {
            if let Some(number) = reservation_passport(hay, keys, run) {
                out.push(number);
                continue;
            }
        }
        if run.end < hay.len() && is_word(hay[run.end]) {
            continue;
        }
        let letter = |at: usize| hay[at].to_ascii_uppercase();
        let letters_before = (1..=2)
            .take_while(|&k| run.start >= k && hay[run.start - k].is_ascii_alphabetic())
            .count();
        let candidate = match (run.len(), letters_before) {
            // (Or after an airline reservation's `PP`: `PPE12345678`.)
            (8, 1 | 2)
                if b"CDEGHKLMPST".contains(&letter(run.start - 1))
                    && (letters_before == 1 || left_bounded(hay, run.start - 1)) =>
            {
                run.start - 1..run.end
            }
            (7, 2)
                if b"CDEPS".contains(&letter(run.start - 2))
                    && letter(run.start - 1).is_ascii_uppercase() =>
            {
                run.start - 2..run.end
            }
            (10, 1) if b"HM".contains(&letter(run.start - 1)) => run.start - 1..run.end,
            (8 | 10, 0) => {
                if left_bounded(hay, run.start) && context(hay, keys, run, TAIWAN) {
                    out.push(run.clone());
                }
                continue;
            }
            // Other countries' passports (a letter and seven or eight
            // digits, two letters and seven, nine digits: India, the
            // United States, Japan, the United Kingdom), next to a word
            // that names a passport itself.
            (7 | 8, 1) | (7, 2) | (9, 0) => {
                let candidate = run.start - letters_before..run.end;
                // (Weaker shapes: the field's own name, or the words just
                // before: `US passport 123456789`.)
                let near = &hay[candidate.start.saturating_sub(NEAR)..candidate.start];
                if left_bounded(hay, candidate.start)
                    && (key_has_any(keys[0], PASSPORT) || has_any(near, PASSPORT))
                {
                    out.push(candidate);
                }
                continue;
            }
            _ => continue,
        };
        if left_bounded(hay, candidate.start) && context(hay, keys, &candidate, KEYWORDS) {
            out.push(candidate);
        }
    }
}

/// Words that name an airline reservation's elements for a passenger's
/// documents.
const RESERVATION: &[&str] = &["ssr foid", "ssr docs"];

/// A passport's number of any country in an airline reservation, where
/// the element itself says it is a passport: glued to `PP` in `SSR FOID`
/// (`PP123456789/P1`, `PPE12345678/P1`), or the number after `P/` (or
/// `I/`, an identity card) and the issuing country in `SSR DOCS` (`P/USA/123456789/…`, `P/GB/AB1234567/…`):
/// letters and digits, six to fifteen, that hold `run`. (Numbers with no
/// run of seven digits or more, `C01X00T47`, are not looked for.)
#[cold]
fn reservation_passport(hay: &[u8], keys: [&[u8]; 2], run: &Range<usize>) -> Option<Range<usize>> {
    let alnum = |at: usize| hay[at].is_ascii_alphanumeric();
    let mut from = run.start;
    while from > 0 && run.end - from < 17 && alnum(from - 1) {
        from -= 1;
    }
    let mut to = run.end;
    while to < hay.len() && to - from < 17 && alnum(to) {
        to += 1;
    }
    if to < hay.len() && !matches!(hay[to], b'/' | b' ') {
        return None;
    }
    let before = &hay[..from];
    let starts_word = |at: usize| at == 0 || !hay[at - 1].is_ascii_alphanumeric();
    let start = if hay[from..to].starts_with(b"PP") && starts_word(from) {
        from + 2
    } else {
        // `P/` (a passport) or `I/` (an identity card), two or three
        // capitals, `/`.
        let country = before
            .strip_suffix(b"/")?
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_uppercase())
            .count();
        let element = before.len().checked_sub(country + 3)?;
        if !matches!(country, 2 | 3)
            || !matches!(before[element..element + 2], [b'P' | b'I', b'/'])
            || !starts_word(element)
        {
            return None;
        }
        from
    };
    let number = start..to;
    (matches!(number.len(), 6..=15) && context(hay, keys, &number, RESERVATION)).then_some(number)
}

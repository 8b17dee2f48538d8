//! The normalising view's tests.

use super::*;

fn view(s: &str) -> (String, Vec<u32>) {
    view_reading(s, Percent::Escape)
}

/// The view of `s` reading a `%` that is no sure escape as `percent` says,
/// and its map.
fn view_reading(s: &str, percent: Percent) -> (String, Vec<u32>) {
    let mut buffers = NormBuffers::default();
    let v = NormView::reading(s.as_bytes(), true, percent, &mut buffers);
    let text = String::from_utf8_lossy(v.bytes()).into_owned();
    let starts = match v.normalized {
        Some((_, starts)) => starts.to_vec(),
        None => (0..=s.len() as u32).collect(),
    };
    (text, starts)
}

/// The original text behind `needle` in the view of `s`.
fn behind(s: &str, needle: &str) -> String {
    let mut buffers = NormBuffers::default();
    let v = NormView::new(s.as_bytes(), true, &mut buffers);
    let at = v
        .bytes()
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .expect("needle in view");
    let r = v.to_original(&(at..at + needle.len()));
    s[r].to_owned()
}

#[test]
fn plain_text_is_its_own_view() {
    let mut buffers = NormBuffers::default();
    let v = NormView::new(b"phone 13812345678", true, &mut buffers);
    assert!(!v.is_normalized());
    let v = NormView::new("用户张伟已登录".as_bytes(), true, &mut buffers);
    assert!(!v.is_normalized());
    let v = NormView::new(b"100% sure, 50%", true, &mut buffers);
    assert!(!v.is_normalized());
}

#[test]
fn full_width_forms_fold() {
    assert_eq!(view("１８５３４０９９０７３").0, "18534099073");
    assert_eq!(
        view("１１０１０５１９８８０１０７００５Ｘ").0,
        "11010519880107005X"
    );
    assert_eq!(view("ｚｈａｎｇ＠example.com").0, "zhang@example.com");
    assert_eq!(
        view("电话：１３８　１２３４　５６７８").0,
        "电话:138 1234 5678"
    );
    assert_eq!(
        behind("电话：１３８　１２３４", "138 1234"),
        "１３８　１２３４"
    );
}

#[test]
fn spaces_dashes_and_invisible_marks() {
    assert_eq!(view("138\u{a0}1234\u{2009}5678").0, "138 1234 5678");
    assert_eq!(view("138\u{2013}1234\u{2014}5678").0, "138-1234-5678");
    assert_eq!(view("1381234\u{200b}5678").0, "13812345678");
    assert_eq!(view("\u{202e}138\u{200d}12345678\u{feff}").0, "13812345678");
    // The removed mark is covered by the match next to it.
    assert_eq!(
        behind("1381234\u{200b}5678", "13812345678"),
        "1381234\u{200b}5678"
    );
}

#[test]
fn controls_marks_and_more_dashes() {
    // DEL, C1 controls and control characters an escape decoded are a
    // break: they separate fields (Hive's `\u0001`).
    assert_eq!(view("138\u{7f}1234\u{9b}5678").0, "138 1234 5678");
    assert_eq!(view(r"138\u00011234\x1b5678").0, "138 1234 5678");
    assert_eq!(view(r"138\u000b1234%1C5678").0, "138 1234 5678");
    assert_eq!(view("138\u{85}1234").0, "138 1234");
    assert_eq!(
        view("13812345678\u{1}13912345678").0,
        "13812345678 13912345678"
    );
    // Combining marks after a digit decorate it; after a letter they
    // belong to it; before a letter they stay a boundary.
    assert_eq!(
        view("1\u{336}3\u{336}8\u{336}1234\u{301}5678\u{20e8}").0,
        "13812345678"
    );
    assert_eq!(view("cafe\u{301}13812345678").0, "cafe\u{301}13812345678");
    assert_eq!(view("13812345678\u{336}abc").0, "13812345678\u{336}abc");
    assert_eq!(
        behind("1381234\u{301}\u{302}5678", "13812345678"),
        "1381234\u{301}\u{302}5678"
    );
    assert_eq!(view("138\u{30fc}1234\u{2796}5678").0, "138-1234-5678");
    assert_eq!(view("138\u{2e3a}1234\u{2500}5678").0, "138-1234-5678");
}

#[test]
fn styled_digits() {
    // Mathematical and segmented digits are styling only.
    assert_eq!(view("\u{1d7cf}\u{1d7d1}\u{1d7d6}").0, "138");
    assert_eq!(view("\u{1d7f7}\u{1d7e5}\u{1fbf8}").0, "138");
    // Circled digits, superscripts and the like in a run are digits…
    assert_eq!(view("❶❸❽①②③④⑤⑥⑦⑧").0, "13812345678");
    assert_eq!(view("¹³⁸₁₂₃₄⁵⁶⁷⁸").0, "13812345678");
    assert_eq!(view(r"\u2776\u2778\u277d\u2460\u2461").0, "13812");
    assert_eq!(view("❶\u{336}❸\u{336}❽\u{336}").0, "138");
    assert_eq!(behind("x➀➂⑧y", "138"), "➀➂⑧");
    // …but not next to a plain or full-width digit: item one, a
    // footnote.
    assert_eq!(view("①13812345678").0, "①13812345678");
    assert_eq!(view("13812345678¹").0, "13812345678¹");
    assert_eq!(view("13812345678¹²").0, "13812345678¹²");
    assert_eq!(view("¹²13812345678").0, "¹²13812345678");
    assert_eq!(view("13812345678\u{200b}¹²").0, "13812345678¹²");
    assert_eq!(view("１３８②１").0, "138②1");
    assert_eq!(view("100m²").0, "100m²");
}

/// Every character the view folds is found: by its special lead byte, or,
/// a Chinese numeral, by `find_cjk_numeral`.
#[test]
fn every_folded_character_has_a_special_lead() {
    for c in (0..=0x10ffff).filter_map(char::from_u32) {
        if matches!(fold(c as u32), Fold::Keep) {
            continue;
        }
        let mut buf = [0u8; 4];
        let bytes = c.encode_utf8(&mut buf).as_bytes();
        let lead = bytes[0];
        if !crate::bytes::is_special(lead) {
            assert_eq!(
                fold::find_cjk_numeral(bytes),
                Some(0),
                "U+{:04X} is folded, but it is not found",
                c as u32
            );
            continue;
        }
        assert!(lead >= 0x80, "U+{:04X}", c as u32);
    }
}

#[test]
fn chinese_numerals_are_digits_in_runs_only() {
    assert_eq!(view("一三八一二三四五六七八").0, "13812345678");
    assert_eq!(view("幺三八 幺二三四 五六七八").0, "138 1234 5678");
    assert_eq!(view("壹叁捌-壹贰叁肆-伍陆柒捌").0, "138-1234-5678");
    assert_eq!(view("二〇二六年").0, "2026年");
    // Alone, a numeral is a word; glued to plain digits, a boundary.
    assert_eq!(view("一个人").0, "一个人");
    assert_eq!(view("一13812345678").0, "一13812345678");
    assert_eq!(view("13812345678一二").0, "13812345678一二");
    // A last group of one after groups that were read.
    assert_eq!(view("四二一七 一八 四X").0, "4217 18 4X");
    // Invisible characters between them (zero-width spaces, joiners).
    assert_eq!(view("一\u{200b}三\u{200b}八\u{200c}一").0, "1381");
    // Escaped, at any depth.
    assert_eq!(view(r"\\u4e00\\u4e09\\u516b").0, "138");
    assert_eq!(view("%E4%B8%80%E4%B8%89%E5%85%AB").0, "138");
    // Counted for the gate only in runs.
    assert_eq!(cjk_numeral_digits("一个人".as_bytes()), 0);
    assert_eq!(cjk_numeral_digits("七八个，一三八".as_bytes()), 5);
    assert_eq!(cjk_numeral_digits("一\u{200b}三\u{200d}八".as_bytes()), 3);
}

#[test]
fn escapes_at_every_level() {
    assert_eq!(view("phone%3D13812345678").0, "phone=13812345678");
    assert_eq!(
        view("email%253Dzhang%2540example.com").0,
        "email=zhang@example.com"
    );
    assert_eq!(view("%25%33%31").0, "1");
    assert_eq!(
        view(r#"{\"phone\":\"13812345678\"}"#).0,
        r#"{"phone":"13812345678"}"#
    );
    assert_eq!(view(r"\u0031\u0033\u0038").0, "138");
    assert_eq!(view(r"\\u0031\\\\u0033").0, "13");
    assert_eq!(
        view(r"\x22phone\x22:\x2213812345678\x22").0,
        r#""phone":"13812345678""#
    );
    assert_eq!(view(r"\uff11\uff13").0, "13");
    assert_eq!(view("%EF%BC%91%EF%BC%93").0, "13");
    assert_eq!(view(r"a\nb\tc").0, "a b c");
    assert_eq!(view(r"138\n").0, "138 ");
    // JavaScript's `escape()`: `%uHHHH` for what is not ASCII.
    assert_eq!(view("%u624B%u673A18534099073").0, "手机18534099073");
    assert_eq!(view("%uFF11%uFF13").0, "13");
    assert_eq!(view("%25u624B1").0, "手1");
    // A surrogate pair is one character; a lone half stays as written.
    assert_eq!(view(r"\ud83d\udcf11").0, "\u{1f4f1}1");
    assert_eq!(view("%uD83D%uDCF11").0, "\u{1f4f1}1");
    assert_eq!(view(r"\udcf1\ud83d").0, r"\udcf1\ud83d");
    // Not escapes: kept as they are.
    assert_eq!(view(r"%zz \q \u12 %4").0, r"%zz \q \u12 %4");
    assert_eq!(view(r"\ud83d").0, r"\ud83d");
}

#[test]
fn the_map_covers_every_byte_a_match_came_from() {
    assert_eq!(
        behind("q=%31%33812345678&x", "13812345678"),
        "%31%33812345678"
    );
    assert_eq!(
        behind("%2531%2533812345678", "13812345678"),
        "%2531%2533812345678"
    );
    assert_eq!(
        behind(r#"{\\\"m\\\":\\\"\\u0031\\u00338\\\"}"#, "138"),
        r"\\u0031\\u00338"
    );
    assert_eq!(behind(r"x\x31\x338y", "138"), r"\x31\x338");
}

/// The map is ordered and ends at the original's length; its entries
/// fall on character boundaries of the original wherever the view holds
/// an ASCII byte.
#[test]
fn the_map_tiles_the_original() {
    let pieces = [
        "%",
        "%2",
        "%25",
        "%31",
        "\\",
        "\\\\",
        "\\u",
        "\\u0031",
        "\\uff11",
        "\\x3",
        "1",
        "a",
        "中",
        "１",
        "＠",
        "\u{200b}",
        "\u{3000}",
        "%EF%BC%91",
        "\"",
        "\\n",
    ];
    let mut seed = 0x1234_5678_u64;
    let mut buffers = NormBuffers::default();
    for _ in 0..20_000 {
        let mut s = String::new();
        for _ in 0..(seed % 12) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push_str(pieces[(seed % pieces.len() as u64) as usize]);
        }
        let v = NormView::new(s.as_bytes(), true, &mut buffers);
        let Some((text, starts)) = v.normalized else {
            continue;
        };
        assert_eq!(starts.len(), text.len() + 1, "{s:?}");
        assert_eq!(*starts.last().unwrap() as usize, s.len(), "{s:?}");
        assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{s:?}");
        for (k, &b) in text.iter().enumerate() {
            if b.is_ascii() {
                assert!(s.is_char_boundary(starts[k] as usize), "{s:?}");
            }
        }
        // Decoding the view again changes nothing: it is stable.
        let again = text.to_vec();
        let mut b2 = NormBuffers::default();
        let w = NormView::new(&again, true, &mut b2);
        assert_eq!(w.bytes(), &again[..], "{s:?}");
    }
}

/// A `%` that is no sure escape reads both ways: as an escape in the usual
/// view, as a sign in the other; sure escapes are undone in both.
#[test]
fn a_percent_that_is_no_sure_escape_reads_both_ways() {
    let sign = |s: &str| view_reading(s, Percent::Sign).0;
    assert_eq!(sign("LIKE '%18534099073%'"), "LIKE '%18534099073%'");
    assert_eq!(
        sign("id LIKE '%44030519851122103X'"),
        "id LIKE '%44030519851122103X'"
    );
    assert_eq!(sign("a%40b.cn %E6%89%8B%31%33"), "a@b.cn 手13");
    // (Read as an escape, `%18` is a control character, a break.)
    assert_eq!(view("LIKE '%18534099073%'").0, "LIKE ' 534099073%'");
    // Whether a reading met a `%` that is no sure escape, at any level of
    // decoding: then the engine reads the text the other way too.
    let unsure = |s: &str| {
        let mut buffers = NormBuffers::default();
        NormView::new(s.as_bytes(), true, &mut buffers).met_unsure_percent()
    };
    for unsure_text in [
        "LIKE '%18534099073%'",
        "'%de@example.com'",
        // Once decoded: `%25`, `\u0025` and `％` are a `%`.
        "LIKE '%2518534099073%25'",
        "a=%252518534099073",
        "LIKE \\u002518534099073",
        "LIKE ％18534099073",
        "LIKE %１８534099073",
        // Two decimal digits before a digit: `%21` may be `!`, or a `%`.
        "LIKE '%210102199003071233%'",
    ] {
        assert!(unsure(unsure_text), "{unsure_text}");
    }
    assert_eq!(sign("LIKE '%2518534099073%25'"), "LIKE '%18534099073%'");
    assert_eq!(sign("LIKE ％18534099073"), "LIKE %18534099073");
    for sure in [
        "q=%31%33%38",
        "a%40b.cn",
        "%E6%89%8B",
        "x%0Ay",
        "%25",
        "%2541",
        "100%",
        "50% off",
        "a%20b",
    ] {
        assert!(!unsure(sure), "{sure}");
    }
}

#[test]
fn the_numerals_table_is_sorted_and_read_as_the_oracle_reads_it() {
    let numerals = "〇零一幺壹二贰貳三叁四肆五伍六陆陸七柒八捌九玖";
    let digits = "00111222334455666778899";
    for (c, d) in numerals.chars().zip(digits.chars()) {
        let text = format!("{c}{c}");
        assert_eq!(view(&text).0, format!("{d}{d}"), "{c}");
    }
    assert_eq!(numerals.chars().count(), digits.len());
    // (`binary_search` needs the table sorted.)
    for c in numerals.chars() {
        assert!(
            fold::find_cjk_numeral(c.to_string().as_bytes()) == Some(0),
            "{c}"
        );
    }
    assert_eq!(fold::find_cjk_numeral("十百千万亿两个".as_bytes()), None);
}

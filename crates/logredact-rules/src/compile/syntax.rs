//! A rule file that is not valid TOML, said the way its author can act on:
//! Chinese input-method punctuation named and pointed at, escapes in double
//! quotes explained (patterns belong in single quotes), duplicate keys named.

use crate::RuleError;

/// Punctuation an input method in full-width mode types instead of what
/// TOML needs: the character, its name, and the character to type.
const LOOKALIKES: &[(char, &str, &str)] = &[
    ('，', "full-width comma", ","),
    ('、', "ideographic comma", ","),
    ('＝', "full-width equals sign", "="),
    ('；', "full-width semicolon", ";"),
    (
        '：',
        "full-width colon",
        "= (TOML uses = between a key and its value)",
    ),
    ('“', "left curly quote", "\""),
    ('”', "right curly quote", "\""),
    ('‘', "left curly single quote", "'"),
    ('’', "right curly single quote", "'"),
    ('［', "full-width left bracket", "["),
    ('］', "full-width right bracket", "]"),
    ('｛', "full-width left brace", "{"),
    ('｝', "full-width right brace", "}"),
    ('（', "full-width left parenthesis", "("),
    ('）', "full-width right parenthesis", ")"),
    ('．', "full-width full stop", "."),
    ('。', "ideographic full stop", "."),
    ('＃', "full-width number sign", "#"),
    ('\u{3000}', "ideographic space", "an ordinary space"),
];

/// Keys of a `when` condition, for the duplicate-key advice.
const CONDITION_KEYS: &[&str] = &["field", "equals", "one_of", "matches", "exists"];

/// The problems to report for `text`, which TOML refused with `errors`
/// (every one the parser found, in order): one per line, since a mistake
/// often makes the parser stumble again further along the same line.
pub(super) fn problems(file: &str, text: &str, errors: &[toml::de::Error]) -> Vec<RuleError> {
    let lookalikes: Vec<RuleError> = lookalikes_outside_strings(text)
        .into_iter()
        .map(|(at, c, name, instead)| {
            RuleError::at(
                file,
                text,
                at,
                None,
                format!(
                    "{name} `{c}` (U+{:04X}): rule files need the half-width {instead}; switch the input method to half-width (English) punctuation and type it again",
                    u32::from(c)
                ),
            )
        })
        .collect();
    if !lookalikes.is_empty() {
        return lookalikes;
    }
    let mut errors: Vec<(usize, &toml::de::Error)> = errors
        .iter()
        .map(|e| (e.span().map_or(0, |s| s.start).min(text.len()), e))
        .collect();
    errors.sort_by_key(|(at, _)| *at);
    let mut out: Vec<RuleError> = Vec::new();
    for (at, error) in errors {
        let problem = RuleError::at(file, text, at, None, message(text, at, error.message()));
        if out.last().is_none_or(|last| last.line != problem.line) {
            out.push(problem);
        }
    }
    out
}

/// What the parser's message `raw`, about offset `at`, means to a person
/// writing rules, with what to write instead.
fn message(text: &str, at: usize, raw: &str) -> String {
    let raw = raw.trim_end();
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = text[line_start..line_end].trim_end_matches('\r');
    let (key, value) = match line.split_once('=') {
        Some((k, v)) => (k.trim(), v.trim()),
        None => (line.trim(), ""),
    };
    if raw.starts_with("missing escaped value") || raw.contains("invalid escape") {
        let escape: String = text
            .get(at.saturating_sub(1)..)
            .unwrap_or_default()
            .chars()
            .take(2)
            .collect();
        format!(
            "`{escape}` is not an escape TOML knows inside double quotes; write patterns in single quotes, where a backslash is just a backslash: pattern = '\\d{{11}}'"
        )
    } else if raw.starts_with("duplicate key") {
        duplicate_key(text, at)
    } else if raw.starts_with("invalid boolean") || raw.starts_with("string values must be quoted")
    {
        unquoted(key, value)
    } else if raw.starts_with("key with no value") || raw.starts_with("invalid unquoted key") {
        if key.contains(':') {
            "TOML puts = between a key and its value, not a colon: write key = value, like detector = \"cn_mobile\"".to_owned()
        } else if key.contains(char::is_whitespace) {
            format!(
                "a key is one word: write `{}` without spaces, or check that = follows the key",
                key.split_whitespace().collect::<Vec<_>>().join("_")
            )
        } else if raw.starts_with("invalid unquoted key") {
            "a key is letters, digits, - and _ (like keep_first); put any other key in quotes, like \"user.phone\" = …".to_owned()
        } else {
            "this line needs = between its key and its value, like id = \"my-rule\"".to_owned()
        }
    } else if raw.starts_with("unexpected key or value") {
        if value.starts_with('\'') && value.matches('\'').count() > 2 {
            "this text ends at its second single quote, and what follows makes no sense to TOML; a text in single quotes cannot hold one: write it in double quotes, or between three single quotes (''' and ''')".to_owned()
        } else {
            "only one key = value goes on a line; put what follows on a line of its own (or in quotes, if it belongs to the value)".to_owned()
        }
    } else if raw.starts_with("unclosed array table") || raw.starts_with("unclosed table") {
        "the header is not closed: a rule starts with [[mask]], [[tag]] or [[route]], two square brackets on each side; settings with [settings]".to_owned()
    } else if raw.starts_with("unclosed array") {
        "the list is not closed: end it with ] (a list may span lines, with a comma after each item)".to_owned()
    } else if raw.starts_with("missing comma") {
        "items need commas between them, like [\"a\", \"b\"] or { field = \"a\", equals = \"b\" }; and a { … } ends with } on the line it starts on".to_owned()
    } else if raw.starts_with("unclosed inline table") {
        "the { … } is not closed: end it with } on the same line (a { … } cannot span lines)"
            .to_owned()
    } else if raw.starts_with("invalid basic string") || raw.starts_with("invalid literal string") {
        "this text's closing quote is missing: a text in quotes ends on the line it starts on"
            .to_owned()
    } else {
        format!("this is not valid TOML here ({raw}); docs/rules.md, \"Rule files\", shows how rules are written")
    }
}

/// A value written without quotes where TOML needs them, or a number or
/// `true`/`false` written wrong.
fn unquoted(key: &str, value: &str) -> String {
    let first = value.chars().next().unwrap_or(' ');
    if value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false") {
        format!(
            "write true and false in lower case: {key} = {}",
            value.to_ascii_lowercase()
        )
    } else if ["yes", "no", "on", "off"]
        .iter()
        .any(|w| value.eq_ignore_ascii_case(w))
    {
        let truth = matches!(value.to_ascii_lowercase().as_str(), "yes" | "on");
        format!(
            "a yes-or-no setting is written true or false: {key} = {truth}; a text goes in quotes, like {key} = \"{value}\""
        )
    } else if first.is_ascii_digit() || first == '-' {
        format!("a number is digits alone, like {key} = 3; a text goes in quotes, like {key} = \"{value}\"")
    } else if first == '[' {
        "each text in a list goes in quotes: [\"user.phone\", \"user.email\"]".to_owned()
    } else if first == '{' {
        "each text in { … } goes in quotes: { field = \"action\", equals = \"delete_user\" }"
            .to_owned()
    } else {
        format!("text values go in quotes: write {key} = \"{value}\"")
    }
}

/// The key a duplicate-key error points at, named, with advice.
fn duplicate_key(text: &str, at: usize) -> String {
    let rest = text.get(at..).unwrap_or_default();
    let key: String = match rest.chars().next() {
        // A quoted key: up to its closing quote.
        Some(q @ ('"' | '\'')) => rest[1..].chars().take_while(|c| *c != q).collect(),
        _ => rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect(),
    };
    let line = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let in_condition = CONDITION_KEYS.contains(&key.as_str())
        && text[line..at].contains('{')
        && text[line..at].contains("when");
    let advice = if in_condition {
        format!(
            "; for a condition that needs two tests, write all = [{{ field = \"…\", {key} = … }}, {{ field = \"…\", {key} = … }}]"
        )
    } else {
        "; keep one".to_owned()
    };
    if key.is_empty() {
        "this key or table is given twice; keep one".to_owned()
    } else {
        format!("the key `{key}` is given twice here{advice}")
    }
}

/// Every look-alike of TOML punctuation outside strings and comments:
/// (byte offset, the character, its name, what to type instead).
fn lookalikes_outside_strings(text: &str) -> Vec<(usize, char, &'static str, &'static str)> {
    #[derive(PartialEq)]
    enum State {
        Code,
        Comment,
        Basic,
        Literal,
        MultiBasic,
        MultiLiteral,
    }
    let mut found = Vec::new();
    let mut state = State::Code;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let rest = &text[at..];
        match state {
            State::Code => match c {
                '#' => state = State::Comment,
                '"' if rest.starts_with("\"\"\"") => {
                    state = State::MultiBasic;
                    chars.nth(1);
                }
                '"' => state = State::Basic,
                '\'' if rest.starts_with("'''") => {
                    state = State::MultiLiteral;
                    chars.nth(1);
                }
                '\'' => state = State::Literal,
                _ => {
                    if let Some((_, name, instead)) = LOOKALIKES.iter().find(|(l, ..)| *l == c) {
                        found.push((at, c, *name, *instead));
                    }
                }
            },
            State::Comment => {
                if c == '\n' {
                    state = State::Code;
                }
            }
            State::Basic => match c {
                '\\' => {
                    chars.next();
                }
                '"' | '\n' => state = State::Code,
                _ => {}
            },
            State::Literal => {
                if c == '\'' || c == '\n' {
                    state = State::Code;
                }
            }
            State::MultiBasic => match c {
                '\\' => {
                    chars.next();
                }
                '"' if rest.starts_with("\"\"\"") => {
                    state = State::Code;
                    chars.nth(1);
                }
                _ => {}
            },
            State::MultiLiteral => {
                if rest.starts_with("'''") {
                    state = State::Code;
                    chars.nth(1);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(text: &str) -> Vec<String> {
        let (_, errors) = toml::de::DeTable::parse_recoverable(text);
        assert!(!errors.is_empty(), "invalid TOML");
        problems("r.toml", text, &errors)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn input_method_punctuation_is_named_and_pointed_at() {
        let text = "version = 1\n[[route]]\nid = \"送往热库\"\noutputs = [\"hot\"，\"cold\"]\n";
        assert_eq!(
            problems_of(text),
            ["r.toml:4:17: full-width comma `，` (U+FF0C): rule files need the half-width ,; switch the input method to half-width (English) punctuation and type it again"]
        );
        let text = "version ＝ 1\nid = “x”\n";
        let got = problems_of(text);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with("r.toml:1:9: full-width equals sign `＝` (U+FF1D)"));
        assert!(got[1].starts_with("r.toml:2:6: left curly quote `“` (U+201C)"));
        assert!(got[2].starts_with("r.toml:2:8: right curly quote `”` (U+201D)"));
    }

    #[test]
    fn punctuation_inside_strings_and_comments_is_left_alone() {
        let found = lookalikes_outside_strings(
            "# 注释，可以\nname = \"手机号，邮箱\"\np = '＝'\nm = \"\"\"\n“引号”\n\"\"\"\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    /// What the TOML parser says, said so a rule author can act: no
    /// "invalid boolean, expected `false`", and every mistake in a file.
    #[test]
    fn common_slips_are_said_in_plain_words_every_one_of_them() {
        let text = "version = 1\n[[mask]]\nid = \"m\"\naction = full\ndetector: \"cn_mobile\"\nkeep first = 3\npattern = 'it's'\n";
        let got = problems_of(text);
        let expected = [
            "r.toml:4:10: text values go in quotes: write action = \"full\"",
            "r.toml:5:9: TOML puts = between a key and its value, not a colon",
            "r.toml:6:6: a key is one word: write `keep_first` without spaces",
            "r.toml:7:15: this text ends at its second single quote",
        ];
        assert_eq!(got.len(), expected.len(), "{got:#?}");
        for (got, expected) in got.iter().zip(expected) {
            assert!(got.starts_with(expected), "{got}\nexpected: {expected}");
        }
        for (line, expected) in [
            ("enabled = True", "r.toml:2:11: write true and false in lower case: enabled = true"),
            ("record = yes", "r.toml:2:10: a yes-or-no setting is written true or false: record = true"),
            ("drop = Off", "r.toml:2:8: a yes-or-no setting is written true or false: drop = false"),
            ("keep_last = 3x", "r.toml:2:13: a number is digits alone, like keep_last = 3; a text goes in quotes, like keep_last = \"3x\""),
            ("fields = [user.phone]", "r.toml:2:11: each text in a list goes in quotes"),
            ("description = \"one\nx = 1", "r.toml:2:19: this text's closing quote is missing"),
        ] {
            let got = problems_of(&format!("version = 1\n{line}\n"));
            assert!(got[0].starts_with(expected), "{got:#?}\nexpected: {expected}");
        }
        let got = problems_of(
            "version = 1\n[[mask]\nid = \"m\"\nwhen = { field = \"a\"\nfields = [\"a\"\n",
        );
        assert!(
            got[0].starts_with("r.toml:2:8: the header is not closed"),
            "{got:#?}"
        );
        assert!(
            got.iter()
                .any(|g| g.contains("items need commas between them")),
            "{got:#?}"
        );
        let got = problems_of("version = 1\nwhen = { field = \"a\"");
        assert!(got[0].contains("the { … } is not closed"), "{got:#?}");
    }

    #[test]
    fn an_escape_in_double_quotes_says_use_single_quotes() {
        let got = problems_of("version = 1\npattern = \"\\d{8}\"\n");
        assert_eq!(
            got,
            ["r.toml:2:13: `\\d` is not an escape TOML knows inside double quotes; write patterns in single quotes, where a backslash is just a backslash: pattern = '\\d{11}'"]
        );
    }

    #[test]
    fn a_duplicate_key_is_named_and_a_condition_gets_all() {
        let got = problems_of("version = 1\n[[route]]\nid = \"r\"\nid = \"s\"\n");
        assert_eq!(
            got,
            ["r.toml:4:1: the key `id` is given twice here; keep one"]
        );
        let got = problems_of("version = 1\n\"id\" = 1\n\"id\" = 2\n");
        assert_eq!(
            got,
            ["r.toml:3:1: the key `id` is given twice here; keep one"]
        );
        let got = problems_of("version = 1\n[settings]\n[settings]\n");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(!got[0].contains("``"), "{got:?}");
        let got = problems_of(
            "version = 1\n[[route]]\nwhen = { field = \"a\", equals = \"x\", equals = \"y\" }\n",
        );
        assert_eq!(
            got,
            ["r.toml:3:37: the key `equals` is given twice here; for a condition that needs two tests, write all = [{ field = \"…\", equals = … }, { field = \"…\", equals = … }]"]
        );
    }
}

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

/// The problems to report for `text`, which TOML refused with `error`.
pub(super) fn problems(file: &str, text: &str, error: &toml::de::Error) -> Vec<RuleError> {
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
    let at = error.span().map_or(0, |s| s.start);
    let raw = error.message().trim_end();
    let message = if raw.starts_with("missing escaped value") || raw.contains("invalid escape") {
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
    } else {
        format!("this is not valid TOML: {raw}")
    };
    vec![RuleError::at(file, text, at, None, message)]
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
        let error = toml::de::DeTable::parse(text).expect_err("invalid TOML");
        problems("r.toml", text, &error)
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

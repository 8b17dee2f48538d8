//! Every problem in a config file that serde finds, reported at once, each
//! positioned at its key and said in plain words with a did-you-mean.
//!
//! serde stops at the first problem. To find them all, the file is read as
//! a plain TOML tree and deserialized with the path of each problem
//! tracked (`serde_path_to_error`); after each problem the offending key
//! is taken out and the rest tried again, until it deserializes or a
//! required key is missing (nothing can stand in for one). Outputs are
//! tried one by one by their `type` first: serde reads an internally
//! tagged enum from a buffer, which loses the path inside it. Once the
//! rest deserializes, the checks serde cannot make run on it too, so a
//! person sees every problem in one go.

use std::path::Path;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};
use toml::{Table, Value};

use super::{
    Config, ConfigError, DeadLetterConfig, ElasticsearchConfig, FileOutputConfig, KafkaConfig,
    LogConfig, MetricsConfig, PipelineConfig, RulesConfig,
};

/// More problems than this in one file are not worth listing.
const MAX_PROBLEMS: usize = 50;

/// The output types, as `type = "…"` names them.
const OUTPUT_TYPES: [&str; 2] = ["elasticsearch", "file"];

/// Every problem in `text`, which serde refused with `first`.
pub(super) fn problems(path: &Path, text: &str, first: &toml::de::Error) -> Vec<ConfigError> {
    let (Ok(mut table), Ok(spans)) = (toml::from_str::<Table>(text), DeTable::parse(text)) else {
        // A syntax error: TOML's own message, at its position.
        return vec![syntax_error(path, text, first)];
    };
    let mut found: Found = Vec::new();
    let at = |segments: &[String]| {
        let offset = key_offset(spans.get_ref(), segments);
        let location = match offset {
            Some(o) => {
                let (line, col) = crate::rules::line_column(text, o);
                format!("{}:{line}:{col}", path.display())
            }
            None => path.display().to_string(),
        };
        Some(location)
    };
    if let Some(Value::Table(outputs)) = table.get_mut("outputs") {
        let names: Vec<String> = outputs.keys().cloned().collect();
        for name in names {
            let prefix = vec!["outputs".to_owned(), name.clone()];
            let Some(Value::Table(output)) = outputs.get_mut(&name) else {
                continue;
            };
            // An output that cannot be made whole is left out of the rest.
            let whole = match output.get("type").and_then(Value::as_str) {
                Some("elasticsearch") => {
                    clean::<ElasticsearchConfig>(output, &prefix, &["type"], &mut found)
                }
                Some("file") => clean::<FileOutputConfig>(output, &prefix, &["type"], &mut found),
                other => {
                    let mut segments = prefix.clone();
                    let message = match other {
                        None if output.contains_key("type") => {
                            segments.push("type".into());
                            format!("`type` must be one of {}, in quotes", list(&OUTPUT_TYPES))
                        }
                        None => format!(
                            "output \"{name}\" has no `type`; add `type = \"elasticsearch\"` or `type = \"file\"`"
                        ),
                        Some(t) => {
                            segments.push("type".into());
                            format!(
                                "`type = \"{t}\"` is not an output type; {}",
                                suggestion(t, &OUTPUT_TYPES)
                            )
                        }
                    };
                    found.push((segments, message));
                    false
                }
            };
            if !whole {
                outputs.remove(&name);
            }
        }
    }
    // Each section on its own, so that a required key missing in one does
    // not hide the problems in the others.
    type Clean = fn(&mut Table, &[String], &[&str], &mut Found) -> bool;
    let sections: [(&str, Clean); 6] = [
        ("kafka", clean::<KafkaConfig>),
        ("rules", clean::<RulesConfig>),
        ("dead_letter", clean::<DeadLetterConfig>),
        ("pipeline", clean::<PipelineConfig>),
        ("log", clean::<LogConfig>),
        ("metrics", clean::<MetricsConfig>),
    ];
    let mut given_up = Vec::new();
    for (name, clean_section) in sections {
        if let Some(Value::Table(section)) = table.get_mut(name) {
            if !clean_section(section, &[name.to_owned()], &[], &mut found) {
                table.remove(name);
                given_up.push(plain(&format!("missing field `{name}`"), "", false));
            }
        }
    }
    let mut rest = Vec::new();
    clean::<Config>(&mut table, &[], &[], &mut rest);
    // (A section given up on above is missing now: it was reported.)
    found.extend(rest.into_iter().filter(|(_, m)| !given_up.contains(m)));
    let mut errors: Vec<ConfigError> = found
        .iter()
        .take(MAX_PROBLEMS)
        .map(|(segments, message)| ConfigError {
            location: at(segments),
            message: match dotted(segments) {
                key if key.is_empty() => message.clone(),
                key => format!("{key}: {message}"),
            },
        })
        .collect();
    // What is left deserializes: the checks serde cannot make run on it.
    if let Ok(mut config) = Value::Table(table).try_into::<Config>() {
        config.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        let mut checked = config.validate(path);
        position(path, text, &mut checked);
        // A table a key was taken out of is not what the person wrote: what
        // the checks say about it (`username` without the `password` taken
        // out) would mislead.
        let altered: Vec<String> = found
            .iter()
            .filter(|(segments, _)| segments.len() > 1)
            .map(|(segments, _)| dotted(&segments[..segments.len() - 1]))
            .collect();
        checked.retain(|e| {
            !altered.iter().any(|t| {
                e.message
                    .strip_prefix(t.as_str())
                    .is_some_and(|rest| rest.starts_with([':', ' ']))
            })
        });
        errors.extend(checked);
    }
    if errors.is_empty() {
        errors.push(syntax_error(path, text, first));
    }
    in_file_order(&mut errors);
    errors
}

/// Puts problems in the order of the file; those without a position last
/// (stable, so these keep the order they were found in).
fn in_file_order(errors: &mut [ConfigError]) {
    errors.sort_by_key(|e| {
        let mut numbers = e.location.as_deref().unwrap_or("").rsplit(':');
        let col = numbers.next().and_then(|c| c.parse::<usize>().ok());
        let line = numbers.next().and_then(|l| l.parse::<usize>().ok());
        match (line, col) {
            (Some(l), Some(c)) => (l, c),
            _ => (usize::MAX, 0),
        }
    });
}

/// Deserializes `table` as `T` again and again, each time noting the
/// problem (under `prefix`) and taking out the key it is at, until it
/// deserializes or a problem cannot be taken out. `ignore` names keys the
/// caller has read already (an output's `type`).
/// Returns whether `table` deserializes in the end.
fn clean<T: DeserializeOwned>(
    table: &mut Table,
    prefix: &[String],
    ignore: &[&str],
    found: &mut Found,
) -> bool {
    let mut taken = Table::new();
    for key in ignore {
        if let Some(v) = table.remove(*key) {
            taken.insert((*key).to_owned(), v);
        }
    }
    let mut clean = false;
    while found.len() <= MAX_PROBLEMS {
        let value = Value::Table(table.clone());
        let Err(e) = serde_path_to_error::deserialize::<_, T>(value) else {
            clean = true;
            break;
        };
        let mut segments: Vec<String> = prefix.to_vec();
        for s in e.path().iter() {
            match s {
                serde_path_to_error::Segment::Seq { index } => segments.push(index.to_string()),
                serde_path_to_error::Segment::Map { key } => segments.push(key.clone()),
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        let raw = e.inner().message().trim_end().to_owned();
        if let Some(key) = quoted_after(&raw, "unknown field `") {
            if segments.last() != Some(&key) {
                segments.push(key);
            }
        }
        let secret = segments.iter().any(|s| is_secret(s));
        let message = plain(
            &raw,
            segments.last().map(String::as_str).unwrap_or(""),
            secret,
        );
        let missing = raw.starts_with("missing field");
        // The problem was `raw`, at its key; said in plain words.
        found.push((segments.clone(), message));
        if missing || !remove(table, &segments[prefix.len()..]) {
            break;
        }
    }
    table.extend(taken);
    clean
}

/// Problems found: the key's path, and the message.
type Found = Vec<(Vec<String>, String)>;

/// Takes out the value at `segments` (keys and array indices) in `table`;
/// returns whether there was one.
fn remove(table: &mut Table, segments: &[String]) -> bool {
    match segments {
        [] => false,
        [last] => table.remove(last).is_some(),
        [first, rest @ ..] => table.get_mut(first).is_some_and(|v| remove_in(v, rest)),
    }
}

fn remove_in(value: &mut Value, segments: &[String]) -> bool {
    match value {
        Value::Table(t) => remove(t, segments),
        Value::Array(a) => {
            let Some((first, rest)) = segments.split_first() else {
                return false;
            };
            let Ok(i) = first.parse::<usize>() else {
                return false;
            };
            if rest.is_empty() {
                let there = i < a.len();
                if there {
                    a.remove(i);
                }
                there
            } else {
                a.get_mut(i).is_some_and(|v| remove_in(v, rest))
            }
        }
        _ => false,
    }
}

/// Where the key (or array element) at `segments` starts in the text; the
/// nearest enclosing one when it is not written there.
fn key_offset(table: &DeTable<'_>, segments: &[String]) -> Option<usize> {
    let mut best = None;
    let mut value: Option<&DeValue<'_>> = None;
    let mut table = Some(table);
    for s in segments {
        if let Some(t) = table {
            let (key, v) = t.iter().find(|(k, _)| k.get_ref().as_ref() == s.as_str())?;
            best = Some(key.span().start);
            value = Some(v.get_ref());
        } else if let Some(DeValue::Array(a)) = value {
            let v = a.get(s.parse::<usize>().ok()?)?;
            best = Some(v.span().start);
            value = Some(v.get_ref());
        } else {
            break;
        }
        table = match value {
            Some(DeValue::Table(t)) => Some(t),
            _ => None,
        };
    }
    best
}

/// Whether a setting named `key`, or any setting inside a table named
/// `key` (`hash_keys`), holds a secret, whose value no message may repeat.
fn is_secret(key: &str) -> bool {
    key.contains("password")
        || key.contains("secret")
        || key == "api_key"
        || key == "hash_keys"
        // (A node URL may have a password written into it.)
        || key == "nodes"
        || super::SECRET_KAFKA_PROPERTIES.contains(&key)
}

/// serde's message in plain words, for the setting `key`. The value of a
/// `secret` setting is never repeated.
fn plain(raw: &str, key: &str, secret: bool) -> String {
    let found_words = |found: &str| {
        if secret {
            "something else (not repeated here: it may be a secret)".to_owned()
        } else {
            found_words(found)
        }
    };
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        let expected = expected_names(rest);
        let names: Vec<&str> = expected.iter().map(String::as_str).collect();
        let hint = match closest(key, &names) {
            Some(name) => format!("did you mean `{name}`?"),
            None if names.is_empty() => "remove it".to_owned(),
            None => format!("the settings here are {}", list(&names)),
        };
        return format!("`{key}` is not a setting here; {hint}");
    }
    if let Some(rest) = raw.strip_prefix("unknown variant `") {
        let word = rest.split('`').next().unwrap_or_default();
        let expected = expected_names(rest);
        let names: Vec<&str> = expected.iter().map(String::as_str).collect();
        return format!(
            "\"{word}\" is not one of {}; {}",
            list(&names),
            suggestion(word, &names)
        );
    }
    if let Some(field) = quoted_after(raw, "missing field `") {
        return format!("the required setting `{field}` is missing here; add `{field} = …`");
    }
    if let Some(rest) = raw.strip_prefix("invalid type: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!(
                "`{key}` must be {}; it is {}",
                expected_words(expected),
                found_words(found)
            );
        }
    }
    if let Some(rest) = raw.strip_prefix("invalid value: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!(
                "`{key}` must be {}; it is {}",
                expected_words(expected),
                found_words(found)
            );
        }
    }
    // The rest are our own deserializers' sentences, which never repeat a
    // secret (tests below hold them to it).
    format!("`{key}`: {raw}")
}

/// What serde expected, in words, with an example where one helps.
fn expected_words(expected: &str) -> String {
    match expected {
        "a duration" => "a duration in quotes, such as \"5s\", \"500ms\" or \"1m\"".to_owned(),
        "a string" => "text in quotes".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "usize" => {
            "a whole number of 0 or more, without quotes".to_owned()
        }
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number, without quotes".to_owned(),
        "a sequence" => "a list, such as [\"a\", \"b\"]".to_owned(),
        "a map" => "a table".to_owned(),
        other => other.to_owned(),
    }
}

/// serde's `integer `1`` as words: `the number 1`.
fn found_words(found: &str) -> String {
    let value = found.split('`').nth(1).unwrap_or_default();
    match found.split(' ').next().unwrap_or_default() {
        "integer" | "floating" => format!("the number {value}"),
        "boolean" => format!("{value} (true or false)"),
        "string" => format!(
            "the text \"{}\"",
            found.trim_start_matches("string ").trim_matches('"')
        ),
        "sequence" => "a list `[…]`".to_owned(),
        "map" => "a table".to_owned(),
        _ => found.to_owned(),
    }
}

/// The names serde lists after `expected`: `` `a`, `b` `` or `` `a` or `b` ``.
fn expected_names(rest: &str) -> Vec<String> {
    let Some((_, tail)) = rest.split_once("expected ") else {
        return Vec::new();
    };
    tail.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn quoted_after(raw: &str, prefix: &str) -> Option<String> {
    Some(raw.strip_prefix(prefix)?.split('`').next()?.to_owned())
}

/// "did you mean `x`?" for the closest of `names`, or a plain pointer.
fn suggestion(word: &str, names: &[&str]) -> String {
    match closest(word, names) {
        Some(name) => format!("did you mean `{name}`?"),
        None => "check the spelling against docs/config.md".to_owned(),
    }
}

/// The one of `names` that `word` is most likely a misspelling of: a
/// letter or two off (a swap counts as one), or alike by Jaro-Winkler.
fn closest<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    let edits_allowed = (word.chars().count() / 4).max(1);
    names
        .iter()
        .map(|n| (strsim::jaro_winkler(word, n), *n))
        .filter(|(score, n)| *score >= 0.8 || strsim::damerau_levenshtein(word, n) <= edits_allowed)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

/// Positions the problems the config checks found (which name their key
/// first: `log.level = …`, `kafka.bootstrap_servers is empty`,
/// `kafka: …`) at that key, when they have no position yet.
pub(super) fn position(path: &Path, text: &str, errors: &mut [ConfigError]) {
    let Ok(spans) = DeTable::parse(text) else {
        return;
    };
    let bare = path.display().to_string();
    for e in errors.iter_mut() {
        if e.location.as_deref() != Some(bare.as_str()) {
            continue;
        }
        let lead = e.message.split([' ', ':', '=']).next().unwrap_or_default();
        let segments: Vec<String> = lead
            .split('.')
            .map(|s| s.trim_matches('"').to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(o) = key_offset(spans.get_ref(), &segments) {
            let (line, col) = crate::rules::line_column(text, o);
            e.location = Some(format!("{bare}:{line}:{col}"));
        }
    }
    in_file_order(errors);
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn dotted(segments: &[String]) -> String {
    segments.join(".")
}

fn syntax_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let location = match e.span() {
        Some(span) => {
            let at = super::error::unknown_key_position(text, span.clone(), e.message())
                .unwrap_or(span.start);
            let (line, col) = crate::rules::line_column(text, at);
            format!("{}:{line}:{col}", path.display())
        }
        None => path.display().to_string(),
    };
    ConfigError {
        location: Some(location),
        message: e.message().trim_end().to_owned(),
    }
}

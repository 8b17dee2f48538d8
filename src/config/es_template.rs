//! What logredact writes into an index template before `setup-es`
//! installs it: the output's index pattern and its ILM policy. One place,
//! so that `check-config` refuses the template files `setup-es` could not
//! fill in, by the same rule.

use serde_json::{json, Map, Value};

/// Sets the template's `index_patterns` to `[pattern]` and its
/// `template.settings."index.lifecycle.name"` to `policy`, creating the
/// objects on the way when they are missing. Fails, saying what to fix,
/// when the template's shape has no place for them.
pub fn fill(template: &mut Value, pattern: &str, policy: &str) -> Result<(), String> {
    let top = template
        .as_object_mut()
        .ok_or("an index template is a JSON object ({ … }); see the template in es/")?;
    top.insert("index_patterns".to_owned(), json!([pattern]));
    let inner = object_at(top, "template", "template")?;
    let settings = object_at(inner, "settings", "template.settings")?;
    settings.insert("index.lifecycle.name".to_owned(), policy.into());
    Ok(())
}

/// The object under `key`, created empty when missing.
fn object_at<'m>(
    map: &'m mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'m mut Map<String, Value>, String> {
    map.entry(key)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| format!("`{path}` in an index template is a JSON object ({{ … }})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_what_is_there_and_what_is_missing() {
        let mut t = json!({"template": {"settings": {"number_of_shards": 1}}, "priority": 200});
        fill(&mut t, "logs-hot-*", "logredact-hot").unwrap();
        assert_eq!(
            t,
            json!({"index_patterns": ["logs-hot-*"], "priority": 200,
                   "template": {"settings": {"number_of_shards": 1, "index.lifecycle.name": "logredact-hot"}}})
        );
        let mut empty = json!({});
        fill(&mut empty, "p", "q").unwrap();
        assert_eq!(empty["template"]["settings"]["index.lifecycle.name"], "q");
    }

    /// Each of these panicked `setup-es` (indexing a JSON array or string
    /// by key).
    #[test]
    fn shapes_with_no_place_for_the_settings_are_refused() {
        for (t, says) in [
            (json!([]), "an index template is a JSON object"),
            (json!({"template": []}), "`template` in an index template"),
            (
                json!({"template": {"settings": "x"}}),
                "`template.settings`",
            ),
        ] {
            let e = fill(&mut t.clone(), "p", "q").unwrap_err();
            assert!(e.contains(says), "{t}: {e}");
        }
    }
}

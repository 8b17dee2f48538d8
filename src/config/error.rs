//! A problem in the config file, positioned at the key where the parser
//! can say.

use std::path::Path;

/// A problem with the config file, with where it is when known.
#[derive(Debug, thiserror::Error)]
#[error("{}{message}", location.as_deref().map(|l| format!("{l}: ")).unwrap_or_default())]
pub struct ConfigError {
    pub location: Option<String>,
    pub message: String,
}

impl ConfigError {
    pub(super) fn at(path: &Path, message: impl Into<String>) -> ConfigError {
        ConfigError {
            location: Some(path.display().to_string()),
            message: message.into(),
        }
    }
}

/// For an unknown key inside a table that serde had to buffer (a typed
/// output), toml reports the whole table; find the key's own line in it.
pub(super) fn unknown_key_position(
    text: &str,
    span: std::ops::Range<usize>,
    message: &str,
) -> Option<usize> {
    let key = message.strip_prefix("unknown field `")?.split('`').next()?;
    // The span may be just the table header: look until the next header.
    let region = text.get(span.start..)?;
    let mut offset = span.start;
    for (n, line) in region.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if n > 0 && trimmed.starts_with('[') && offset >= span.end {
            break;
        }
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return Some(offset + (line.len() - trimmed.len()));
            }
        }
        offset += line.len();
    }
    None
}

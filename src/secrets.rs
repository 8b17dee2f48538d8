//! Where secrets come from: `env:VARIABLE`, `file:PATH`, or
//! `credential:NAME` (a systemd credential, `LoadCredential=`), for hash keys
//! (`--hash-key NAME=env:VAR`, `[rules.hash_keys]`) and for the config's
//! other secrets. The bottom of the daemon's module graph: it imports
//! nothing of the daemon. Errors name where a secret was looked for, never
//! its value.

use std::str::FromStr;

use anyhow::{bail, Context};

use crate::rules::KeyRing;

/// Shortest key we accept; shorter keys make the hashes guessable.
pub const MIN_KEY_BYTES: usize = 16;

/// Where one named key is read from. The key itself never appears on the
/// command line or in rule files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub name: String,
    pub source: KeySource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env(String),
    File(std::path::PathBuf),
    /// A systemd credential: the file `NAME` in `$CREDENTIALS_DIRECTORY`,
    /// which systemd fills from `LoadCredential=` for the service alone
    /// (a `DynamicUser` service cannot read a root-only file itself).
    Credential(String),
}

impl FromStr for KeySource {
    type Err = ();

    /// `env:VARIABLE`, `file:PATH` or `credential:NAME`.
    fn from_str(s: &str) -> Result<KeySource, ()> {
        if let Some(var) = s.strip_prefix("env:") {
            Ok(KeySource::Env(var.to_owned()))
        } else if let Some(path) = s.strip_prefix("file:") {
            Ok(KeySource::File(path.into()))
        } else if let Some(name) = s.strip_prefix("credential:") {
            // A name, not a path: systemd credential names have no `/`.
            if name.is_empty() || name.contains('/') {
                return Err(());
            }
            Ok(KeySource::Credential(name.to_owned()))
        } else {
            Err(())
        }
    }
}

impl FromStr for KeySpec {
    type Err = String;

    fn from_str(s: &str) -> Result<KeySpec, String> {
        let usage =
            "write NAME=env:VARIABLE, NAME=file:PATH or NAME=credential:NAME, for example default=env:LOGREDACT_HASH_KEY";
        let (name, source) = s.split_once('=').ok_or_else(|| usage.to_owned())?;
        let source: KeySource = source.parse().map_err(|()| usage.to_owned())?;
        if name.is_empty() {
            return Err(usage.to_owned());
        }
        Ok(KeySpec {
            name: name.to_owned(),
            source,
        })
    }
}

impl KeySpec {
    /// Reads the secret without judging it. Errors name where it was looked
    /// for, never its value.
    pub fn read_raw(&self) -> anyhow::Result<Vec<u8>> {
        Ok(match &self.source {
            KeySource::Env(var) => match std::env::var_os(var) {
                Some(v) => v.into_encoded_bytes(),
                None => bail!(
                    "{}: the environment variable {var} is not set; set it to the secret",
                    self.name
                ),
            },
            KeySource::File(path) => read_trimmed(path)
                .with_context(|| format!("{}: cannot read {}", self.name, path.display()))?,
            KeySource::Credential(name) => {
                let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
                    bail!(
                        "{}: credential:{name} is a systemd credential, but CREDENTIALS_DIRECTORY is not set; \
                         give the unit LoadCredential={name}:/path/to/secret, or use env: or file:",
                        self.name
                    );
                };
                let path = std::path::Path::new(&dir).join(name);
                read_trimmed(&path).with_context(|| {
                    format!(
                        "{}: cannot read the systemd credential {name} (is LoadCredential={name}:… in the unit?)",
                        self.name
                    )
                })?
            }
        })
    }

    /// Reads a hash key, which must be long enough not to be guessable.
    pub fn read(&self) -> anyhow::Result<Vec<u8>> {
        let key = KeySpec {
            name: format!("hash key \"{}\"", self.name),
            source: self.source.clone(),
        }
        .read_raw()?;
        if key.len() < MIN_KEY_BYTES {
            bail!(
                "hash key \"{}\" is shorter than {MIN_KEY_BYTES} bytes; generate a longer one, for example with `openssl rand -hex 32`",
                self.name
            );
        }
        Ok(key)
    }
}

/// A secret file's bytes, without the line ending editors add.
fn read_trimmed(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = std::fs::read(path)?;
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    Ok(bytes)
}

/// Reads every key into a ring.
pub fn key_ring(specs: &[KeySpec]) -> anyhow::Result<KeyRing> {
    let mut ring = KeyRing::new();
    for spec in specs {
        ring.insert(&spec.name, spec.read()?);
    }
    Ok(ring)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_sources() {
        assert_eq!(
            "default=env:K".parse::<KeySpec>().unwrap(),
            KeySpec {
                name: "default".into(),
                source: KeySource::Env("K".into())
            }
        );
        assert!("x=file:/k".parse::<KeySpec>().is_ok());
        assert_eq!(
            "x=credential:hash-key".parse::<KeySpec>().unwrap().source,
            KeySource::Credential("hash-key".into())
        );
        assert!("x=credential:../etc/shadow".parse::<KeySpec>().is_err());
        assert!("x=/k".parse::<KeySpec>().is_err());
        assert!("=env:K".parse::<KeySpec>().is_err());
    }

    #[test]
    fn short_keys_are_refused_without_showing_them() {
        let dir = std::env::temp_dir().join(format!("logredact-key-{}", std::process::id()));
        std::fs::write(&dir, "tiny\n").unwrap();
        let spec = KeySpec {
            name: "k".into(),
            source: KeySource::File(dir.clone()),
        };
        let err = spec.read().unwrap_err().to_string();
        assert!(err.contains("shorter than"), "{err}");
        assert!(!err.contains("tiny"));
        std::fs::remove_file(dir).unwrap();
    }
}

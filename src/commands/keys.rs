//! `logredact keys`: make a signing key for seals, and print the public
//! key auditors check seals with.

use std::io::Write;
use std::path::Path;

use crate::config::Config;
use crate::seal::key::public_pem;
use crate::seal::SealKey;
use crate::secrets::KeySource;

/// Writes a new private key to `path` (readable by its owner only, never
/// overwriting) and prints its id and public key.
pub fn generate(path: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let key = SealKey::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot create {} ({e}); a key file is never overwritten: choose a new name",
                path.display()
            )
        })?;
    file.write_all(key.private_pem()?.as_bytes())?;
    file.sync_all()?;
    writeln!(
        out,
        "wrote the signing key {} to {} (keep it off the Elasticsearch hosts; see docs/audit.md)\nits public key, for auditors:\n{}",
        key.id(),
        path.display(),
        public_pem(&key.public()).trim_end()
    )?;
    Ok(())
}

/// Prints the public key of the signing key the config names, or of a
/// key file.
pub fn public(
    config: Option<&Path>,
    key: Option<&Path>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let key = match (config, key) {
        (_, Some(path)) => SealKey::read(&KeySource::File(path.to_owned()))?,
        (Some(config), None) => {
            let config = Config::load(config).map_err(|e| super::daemon::config_errors(&e))?;
            let seal = config.seal.ok_or_else(|| {
                anyhow::anyhow!("the config has no [seal] section, so no signing key")
            })?;
            SealKey::read(&seal.key.0)?
        }
        (None, None) => anyhow::bail!("give --config FILE or --key FILE"),
    };
    write!(out, "# key id {}\n{}", key.id(), public_pem(&key.public()))?;
    Ok(())
}

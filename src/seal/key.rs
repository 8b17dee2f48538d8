//! The keys seals are signed with and checked against.
//!
//! A signing key is an Ed25519 private key in PKCS#8 PEM (what `logredact
//! keys generate` and `openssl genpkey -algorithm ed25519` write). It is
//! read from where the config says (`file:`, `env:`, `credential:`), never
//! from the config text, and never printed. A key's id is the first 8 bytes
//! of the SHA-256 of its public key, in hex: seals name the key that signed
//! them, and `verify` looks the id up among the public keys it trusts, so a
//! key change (rotation) is followed seal by seal.

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::secrets::{KeySource, KeySpec};

/// A key that signs seals.
pub struct SealKey {
    signing: SigningKey,
    id: String,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.debug_struct("SealKey").field("id", &self.id).finish()
    }
}

impl SealKey {
    /// Reads the signing key from where `source` says. Errors name where
    /// the key was looked for, never its bytes.
    pub fn read(source: &KeySource) -> anyhow::Result<SealKey> {
        let spec = KeySpec {
            name: "seal.key".to_owned(),
            source: source.clone(),
        };
        let bytes = spec.read_raw()?;
        let text = String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!(
                "seal.key: the key is not PEM text; write one with `logredact keys generate`"
            )
        })?;
        SealKey::from_pem(&text)
    }

    /// Parses a PKCS#8 PEM Ed25519 private key.
    pub fn from_pem(pem: &str) -> anyhow::Result<SealKey> {
        let signing = SigningKey::from_pkcs8_pem(pem.trim()).map_err(|_| {
            anyhow::anyhow!(
                "seal.key: not an Ed25519 private key in PKCS#8 PEM (\"-----BEGIN PRIVATE KEY-----\"); write one with `logredact keys generate`"
            )
        })?;
        Ok(SealKey::from_signing(signing))
    }

    /// A new random key.
    pub fn generate() -> SealKey {
        let seed: [u8; 32] = rand::random();
        SealKey::from_signing(SigningKey::from_bytes(&seed))
    }

    fn from_signing(signing: SigningKey) -> SealKey {
        let id = key_id(&signing.verifying_key());
        SealKey { signing, id }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The private key as PKCS#8 PEM, for `keys generate` only.
    pub fn private_pem(&self) -> anyhow::Result<String> {
        Ok(self
            .signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("cannot encode the key: {e}"))?
            .to_string())
    }

    /// Signs `bytes`; the signature in base64.
    pub fn sign(&self, bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.signing.sign(bytes).to_bytes())
    }
}

/// A key's id: the first 8 bytes of the SHA-256 of the public key, in hex.
pub fn key_id(public: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

/// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), what
/// `keys public` prints for auditors.
pub fn public_pem(public: &VerifyingKey) -> String {
    public
        .to_public_key_pem(LineEnding::LF)
        .expect("an Ed25519 public key always encodes")
}

/// Parses every public key in `text`: SPKI PEM blocks (several may follow
/// each other in one file), or a PKCS#8 private key, whose public half is
/// taken.
pub fn parse_public_keys(text: &str) -> anyhow::Result<Vec<VerifyingKey>> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let end_marker = block
            .find("-----END ")
            .and_then(|e| {
                block[e..]
                    .find("\n")
                    .map(|n| e + n + 1)
                    .or(Some(block.len()))
            })
            .ok_or_else(|| anyhow::anyhow!("a PEM block has no END line"))?;
        let pem = &block[..end_marker];
        if pem.starts_with("-----BEGIN PUBLIC KEY-----") {
            keys.push(
                VerifyingKey::from_public_key_pem(pem.trim()).map_err(|_| {
                    anyhow::anyhow!("a PUBLIC KEY block is not an Ed25519 public key")
                })?,
            );
        } else if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
            keys.push(SealKey::from_pem(pem)?.public());
        } else {
            anyhow::bail!("expected PEM blocks \"PUBLIC KEY\" (from `logredact keys public`)");
        }
        rest = &block[end_marker..];
    }
    if keys.is_empty() {
        anyhow::bail!("no PEM public key found (expected \"-----BEGIN PUBLIC KEY-----\", as `logredact keys public` prints)");
    }
    Ok(keys)
}

/// Checks a base64 signature over `bytes` with `key`.
pub fn signature_holds(key: &VerifyingKey, bytes: &[u8], signature: &str) -> bool {
    use base64::Engine;
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(signature) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&raw) else {
        return false;
    };
    key.verify_strict(bytes, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_round_trips_through_pem_and_signs() {
        let key = SealKey::generate();
        let pem = key.private_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = SealKey::from_pem(&pem).unwrap();
        assert_eq!(again.id(), key.id());
        assert_eq!(key.id().len(), 16);
        let sig = key.sign(b"seal");
        let publics = parse_public_keys(&public_pem(&key.public())).unwrap();
        assert!(signature_holds(&publics[0], b"seal", &sig));
        assert!(!signature_holds(&publics[0], b"seaL", &sig));
        assert!(!signature_holds(
            &SealKey::generate().public(),
            b"seal",
            &sig
        ));
        assert!(!format!("{key:?}").contains(&pem[30..60]));
    }

    #[test]
    fn several_public_keys_in_one_file_are_all_read() {
        let (a, b) = (SealKey::generate(), SealKey::generate());
        let text = format!("{}\n{}", public_pem(&a.public()), public_pem(&b.public()));
        let ids: Vec<_> = parse_public_keys(&text)
            .unwrap()
            .iter()
            .map(key_id)
            .collect();
        assert_eq!(ids, [a.id(), b.id()]);
        assert!(parse_public_keys("nothing here").is_err());
    }
}

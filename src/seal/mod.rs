//! Seals: signed records of what was written, so that deleting, changing
//! or inserting a document afterwards can be detected and shown
//! (docs/audit.md).
//!
//! - `key.rs`: Ed25519 keys, their ids, reading and printing them.
//! - `record.rs`: the seal record, its one encoding, the fates, the chain.
//! - `chain.rs`: the writer's state for one output and one partition.
//! - `check.rs`: seals against what an output holds (`verify`).
//!
//! Pure: no IO beyond reading the key where the config says it is.

pub mod chain;
pub mod check;
pub mod key;
pub mod record;

pub use chain::{Chain, Cut};
pub use key::SealKey;
pub use record::{doc_hash, Fate};

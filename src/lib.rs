//! logredact: masks personal data in JSON access logs on their way from
//! Kafka to Elasticsearch, tags privileged actions and routes events.
//!
//! The library holds everything; `main.rs` only parses the command line.
//! See ARCHITECTURE.md for the map. Layers, lowest first (a module imports
//! only from layers below it): `secrets`, `stats`, `config`, `source` and
//! `sink`, `pipeline`, `telemetry`, `commands`.

pub mod alloc;
pub mod commands;
pub mod config;
pub mod events;
pub mod pipeline;
/// The rule engine, its own crate (crates/logredact-rules) so that it cannot
/// do network IO; re-exported under its old path.
pub use logredact_rules as rules;
pub mod seal;
pub mod secrets;
pub mod sink;
pub mod source;
pub mod stats;
pub mod systemd;
pub mod telemetry;

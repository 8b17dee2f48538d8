//! logredact: masks personal data in JSON access logs on their way from
//! Kafka to Elasticsearch, tags privileged actions and routes events.
//!
//! The library holds everything; `main.rs` only parses the command line.
//! See ARCHITECTURE.md for the map.

pub mod alloc;
pub mod commands;
pub mod config;
pub mod pipeline;
pub mod reload;
/// The rule engine, its own crate (crates/logredact-rules) so that it cannot
/// do network IO; re-exported under its old path.
pub use logredact_rules as rules;
pub mod sink;
pub mod source;
pub mod stats;
pub mod systemd;
pub mod telemetry;

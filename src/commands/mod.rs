//! The command-line subcommands. Each takes parsed options and does IO;
//! the rule engine itself stays pure.

pub mod apply;
pub mod check;
pub mod daemon;
pub mod demo;
pub mod diff;
pub mod gen;
pub mod keys;
pub mod verify;

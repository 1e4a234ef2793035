//! shipcrate: publish Rust crates from CI, from a pristine copy of the built commit.
//!
//! Data flows one way: config → ci → conditions → checkout → hooks → publish → report
//! (ARCHITECTURE.md draws it and says where each concern lives).
//! [`run`] is the whole pipeline; the binary only parses arguments and maps the exit code.

mod cargo_output;
mod checkout;
mod checksums;
mod ci;
pub mod cli;
mod cmd;
pub mod compare;
mod conditions;
pub mod config;
mod container;
mod copy;
mod destination;
pub mod error;
mod explain;
pub mod gate;
mod git;
mod hooks;
pub mod index;
mod migrate;
mod outcome;
mod ownership;
mod plan;
mod prepare;
mod publish;
pub mod registry;
mod report;
mod retry;
mod run;
pub mod secret;
pub mod signals;
mod tools;
mod travis;
mod trusted;
mod upload;

/// A snapshot of the process environment; passed in, never read deep in the code.
pub type Env = std::collections::BTreeMap<String, String>;

pub use run::run;

/// An environment made of `pairs`, for unit tests.
#[cfg(test)]
fn test_env(pairs: &[(&str, &str)]) -> Env {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

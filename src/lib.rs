//! shipcrate: publish Rust crates from CI, from a pristine copy of the built commit.
//!
//! Data flows one way: config → ci → conditions → checkout → hooks → publish → report.
//! [`run`] is the whole pipeline; the binary only parses arguments and maps the exit code.

pub mod checkout;
pub mod ci;
pub mod cli;
pub mod cmd;
pub mod compare;
pub mod conditions;
pub mod config;
mod copy;
pub mod error;
mod explain;
pub mod git;
pub mod hooks;
pub mod index;
pub mod migrate;
pub mod outcome;
pub mod ownership;
pub mod plan;
mod prepare;
pub mod publish;
pub mod report;
pub mod retry;
mod run;
pub mod secret;
pub mod signals;
pub mod tools;
pub mod travis;
pub mod trusted;

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

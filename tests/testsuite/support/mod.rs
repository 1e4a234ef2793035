//! The one test harness: real git repos, a real loopback registry, the real binary.
//!
//! Every test runs inside cargo-test-support's sandbox (`#[cargo_test]`), so `paths::root()`
//! is private to it and the registry's config lives in `paths::cargo_home()`.
//!
//! One file per concern, all re-exported here so a test needs only `use crate::support::*`:
//! `repos` (git fixtures), `runs` (the binary, its environment, shims, and the checks on what
//! it printed — `Outcome::stderr_eq` for whole-output snapshots), `registries` (the loopback
//! registries and the consumer crate) and `http` (stand-in HTTP endpoints on `tiny_http`).

mod bucket;
mod http;
mod metered;
mod registries;
mod repos;
mod runs;

pub use bucket::*;
pub use http::*;
pub use metered::*;
pub use registries::*;
pub use repos::*;
pub use runs::*;

//! The one test harness: real git repos, a real loopback registry, the real binary.
//!
//! Every test runs inside cargo-test-support's sandbox (`#[cargo_test]`), so `paths::root()`
//! is private to it and the registry's config lives in `paths::cargo_home()`.

mod http;
mod registries;
mod repos;
mod runs;

pub use http::*;
pub use registries::*;
pub use repos::*;
pub use runs::*;

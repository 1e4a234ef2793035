//! The one error type callers branch on: bad configuration or usage (exit code 2).
//!
//! Everything else travels as `anyhow::Error` and exits 1.

use std::fmt;

/// Bad configuration or usage: the run stops before anything irreversible, exit code 2.
#[derive(Debug)]
pub(crate) struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The process exit code for a failed run.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    if error.chain().any(|e| e.is::<UsageError>()) {
        2
    } else {
        1
    }
}

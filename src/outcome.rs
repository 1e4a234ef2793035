//! What happened to each crate of a run: the record every report is made from.
//!
//! Data only; the publisher fills it in, the reporter reads it.

use serde::Serialize;

use crate::plan::Package;

/// How one crate ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Outcome {
    Published,
    AlreadyPublished,
    /// Packaged and verified by a dry run; nothing uploaded.
    Verified,
    Skipped,
    Failed,
    NotStarted,
}

/// One crate's outcome, as the reports show it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct CrateOutcome {
    pub name: String,
    pub version: String,
    pub outcome: Outcome,
    pub duration_ms: u128,
    pub retries: u32,
    pub reason: Option<String>,
}

/// A crate the registry has never seen, and the line that said so before anything was
/// uploaded (the name is taken for good once it is).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FirstRelease {
    pub name: String,
    pub version: String,
    pub line: String,
}

impl CrateOutcome {
    pub(crate) fn new(package: &Package, outcome: Outcome, reason: Option<String>) -> Self {
        CrateOutcome {
            name: package.name.clone(),
            version: package.version.clone(),
            outcome,
            duration_ms: 0,
            retries: 0,
            reason,
        }
    }
}

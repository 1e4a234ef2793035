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
    /// Its upload was under way when a signal stopped the run: the registry may have it.
    Interrupted,
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
    /// An uploaded crate's `.crate`: its SHA-256 (lower-case hex), as the index records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
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
            sha256: None,
        }
    }
}

/// Every crate's outcome as far as it is known right now, shared with the signal thread: what
/// the report says when a signal stops the run mid-upload. The upload's books keep it current.
#[derive(Clone, Default)]
pub(crate) struct Progress(std::sync::Arc<std::sync::Mutex<Vec<CrateOutcome>>>);

impl Progress {
    /// The outcomes known before the uploads, and each crate to upload as not started.
    pub(crate) fn new(known: &[CrateOutcome], upload: &[Package]) -> Self {
        let mut all = known.to_vec();
        all.extend(
            upload
                .iter()
                .map(|p| CrateOutcome::new(p, Outcome::NotStarted, None)),
        );
        Progress(std::sync::Arc::new(std::sync::Mutex::new(all)))
    }

    /// Every crate's outcome is now `all`'s (the run knows more than when it began).
    pub(crate) fn restart(&self, all: Vec<CrateOutcome>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = all;
    }

    /// `package` is now `outcome` (for its `reason`).
    pub(crate) fn set(&self, package: &Package, outcome: Outcome, reason: Option<String>) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = all
            .iter_mut()
            .find(|c| c.name == package.name && c.version == package.version)
        {
            entry.outcome = outcome;
            entry.reason = reason;
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<CrateOutcome> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

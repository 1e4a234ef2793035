//! How long the token lasts across the uploads, and what one crate's upload is expected to take.

use std::time::Duration;

use anyhow::Result;

use crate::report::Reporter;

/// How long cargo waits for each uploaded crate to appear in the index (fixed on stable).
pub(super) const CARGO_INDEX_WAIT: Duration = Duration::from_mins(1);

/// What a run expects one crate's upload to take before it has seen one.
pub(super) const FIRST_CRATE_ESTIMATE: Duration = Duration::from_secs(75);

/// Keeps the token alive across the uploads; trusted publishing renews, a plain token lives
/// forever.
pub(crate) trait TokenLife {
    /// Before `work` that needs the token: renew it if it would not outlive the work (with a
    /// safety margin of its own) and can be renewed. Returns how long the token in force can
    /// still be used for (`None`: it doesn't expire); an error only when the run must stop.
    fn ensure(&mut self, work: Duration, reporter: &Reporter) -> Result<Option<Duration>>;
    /// Before a wait and the work after it, `work` in all: an error when the token will run
    /// out by then and can't be renewed on the way (the run stops cleanly now instead).
    fn outlast(&mut self, work: Duration, reporter: &Reporter) -> Result<()>;
}

/// A token that doesn't expire.
pub(crate) struct Forever;

impl TokenLife for Forever {
    fn ensure(&mut self, _: Duration, _: &Reporter) -> Result<Option<Duration>> {
        Ok(None)
    }
    fn outlast(&mut self, _: Duration, _: &Reporter) -> Result<()> {
        Ok(())
    }
}

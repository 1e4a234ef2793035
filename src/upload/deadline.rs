//! The run's `deadline`: no cargo run starts after it, and a wait that would end past it
//! stops the run now, with what is left for a re-run.

use std::time::{Duration, Instant};

/// When the run must stop starting uploads: `setting` after it started.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    at: Instant,
    setting: Duration,
}

impl Deadline {
    pub(crate) fn new(started: Instant, setting: Option<Duration>) -> Option<Self> {
        setting.map(|setting| Deadline {
            at: started + setting,
            setting,
        })
    }

    /// What is left of it now.
    pub(crate) fn left(self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// An error when an upload that would begin at `start` begins past the deadline; `why`
    /// says what would be past it.
    pub(crate) fn check(this: Option<Self>, start: Instant, why: &str) -> anyhow::Result<()> {
        match this {
            Some(deadline) if start >= deadline.at => Err(DeadlineReached {
                setting: deadline.setting,
                why: why.to_owned(),
            }
            .into()),
            _ => Ok(()),
        }
    }
}

/// An error when the run's `deadline` (`setting` after `started`) has come: checked before
/// what only readies an upload (a minted token, `before_deploy`) as well as before each upload.
pub(crate) fn reached(
    started: Instant,
    setting: Option<Duration>,
    why: &str,
) -> anyhow::Result<()> {
    Deadline::check(Deadline::new(started, setting), Instant::now(), why)
}

/// The run stopped at its deadline.
#[derive(Debug)]
pub(crate) struct DeadlineReached {
    setting: Duration,
    why: String,
}

impl std::fmt::Display for DeadlineReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stopped at the run's deadline ({} after its start, `deadline`): {}; no upload \
             starts after it",
            humantime::format_duration(self.setting),
            self.why
        )
    }
}

impl std::error::Error for DeadlineReached {}

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

    /// When it comes, on the clock another process (the upload's gate) reads.
    pub(crate) fn wall_clock(self) -> std::time::SystemTime {
        std::time::SystemTime::now() + self.left()
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

/// The run's deadline came while a cargo was uploading: its gate let no more through.
pub(crate) fn came(this: Option<Deadline>, why: &str) -> anyhow::Error {
    let setting = this.map_or(Duration::ZERO, |d| d.setting);
    DeadlineReached {
        setting,
        why: why.to_owned(),
    }
    .into()
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

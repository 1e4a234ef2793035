//! Waiting for the index to list what was uploaded.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::life::TokenLife;
use crate::index::Index;
use crate::plan::Package;
use crate::report::Reporter;

pub(super) fn listed(index: &Index, package: &Package) -> Result<bool> {
    Ok(index
        .versions(&package.name)?
        .iter()
        .any(|v| v.version == package.version))
}

/// An upload the index did not list in time (its caller tells a refusal from a slow index).
#[derive(Debug)]
pub(crate) struct NotListed {
    spec: String,
    timeout: Duration,
    last_error: Option<String>,
}

impl std::fmt::Display for NotListed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} was uploaded but did not appear in the index within {}s (`index_timeout`)",
            self.spec,
            self.timeout.as_secs()
        )?;
        if let Some(error) = &self.last_error {
            write!(f, " (the index's last answer: {error})")?;
        }
        write!(f, "; crates that depend on it were not published")
    }
}

impl std::error::Error for NotListed {}

/// Poll the index until it lists `package`, for at most `timeout`. An index that fails to
/// answer is asked again until then (its last error is the one reported). An auth-required
/// index needs the token, so it is kept alive meanwhile; a public one never stops the wait
/// for the token's sake.
pub(crate) fn wait_for_index(
    index: &mut Index,
    package: &Package,
    timeout: Duration,
    life: &mut dyn TokenLife,
    reporter: &Reporter,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(250);
    let mut said = false;
    loop {
        if index.auth_required() {
            life.ensure(Duration::ZERO, reporter)?;
        }
        let error = match index.refresh().and_then(|()| listed(index, package)) {
            Ok(true) => return Ok(()),
            Ok(false) => None,
            Err(error) => Some(error),
        };
        if Instant::now() >= deadline {
            return Err(NotListed {
                spec: package.spec(),
                timeout,
                last_error: error.map(|e| format!("{e:#}")),
            }
            .into());
        }
        if !said {
            reporter.status(
                "Waiting",
                &format!("for {} to appear in {}", package.spec(), index.url()),
            );
            said = true;
        }
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

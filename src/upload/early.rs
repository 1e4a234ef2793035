//! The first upload cargo, held at its gate: started while the verification still builds, or
//! itself the verification.

use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Result;

use crate::outcome::CrateOutcome;
use crate::plan::Package;
use crate::publish::{Cargo, Started};
use crate::report::Reporter;
use crate::secret::Token;
use crate::signals;

/// The first upload cargo, held at its gate: it verifies every crate itself before it asks
/// for its first upload's token, so each crate is packaged once for both — and, after a 429
/// cuts it, once more for its paced upload, never a third time. Dropped unopened (a crate
/// failed to verify, the run stopped): the gate refuses, cargo is stopped, and nothing was
/// uploaded.
pub(crate) struct Early {
    started: Started,
    token: Arc<Token>,
    pub(super) batch: Vec<Package>,
}

impl Early {
    /// Start the upload of all of `packages` now. The caller's rule: only when nothing that
    /// comes between the verification and the uploads can change what they are — no
    /// `before_deploy` hook, a token that is known now and lasts (not trusted publishing),
    /// an order cargo can make (no dev-dependency cycle).
    pub(crate) fn start(cargo: &Cargo, packages: &[Package], token: Arc<Token>) -> Result<Early> {
        let started = cargo.start_upload(packages, true)?;
        Ok(Early {
            started,
            token,
            batch: packages.to_vec(),
        })
    }

    /// The upload cargo started beside the plan (`Cargo::start_workspace_upload`), which the
    /// checks found uploads just `packages`.
    pub(crate) fn adopt(started: Started, packages: &[Package], token: Arc<Token>) -> Early {
        Early {
            started,
            token,
            batch: packages.to_vec(),
        }
    }

    /// The run's verification: its output shown until it has verified every crate (it waits
    /// at its gate) or stopped at one that failed; each crate's outcome.
    pub(crate) fn verified(&mut self, reporter: &Reporter) -> Result<Vec<CrateOutcome>> {
        self.started.verified(&self.batch, reporter)
    }

    /// Every crate verified: let the uploads through, each that starts before `deadline`.
    pub(super) fn open(self, deadline: Option<SystemTime>) -> Result<Started> {
        let Early {
            mut started,
            token,
            batch: _,
        } = self;
        // A signal that came meanwhile stops the run here, the gate still shut.
        signals::park_if_stopping();
        started.open(token.expose(), deadline)?;
        Ok(started)
    }
}

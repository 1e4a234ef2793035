//! The first upload cargo, started while the verification still builds and held at its gate.

use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Result;

use crate::plan::Package;
use crate::publish::{Cargo, Started};
use crate::secret::Token;
use crate::signals;

/// The first upload cargo, started while the verification builds and held at its gate:
/// updating the index and packaging the crates again cost nothing then. Dropped unopened
/// (a crate failed to verify, the run stopped): the gate refuses, cargo is stopped, and
/// nothing was uploaded.
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
        let started = cargo.start_upload(packages)?;
        Ok(Early {
            started,
            token,
            batch: packages.to_vec(),
        })
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

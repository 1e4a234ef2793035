//! The verification started beside the plan (`Verifying`): the workspace's dry run, or its
//! upload cargo held at the gate, verifying first (`EarlyVerify`).

use std::path::{Path, PathBuf};

use crate::publish::{Cargo, Started};
use crate::{cmd, ownership, signals};

/// `cargo publish --dry-run --workspace`, started as soon as the copy exists — while the plan
/// is made and the index read — with its output held back. The run takes it over when the
/// plan is exactly what it verifies, where and how it builds it; else dropping it stops it.
pub(crate) struct Verifying {
    /// `None` once taken over.
    cargo: Option<EarlyCargo>,
    /// Where it runs, and the target dir it builds in: the plan's, or it is dropped.
    pub(crate) dir: PathBuf,
    pub(crate) target_dir: PathBuf,
    /// The checkout, whose owner gets back what it built when it is dropped.
    root: PathBuf,
}

/// What runs early: the dry run, or the upload cargo itself, which verifies every crate
/// before its first upload asks its gate for the token (`EarlyVerify::Upload`).
enum EarlyCargo {
    DryRun(cmd::Streaming),
    Upload(Started),
}

/// Which verification [`prepare`] starts beside the plan, when the whole workspace is selected.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum EarlyVerify {
    /// None: no verification follows (`no_verify`), or there is nothing to start early.
    No,
    /// `cargo publish --dry-run --workspace`.
    DryRun,
    /// `cargo publish --workspace` held at its gate: verification and upload in one.
    Upload,
}

impl Verifying {
    /// It is the run's verification: the run finishes it (and hands the target dir back).
    /// `None`, and stopped, when it is an upload cargo (see [`Verifying::into_upload`]).
    pub(crate) fn take_over(mut self) -> Option<cmd::Streaming> {
        match self.cargo.take()? {
            EarlyCargo::DryRun(cargo) => Some(cargo),
            EarlyCargo::Upload(_) => None,
        }
    }

    /// The upload cargo it is, held at its gate, for the run's verification and first upload;
    /// `None`, and stopped, when it is a dry run.
    pub(crate) fn into_upload(mut self) -> Option<Started> {
        match self.cargo.take()? {
            EarlyCargo::Upload(started) => Some(started),
            EarlyCargo::DryRun(_) => None,
        }
    }
}

impl Drop for Verifying {
    /// Not taken over: stopped with everything it started, then what it built in the
    /// checkout's target dir handed back to the checkout's owner (the run may end before its
    /// own hand-back exists, or use another target dir).
    fn drop(&mut self) {
        if let Some(cargo) = self.cargo.take() {
            drop(cargo);
            if let Err(error) = ownership::hand_back(&self.root, &self.target_dir) {
                signals::unreported(&format!("warning: {error:#}"));
            }
        }
    }
}

impl Verifying {
    /// `verify_early`'s cargo for the whole workspace, run by `cargo` in `dir`, building in
    /// `target_dir`, started now; `None` when it doesn't start (or none is asked for).
    pub(super) fn start(
        cargo: &Cargo,
        verify_early: EarlyVerify,
        dir: PathBuf,
        target_dir: PathBuf,
        root: &Path,
    ) -> Option<Verifying> {
        let cargo = match verify_early {
            EarlyVerify::No => return None,
            EarlyVerify::Upload => cargo.start_workspace_upload().map(EarlyCargo::Upload),
            EarlyVerify::DryRun => cargo.verify_workspace().map(EarlyCargo::DryRun),
        };
        Some(Verifying {
            cargo: Some(cargo.ok()?),
            dir,
            target_dir,
            root: root.to_path_buf(),
        })
    }
}

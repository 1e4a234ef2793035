//! The upload cargo: held at shipcrate's gate (started early, or verifying itself first), or
//! run with the token in force; each crate's `.crate` kept where the checksum check reads it.

use std::process::Command;
use std::time::SystemTime;

use anyhow::Result;

use super::{Cargo, PUBLISHED_IN, Role, TokenFile, judge};
use crate::cmd;
use crate::gate::Gate;
use crate::outcome::CrateOutcome;
use crate::plan::Package;
use crate::report::Reporter;

impl Cargo<'_> {
    /// `cargo publish --workspace`, started now and held at its gate: it verifies every crate
    /// cargo would publish from the workspace before its first upload asks for the token —
    /// the run's verification and first upload in one, when the plan turns out to be just
    /// those crates ([`Cargo::start_upload`] for the rest of what that means).
    pub(crate) fn start_workspace_upload(&self) -> Result<Started> {
        self.start_upload(&[], true)
    }

    /// The upload cargo for `batch`, started now and held at a gate of its own: it updates the
    /// index and packages while the verification still builds, and nothing it says is shown
    /// until [`Cargo::upload_batch`] takes it over. Not for an `auth-required` registry (its
    /// index can't be read without the token, which stays off disk until the gate opens).
    ///
    /// `verify`: it verifies every crate itself, in the plan's target dir, before its first
    /// upload asks the gate — the crates are packaged once for both (see [`Started::verified`]).
    pub(crate) fn start_upload(&self, batch: &[Package], verify: bool) -> Result<Started> {
        let gate = Gate::new(verify.then(|| self.target_dir.to_path_buf()))?;
        let refs: Vec<&Package> = batch.iter().collect();
        let (mut command, _) = self.command("publish", &refs, verify, Role::Gated(&gate))?;
        if batch.is_empty() {
            command.arg("--workspace");
        }
        command
            .env("CARGO_TERM_QUIET", "false")
            .env("CARGO_TERM_PROGRESS_WHEN", "never");
        let cargo = cmd::start(command, self.masker)?;
        Ok(Started {
            cargo: Some(cargo),
            gate: Some(gate),
        })
    }

    /// `cargo publish --no-verify` for `batch` through a gate opened now with the token in
    /// force: each crate's upload asks it, so none starts past `deadline` — `None` where the
    /// gate can't stand (an `auth-required` registry, whose index reads want the token; no
    /// token), and the upload takes the token in its environment.
    pub(crate) fn start_upload_until(
        &self,
        batch: &[Package],
        deadline: SystemTime,
    ) -> Result<Option<Started>> {
        let Some(token) = self.token.get().filter(|_| !self.auth_required) else {
            return Ok(None);
        };
        let mut started = self.start_upload(batch, false)?;
        started.open(token.expose(), Some(deadline))?;
        Ok(Some(started))
    }

    /// One `cargo publish --no-verify -p a -p b …` holding the token in force now (a renewal
    /// before this run reaches it) — or `started`, the one [`Cargo::start_upload`] started
    /// for this batch —, each line of its output handed to `observe` as it streams. Returns
    /// cargo's output when it failed.
    pub(crate) fn upload_batch(
        &self,
        batch: &[Package],
        started: Option<Started>,
        reporter: &Reporter,
        observe: impl FnMut(&str),
    ) -> Result<Option<String>> {
        let refs: Vec<&Package> = batch.iter().collect();
        let names: Vec<String> = batch
            .iter()
            .map(|p| format!("{} v{}", p.name, p.version))
            .collect();
        reporter.status(
            "Publishing",
            &format!("{} to {}", names.join(", "), self.flags.target),
        );
        // What cargo reads its token from stays until it is done.
        let (cargo, gate, token_file) = match started {
            Some(started) => match started.into_parts() {
                (Some(cargo), gate) => (cargo, gate, None),
                (None, _) => anyhow::bail!("the upload cargo started early is gone"),
            },
            None => {
                // Nothing a build script or a hook left running (re-parented to us) lives to
                // read the token from this cargo's environment or file; the gated upload does
                // the same when its gate opens.
                crate::signals::stop_strays();
                let (command, token_file) = self.upload_command(&refs, Role::Upload)?;
                (cmd::start(command, self.masker)?, None, token_file)
            }
        };
        reporter.group_start("cargo_publish", "cargo publish");
        let finished = cargo.finish(observe);
        if let Some(gate) = gate.as_ref().filter(|g| !g.verifies()) {
            // The early cargo packaged in the gate's dir, which goes now: what it uploaded is
            // kept where an upload cargo leaves it. A file not there (cargo stopped before
            // packaging it) leaves the verified one, which the checksum check judges.
            for package in batch {
                let file = crate::checksums::file_name(&package.name, &package.version);
                for dir in PUBLISHED_IN {
                    let from = gate.target_dir().join(dir).join(&file);
                    let _ = std::fs::copy(from, self.target_dir.join(dir).join(&file));
                }
            }
        }
        drop((gate, token_file));
        reporter.group_end("cargo_publish");
        let finished = finished?;
        Ok((finished.code != 0).then_some(finished.output))
    }

    /// `cargo publish --no-verify -p …` for `packages`, its status lines readable: cargo's
    /// words are how each crate's result is known as it happens, so not quieted and not
    /// overdrawn by a progress bar, whatever the commit's cargo config says.
    fn upload_command(
        &self,
        packages: &[&Package],
        role: Role<'_>,
    ) -> Result<(Command, Option<TokenFile>)> {
        let (mut command, token_file) = self.command("publish", packages, false, role)?;
        command
            .env("CARGO_TERM_QUIET", "false")
            .env("CARGO_TERM_PROGRESS_WHEN", "never");
        Ok((command, token_file))
    }
}

/// An upload cargo started ahead of its time, and the gate it waits at. Dropped unfinished:
/// the gate refuses (cargo's request for a token fails), cargo is stopped and reaped, and
/// only then does the gate's directory go (cargo packages into it).
pub(crate) struct Started {
    /// Both `Some` until taken apart.
    cargo: Option<cmd::Streaming>,
    gate: Option<Gate>,
}

impl Started {
    /// Every crate verified: uploads get `token` from now on, each that starts before
    /// `deadline`.
    pub(crate) fn open(&mut self, token: &str, deadline: Option<SystemTime>) -> Result<()> {
        match &mut self.gate {
            Some(gate) => gate.open(token, deadline),
            None => Ok(()),
        }
    }

    /// For a cargo that verifies before it uploads: its output shown until it has verified
    /// every crate of `packages` (it asks the gate for its first upload's token, and waits
    /// there) or has ended (a crate failed to verify: nothing was uploaded); each crate's
    /// outcome, as [`Cargo::dry_run`] gives it.
    pub(crate) fn verified(
        &mut self,
        packages: &[Package],
        reporter: &Reporter,
    ) -> Result<Vec<CrateOutcome>> {
        let (Some(cargo), Some(gate)) = (self.cargo.as_mut(), self.gate.as_ref()) else {
            anyhow::bail!("the upload cargo started early is gone");
        };
        reporter.group_start("cargo_publish_verify", "cargo publish (verifying)");
        let began = cargo.began;
        // Verified every crate: cargo says it uploads the first (then asks for its token).
        let uploading = |line: &str| line.trim_start().starts_with("Uploading ");
        let shown = cargo.show_until(uploading, || gate.asked());
        reporter.group_end("cargo_publish_verify");
        let refs: Vec<&Package> = packages.iter().collect();
        let duration_ms = began.elapsed().as_millis();
        Ok(match shown? {
            cmd::Shown::Paused => judge(&refs, 0, "", duration_ms),
            cmd::Shown::Ended(finished) => {
                self.cargo = None;
                if finished.code == 0 {
                    // Ended without asking for a token: nothing was uploaded.
                    anyhow::bail!("the upload cargo ended before its first upload");
                }
                judge(&refs, finished.code, &finished.output, duration_ms)
            }
        })
    }

    fn into_parts(mut self) -> (Option<cmd::Streaming>, Option<Gate>) {
        (self.cargo.take(), self.gate.take())
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Some(gate) = &self.gate {
            gate.refuse("the run stopped before every crate was verified");
        }
        drop(self.cargo.take());
        drop(self.gate.take());
    }
}

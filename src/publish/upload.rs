//! The upload cargo: held at shipcrate's gate (started early, or gated for the `deadline`), or
//! run with the token in force; each crate's `.crate` kept where the checksum check reads it.

use std::process::Command;
use std::time::SystemTime;

use anyhow::Result;

use super::{Cargo, PUBLISHED_IN, Role, TokenFile};
use crate::cmd;
use crate::gate::Gate;
use crate::plan::Package;
use crate::report::Reporter;

impl Cargo<'_> {
    /// The upload cargo for `batch`, started now and held at a gate of its own: it updates the
    /// index and packages while the verification still builds, and nothing it says is shown
    /// until [`Cargo::upload_batch`] takes it over. Not for an `auth-required` registry (its
    /// index can't be read without the token, which stays off disk until the gate opens).
    pub(crate) fn start_upload(&self, batch: &[Package]) -> Result<Started> {
        let gate = Gate::new()?;
        let refs: Vec<&Package> = batch.iter().collect();
        let (command, _) = self.upload_command(&refs, Role::Gated(&gate))?;
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
        let mut started = self.start_upload(batch)?;
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
        if let Some(gate) = &gate {
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

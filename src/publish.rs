//! Runs cargo for the plan: packaging for comparison, the dry run, and one upload run for a
//! batch of crates. The token is only ever in the upload's environment, never in argv.
//!
//! Decides nothing about order, rules or retries: the plan, `upload` and the caller do.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::Env;
use crate::cargo_output::{first_error, progress};
use crate::cmd;
use crate::config::CargoFlags;
use crate::gate::Gate;
use crate::outcome::{CrateOutcome, Outcome};
use crate::plan::{Package, Plan};
use crate::registry::Target;
use crate::report::Reporter;
use crate::secret::{LiveToken, Masker, PrivateDir};

/// Where in the target dir `cargo publish` leaves the `.crate` it uploaded, newest cargo first:
/// `package/tmp-crate/` (cargo 1.95 here; `cargo package` still writes `package/`), else
/// `package/`, as older cargo does.
const PUBLISHED_IN: [&str; 2] = ["package/tmp-crate", "package"];

/// cargo, set up for one plan. Only the upload (`--no-verify`, which builds nothing) has the
/// token in its environment; every command that may build — and so run build scripts and
/// proc-macros from any dependency — gets none.
pub(crate) struct Cargo<'a> {
    exe: &'a Path,
    /// Where cargo runs (the workspace's root in the tree).
    dir: &'a Path,
    /// Where it builds and packages (the user's target dir, warm).
    target_dir: &'a Path,
    /// See [`Plan::dev_cycles`].
    dev_cycles: &'a [crate::plan::DevEdge],
    flags: CargoFlags<'a>,
    /// Scrubbed of every token and CI credential (see `secret::Child::Build`).
    env: Env,
    /// Read at each command: a renewed token reaches the next cargo.
    token: LiveToken,
    /// The registry's index wants the token even to be read: builds get it through a cargo
    /// credential provider instead of their environment.
    auth_required: bool,
    masker: &'a Masker,
}

/// Whether a cargo command may hold the token.
#[derive(Clone, Copy)]
enum Role<'g> {
    /// Packaging and verifying: may build, so no token in its environment.
    Build,
    /// The upload: `--no-verify`, builds nothing, the token in its environment.
    Upload,
    /// The upload started while verification runs: `--no-verify`, packaging in a target dir
    /// of its own, the token from `gate` (shipcrate as its credential provider) once open.
    Gated(&'g Gate),
}

impl<'a> Cargo<'a> {
    /// `env` must be the build environment (`secret::scrub` for `Child::Build`).
    pub(crate) fn new(
        exe: &'a Path,
        plan: &'a Plan,
        flags: CargoFlags<'a>,
        token: &LiveToken,
        env: &Env,
        auth_required: bool,
        masker: &'a Masker,
    ) -> Self {
        Cargo {
            dev_cycles: &plan.dev_cycles,
            auth_required,
            ..Cargo::in_dir(exe, &plan.dir, &plan.target_dir, flags, token, env, masker)
        }
    }

    /// cargo in `dir`, building in `target_dir`, before the plan is known: for the dry run of
    /// the whole workspace that starts while the plan is made (see [`Cargo::verify_workspace`]).
    pub(crate) fn in_dir(
        exe: &'a Path,
        dir: &'a Path,
        target_dir: &'a Path,
        flags: CargoFlags<'a>,
        token: &LiveToken,
        env: &Env,
        masker: &'a Masker,
    ) -> Self {
        let mut env = env.clone();
        // cargo#9822: debug logging printed the token.
        env.remove("CARGO_LOG");
        env.remove("CARGO_HTTP_DEBUG");
        env.insert(
            "CARGO_TARGET_DIR".to_owned(),
            target_dir.display().to_string(),
        );
        if let Target::Index(url) = flags.target {
            env.insert(
                format!(
                    "CARGO_REGISTRIES_{}_INDEX",
                    crate::registry::env_name(Target::INDEX_NAME)
                ),
                url.clone(),
            );
        }
        Cargo {
            exe,
            dir,
            target_dir,
            dev_cycles: &[],
            flags,
            env,
            token: token.clone(),
            auth_required: false,
            masker,
        }
    }

    /// The command, and for a build against an `auth-required` registry the file its
    /// credential provider reads the token from (removed when dropped: keep it until cargo
    /// has finished).
    fn command(
        &self,
        subcommand: &str,
        packages: &[&Package],
        verify: bool,
        role: Role<'_>,
    ) -> Result<(Command, Option<TokenFile>)> {
        let mut command = cmd::command(self.exe, self.dir, &self.env);
        command.arg(subcommand);
        for package in packages {
            command.args(["--package", &package.name]);
        }
        if let Some(name) = self.flags.target.cargo_name() {
            command.args(["--registry", name]);
        }
        let flags = [
            (self.flags.allow_dirty, "--allow-dirty"),
            // A command holding the token must build nothing.
            (
                self.flags.no_verify || !verify || !matches!(role, Role::Build),
                "--no-verify",
            ),
            (self.flags.locked, "--locked"),
            (self.flags.all_features, "--all-features"),
        ];
        command.args(flags.iter().filter(|(on, _)| *on).map(|(_, flag)| flag));
        if !self.flags.features.is_empty() {
            command.args(["--features", &self.flags.features.join(",")]);
        }
        let mut file = None;
        match (role, self.token.get()) {
            // The gate answers reads of the index at once, uploads once it opens.
            (Role::Gated(gate), _) => {
                for config in gate.provider_config(self.flags.target)? {
                    command.args(["--config", &config]);
                }
                command.env("CARGO_TARGET_DIR", gate.target_dir());
            }
            // cargo wants an explicit credential provider for such a registry, uploads too.
            (_, Some(token)) if self.auth_required => {
                let held = TokenFile::new(token.expose())?;
                for config in held.provider_config(self.flags.target) {
                    command.args(["--config", &config]);
                }
                file = Some(held);
            }
            (Role::Upload, Some(token)) => {
                command.env(self.flags.target.token_var(), token.expose());
            }
            _ => {}
        }
        Ok((command, file))
    }

    /// Dev-dependencies close a cycle among `packages`: cargo's multi-package publish can't
    /// order them, so they go one crate at a time.
    pub(crate) fn cannot_order(&self, packages: &[Package]) -> bool {
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        self.dev_cycles
            .iter()
            .any(|(a, b)| names.contains(&a.as_str()) && names.contains(&b.as_str()))
    }

    /// The `.crate` the last upload of `name` `version` sent, as cargo left it (see
    /// [`PUBLISHED_IN`]; the early cargo's are kept here by [`Cargo::upload_batch`]).
    pub(crate) fn uploaded(&self, name: &str, version: &str) -> PathBuf {
        let file = crate::checksums::file_name(name, version);
        let mut places = PUBLISHED_IN
            .iter()
            .map(|d| self.target_dir.join(d).join(&file));
        let newest_cargo = places.next().unwrap_or_default();
        match newest_cargo.is_file() {
            true => newest_cargo,
            false => places.next().unwrap_or(newest_cargo),
        }
    }

    /// The `.crate` cargo would upload for `package`, without verifying it.
    pub(crate) fn package(&self, package: &Package) -> Result<Vec<u8>> {
        let (mut command, _token_file) = self.command("package", &[package], false, Role::Build)?;
        command.arg("--quiet");
        cmd::capture(command).map_err(|error| {
            let why = match error.downcast_ref::<cmd::Failed>() {
                Some(failed) => first_error(&failed.stderr),
                None => format!("{error:#}"),
            };
            anyhow::anyhow!(
                "could not package {} to compare it with the published copy: {why}",
                package.spec()
            )
        })?;
        let file = self
            .target_dir
            .join("package")
            .join(format!("{}-{}.crate", package.name, package.version));
        fs_err::read(&file).with_context(|| format!("cargo package wrote no `{}`", file.display()))
    }

    /// Verify `packages` without uploading, each against its siblings' new versions: one
    /// multi-package `cargo publish --dry-run` (cargo ≥ 1.90) — or, where dev-dependencies
    /// close a cycle that cargo can't order, one crate at a time with its siblings patched in
    /// from the tree.
    /// `started`: that dry run, already running (see [`Cargo::verify_workspace`]).
    pub(crate) fn dry_run(
        &self,
        packages: &[Package],
        started: Option<cmd::Streaming>,
        reporter: &Reporter,
    ) -> Result<Vec<CrateOutcome>> {
        if !self.cannot_order(packages) {
            let refs: Vec<&Package> = packages.iter().collect();
            return self.dry_run_batch(&refs, &[], started, reporter);
        }
        reporter.status(
            "Verifying",
            "one crate at a time: dev-dependencies form a cycle cargo can't order",
        );
        let table = self.flags.target.cargo_name().unwrap_or("crates-io");
        let mut outcomes = Vec::new();
        for (i, package) in packages.iter().enumerate() {
            // Only the crates ordered before it: those are what it can depend on, and none of
            // them depends back on it (a patched copy of itself would collide in its lockfile).
            let patches: Vec<String> = packages[..i]
                .iter()
                .map(|p| {
                    format!(
                        "patch.{table}.{}.path={:?}",
                        p.name,
                        p.dir.display().to_string()
                    )
                })
                .collect();
            outcomes.extend(self.dry_run_batch(&[package], &patches, None, reporter)?);
        }
        Ok(outcomes)
    }

    /// `cargo publish --dry-run --workspace`, started now with its output held back: the dry
    /// run of every crate cargo would publish from the workspace, which the caller takes over
    /// ([`Cargo::dry_run`]) when the plan turns out to be just those crates, and drops
    /// (stopping it) otherwise.
    pub(crate) fn verify_workspace(&self) -> Result<cmd::Streaming> {
        let (mut command, _) = self.command("publish", &[], true, Role::Build)?;
        command.args(["--workspace", "--dry-run"]);
        cmd::start(command, self.masker)
    }

    fn dry_run_batch(
        &self,
        packages: &[&Package],
        config: &[String],
        started: Option<cmd::Streaming>,
        reporter: &Reporter,
    ) -> Result<Vec<CrateOutcome>> {
        let (cargo, token_file) = match started {
            Some(cargo) => (cargo, None),
            None => {
                let (mut command, token_file) =
                    self.command("publish", packages, true, Role::Build)?;
                command.arg("--dry-run");
                for value in config {
                    command.args(["--config", value]);
                }
                (cmd::start(command, self.masker)?, token_file)
            }
        };
        reporter.group_start("cargo_publish_dry_run", "cargo publish --dry-run");
        let began = cargo.began;
        let finished = cargo.finish(|_| {});
        drop(token_file);
        reporter.group_end("cargo_publish_dry_run");
        let finished = finished?;
        let duration_ms = began.elapsed().as_millis();
        // cargo stops at the first crate that fails: the ones it verified before are
        // verified, the rest never were. When its output doesn't say which, all failed.
        let (verified, failing) = progress(packages, &finished.output);
        Ok(packages
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (outcome, reason) = match failing {
                    _ if finished.code == 0 => (Outcome::Verified, None),
                    Some(_) if verified.contains(&i) => (Outcome::Verified, None),
                    Some(at) if at != i => (
                        Outcome::NotStarted,
                        Some(format!("{} failed to verify", packages[at].spec())),
                    ),
                    _ => (Outcome::Failed, Some(first_error(&finished.output))),
                };
                CrateOutcome {
                    duration_ms,
                    ..CrateOutcome::new(p, outcome, reason)
                }
            })
            .collect())
    }

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
    /// Every crate verified: uploads get `token` from now on.
    pub(crate) fn open(&mut self, token: &str) -> Result<()> {
        match &mut self.gate {
            Some(gate) => gate.open(token),
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

/// The token in a file only its owner can read, in a temp dir of its own, for cargo's
/// `cargo:token-from-stdout` credential provider: how a build against an `auth-required`
/// registry reads the index without the token in the environment its build scripts inherit.
struct TokenFile {
    path: std::path::PathBuf,
    /// Removed when dropped.
    _dir: PrivateDir,
}

impl TokenFile {
    fn new(token: &str) -> Result<Self> {
        let dir = PrivateDir::new("shipcrate-token-", "the token")?;
        let path = dir.put("token", token)?;
        Ok(TokenFile { path, _dir: dir })
    }

    /// `--config` values pointing `target`'s credential provider at this file.
    fn provider_config(&self, target: &Target) -> Vec<String> {
        let provider = [
            "cargo:token-from-stdout".to_owned(),
            "cat".to_owned(),
            self.path.display().to_string(),
        ];
        target.credential_provider_config(&provider)
    }
}

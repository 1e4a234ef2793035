//! Runs cargo for the plan: packaging for comparison, the dry run, and one upload run for a
//! batch of crates (`upload`). The token reaches cargo in the environment of an upload that
//! builds nothing, or from shipcrate's gate (cargo's credential provider) — never in argv.
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

mod upload;

pub(crate) use upload::Started;

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
    /// An upload held at `gate` (shipcrate as its credential provider), the token given once
    /// it opens, upload by upload: `--no-verify`, packaging in a target dir of its own.
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
            // A command holding the token must build nothing (a gated one too: see `gate`).
            (
                self.flags.no_verify || !verify || !matches!(role, Role::Build),
                "--no-verify",
            ),
            (self.flags.locked, "--locked"),
            (self.flags.all_features, "--all-features"),
        ];
        command.args(flags.iter().filter(|(on, _)| *on).map(|(_, flag)| flag));
        if self.flags.verbose {
            command.arg("--verbose");
        }
        if let Some(color) = self.flags.color {
            command.args(["--color", color]);
        }
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
        Ok(judge(
            packages,
            finished.code,
            &finished.output,
            duration_ms,
        ))
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

/// Each crate's outcome from a verifying cargo that exited with `code`, having said `output`:
/// cargo stops at the first crate that fails; the ones it verified before are verified, the
/// rest never were. When its output doesn't say which, all failed.
fn judge(packages: &[&Package], code: i32, output: &str, duration_ms: u128) -> Vec<CrateOutcome> {
    let (verified, failing) = progress(packages, output);
    packages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (outcome, reason) = match failing {
                _ if code == 0 => (Outcome::Verified, None),
                Some(_) if verified.contains(&i) => (Outcome::Verified, None),
                Some(at) if at != i => (
                    Outcome::NotStarted,
                    Some(format!("{} failed to verify", packages[at].spec())),
                ),
                _ => (Outcome::Failed, Some(first_error(output))),
            };
            CrateOutcome {
                duration_ms,
                ..CrateOutcome::new(p, outcome, reason)
            }
        })
        .collect()
}

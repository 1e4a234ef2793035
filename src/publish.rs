//! Runs cargo for the plan: packaging for comparison, the dry run, and each upload with its
//! retries. The token is only ever in cargo's environment, never in argv.
//!
//! Decides nothing about order or rules: the plan and the caller do.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::Env;
use crate::cmd;
use crate::config::{Config, Target};
use crate::index::Index;
use crate::plan::{Package, Plan};
use crate::report::Reporter;
use crate::retry::{self, Failure};
use crate::secret::{Masker, Token};
use crate::signals;

/// How one crate ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Published,
    AlreadyPublished,
    /// Packaged and verified by a dry run; nothing uploaded.
    Verified,
    Skipped,
    Failed,
    NotStarted,
}

#[derive(Clone, Debug, Serialize)]
pub struct CrateOutcome {
    pub name: String,
    pub version: String,
    pub outcome: Outcome,
    pub duration_ms: u128,
    pub retries: u32,
    pub reason: Option<String>,
    /// cargo itself saw the new version in the index ("Published … at registry").
    #[serde(skip)]
    pub seen_in_index: bool,
    /// The registry refused the upload saying the version exists: a failure until the index
    /// shows that version (a refusal's text alone proves nothing).
    #[serde(skip)]
    pub said_exists: bool,
}

impl CrateOutcome {
    pub fn new(package: &Package, outcome: Outcome, reason: Option<String>) -> Self {
        CrateOutcome {
            name: package.name.clone(),
            version: package.version.clone(),
            outcome,
            duration_ms: 0,
            retries: 0,
            reason,
            seen_in_index: false,
            said_exists: false,
        }
    }
}

/// cargo, set up for one plan. Only the upload (`--no-verify`, which builds nothing) has the
/// token in its environment; every command that may build — and so run build scripts and
/// proc-macros from any dependency — gets none.
pub struct Cargo<'a> {
    exe: &'a Path,
    plan: &'a Plan,
    cfg: &'a Config,
    /// Scrubbed of every token and CI credential (see `secret::Child::Build`).
    env: Env,
    token: Option<SecretString>,
    /// The registry's index wants the token even to be read: builds get it through a cargo
    /// credential provider instead of their environment.
    auth_required: bool,
    masker: &'a Masker,
}

/// Whether a cargo command may hold the token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Packaging and verifying: may build, so no token in its environment.
    Build,
    /// The upload: `--no-verify`, builds nothing, the token in its environment.
    Upload,
}

impl<'a> Cargo<'a> {
    /// `env` must be the build environment (`secret::scrub` for `Child::Build`).
    pub fn new(
        exe: &'a Path,
        plan: &'a Plan,
        cfg: &'a Config,
        token: Option<&Token>,
        env: &Env,
        auth_required: bool,
        masker: &'a Masker,
    ) -> Self {
        let mut env = env.clone();
        // cargo#9822: debug logging printed the token.
        env.remove("CARGO_LOG");
        env.remove("CARGO_HTTP_DEBUG");
        env.insert(
            "CARGO_TARGET_DIR".to_owned(),
            plan.target_dir.display().to_string(),
        );
        if let Target::Index(url) = &cfg.target {
            env.insert(
                format!(
                    "CARGO_REGISTRIES_{}_INDEX",
                    crate::config::env_name(Target::INDEX_NAME)
                ),
                url.clone(),
            );
        }
        Cargo {
            exe,
            plan,
            cfg,
            env,
            token: token.map(|t| SecretString::from(t.expose().to_owned())),
            auth_required,
            masker,
        }
    }

    /// Hand cargo a renewed token.
    pub fn set_token(&mut self, token: &str) {
        self.token = Some(SecretString::from(token.to_owned()));
    }

    /// The command, and for a build against an `auth-required` registry the file its
    /// credential provider reads the token from (removed when dropped: keep it until cargo
    /// has finished).
    fn command(
        &self,
        subcommand: &str,
        packages: &[&Package],
        verify: bool,
        role: Role,
    ) -> Result<(Command, Option<TokenFile>)> {
        let mut command = cmd::command(self.exe, &self.plan.dir, &self.env);
        command.arg(subcommand);
        for package in packages {
            command.args(["--package", &package.name]);
        }
        if let Some(name) = self.cfg.target.cargo_name() {
            command.args(["--registry", name]);
        }
        let flags = [
            (self.cfg.allow_dirty, "--allow-dirty"),
            // A command holding the token must build nothing.
            (
                self.cfg.no_verify || !verify || role == Role::Upload,
                "--no-verify",
            ),
            (self.cfg.locked, "--locked"),
            (self.cfg.all_features, "--all-features"),
        ];
        command.args(flags.iter().filter(|(on, _)| *on).map(|(_, flag)| flag));
        if !self.cfg.features.is_empty() {
            command.args(["--features", &self.cfg.features.join(",")]);
        }
        let mut file = None;
        match (role, &self.token) {
            // cargo wants an explicit credential provider for such a registry, uploads too.
            (_, Some(token)) if self.auth_required => {
                let held = TokenFile::new(token.expose_secret())?;
                command.args(["--config", &held.provider_config(&self.cfg.target)]);
                file = Some(held);
            }
            (Role::Upload, Some(token)) => {
                command.env(self.cfg.target.token_var(), token.expose_secret());
            }
            _ => {}
        }
        Ok((command, file))
    }

    /// The `.crate` cargo would upload for `package`, without verifying it.
    pub fn package(&self, package: &Package) -> Result<Vec<u8>> {
        let (mut command, _token_file) = self.command("package", &[package], false, Role::Build)?;
        command.arg("--quiet");
        cmd::capture(command)
            .with_context(|| format!("could not package {} to compare it", package.spec()))?;
        let file = self
            .plan
            .target_dir
            .join("package")
            .join(format!("{}-{}.crate", package.name, package.version));
        fs_err::read(&file).with_context(|| format!("cargo package wrote no `{}`", file.display()))
    }

    /// Verify `packages` without uploading, each against its siblings' new versions: one
    /// multi-package `cargo publish --dry-run` (cargo ≥ 1.90) — or, where dev-dependencies
    /// close a cycle that cargo can't order, one crate at a time with its siblings patched in
    /// from the tree.
    pub fn dry_run(&self, packages: &[Package], reporter: &Reporter) -> Result<Vec<CrateOutcome>> {
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        let cyclic = self
            .plan
            .dev_cycles
            .iter()
            .any(|(a, b)| names.contains(&a.as_str()) && names.contains(&b.as_str()));
        if !cyclic {
            let refs: Vec<&Package> = packages.iter().collect();
            return self.dry_run_batch(&refs, &[], reporter);
        }
        reporter.status(
            "Verifying",
            "one crate at a time: dev-dependencies form a cycle cargo can't order",
        );
        let table = self.cfg.target.cargo_name().unwrap_or("crates-io");
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
            outcomes.extend(self.dry_run_batch(&[package], &patches, reporter)?);
        }
        Ok(outcomes)
    }

    fn dry_run_batch(
        &self,
        packages: &[&Package],
        config: &[String],
        reporter: &Reporter,
    ) -> Result<Vec<CrateOutcome>> {
        let (mut command, token_file) = self.command("publish", packages, true, Role::Build)?;
        command.arg("--dry-run");
        for value in config {
            command.args(["--config", value]);
        }
        let started = Instant::now();
        reporter.group_start("cargo_publish_dry_run", "cargo publish --dry-run");
        let finished = cmd::stream(command, self.masker);
        drop(token_file);
        reporter.group_end("cargo_publish_dry_run");
        let finished = finished?;
        let duration_ms = started.elapsed().as_millis();
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

    /// Upload `package`, retrying what the registry pushed back on; `verified` when a dry run
    /// has built it already (cargo then only packages and uploads).
    pub fn upload(
        &self,
        package: &Package,
        verified: bool,
        reporter: &Reporter,
    ) -> Result<CrateOutcome> {
        let started = Instant::now();
        let mut retries = 0;
        let mut verify = !verified;
        loop {
            reporter.status(
                "Publishing",
                &format!(
                    "{} v{} to {}",
                    package.name, package.version, self.cfg.target
                ),
            );
            let id = format!("publish_{}", package.name.replace('-', "_"));
            reporter.group_start(&id, &format!("cargo publish {}", package.spec()));
            let (command, token_file) =
                self.command("publish", &[package], verify, Role::Upload)?;
            let finished = cmd::stream(command, self.masker);
            drop(token_file);
            reporter.group_end(&id);
            let finished = finished?;
            let tries = retries;
            let done = |outcome, reason| CrateOutcome {
                duration_ms: started.elapsed().as_millis(),
                retries: tries,
                ..CrateOutcome::new(package, outcome, reason)
            };
            if finished.code == 0 {
                let seen = format!("Published {} v{} at", package.name, package.version);
                return Ok(CrateOutcome {
                    seen_in_index: finished.output.contains(&seen),
                    ..done(Outcome::Published, None)
                });
            }
            let (until, why) = match retry::classify(&finished.output) {
                Failure::AlreadyExists => {
                    return Ok(CrateOutcome {
                        said_exists: true,
                        ..done(Outcome::Failed, Some(first_error(&finished.output)))
                    });
                }
                Failure::RateLimited { until } => (
                    until,
                    "the registry answered 429 Too Many Requests".to_owned(),
                ),
                Failure::Unavailable(code) => (None, format!("the registry answered {code}")),
                Failure::Other => {
                    return Ok(done(Outcome::Failed, Some(first_error(&finished.output))));
                }
            };
            if retries >= self.cfg.max_retries {
                return Ok(done(
                    Outcome::Failed,
                    Some(format!(
                        "{why}; gave up after {retries} retries (`max_retries`)"
                    )),
                ));
            }
            retries += 1;
            let wait = retry::delay(retries, until);
            if wait > self.cfg.max_wait + retry::JITTER_MAX {
                return Ok(done(
                    Outcome::Failed,
                    Some(format!(
                        "{why} and asks to wait {}s, longer than `max_wait`",
                        wait.as_secs()
                    )),
                ));
            }
            retry::wait(
                wait,
                &format!(
                    "{why}; retry {retries} of {} for {}",
                    self.cfg.max_retries,
                    package.spec()
                ),
                reporter,
            );
            // The package was verified before the upload was refused; don't build it again.
            verify = false;
        }
    }
}

/// The token in a file only its owner can read, in a temp dir of its own, for cargo's
/// `cargo:token-from-stdout` credential provider: how a build against an `auth-required`
/// registry reads the index without the token in the environment its build scripts inherit.
struct TokenFile {
    dir: tempfile::TempDir,
}

impl TokenFile {
    fn new(token: &str) -> Result<Self> {
        use fs_err::os::unix::fs::OpenOptionsExt;
        use std::io::Write;
        let dir = tempfile::Builder::new()
            .prefix("shipcrate-token-")
            .tempdir()
            .context("could not create a temporary directory for the token")?;
        signals::track_dir(dir.path());
        let held = TokenFile { dir };
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(held.path())?;
        file.write_all(token.as_bytes())?;
        Ok(held)
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("token")
    }

    /// `--config` value pointing `target`'s credential provider at this file.
    fn provider_config(&self, target: &Target) -> String {
        let key = match target.cargo_name() {
            None => "registry.credential-provider".to_owned(),
            Some(name) => format!("registries.{name}.credential-provider"),
        };
        let provider = [
            "cargo:token-from-stdout",
            "cat",
            &self.path().display().to_string(),
        ];
        format!(
            "{key}={}",
            serde_json::to_string(&provider).unwrap_or_default()
        )
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        signals::untrack_dir(self.dir.path());
    }
}

/// Poll the index until it lists `package`, for at most `timeout`.
pub fn wait_for_index(
    index: &mut Index,
    package: &Package,
    timeout: Duration,
    reporter: &Reporter,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(250);
    let mut said = false;
    loop {
        index.refresh()?;
        if index
            .versions(&package.name)?
            .iter()
            .any(|v| v.version == package.version)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "{} was uploaded but did not appear in the index within {}s (`index_timeout`); \
                 crates that depend on it were not published",
                package.spec(),
                timeout.as_secs()
            );
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

/// How far cargo got with `packages` before its first error: the ones it verified, and the
/// one it was packaging or verifying when it failed (`None` when its output doesn't say).
fn progress(packages: &[&Package], output: &str) -> (Vec<usize>, Option<usize>) {
    let mut verified = Vec::new();
    let mut current = None;
    for line in output.lines().take_while(|l| !l.starts_with("error")) {
        let line = line.trim_start();
        let (verifying, rest) = match (
            line.strip_prefix("Verifying "),
            line.strip_prefix("Packaging "),
        ) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => continue,
        };
        let Some(at) = packages
            .iter()
            .position(|p| rest.starts_with(&format!("{} v{} ", p.name, p.version)))
        else {
            continue;
        };
        if verifying {
            verified.push(at);
        }
        current = Some(at);
    }
    verified.retain(|&i| Some(i) != current);
    (verified, current)
}

/// cargo's error, without the progress lines before it, nor the response headers cargo
/// prints for a registry's non-JSON answer (its body — the registry's own words — stays).
fn first_error(output: &str) -> String {
    let mut in_headers = false;
    let mut text: Vec<&str> = output
        .lines()
        .skip_while(|l| !l.starts_with("error"))
        .map(str::trim)
        .filter(|l| {
            match *l {
                "headers:" => in_headers = true,
                "body:" => {
                    in_headers = false;
                    return false;
                }
                _ => {}
            }
            !in_headers && !l.is_empty()
        })
        .take(6)
        .collect();
    if text.is_empty() {
        text.push("cargo failed");
    }
    text.join(" ")
}

#[cfg(test)]
mod tests {
    use crate::plan::Package;

    #[test]
    fn a_failed_dry_run_is_read_in_cargos_order_not_ours() {
        let packages: Vec<Package> = ["a", "b", "c"]
            .map(|name| Package {
                name: name.to_owned(),
                version: "0.1.0".to_owned(),
                dir: std::path::PathBuf::new(),
            })
            .into();
        let refs: Vec<&Package> = packages.iter().collect();
        // cargo packages all, then verifies in an order of its own; `b` breaks.
        let output = "   Packaging a v0.1.0 (/t/a)\n    Packaged 4 files\n   Packaging c v0.1.0 (/t/c)\n\
                      \x20  Packaging b v0.1.0 (/t/b)\n   Verifying c v0.1.0 (/t/c)\n\
                      \x20  Compiling c v0.1.0\n   Verifying b v0.1.0 (/t/b)\n\
                      error[E0425]: cannot find value `oops`\n";
        assert_eq!(super::progress(&refs, output), (vec![2], Some(1)));
        // A registry's plain-text refusal: its words, not cargo's dump of the headers.
        let refused = "   Uploading a v0.1.0 (/t/a)\nerror: failed to publish a v0.1.0 to registry at http://r/\n\n\
                       Caused by:\n  failed to get a 200 OK response, got 401\n  headers:\n  \tHTTP/1.1 401\n\
                       \x20 \tContent-Length: 33\n  \t\n  body:\n  Unauthorized message from server.\n";
        assert_eq!(
            super::first_error(refused),
            "error: failed to publish a v0.1.0 to registry at http://r/ Caused by: failed to get a \
             200 OK response, got 401 Unauthorized message from server."
        );
        // Nothing recognisable: no crate to blame.
        assert_eq!(
            super::progress(&refs, "error: no such registry\n"),
            (vec![], None)
        );
    }
}

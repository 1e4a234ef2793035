//! Runs cargo for the plan: packaging for comparison, the dry run, and each upload with its
//! retries. The token is only ever in cargo's environment, never in argv.
//!
//! Decides nothing about order or rules: the plan and the caller do.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::Env;
use crate::cmd;
use crate::config::{Config, Target};
use crate::index::Index;
use crate::plan::{Package, Plan};
use crate::report::Reporter;
use crate::retry::{self, Failure};
use crate::secret::{Masker, Token};

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
        }
    }
}

/// cargo, set up for one plan: its environment holds the token for the target registry only.
pub struct Cargo<'a> {
    exe: &'a Path,
    plan: &'a Plan,
    cfg: &'a Config,
    env: Env,
    masker: &'a Masker,
}

impl<'a> Cargo<'a> {
    /// `env` must already be scrubbed of tokens.
    pub fn new(
        exe: &'a Path,
        plan: &'a Plan,
        cfg: &'a Config,
        token: Option<&Token>,
        env: &Env,
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
        if let Some(token) = token {
            env.insert(cfg.target.token_var(), token.expose().to_owned());
        }
        Cargo {
            exe,
            plan,
            cfg,
            env,
            masker,
        }
    }

    /// Hand cargo a renewed token.
    pub fn set_token(&mut self, token: &str) {
        self.env
            .insert(self.cfg.target.token_var(), token.to_owned());
    }

    fn command(&self, subcommand: &str, packages: &[&Package], verify: bool) -> Command {
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
            (self.cfg.no_verify || !verify, "--no-verify"),
            (self.cfg.locked, "--locked"),
            (self.cfg.all_features, "--all-features"),
        ];
        command.args(flags.iter().filter(|(on, _)| *on).map(|(_, flag)| flag));
        if !self.cfg.features.is_empty() {
            command.args(["--features", &self.cfg.features.join(",")]);
        }
        command
    }

    /// The `.crate` cargo would upload for `package`, without verifying it.
    pub fn package(&self, package: &Package) -> Result<Vec<u8>> {
        let mut command = self.command("package", &[package], false);
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
        let mut command = self.command("publish", packages, true);
        command.arg("--dry-run");
        for value in config {
            command.args(["--config", value]);
        }
        let started = Instant::now();
        reporter.group_start("cargo_publish_dry_run", "cargo publish --dry-run");
        let finished = cmd::stream(command, self.masker);
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
            let finished = cmd::stream(self.command("publish", &[package], verify), self.masker);
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
                    return Ok(done(
                        Outcome::AlreadyPublished,
                        Some("another publisher uploaded it first".to_owned()),
                    ));
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

/// cargo's error, without the progress lines before it.
fn first_error(output: &str) -> String {
    let mut lines = output.lines().skip_while(|l| !l.starts_with("error"));
    let mut text: Vec<&str> = lines
        .by_ref()
        .take(6)
        .map(str::trim)
        .filter(|l| !l.is_empty())
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
        // Nothing recognisable: no crate to blame.
        assert_eq!(
            super::progress(&refs, "error: no such registry\n"),
            (vec![], None)
        );
    }
}

//! The run's step 9, the check: what the registry has already, and whether it is what this
//! commit holds; the plan printed before anything is uploaded; crates.io's rate limits ahead.

use anyhow::{Context, Result, bail};

use crate::compare::{self, Foreign, Verdict};
use crate::config::{Config, Mismatch};
use crate::index::{Index, Listed};
use crate::outcome::{CrateOutcome, FirstRelease, Outcome};
use crate::plan::{self, Package, Plan};
use crate::prepare::Verifying;
use crate::publish::Cargo;
use crate::registry::Target;
use crate::report::Reporter;
use crate::retry;

use super::verify::listed_and_judged;

/// 9. What the index lists, what the registry has already and whether it is what this commit
///    holds (the early dry run goes on only when it verifies just what the plan uploads),
///    then the plan as it will run, with a line for each first release (`tags`: the
///    build's, which that line may name).
pub(super) fn check(
    cargo: &Cargo,
    index: &Index,
    plan: &Plan,
    verifying: Option<Verifying>,
    cfg: &Config,
    tags: &[String],
    reporter: &Reporter,
) -> Result<(Checked, Option<Verifying>)> {
    let (listed, verifying) = listed_and_judged(index, plan, verifying, cargo)?;
    let checked = check_published(cargo, index, plan, &listed, cfg, tags, reporter)?;
    print_plan(reporter, plan, &checked.upload, &checked.first_releases);
    warn_rate_limit(
        cfg,
        checked.upload.len(),
        checked.new_crates.len(),
        reporter,
    );
    Ok((checked, verifying))
}

/// The outcome of each crate the plan skips, and why.
pub(super) fn skipped(plan: &Plan) -> Vec<CrateOutcome> {
    plan.skipped
        .iter()
        .map(|(p, why)| CrateOutcome::new(p, Outcome::Skipped, Some(why.clone())))
        .collect()
}

/// What [`check_published`] found: the crates to upload (in plan order), the ones the
/// registry has already, and the names it has never seen (with the line each gets).
pub(super) struct Checked {
    pub(super) upload: Vec<Package>,
    pub(super) published: Vec<CrateOutcome>,
    pub(super) new_crates: Vec<String>,
    pub(super) first_releases: Vec<FirstRelease>,
}

/// 9. What the registry has already, and whether it is what this commit holds. Only what is
///    being released may stop the release (ARCHITECTURE.md says so step by step): a crate
///    whose version is already there is compared with its published copy, and when that copy
///    differs, is another crate's, or can't be compared at all (cargo can't package it, its
///    `.crate` can't be downloaded or read), that is a warning naming it — an error with
///    `checksum_mismatch: fail`, and always for the crate the tag names.
pub(super) fn check_published(
    cargo: &Cargo,
    index: &Index,
    plan: &Plan,
    listed: &[Vec<Listed>],
    cfg: &Config,
    tags: &[String],
    reporter: &Reporter,
) -> Result<Checked> {
    let mut checked = Checked {
        upload: Vec::new(),
        published: Vec::new(),
        new_crates: Vec::new(),
        first_releases: Vec::new(),
    };
    for (package, listed) in plan.publish.iter().zip(listed) {
        if listed.is_empty() {
            checked.new_crates.push(package.name.clone());
            checked.first_releases.push(FirstRelease {
                name: package.name.clone(),
                version: package.version.clone(),
                line: plan::first_release_line(plan, package, tags),
            });
        }
        if !listed.iter().any(|v| v.version == package.version) {
            checked.upload.push(package.clone());
            continue;
        }
        let judged = Published {
            package,
            tagged: plan.tagged.contains(&package.name),
            mismatch: cfg.checksum_mismatch,
        };
        let reason = match published_copy(cargo, index, package) {
            Ok(verdict) => judged.verdict(verdict, reporter)?,
            Err(error) => judged.not_compared(&error, reporter)?,
        };
        checked.published.push(CrateOutcome::new(
            package,
            Outcome::AlreadyPublished,
            Some(reason),
        ));
    }
    Ok(checked)
}

/// The registry's copy of `package` against the one this commit makes: packaged by cargo,
/// downloaded, compared.
fn published_copy(cargo: &Cargo, index: &Index, package: &Package) -> Result<Verdict> {
    let spec = package.spec();
    let local = cargo.package(package)?;
    let published = index
        .download(&package.name, &package.version)
        .with_context(|| format!("could not download the published {spec} to compare it"))?;
    compare::judge(&local, &published)
        .with_context(|| format!("could not compare {spec} with the published copy"))
}

/// A crate of the plan whose version the registry has, and what may be said of it.
struct Published<'a> {
    package: &'a Package,
    /// A version tag names it: this is the release, so nothing about it is advice.
    tagged: bool,
    mismatch: Mismatch,
}

impl Published<'_> {
    /// What the comparison found: the report's reason, or the error that stops the run.
    fn verdict(&self, verdict: Verdict, reporter: &Reporter) -> Result<String> {
        let spec = self.package.spec();
        let (message, reason) = match verdict {
            Verdict::Same => return Ok("the same files as this commit".to_owned()),
            Verdict::Differs(changed) => {
                let changed = changed.join(", ");
                let differs = format!(
                    "{spec} is already published, but the commit's content differs: {changed}"
                );
                if self.tagged {
                    // The tag names this very release: it was moved after the release, or the
                    // release was made from another commit. Never a warning.
                    bail!(
                        "{differs}. The tag names this version, so the commit is not what was \
                         released: was the tag moved after the release? Bump the version for \
                         the new content (`check_tag: false` turns this check off)"
                    );
                }
                (
                    format!(
                        "{differs}. The code changed without a version bump; bump the version \
                         in Cargo.toml to release it"
                    ),
                    format!("the commit differs in {changed}"),
                )
            }
            Verdict::Foreign(why) => {
                let (message, why) = self.taken(&why);
                if self.tagged {
                    bail!("{message}");
                }
                (message, format!("name taken by another crate: {why}"))
            }
        };
        match self.mismatch {
            Mismatch::Fail => bail!("{message} (`checksum_mismatch: fail` is set)"),
            Mismatch::Warn => reporter.warn(&message),
        }
        Ok(reason)
    }

    /// The name is another crate's: the message, and the evidence for the report.
    fn taken(&self, why: &Foreign) -> (String, String) {
        let Package { name, .. } = self.package;
        let why = match why {
            Foreign::Repository { published, local } => {
                format!("its repository is {published}, this commit's is {local}")
            }
            Foreign::NoFileInCommon => "not one of its files is this commit's".to_owned(),
        };
        let message = format!(
            "{} is on the registry, but it shares nothing with this commit ({why}): the name \
             `{name}` is taken by another crate. Registry names are first come, first served \
             (crates.io's too): give yours another `name` in Cargo.toml to publish it. If that \
             crate is yours after all (a rewrite, a repository that moved), bump the version \
             to release this commit",
            self.package.spec()
        );
        (message, why)
    }

    /// The published copy could not be compared (`error` says why): a warning for a crate
    /// not being released, else the error that stops the run.
    fn not_compared(&self, error: &anyhow::Error, reporter: &Reporter) -> Result<String> {
        let why = format!("{error:#}");
        if self.tagged {
            bail!(
                "{why}. The tag names this version: it is what this build releases, so it must \
                 be checked against what the registry has"
            );
        }
        if let Mismatch::Fail = self.mismatch {
            bail!(
                "{why}: comparison with the published copy was impossible, so whether it is \
                 this commit's can't be known (`checksum_mismatch: fail` is set)"
            );
        }
        reporter.warn(&format!(
            "{why}; it is not being released, so this does not block the release"
        ));
        Ok(format!("not compared: {why}"))
    }
}

/// The plan, before anything is uploaded, and after it a line for each crate the registry
/// has never seen (a notice: on GitHub an annotation too).
pub(super) fn print_plan(
    reporter: &Reporter,
    plan: &Plan,
    upload: &[Package],
    first_releases: &[FirstRelease],
) {
    reporter.status(
        "Plan",
        &format!("{} crate(s) to upload, in this order:", upload.len()),
    );
    for package in &plan.publish {
        let action = if upload.contains(package) {
            "publish"
        } else {
            "skip: already published"
        };
        reporter.status(
            "",
            &format!("{} v{}: {action}", package.name, package.version),
        );
    }
    for (package, why) in &plan.skipped {
        reporter.status(
            "",
            &format!("{} v{}: skip: {why}", package.name, package.version),
        );
    }
    for first in first_releases {
        reporter.notice(&first.line);
    }
}

/// crates.io's rate limits, when this plan goes beyond their burst: the waits to expect.
pub(super) fn warn_rate_limit(
    cfg: &Config,
    uploads: usize,
    new_crates: usize,
    reporter: &Reporter,
) {
    let new_versions = uploads.saturating_sub(new_crates);
    if matches!(cfg.target, Target::CratesIo)
        && !cfg.dry_run
        && let Some(warning) = retry::crates_io_wait_warning(new_crates, new_versions, cfg.deadline)
    {
        reporter.warn(&warning);
    }
}

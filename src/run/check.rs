//! The run's step 9, the check: what the registry has already, and whether it is what this
//! commit holds; the plan printed before anything is uploaded; crates.io's rate limits ahead.

use anyhow::{Result, bail};

use crate::compare;
use crate::config::{Config, Mismatch};
use crate::index::{Index, Listed};
use crate::outcome::{CrateOutcome, Outcome};
use crate::plan::{Package, Plan};
use crate::prepare::Verifying;
use crate::publish::Cargo;
use crate::registry::Target;
use crate::report::Reporter;
use crate::retry;

use super::verify::listed_and_judged;

/// 9. What the index lists, what the registry has already and whether it is what this commit
///    holds (the early dry run goes on only when it verifies just what the plan uploads),
///    then the plan as it will run.
pub(super) fn check(
    cargo: &Cargo,
    index: &Index,
    plan: &Plan,
    verifying: Option<Verifying>,
    cfg: &Config,
    reporter: &Reporter,
) -> Result<(Checked, Option<Verifying>)> {
    let (listed, verifying) = listed_and_judged(index, plan, verifying, cargo)?;
    let checked = check_published(cargo, index, plan, &listed, cfg, reporter)?;
    print_plan(reporter, plan, &checked.upload);
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
/// registry has already, and the names it has never seen.
pub(super) struct Checked {
    pub(super) upload: Vec<Package>,
    pub(super) published: Vec<CrateOutcome>,
    pub(super) new_crates: Vec<String>,
}

/// 9. What the registry has already, and whether it is what this commit holds: a version
///    already there with other content is a warning, an error with `checksum_mismatch: fail`,
///    and always an error for the crate the tag names.
pub(super) fn check_published(
    cargo: &Cargo,
    index: &Index,
    plan: &Plan,
    listed: &[Vec<Listed>],
    cfg: &Config,
    reporter: &Reporter,
) -> Result<Checked> {
    let mut checked = Checked {
        upload: Vec::new(),
        published: Vec::new(),
        new_crates: Vec::new(),
    };
    for (package, listed) in plan.publish.iter().zip(listed) {
        if listed.is_empty() {
            checked.new_crates.push(package.name.clone());
        }
        if !listed.iter().any(|v| v.version == package.version) {
            checked.upload.push(package.clone());
            continue;
        }
        let changed = compare::differences(
            &cargo.package(package)?,
            &index.download(&package.name, &package.version)?,
        )?;
        let mut reason = "already published".to_owned();
        if !changed.is_empty() {
            let differs = format!(
                "{} is already published, but the commit's content differs: {}",
                package.spec(),
                changed.join(", ")
            );
            if plan.tagged.contains(&package.name) {
                // The tag names this very release: it was moved after the release, or the
                // release was made from another commit. Never a warning.
                bail!(
                    "{differs}. The tag names this version, so the commit is not what was \
                     released: was the tag moved after the release? Bump the version for the \
                     new content (`check_tag: false` turns this check off)"
                );
            }
            let message = format!(
                "{differs}. The code changed without a version bump; bump the version in \
                 Cargo.toml to release it"
            );
            match cfg.checksum_mismatch {
                Mismatch::Fail => bail!("{message} (`checksum_mismatch: fail` is set)"),
                Mismatch::Warn => reporter.warn(&message),
            }
            reason = format!(
                "already published; the commit differs in {}",
                changed.join(", ")
            );
        }
        checked.published.push(CrateOutcome::new(
            package,
            Outcome::AlreadyPublished,
            Some(reason),
        ));
    }
    Ok(checked)
}

/// The plan, before anything is uploaded.
pub(super) fn print_plan(reporter: &Reporter, plan: &Plan, upload: &[Package]) {
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
        && let Some(minutes) = retry::crates_io_wait_minutes(new_crates, new_versions)
    {
        reporter.warn(&format!(
            "this plan has {new_crates} new crate(s) and {new_versions} new version(s), beyond \
             crates.io's burst (5 new crates, 30 new versions): expect about {minutes} minutes of \
             rate-limit waits, which shipcrate will sit out"
        ));
    }
}

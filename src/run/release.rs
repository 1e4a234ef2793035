//! Steps 10–13, the release itself once the checks say there is something to upload: verify
//! every crate, get ready (trusted token, `before_deploy`), upload, then `after_deploy` and the
//! report. Takes what the checks hand over (`Ahead`); decides in order only.

use anyhow::Result;

use crate::checkout::PristineTree;
use crate::checksums;
use crate::config::Config;
use crate::hooks::Hooks;
use crate::outcome::{CrateOutcome, Outcome};
use crate::plan::Package;
use crate::prepare::{Settled, Verifying};
use crate::report::Reporter;
use crate::upload::{self, DeadlineReached};

use super::publisher::Publisher;
use super::report::{Report, failure, hint_trusted, stop_summary};
use super::verify::verified;

/// What the steps past the checks take from them, when there is something to upload.
pub(super) struct Ahead {
    pub(super) tree: Option<PristineTree>,
    /// The workspace's dry run started early, if it verifies just this plan.
    pub(super) verifying: Option<Verifying>,
    /// The crates to upload, in plan order.
    pub(super) upload: Vec<Package>,
    /// Each of `upload` as `name@version`, as cargo and the hooks are told.
    pub(super) crates: Vec<String>,
    /// The names the registry has never seen.
    pub(super) new_crates: Vec<String>,
    /// Each crate's outcome so far (skipped, already published).
    pub(super) outcomes: Vec<CrateOutcome>,
}

/// 10.–13. Verify, get ready, upload, then `after_deploy` and the report.
pub(super) fn upload(
    settled: &Settled,
    commit: &str,
    ahead: Ahead,
    mut publisher: Publisher,
    report: &Report,
    reporter: &Reporter,
) -> Result<()> {
    let cfg = &settled.cfg;
    let Ahead {
        tree,
        verifying,
        upload,
        crates,
        new_crates,
        mut outcomes,
    } = ahead;

    // From here a signal's report says what went up and what is left.
    let progress = report.uploading(&outcomes, &upload);

    // 10. Verify every crate, each against the others' new versions, in one dry run (as
    //     cargo's multi-package publish does): each is built once, and a crate that doesn't
    //     build stops the run before any hook runs or anything is uploaded.
    let (verified, mut halted) =
        verified(&mut publisher, verifying, &upload, &crates, cfg, reporter)?;
    outcomes.extend(verified);

    // 11. The trusted-publishing token (GitHub), then before_deploy.
    let tree_root = tree.as_ref().map_or(settled.root.as_path(), |t| t.root());
    let hooks = Hooks::new(
        cfg,
        &settled.tools,
        &settled.root,
        &settled.hook_base,
        commit,
        &crates,
        tree_root,
    );
    if halted.is_none()
        && let Err((error, why)) = ready_to_upload(&mut publisher, &hooks, cfg, reporter)
    {
        outcomes.extend(
            upload
                .iter()
                .map(|p| CrateOutcome::new(p, Outcome::NotStarted, Some(why.into()))),
        );
        if error.is::<DeadlineReached>() {
            reporter.status("Stopped", &stop_summary(&outcomes));
        }
        report.write(reporter, outcomes)?;
        return Err(error.context("nothing was published"));
    }

    // 12. Upload, in order, each crate visible in the index before anything that needs it.
    if halted.is_none()
        && let Some(uploads) = publisher.upload(&upload, progress, reporter)
    {
        outcomes.extend(uploads.outcomes);
        halted = uploads.halted;
    }
    // What went up, as the registry holds it: each `.crate`'s SHA-256 against the index's.
    if let Some(index) = publisher.index.as_mut() {
        let cargo = &publisher.cargo;
        let file = |name: &str, version: &str| cargo.uploaded(name, version);
        let crate_dir = cfg.crate_dir.as_deref();
        if let Err(error) = checksums::check(&mut outcomes, file, index, crate_dir, reporter) {
            match halted {
                None => halted = Some(error),
                Some(_) => reporter.error(&format!("{error:#}")),
            }
        }
    }
    if halted.as_ref().is_some_and(|e| e.is::<DeadlineReached>()) {
        reporter.status("Stopped", &stop_summary(&outcomes));
    }
    hint_trusted(
        &outcomes,
        publisher.trusted.is_some(),
        &new_crates,
        reporter,
    );

    // 13. after_deploy, then the report — written whatever happened above.
    finish(&hooks, publisher, tree, halted, outcomes, report, reporter)
}

/// 13. `after_deploy` unless something failed; done with the registry (the session revokes its
///     token); the report, written whatever happened; the error of a run that failed.
fn finish(
    hooks: &Hooks,
    publisher: Publisher,
    tree: Option<PristineTree>,
    halted: Option<anyhow::Error>,
    outcomes: Vec<CrateOutcome>,
    report: &Report,
    reporter: &Reporter,
) -> Result<()> {
    let failed = halted.is_some() || outcomes.iter().any(|c| c.outcome == Outcome::Failed);
    let after = if failed {
        Ok(())
    } else {
        hooks.after_deploy(reporter)
    };
    publisher.close(tree, reporter);
    let error = failed.then(|| failure(halted, &outcomes));
    report.write(reporter, outcomes)?;
    match error {
        Some(error) => Err(error),
        None => after,
    }
}

/// 11. Ready to upload: the trusted-publishing token minted where that is free (GitHub), then
///     `before_deploy` — only when something will really be uploaded. An error comes with
///     what the crates not started are told.
fn ready_to_upload(
    publisher: &mut Publisher,
    hooks: &Hooks,
    cfg: &Config,
    reporter: &Reporter,
) -> Result<(), (anyhow::Error, &'static str)> {
    // Nothing readies an upload that won't start: the verification may end past `deadline`.
    if !cfg.dry_run {
        upload::deadline_reached(
            reporter.started(),
            cfg.deadline,
            "the verification ended past it",
        )
        .map_err(|error| (error, "the run reached its deadline before its uploads"))?;
    }
    publisher
        .mint_early(cfg.dry_run, reporter)
        .map_err(|error| (error, "no trusted-publishing token"))?;
    hooks
        .before_deploy(reporter)
        .map_err(|error| (error, "before_deploy failed"))
}

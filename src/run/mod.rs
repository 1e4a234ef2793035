//! The run, as named steps: settle (settings, where we run, the decision) → preflight →
//! prepare (copy ‖ plan ‖ index) → check what's published → verify → mint and `before_deploy`
//! → upload → finish. Checks that can fail for bad config all run before anything
//! irreversible; the report is written whatever happens after the decision.
//!
//! Decides in order only: each step's rules live in the module that owns its concern.
//!
//! Its parts: `preflight` (step 5: the token, the session, the commit), `check` (9: what the
//! registry has already, the plan printed), `verify` (10: the dry run, and whether the one
//! started early is it), `publisher` (`Publisher`: what talks to the registry in 11–13),
//! `report` (the report's assembly, the error of a failed run, the advice after one).

mod check;
mod preflight;
mod publisher;
mod report;
mod verify;

use std::path::Path;

use anyhow::{Context, Result};

use crate::checkout::PristineTree;
use crate::cli::{Action, Invocation};
use crate::conditions::Decision;
use crate::config::Config;
use crate::hooks::Hooks;
use crate::outcome::{CrateOutcome, Outcome};
use crate::ownership::HandBack;
use crate::plan::{self, Package};
use crate::prepare::{self, Prepared, Settled, Verifying};
use crate::publish::Cargo;
use crate::report::Reporter;
use crate::secret::{LiveToken, Token};
use crate::trusted::Session;
use crate::upload::{self, DeadlineReached};
use crate::{Env, checksums, copy, explain, git, migrate, signals};

use check::{check, skipped};
use preflight::preflight;
use publisher::{DropBehind, Publisher};
use report::{Report, failure, hint_trusted, stop_summary};
use verify::verified;

/// Run shipcrate as the process was started: its environment and working directory.
#[allow(
    clippy::needless_pass_by_value,
    reason = "main hands the invocation over"
)]
pub fn run(invocation: Invocation) -> Result<()> {
    let mut env = Env::new();
    let mut unreadable = Vec::new();
    for (key, value) in std::env::vars_os() {
        match (key.into_string(), value.into_string()) {
            (Ok(key), Ok(value)) => {
                env.insert(key, value);
            }
            (key, _) => unreadable.push(key.unwrap_or_else(|k| k.to_string_lossy().into_owned())),
        }
    }
    let reporter = Reporter::new(&env);
    let result = prepare::refuse_unreadable(&unreadable, None)
        .and_then(|()| current_dir())
        .and_then(|cwd| {
            signals::install().context("could not install signal handlers")?;
            pipeline(&invocation, &env, &unreadable, &cwd, &reporter)
        });
    // Nothing the run started outlives it: what is still running under us now is a stray.
    signals::stop_strays();
    if let Err(error) = &result {
        reporter.error(&format!("{error:#}"));
    }
    result
}

/// The directory shipcrate was started in; one deleted since is said as such.
fn current_dir() -> Result<std::path::PathBuf> {
    std::env::current_dir().map_err(|error| {
        let why = match error.kind() {
            std::io::ErrorKind::NotFound => {
                "it no longer exists (deleted, or moved away, after the shell entered it)"
                    .to_owned()
            }
            _ => error.to_string(),
        };
        crate::error::UsageError(format!(
            "cannot read the current directory: {why}. cd into the repository's checkout and \
             run shipcrate again"
        ))
        .into()
    })
}

/// What the command asks for: `migrate` and `copy` stop early; `explain` and `publish` settle
/// the run first.
fn pipeline(
    invocation: &Invocation,
    env: &Env,
    unreadable: &[String],
    cwd: &Path,
    reporter: &Reporter,
) -> Result<()> {
    if let Action::Migrate {
        to,
        file: Some(file),
    } = &invocation.action
    {
        return migrate::print(&cwd.join(file), *to);
    }
    let (root, facts) = git::open(cwd, env)?;
    if let Action::Copy { dir, commit } = &invocation.action {
        return copy::copy(
            &root,
            &facts,
            env,
            &cwd.join(dir),
            commit.as_deref(),
            reporter,
        );
    }
    if let Action::Migrate { to, file: None } = invocation.action {
        return migrate::print(&root.join(".travis.yml"), to);
    }
    let (settled, token) =
        prepare::settle(root, &facts, env, unreadable, &invocation.flags, reporter)?;
    if invocation.action == Action::Explain {
        return explain::explain(&settled, token, env, reporter);
    }
    publish(&settled, token, env, reporter)
}

/// A build that may publish, from its decision to its report.
fn publish(
    settled: &Settled,
    token: Result<Option<Token>>,
    env: &Env,
    reporter: &Reporter,
) -> Result<()> {
    let report = Report::new(settled, env);
    if let Decision::Skip(why) = &settled.decision {
        reporter.notice(&format!("not publishing: {why}"));
        return report.write(reporter, Vec::new());
    }
    // From here a signal's report says what is known when it comes (see `OnSignal`).
    let _on_signal = report.on_signal(reporter);
    let result = decided(settled, token, env, &report, reporter);
    // Whatever stopped the run, past the decision the report is written, with what is known.
    if let Err(error) = &result {
        report.write_unwritten(reporter, error);
    }
    result
}

/// 5.–13. A build that will publish, from its pre-flight on.
fn decided(
    settled: &Settled,
    token: Result<Option<Token>>,
    env: &Env,
    report: &Report,
    reporter: &Reporter,
) -> Result<()> {
    let cfg = &settled.cfg;

    // 5. Pre-flight: a token when one is needed, a commit to copy.
    let (live, trusted, commit) = preflight(settled, token, env, reporter)?;

    // 6.–8. The pristine copy, the plan, the registry's index.
    let verify = cfg.dry_run || !cfg.no_verify;
    let prepared = prepare::prepare(settled, &commit, &live, verify, reporter)?;
    let target_dir = prepared.plan.target_dir.clone();
    let _hand_back = HandBack {
        root: &settled.root,
        dir: &target_dir,
        reporter,
    };
    check_and_upload(settled, &commit, &live, trusted, prepared, report, reporter)
}

/// 9.–13. With the copy, the plan and the index: what the registry has already, then the
/// crates to upload (verified, uploaded, reported).
fn check_and_upload(
    settled: &Settled,
    commit: &str,
    live: &LiveToken,
    trusted: Option<Session>,
    prepared: Prepared,
    report: &Report,
    reporter: &Reporter,
) -> Result<()> {
    let cfg = &settled.cfg;
    let Prepared {
        tree,
        mut plan,
        index,
        verifying,
    } = prepared;
    if settled.ctx.is_tag_build() {
        plan::check_tags(&mut plan, &settled.ctx.tags, cfg.check_tag)?;
    }
    report.planned(&plan.publish);
    let cargo = Cargo::new(
        &settled.tools.cargo,
        &plan,
        cfg.cargo_flags(),
        live,
        &settled.clean_env,
        index.auth_required(),
        reporter.masker(),
    );

    // 9. Pre-flight, all before any upload: what the registry has already, and whether it is
    //    what this commit holds.
    let (checked, verifying) = check(
        &cargo,
        &index,
        &plan,
        verifying,
        cfg,
        &settled.ctx.tags,
        reporter,
    )?;
    report.first_releases(&checked.first_releases);
    let mut outcomes = skipped(&plan);
    outcomes.extend(checked.published);
    if checked.upload.is_empty() {
        reporter.notice("nothing to upload: every crate in the plan is published or skipped");
        return report.write(reporter, outcomes);
    }

    // A dry run reads the index no further: its temp dir goes while cargo builds, not after.
    let (index, gone) = match cfg.dry_run {
        true => (None, Some(index)),
        false => (Some(index), None),
    };
    let _index_gone = DropBehind::start(gone);
    let mut publisher = Publisher::new(cargo, cfg.retry_policy(), index, trusted);
    publisher.start_early(cfg, &checked.upload, live);
    let ahead = Ahead {
        tree,
        verifying,
        crates: checked.upload.iter().map(Package::spec).collect(),
        upload: checked.upload,
        new_crates: checked.new_crates,
        outcomes,
    };
    upload(settled, commit, ahead, publisher, report, reporter)
}

/// What the steps past the checks take from them, when there is something to upload.
struct Ahead {
    tree: Option<PristineTree>,
    /// The workspace's dry run started early, if it verifies just this plan.
    verifying: Option<Verifying>,
    /// The crates to upload, in plan order.
    upload: Vec<Package>,
    /// Each of `upload` as `name@version`, as cargo and the hooks are told.
    crates: Vec<String>,
    /// The names the registry has never seen.
    new_crates: Vec<String>,
    /// Each crate's outcome so far (skipped, already published).
    outcomes: Vec<CrateOutcome>,
}

/// 10.–13. Verify, get ready, upload, then `after_deploy` and the report.
fn upload(
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

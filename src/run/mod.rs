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
//! `release` (10–13 once there is something to upload: verify, get ready, upload, finish),
//! `report` (the report's assembly, the error of a failed run, the advice after one).

mod check;
mod preflight;
mod publisher;
mod release;
mod report;
mod verify;

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{Action, Invocation};
use crate::conditions::Decision;
use crate::ownership::HandBack;
use crate::plan::{self, Package};
use crate::prepare::{self, Prepared, Settled};
use crate::publish::Cargo;
use crate::report::Reporter;
use crate::secret::{LiveToken, Token};
use crate::trusted::Session;
use crate::{Env, copy, explain, git, migrate, signals};

use check::{check, skipped};
use preflight::preflight;
use publisher::{DropBehind, Publisher};
use release::{Ahead, upload};
use report::Report;

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
    let result = crate::secret::refuse_unreadable(&unreadable, None)
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

//! The report of a run past its decision, assembled: its header (the decision, dry run, commit,
//! registry) around the crates' outcomes (`Report`), the error of a failed run (`failure`),
//! and the advice a failed upload deserves under trusted publishing (`hint_trusted`).

use std::cell::{Cell, OnceCell};
use std::sync::{Arc, OnceLock};

use anyhow::Result;

use crate::Env;
use crate::outcome::{CrateOutcome, FirstRelease, Outcome, Progress};
use crate::plan::Package;
use crate::prepare::Settled;
use crate::report::{ReportFiles, Reporter, Summary};
use crate::{cargo_output, signals};

/// The advice a failed upload deserves under trusted publishing: a crate locked to it when
/// this run had a token, a new crate (which needs a token) when it had none.
pub(super) fn hint_trusted(
    outcomes: &[CrateOutcome],
    trusted: bool,
    new_crates: &[String],
    reporter: &Reporter,
) {
    for crate_ in outcomes.iter().filter(|c| c.outcome == Outcome::Failed) {
        let reason = crate_.reason.as_deref().unwrap_or_default();
        if cargo_output::wants_trusted_publishing(reason) && !trusted {
            reporter.warn(&format!(
                "{} accepts only trusted publishing: drop the token and give the job an OIDC \
                 identity (GitHub: `permissions: id-token: write`; GitLab: `id_tokens:`)",
                crate_.name
            ));
        } else if trusted
            && new_crates.contains(&crate_.name)
            && cargo_output::refused_credentials(reason)
        {
            reporter.warn(&format!(
                "{} is a new crate: its first publish needs a normal API token; trusted \
                 publishing works from its second release on",
                crate_.name
            ));
        }
    }
}

/// The error of a run that failed after the decision: what stopped it, and what was
/// published, what failed and what never started.
pub(super) fn failure(halted: Option<anyhow::Error>, outcomes: &[CrateOutcome]) -> anyhow::Error {
    let list = |o: Outcome| {
        let names: Vec<String> = outcomes
            .iter()
            .filter(|c| c.outcome == o)
            .map(|c| format!("{} v{}", c.name, c.version))
            .collect();
        if names.is_empty() {
            "nothing".to_owned()
        } else {
            names.join(", ")
        }
    };
    let why = halted.map(|e| format!("{e:#}; ")).unwrap_or_default();
    anyhow::anyhow!(
        "{why}published: {}; failed: {}; not started: {}",
        list(Outcome::Published),
        list(Outcome::Failed),
        list(Outcome::NotStarted)
    )
}

/// The line a stopped run ends with: what went up, what is left, and that a re-run finishes.
pub(super) fn stop_summary(outcomes: &[CrateOutcome]) -> String {
    let mut published = Vec::new();
    let mut left = Vec::new();
    for c in outcomes {
        let spec = format!("{} v{}", c.name, c.version);
        match c.outcome {
            Outcome::Published => published.push(spec),
            Outcome::NotStarted => left.push(spec),
            Outcome::Interrupted => left.push(format!("{spec} (interrupted)")),
            Outcome::Failed => left.push(format!("{spec} (failed)")),
            Outcome::AlreadyPublished | Outcome::Verified | Outcome::Skipped => {}
        }
    }
    if outcomes.is_empty() {
        // Stopped before the plan was made (the copy, the index's first read).
        return "nothing uploaded: stopped before the crates to publish were known; re-run this \
                job to publish them"
            .to_owned();
    }
    let names = |list: &[String]| match list {
        [] => "none".to_owned(),
        _ => list.join(", "),
    };
    format!(
        "published {} of {} ({}); not yet: {}; re-run this job to publish the rest — crates \
         already published are skipped",
        published.len(),
        published.len() + left.len(),
        names(&published),
        names(&left)
    )
}

/// Why a planned crate was not started when the run stopped before its uploads.
const NOT_STARTED: &str = "the run stopped before its uploads";

/// While it lives, a signal that stops the run writes the report as far as `Progress` knows
/// it (JSON, GitHub outputs and summary, dotenv) and says what is left, before the exit.
pub(super) struct OnSignal;

impl Drop for OnSignal {
    fn drop(&mut self) {
        signals::set_report(None);
    }
}

/// The report of a run past its decision: where it goes and what it says besides the crates.
pub(super) struct Report<'a> {
    settled: &'a Settled,
    files: ReportFiles,
    env: &'a Env,
    /// The crates the registry had never seen, once the check knows them (a signal's report
    /// reads them when it comes).
    first_releases: Arc<OnceLock<Vec<FirstRelease>>>,
    /// The crates the plan would publish, once it is made.
    planned: OnceCell<Vec<CrateOutcome>>,
    /// Every crate's outcome as far as it is known, for a signal's report: the plan's, not
    /// started, then the uploads' as they go.
    progress: Progress,
    /// Whether the report has been written (it is written once).
    written: Cell<bool>,
}

impl<'a> Report<'a> {
    pub(super) fn new(settled: &'a Settled, env: &'a Env) -> Self {
        let files = ReportFiles {
            json: settled.cfg.report.clone(),
            dotenv: settled.cfg.dotenv.clone(),
        };
        Report {
            settled,
            files,
            env,
            first_releases: Arc::default(),
            planned: OnceCell::new(),
            progress: Progress::default(),
            written: Cell::new(false),
        }
    }

    /// The plan's crates to publish: a report written before their outcomes are known lists
    /// them as not started.
    pub(super) fn planned(&self, publish: &[Package]) {
        let not_started = |p| CrateOutcome::new(p, Outcome::NotStarted, Some(NOT_STARTED.into()));
        let planned: Vec<CrateOutcome> = publish.iter().map(not_started).collect();
        self.progress.restart(planned.clone());
        let _ = self.planned.set(planned);
    }

    /// The uploads begin: `known` (skipped, already published, verified) and `upload`, not
    /// started; the returned `Progress` keeps a signal's report current as they go.
    pub(super) fn uploading(&self, known: &[CrateOutcome], upload: &[Package]) -> Progress {
        self.progress
            .restart(Progress::new(known, upload).snapshot());
        self.progress.clone()
    }

    /// After `error` stopped the run: the report, with what is known (the plan's crates, not
    /// started), unless it was written already. Failing to write it is a warning: the error
    /// that stopped the run is the one to tell.
    pub(super) fn write_unwritten(&self, reporter: &Reporter, error: &anyhow::Error) {
        if self.written.get() {
            return;
        }
        let crates = self.planned.get().cloned().unwrap_or_default();
        if let Err(failed) = self.write(reporter, crates) {
            reporter.warn(&format!("{failed:#} (after: {error:#})"));
        }
    }

    /// The crates the registry has never seen, as the check found them: every report from
    /// here on lists them (the check runs once; a second call changes nothing).
    pub(super) fn first_releases(&self, first: &[FirstRelease]) {
        let _ = self.first_releases.set(first.to_vec());
    }

    /// Until the guard goes, a signal writes this report as far as it is known then (see
    /// `planned`, `first_releases`, `uploading`).
    pub(super) fn on_signal(&self, reporter: &Reporter) -> OnSignal {
        let Settled {
            cfg, ctx, decision, ..
        } = self.settled;
        let (decision, dry_run, commit) = (decision.clone(), cfg.dry_run, ctx.commit.clone());
        let registry = cfg.target.to_string();
        let files = self.files.clone();
        let (progress, first_releases) = (self.progress.clone(), self.first_releases.clone());
        // Only where GitHub's outputs and summary go: nothing else of the environment.
        let env: Env = self
            .env
            .iter()
            .filter(|(k, _)| *k == "GITHUB_OUTPUT" || *k == "GITHUB_STEP_SUMMARY")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let reporter = reporter.clone();
        signals::set_report(Some(Box::new(move |signal| {
            let crates = progress.snapshot();
            reporter.status(
                "Stopped",
                &format!("by signal {signal}: {}", stop_summary(&crates)),
            );
            let summary = Summary {
                decision: decision.clone(),
                dry_run,
                commit: commit.clone(),
                registry: registry.clone(),
                crates,
                first_releases: first_releases.get().cloned().unwrap_or_default(),
            };
            if let Err(error) = reporter.finish(&summary, &files, &env) {
                reporter.error(&format!("{error:#}"));
            }
        })));
        OnSignal
    }

    /// The log's summary, GitHub's outputs and step summary, the JSON report.
    pub(super) fn write(&self, reporter: &Reporter, crates: Vec<CrateOutcome>) -> Result<()> {
        let Settled {
            cfg, ctx, decision, ..
        } = self.settled;
        let summary = Summary {
            decision: decision.clone(),
            dry_run: cfg.dry_run,
            commit: ctx.commit.clone(),
            registry: cfg.target.to_string(),
            crates,
            first_releases: self.first_releases.get().cloned().unwrap_or_default(),
        };
        self.written.set(true);
        reporter.finish(&summary, &self.files, self.env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_before_the_plan_says_nothing_went_up_not_that_nothing_is_left() {
        assert_eq!(
            stop_summary(&[]),
            "nothing uploaded: stopped before the crates to publish were known; re-run this job \
             to publish them"
        );
    }
}

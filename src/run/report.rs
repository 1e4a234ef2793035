//! The report of a run past its decision, assembled: its header (the decision, dry run, commit,
//! registry) around the crates' outcomes (`Report`), the error of a failed run (`failure`),
//! and the advice a failed upload deserves under trusted publishing (`hint_trusted`).

use std::cell::OnceCell;

use anyhow::Result;

use crate::Env;
use crate::cargo_output;
use crate::outcome::{CrateOutcome, FirstRelease, Outcome};
use crate::prepare::Settled;
use crate::report::{ReportFiles, Reporter, Summary};

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

/// The report of a run past its decision: where it goes and what it says besides the crates.
pub(super) struct Report<'a> {
    settled: &'a Settled,
    files: ReportFiles,
    env: &'a Env,
    /// The crates the registry had never seen, once the check knows them.
    first_releases: OnceCell<Vec<FirstRelease>>,
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
            first_releases: OnceCell::new(),
        }
    }

    /// The crates the registry has never seen, as the check found them: every report from
    /// here on lists them (the check runs once; a second call changes nothing).
    pub(super) fn first_releases(&self, first: &[FirstRelease]) {
        let _ = self.first_releases.set(first.to_vec());
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
        reporter.finish(&summary, &self.files, self.env)
    }
}

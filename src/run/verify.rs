//! The run's step 10, the verification: whether the dry run started early beside the plan is
//! this run's (`takes_over`), and the dry run of every crate to upload.

use anyhow::Result;

use crate::cmd;
use crate::config::Config;
use crate::index::{Index, Listed};
use crate::outcome::{CrateOutcome, Outcome};
use crate::plan::{self, Package, Plan};
use crate::prepare::Verifying;
use crate::publish::Cargo;
use crate::report::Reporter;

use super::publisher::Publisher;

/// What the index lists of each planned crate, and the dry run started early if it goes on:
/// only when it verifies just what this plan uploads ([`takes_over`]); else it is stopped now,
/// before anything else runs cargo on the tree.
pub(super) fn listed_and_judged(
    index: &Index,
    plan: &Plan,
    verifying: Option<Verifying>,
    cargo: &Cargo,
) -> Result<(Vec<Vec<Listed>>, Option<Verifying>)> {
    let listed: Vec<Vec<Listed>> = plan
        .publish
        .iter()
        .map(|p| index.versions_deciding(&p.name, &p.spec()))
        .collect::<Result<_>>()?;
    let verifying = verifying.filter(|v| takes_over(v, plan, &listed, index, cargo));
    Ok((listed, verifying))
}

/// Whether the dry run started early (`cargo publish --dry-run --workspace` in the tree) is
/// this run's verification: it ran where the plan runs cargo and built in the plan's target
/// dir, and it verifies exactly the plan's crates — every member but those with `publish =
/// false`, none of them already in the index, in an order cargo can make — against an index
/// read without a token.
pub(super) fn takes_over(
    verifying: &Verifying,
    plan: &Plan,
    listed: &[Vec<Listed>],
    index: &Index,
    cargo: &Cargo,
) -> bool {
    plan.whole_workspace
        && verifying.dir == plan.dir
        && verifying.target_dir == plan.target_dir
        && !plan.publish.is_empty()
        && plan
            .skipped
            .iter()
            .all(|(_, why)| why == plan::PUBLISH_FALSE)
        && plan
            .publish
            .iter()
            .zip(listed)
            .all(|(p, listed)| !listed.iter().any(|l| l.version == p.version))
        && !index.auth_required()
        && !cargo.cannot_order(&plan.publish)
}

/// 10. The dry run of every crate to upload: each crate's outcome when this is a dry run (else
///     only when verification failed), and the error that stops the run when it did.
pub(super) fn verify(
    cargo: &Cargo,
    upload: &[Package],
    crates: &[String],
    dry_run: bool,
    started: Option<cmd::Streaming>,
    reporter: &Reporter,
) -> Result<(Vec<CrateOutcome>, Option<anyhow::Error>)> {
    let when = if dry_run {
        "(dry run)"
    } else {
        "before uploading any"
    };
    reporter.status("Verifying", &format!("{} {when}", crates.join(", ")));
    let checked = cargo.dry_run(upload, started, reporter);
    // The verification's build scripts ran as our user: nothing they left running (a daemon
    // in a session of its own) lives on to see a hook or the upload's gate holding the token.
    crate::signals::stop_strays();
    let checked = checked?;
    let failed: Vec<String> = checked
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .map(|c| format!("{}@{}", c.name, c.version))
        .collect();
    Ok(match failed.as_slice() {
        _ if dry_run => (checked, None),
        // All verified: the uploads report each crate.
        [] => (Vec::new(), None),
        failed => {
            // One crate when cargo's output named it; else the dry run as a whole.
            let why = match failed {
                [bad] => format!("{bad} failed to verify"),
                _ => "the dry run before the first upload failed".to_owned(),
            };
            let halted = anyhow::anyhow!("{why}: nothing was uploaded");
            let outcomes = checked
                .into_iter()
                .map(|c| match c.outcome {
                    Outcome::Failed => c,
                    _ => CrateOutcome {
                        outcome: Outcome::NotStarted,
                        reason: Some(why.clone()),
                        duration_ms: 0,
                        ..c
                    },
                })
                .collect();
            (outcomes, Some(halted))
        }
    })
}

/// 10. The verification, unless `no_verify` turns it off on a real run: the outcomes it
///     reports, and what halted the run (then the early upload, refused at its gate, stops).
pub(super) fn verified(
    publisher: &mut Publisher,
    verifying: Option<Verifying>,
    upload: &[Package],
    crates: &[String],
    cfg: &Config,
    reporter: &Reporter,
) -> Result<(Vec<CrateOutcome>, Option<anyhow::Error>)> {
    if !cfg.dry_run && cfg.no_verify {
        return Ok((Vec::new(), None));
    }
    let started = verifying.and_then(Verifying::take_over);
    let (checked, halted) = verify(
        &publisher.cargo,
        upload,
        crates,
        cfg.dry_run,
        started,
        reporter,
    )?;
    if halted.is_some() {
        // Refused at its gate, stopped: nothing went up.
        publisher.early = None;
    }
    Ok((checked, halted))
}

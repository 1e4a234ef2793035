//! The resumable upload: one cargo for as many crates as the token's life covers, the index
//! asked what went in when cargo stops partway, a registry's push-back waited out and the
//! rest resumed with a new cargo — after a 429, one cargo per batch the registry's buckets
//! take, so no crate is packaged by a cargo that can't upload it; each crate's outcome kept
//! as cargo said it.
//!
//! Decides and keeps the books; cargo runs in `publish`, its words are read in `cargo_output`.

//! The parts:
//! - `early`: the first cargo, started while the verification still builds, held at its gate;
//! - `books`: what cargo said about each crate, and each crate's outcome;
//! - `deadline`: the run's `deadline`, past which no upload starts;
//! - `settle`: after each cargo run, what went in, and whether to wait and resume or stop;
//! - `pace`: the registry's token buckets, learned from its 429s, and what they take now;
//! - `index_wait`: waiting for the index to list an upload;
//! - `life`: the token's life across the uploads, and what one crate is expected to take.

mod books;
mod deadline;
mod early;
mod index_wait;
mod life;
mod pace;
mod settle;

use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;

use crate::config::RetryPolicy;
use crate::index::Index;
use crate::outcome::{CrateOutcome, Progress};
use crate::plan::Package;
use crate::publish::{Cargo, Started};
use crate::report::Reporter;
use crate::retry;

use books::UploadRun;
use deadline::Deadline;
pub(crate) use deadline::{DeadlineReached, reached as deadline_reached};
pub(crate) use early::Early;
pub(crate) use life::{Forever, TokenLife};
use settle::Ended;

/// The uploads of one run: cargo for the plan, and how long to wait for what.
pub(crate) struct Uploader<'a> {
    pub cargo: &'a Cargo<'a>,
    pub policy: RetryPolicy,
}

impl Uploader<'_> {
    /// Upload the verified `packages` (in plan order) with one `cargo publish --no-verify` for
    /// as many of them as the token's life covers, reading cargo's output as it streams. When
    /// cargo stops partway, the index says what is published; what the registry pushed back on
    /// is waited out and the rest resumed with a new cargo. A crate whose upload cargo saw
    /// through but couldn't confirm is waited for in the index, for at most `index_timeout`.
    /// `early`, the first cargo run when it was started before verification ended, goes
    /// through its gate now. Each crate's outcome goes to `progress` as it is known; no cargo
    /// run starts past the `deadline`.
    pub(crate) fn upload(
        &self,
        packages: &[Package],
        early: Option<Early>,
        (index, progress): (&mut Index, Progress),
        life: &mut dyn TokenLife,
        reporter: &Reporter,
    ) -> Uploads {
        // Which crates the registry has no version of: they draw on its bucket for new crates.
        let new_crates = packages
            .iter()
            .filter(|p| index.versions(&p.name).is_ok_and(|v| v.is_empty()))
            .map(|p| p.name.clone())
            .collect();
        let mut run = UploadRun::new(packages, new_crates, progress);
        run.deadline = Deadline::new(reporter.started(), self.policy.deadline);
        let mut early = early;
        let halted = self
            .upload_rest(&mut run, &mut early, index, life, reporter)
            .err();
        Uploads {
            outcomes: run.finish(halted.as_ref()),
            halted,
        }
    }

    fn upload_rest(
        &self,
        run: &mut UploadRun,
        early: &mut Option<Early>,
        index: &mut Index,
        life: &mut dyn TokenLife,
        reporter: &Reporter,
    ) -> Result<()> {
        while !run.rest.is_empty() {
            Deadline::check(run.deadline, Instant::now(), "the deadline came")?;
            let cyclic = self.cargo.cannot_order(&run.rest);
            // Every crate of one cargo run must be uploaded before the token it started with
            // runs out: renew first when due, then give cargo only what the rest of the
            // token's life covers.
            let per_crate = run.per_crate_estimate();
            let mut take = match life.ensure(per_crate, reporter)? {
                Some(usable) => {
                    let n = usable.as_secs() / per_crate.as_secs().max(1);
                    usize::try_from(n).unwrap_or(usize::MAX).max(1)
                }
                None => usize::MAX,
            };
            if cyclic {
                // Dev-dependency cycles: cargo's multi-package publish can't order them.
                take = 1;
            }
            // Once the registry has pushed back, only what its buckets will take now: a crate
            // it would refuse would be packaged again by the next cargo.
            take = take.min(paced(run, life, reporter)?);
            // The cargo started early goes when the token's life and the registry's buckets
            // take its whole batch: its crates, packaged already, would be packaged again by
            // another cargo; its gate lets no upload start past the deadline. Else it is
            // stopped: it never got through its gate.
            let gate_deadline = run.deadline.map(Deadline::wall_clock);
            let early = early
                .take()
                .filter(|e| e.batch.len() <= take && run.rest.starts_with(&e.batch));
            if let (None, Some(deadline)) = (&early, run.deadline) {
                // Only what is expected to be uploaded by then (at least one crate).
                let n = deadline.left().as_secs() / per_crate.as_secs().max(1);
                take = take.min(usize::try_from(n).unwrap_or(usize::MAX).max(1));
            }
            let (batch, started) = match early {
                Some(early) => (early.batch.clone(), Some(early.open(gate_deadline)?)),
                None => {
                    let batch: Vec<Package> = run.rest.iter().take(take).cloned().collect();
                    let started = match gate_deadline {
                        Some(deadline) => self.cargo.start_upload_until(&batch, deadline)?,
                        None => None,
                    };
                    (batch, started)
                }
            };
            let failure = self.upload_batch(&batch, started, run, reporter)?;
            run.cargo_ended(&batch);
            let ended = Ended {
                batch: &batch,
                failure,
            };
            self.settle(ended, run, index, life, reporter)?;
        }
        Ok(())
    }

    /// One cargo run for `batch`; what it said about each crate goes into `run`. Returns
    /// cargo's output when it failed.
    fn upload_batch(
        &self,
        batch: &[Package],
        started: Option<Started>,
        run: &mut UploadRun,
        reporter: &Reporter,
    ) -> Result<Option<String>> {
        run.next_run();
        self.cargo
            .upload_batch(batch, started, reporter, |line| run.observe(batch, line))
    }
}

/// The uploads' result: each crate's outcome, and the error that stopped them, if any.
pub(crate) struct Uploads {
    pub outcomes: Vec<CrateOutcome>,
    pub halted: Option<anyhow::Error>,
}

/// How many of the crates still to go the registry's buckets take now (all, until a 429
/// taught them); waits until at least the next one may go.
fn paced(run: &UploadRun, life: &mut dyn TokenLife, reporter: &Reporter) -> Result<usize> {
    loop {
        let kinds = run.rest.iter().map(|p| run.kind(p));
        let when = match run.pace.batch_len(kinds, SystemTime::now()) {
            Ok(n) => return Ok(n.max(1)),
            Err(when) => when,
        };
        let next = &run.rest[0];
        let kind = run.kind(next);
        let wait = when.duration_since(SystemTime::now()).unwrap_or_default();
        Deadline::check(
            run.deadline,
            Instant::now() + wait,
            &format!(
                "the registry takes the next upload ({}) only after it",
                next.spec()
            ),
        )?;
        life.outlast(wait + run.per_crate_estimate(), reporter)?;
        let why = format!(
            "pacing to the registry's limit, {}; next {}",
            run.pace.describe(kind).unwrap_or_default(),
            next.spec()
        );
        retry::wait(
            wait,
            &why,
            &mut || life.ensure(Duration::ZERO, reporter).map(drop),
            reporter,
        )?;
    }
}

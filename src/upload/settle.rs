//! After each cargo run: what went in, and on a failure whether to wait and resume or stop.

use std::time::{Duration, Instant, SystemTime};

use anyhow::{Result, bail};

use super::Uploader;
use super::books::UploadRun;
use super::deadline::Deadline;
use super::index_wait::{NotListed, listed, wait_for_index};
use super::life::TokenLife;
use crate::cargo_output::{self, Failure, first_error, names};
use crate::index::Index;
use crate::outcome::Outcome;
use crate::plan::Package;
use crate::report::Reporter;
use crate::retry;

/// One cargo run's end, as `settle` reads it.
pub(super) struct Ended<'b> {
    pub batch: &'b [Package],
    /// cargo's output when it failed.
    pub failure: Option<String>,
}

impl Uploader<'_> {
    /// After a cargo run: confirm in the index what cargo uploaded but couldn't confirm, and
    /// on a failure decide, from the index and cargo's output, whether to wait and resume.
    pub(super) fn settle(
        &self,
        ended: Ended<'_>,
        run: &mut UploadRun,
        index: &mut Index,
        life: &mut dyn TokenLife,
        reporter: &Reporter,
    ) -> Result<()> {
        let Ended { batch, failure } = ended;
        // The crate cargo stopped at, read before anything else changes the books: the one
        // it was uploading, else the one its error names (`crate a@0.1.0 already exists on
        // …`), else the first not in yet.
        let culprit = failure.as_deref().and_then(|output| {
            run.in_flight(batch)
                .or_else(|| {
                    batch
                        .iter()
                        .find(|p| !run.settled(p) && names(output, &p.spec()))
                })
                .or_else(|| batch.iter().find(|p| !run.settled(p)))
                .cloned()
        });
        // cargo gives up waiting after 60 s (with a warning, or with an error when more was
        // to come), and exiting 0 it says every crate went in, whether or not we read its
        // words for each: the index is what counts, for at most `index_timeout`.
        for package in batch {
            if (run.uploaded(package) || failure.is_none()) && !run.settled(package) {
                if let Err(error) =
                    wait_for_index(index, package, self.policy.index_timeout, life, reporter)
                {
                    run.record(
                        package,
                        Outcome::Published,
                        Some(format!("uploaded, but {error:#}")),
                    );
                    return Err(error);
                }
                run.confirm(package);
            }
        }
        let Some(output) = failure else {
            return Ok(());
        };
        // What is in the index now is published, whoever uploaded it: not us when the
        // registry said it had the version already.
        let failure = cargo_output::classify(&output);
        index.refresh()?;
        for package in batch {
            if !run.settled(package) && listed(index, package)? {
                let theirs = failure == Failure::AlreadyExists
                    && Some(package) == culprit.as_ref()
                    && !run.attempted_before(package);
                run.listed(package, !theirs);
            }
        }
        let Some(culprit) = culprit.filter(|p| !run.settled(p)) else {
            // What cargo stopped at is in after all: go on with the rest.
            return Ok(());
        };
        if output.contains(crate::gate::PAST_DEADLINE) {
            return Err(super::deadline::came(
                run.deadline,
                &format!("it came before the upload of {}", culprit.spec()),
            ));
        }
        let refused = Refused {
            culprit: &culprit,
            output: &output,
            failure,
            batch,
        };
        self.after_failure(refused, run, index, life, reporter)
    }

    /// cargo stopped at `culprit`, still not in the index: go on, wait and resume, or stop.
    fn after_failure(
        &self,
        refused: Refused<'_>,
        run: &mut UploadRun,
        index: &mut Index,
        life: &mut dyn TokenLife,
        reporter: &Reporter,
    ) -> Result<()> {
        if refused.failure == Failure::AlreadyExists {
            return self.already_exists(&refused, run, index, life, reporter);
        }
        let Refused {
            culprit,
            output,
            failure,
            batch,
        } = refused;
        let (until, why) = match failure {
            Failure::RateLimited { until } => {
                // A dated 429 teaches the bucket; the wait is until its next token. An instant
                // already past here (the date is cut to the second: past by more than that)
                // says the registry's clock and ours disagree: sent now, the upload would be
                // refused again. It teaches nothing; the wait is the backoff.
                let kind = run.kind(culprit);
                let until = until.filter(|until| {
                    let past = *until + Duration::from_secs(1) < SystemTime::now();
                    if past {
                        reporter.warn(&format!(
                            "the registry's 429 says to try again after {}, already past by \
                             this machine's clock (its clock or this one is off): backing off \
                             instead",
                            httpdate::fmt_http_date(*until)
                        ));
                    }
                    !past
                });
                let next = until.and_then(|until| {
                    run.pace.refused(kind, until);
                    reporter.status("Pacing", &run.pace.describe(kind)?);
                    run.pace.next(kind)
                });
                (
                    next,
                    "the registry answered 429 Too Many Requests".to_owned(),
                )
            }
            Failure::Unavailable(code) => (None, format!("the registry answered {code}")),
            Failure::Other | Failure::AlreadyExists
                if run.progressed(batch) && !run.is_in_flight(culprit) =>
            {
                // e.g. cargo's own wait ran out before the next crate: the index now has
                // what it waited for; go on with a new cargo.
                return Ok(());
            }
            Failure::Other | Failure::AlreadyExists => {
                run.fail(culprit, first_error(output));
                bail!("publishing {} failed", culprit.spec());
            }
        };
        self.wait_out(culprit, (until, &why), run, life, reporter)
    }

    /// The registry said it has the version already: only the index can say another publisher
    /// won the race. crates.io lists a new version within seconds; a registry that says
    /// "exists" and shows nothing in a minute is refusing for another reason.
    fn already_exists(
        &self,
        refused: &Refused<'_>,
        run: &mut UploadRun,
        index: &mut Index,
        life: &mut dyn TokenLife,
        reporter: &Reporter,
    ) -> Result<()> {
        let Refused {
            culprit, output, ..
        } = *refused;
        let timeout = self.policy.index_timeout.min(Duration::from_mins(1));
        match wait_for_index(index, culprit, timeout, life, reporter) {
            Ok(()) => {
                let ours = run.attempted_before(culprit);
                run.listed(culprit, ours);
                Ok(())
            }
            Err(error) if error.is::<NotListed>() => {
                run.fail(
                    culprit,
                    format!(
                        "{} — the registry says this version exists, but its index does not \
                         list it within {}s",
                        first_error(output),
                        timeout.as_secs()
                    ),
                );
                bail!("publishing {} failed", culprit.spec());
            }
            Err(error) => {
                run.fail(culprit, format!("{}; then {error:#}", first_error(output)));
                Err(error)
            }
        }
    }

    /// Push-back on `culprit`: wait as long as the registry asks (`until`) or the backoff says,
    /// within `max_retries` and `max_wait`, keeping the token alive meanwhile.
    fn wait_out(
        &self,
        culprit: &Package,
        (until, why): (Option<SystemTime>, &str),
        run: &mut UploadRun,
        life: &mut dyn TokenLife,
        reporter: &Reporter,
    ) -> Result<()> {
        let retries = run.retry(culprit);
        if retries > self.policy.max_retries {
            run.fail(
                culprit,
                format!(
                    "{why}; gave up after {} retries (`max_retries`)",
                    retries - 1
                ),
            );
            bail!("publishing {} failed", culprit.spec());
        }
        // The instant a dated 429 names is when the registry takes the next upload: no
        // jitter on it (the bucket, not the timing, keeps parallel publishers apart).
        let wait = match until {
            Some(until) => until.duration_since(SystemTime::now()).unwrap_or_default(),
            None => retry::backoff(retries),
        };
        if wait > self.policy.max_wait + retry::JITTER_MAX {
            run.fail(
                culprit,
                format!(
                    "{why} and asks to wait {}s, longer than `max_wait`",
                    wait.as_secs()
                ),
            );
            bail!("publishing {} failed", culprit.spec());
        }
        Deadline::check(
            run.deadline,
            Instant::now() + wait,
            &format!(
                "{why} and asks to wait {}s for {}, past it",
                wait.as_secs(),
                culprit.spec()
            ),
        )?;
        // The token must outlive the wait and the crate after it, or be renewable during it.
        life.outlast(wait + run.per_crate_estimate(), reporter)?;
        retry::wait(
            wait,
            &format!(
                "{why}; retry {retries} of {} for {}",
                self.policy.max_retries,
                culprit.spec()
            ),
            &mut || life.ensure(Duration::ZERO, reporter).map(drop),
            reporter,
        )
    }
}

/// The crate cargo stopped at, what cargo said, what that was, and the batch it ran.
pub(super) struct Refused<'a> {
    pub culprit: &'a Package,
    pub output: &'a str,
    pub failure: Failure,
    pub batch: &'a [Package],
}

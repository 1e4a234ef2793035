//! The resumable upload: one cargo for as many crates as the token's life covers, the index
//! asked what went in when cargo stops partway, a registry's push-back waited out and the
//! rest resumed with a new cargo; each crate's outcome kept as cargo said it.
//!
//! Decides and keeps the books; cargo runs in `publish`, its words are read in `cargo_output`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::cargo_output::{self, CargoSays, Failure, first_error, names};
use crate::config::RetryPolicy;
use crate::index::Index;
use crate::outcome::{CrateOutcome, Outcome};
use crate::plan::Package;
use crate::publish::{Cargo, Started};
use crate::report::Reporter;
use crate::retry;
use crate::secret::Token;
use crate::signals;

/// The first upload cargo, started while the verification builds and held at its gate:
/// updating the index and packaging the crates again cost nothing then. Dropped unopened
/// (a crate failed to verify, the run stopped): the gate refuses, cargo is stopped, and
/// nothing was uploaded.
pub(crate) struct Early {
    started: Started,
    token: std::sync::Arc<Token>,
    batch: Vec<Package>,
}

impl Early {
    /// Start the upload of all of `packages` now. The caller's rule: only when nothing that
    /// comes between the verification and the uploads can change what they are — no
    /// `before_deploy` hook, a token that is known now and lasts (not trusted publishing),
    /// an order cargo can make (no dev-dependency cycle).
    pub(crate) fn start(
        cargo: &Cargo,
        packages: &[Package],
        token: std::sync::Arc<Token>,
    ) -> Result<Early> {
        let started = cargo.start_upload(packages)?;
        Ok(Early {
            started,
            token,
            batch: packages.to_vec(),
        })
    }

    /// Every crate verified: let the uploads through.
    fn open(self) -> Result<Started> {
        let Early {
            mut started,
            token,
            batch: _,
        } = self;
        // A signal that came meanwhile stops the run here, the gate still shut.
        signals::park_if_stopping();
        started.open(token.expose())?;
        Ok(started)
    }
}

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
    /// through its gate now.
    pub(crate) fn upload(
        &self,
        packages: &[Package],
        early: Option<Early>,
        index: &mut Index,
        life: &mut dyn TokenLife,
        reporter: &Reporter,
    ) -> Uploads {
        let mut run = UploadRun::new(packages);
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
            let batch: Vec<Package> = run.rest.iter().take(take).cloned().collect();
            // The cargo started early, when it holds just this batch (else it is stopped: it
            // never got through its gate).
            let started = early
                .take()
                .filter(|e| e.batch == batch)
                .map(Early::open)
                .transpose()?;
            let failure = self.upload_batch(&batch, started, run, reporter)?;
            self.settle(&batch, run, failure, index, life, reporter)?;
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

    /// After a cargo run: confirm in the index what cargo uploaded but couldn't confirm, and
    /// on a failure decide, from the index and cargo's output, whether to wait and resume.
    fn settle(
        &self,
        batch: &[Package],
        run: &mut UploadRun,
        failure: Option<String>,
        index: &mut Index,
        life: &mut dyn TokenLife,
        reporter: &Reporter,
    ) -> Result<()> {
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
        let (until, why) = match failure {
            Failure::AlreadyExists => {
                // Only the index can say another publisher won the race. crates.io lists a new
                // version within seconds; a registry that says "exists" and shows nothing in
                // a minute is refusing for another reason.
                let timeout = self.policy.index_timeout.min(Duration::from_mins(1));
                match wait_for_index(index, &culprit, timeout, life, reporter) {
                    Ok(()) => {
                        let ours = run.attempted_before(&culprit);
                        run.listed(&culprit, ours);
                        return Ok(());
                    }
                    Err(error) if error.is::<NotListed>() => {
                        run.fail(
                            &culprit,
                            format!(
                                "{} — the registry says this version exists, but its index does \
                                 not list it within {}s",
                                first_error(&output),
                                timeout.as_secs()
                            ),
                        );
                        bail!("publishing {} failed", culprit.spec());
                    }
                    Err(error) => {
                        run.fail(
                            &culprit,
                            format!("{}; then {error:#}", first_error(&output)),
                        );
                        return Err(error);
                    }
                }
            }
            Failure::RateLimited { until } => (
                until,
                "the registry answered 429 Too Many Requests".to_owned(),
            ),
            Failure::Unavailable(code) => (None, format!("the registry answered {code}")),
            Failure::Other if run.progressed(batch) && !run.is_in_flight(&culprit) => {
                // e.g. cargo's own wait ran out before the next crate: the index now has
                // what it waited for; go on with a new cargo.
                return Ok(());
            }
            Failure::Other => {
                run.fail(&culprit, first_error(&output));
                bail!("publishing {} failed", culprit.spec());
            }
        };
        let retries = run.retry(&culprit);
        if retries > self.policy.max_retries {
            run.fail(
                &culprit,
                format!(
                    "{why}; gave up after {} retries (`max_retries`)",
                    retries - 1
                ),
            );
            bail!("publishing {} failed", culprit.spec());
        }
        let wait = retry::delay(retries, until);
        if wait > self.policy.max_wait + retry::JITTER_MAX {
            run.fail(
                &culprit,
                format!(
                    "{why} and asks to wait {}s, longer than `max_wait`",
                    wait.as_secs()
                ),
            );
            bail!("publishing {} failed", culprit.spec());
        }
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

/// How long cargo waits for each uploaded crate to appear in the index (fixed on stable).
const CARGO_INDEX_WAIT: Duration = Duration::from_mins(1);

/// What a run expects one crate's upload to take before it has seen one.
const FIRST_CRATE_ESTIMATE: Duration = Duration::from_secs(75);

/// Keeps the token alive across the uploads; trusted publishing renews, a plain token lives
/// forever.
pub(crate) trait TokenLife {
    /// Before `work` that needs the token: renew it if it would not outlive the work (with a
    /// safety margin of its own) and can be renewed. Returns how long the token in force can
    /// still be used for (`None`: it doesn't expire); an error only when the run must stop.
    fn ensure(&mut self, work: Duration, reporter: &Reporter) -> Result<Option<Duration>>;
    /// Before a wait and the work after it, `work` in all: an error when the token will run
    /// out by then and can't be renewed on the way (the run stops cleanly now instead).
    fn outlast(&mut self, work: Duration, reporter: &Reporter) -> Result<()>;
}

/// A token that doesn't expire.
pub(crate) struct Forever;

impl TokenLife for Forever {
    fn ensure(&mut self, _: Duration, _: &Reporter) -> Result<Option<Duration>> {
        Ok(None)
    }
    fn outlast(&mut self, _: Duration, _: &Reporter) -> Result<()> {
        Ok(())
    }
}

/// The uploads' result: each crate's outcome, and the error that stopped them, if any.
pub(crate) struct Uploads {
    pub outcomes: Vec<CrateOutcome>,
    pub halted: Option<anyhow::Error>,
}

/// The bookkeeping of one upload: what cargo said about each crate, as it said it.
struct UploadRun {
    /// Not yet published, in plan order.
    rest: Vec<Package>,
    done: Vec<CrateOutcome>,
    /// When each crate's first upload began (its duration in the report) and when its
    /// latest did (the per-crate estimate).
    started: BTreeMap<String, Instant>,
    attempt: BTreeMap<String, Instant>,
    retries: BTreeMap<String, u32>,
    /// Crates an earlier cargo run began uploading: a version the registry then says it has
    /// may be our own upload that went through before an error.
    attempted: BTreeSet<String>,
    /// This cargo run: crates it began uploading, uploaded, and saw in the index.
    uploading: BTreeSet<String>,
    uploaded: BTreeSet<String>,
    confirmed: BTreeSet<String>,
    /// The longest a crate took so far, from its upload to the index listing it.
    longest: Duration,
}

impl UploadRun {
    fn new(packages: &[Package]) -> Self {
        UploadRun {
            rest: packages.to_vec(),
            done: Vec::new(),
            started: BTreeMap::new(),
            attempt: BTreeMap::new(),
            retries: BTreeMap::new(),
            attempted: BTreeSet::new(),
            uploading: BTreeSet::new(),
            uploaded: BTreeSet::new(),
            confirmed: BTreeSet::new(),
            longest: Duration::ZERO,
        }
    }

    /// What one crate's upload is expected to take, to size a cargo run to the token's life:
    /// 1.5× the slowest seen, and never less than cargo's own 60 s wait for the index.
    fn per_crate_estimate(&self) -> Duration {
        if self.longest.is_zero() {
            FIRST_CRATE_ESTIMATE
        } else {
            (self.longest * 3 / 2).max(CARGO_INDEX_WAIT)
        }
    }

    /// A new cargo run begins: what the last one began uploading was attempted before.
    fn next_run(&mut self) {
        self.attempted.extend(std::mem::take(&mut self.uploading));
        self.uploaded.clear();
    }

    /// One line of cargo's output, as it arrives.
    fn observe(&mut self, batch: &[Package], line: &str) {
        match CargoSays::read(line, batch) {
            Some(CargoSays::Uploading(p)) => {
                self.started
                    .entry(p.name.clone())
                    .or_insert_with(Instant::now);
                self.uploading.insert(p.name.clone());
            }
            Some(CargoSays::Uploaded(p)) => {
                self.uploaded.insert(p.name.clone());
            }
            Some(CargoSays::Published(list)) => {
                for p in list {
                    self.confirm(p);
                }
            }
            None => {}
        }
    }

    fn uploaded(&self, package: &Package) -> bool {
        self.uploaded.contains(&package.name)
    }

    /// Published, already there, or failed: no longer to upload.
    fn settled(&self, package: &Package) -> bool {
        !self.rest.iter().any(|p| p.name == package.name)
    }

    fn is_in_flight(&self, package: &Package) -> bool {
        self.uploading.contains(&package.name) && !self.uploaded.contains(&package.name)
    }

    /// The crate cargo was uploading when it stopped.
    fn in_flight<'p>(&self, batch: &'p [Package]) -> Option<&'p Package> {
        batch
            .iter()
            .find(|p| self.is_in_flight(p) && !self.settled(p))
    }

    /// This cargo run got at least one crate in.
    fn progressed(&self, batch: &[Package]) -> bool {
        batch.iter().any(|p| self.confirmed.contains(&p.name))
    }

    /// `package` is in the index after our upload.
    fn confirm(&mut self, package: &Package) {
        if self.settled(package) {
            return;
        }
        self.confirmed.insert(package.name.clone());
        let took = self
            .attempt
            .get(&package.name)
            .map_or(Duration::ZERO, Instant::elapsed);
        self.longest = self.longest.max(took);
        self.record(package, Outcome::Published, None);
    }

    /// `package` is in the index though cargo didn't confirm it: ours when cargo began its
    /// upload (and the registry didn't say it had it already), someone else's otherwise.
    fn listed(&mut self, package: &Package, maybe_ours: bool) {
        if maybe_ours
            && (self.uploading.contains(&package.name) || self.attempted.contains(&package.name))
        {
            self.confirm(package);
        } else {
            self.record(
                package,
                Outcome::AlreadyPublished,
                Some("another publisher uploaded it first (the index lists it)".to_owned()),
            );
        }
    }

    fn fail(&mut self, package: &Package, reason: String) {
        self.record(package, Outcome::Failed, Some(reason));
    }

    fn attempted_before(&self, package: &Package) -> bool {
        self.attempted.contains(&package.name)
    }

    /// Count a retry of `package`; returns its number (1-based).
    fn retry(&mut self, package: &Package) -> u32 {
        let count = self.retries.entry(package.name.clone()).or_default();
        *count += 1;
        *count
    }

    fn record(&mut self, package: &Package, outcome: Outcome, reason: Option<String>) {
        self.rest.retain(|p| p.name != package.name);
        self.done.push(CrateOutcome {
            duration_ms: self
                .started
                .get(&package.name)
                .map_or(0, |t| t.elapsed().as_millis()),
            retries: self.retries.get(&package.name).copied().unwrap_or_default(),
            ..CrateOutcome::new(package, outcome, reason)
        });
    }

    /// Every crate's outcome: what is left was never started.
    fn finish(mut self, halted: Option<&anyhow::Error>) -> Vec<CrateOutcome> {
        let why = halted.map(|e| format!("{e:#}"));
        for package in std::mem::take(&mut self.rest) {
            self.done.push(CrateOutcome {
                retries: self.retries.get(&package.name).copied().unwrap_or_default(),
                ..CrateOutcome::new(&package, Outcome::NotStarted, why.clone())
            });
        }
        self.done
    }
}

fn listed(index: &Index, package: &Package) -> Result<bool> {
    Ok(index
        .versions(&package.name)?
        .iter()
        .any(|v| v.version == package.version))
}

/// An upload the index did not list in time (its caller tells a refusal from a slow index).
#[derive(Debug)]
pub(crate) struct NotListed {
    spec: String,
    timeout: Duration,
    last_error: Option<String>,
}

impl std::fmt::Display for NotListed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} was uploaded but did not appear in the index within {}s (`index_timeout`)",
            self.spec,
            self.timeout.as_secs()
        )?;
        if let Some(error) = &self.last_error {
            write!(f, " (the index's last answer: {error})")?;
        }
        write!(f, "; crates that depend on it were not published")
    }
}

impl std::error::Error for NotListed {}

/// Poll the index until it lists `package`, for at most `timeout`. An index that fails to
/// answer is asked again until then (its last error is the one reported). An auth-required
/// index needs the token, so it is kept alive meanwhile; a public one never stops the wait
/// for the token's sake.
pub(crate) fn wait_for_index(
    index: &mut Index,
    package: &Package,
    timeout: Duration,
    life: &mut dyn TokenLife,
    reporter: &Reporter,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(250);
    let mut said = false;
    loop {
        if index.auth_required() {
            life.ensure(Duration::ZERO, reporter)?;
        }
        let error = match index.refresh().and_then(|()| listed(index, package)) {
            Ok(true) => return Ok(()),
            Ok(false) => None,
            Err(error) => Some(error),
        };
        if Instant::now() >= deadline {
            return Err(NotListed {
                spec: package.spec(),
                timeout,
                last_error: error.map(|e| format!("{e:#}")),
            }
            .into());
        }
        if !said {
            reporter.status(
                "Waiting",
                &format!("for {} to appear in {}", package.spec(), index.url()),
            );
            said = true;
        }
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

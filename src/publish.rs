//! Runs cargo for the plan: packaging for comparison, the dry run, and the uploads — one
//! cargo for as many crates as the token's life covers, resumed when the registry pushes
//! back. The token is only ever in the upload's environment, never in argv.
//!
//! Decides nothing about order or rules: the plan and the caller do.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::Env;
use crate::cmd;
use crate::config::Config;
use crate::index::Index;
use crate::outcome::{CrateOutcome, Outcome};
use crate::plan::{Package, Plan};
use crate::registry::Target;
use crate::report::Reporter;
use crate::retry::{self, Failure};
use crate::secret::{LiveToken, Masker};
use crate::signals;

/// cargo, set up for one plan. Only the upload (`--no-verify`, which builds nothing) has the
/// token in its environment; every command that may build — and so run build scripts and
/// proc-macros from any dependency — gets none.
pub(crate) struct Cargo<'a> {
    exe: &'a Path,
    plan: &'a Plan,
    cfg: &'a Config,
    /// Scrubbed of every token and CI credential (see `secret::Child::Build`).
    env: Env,
    /// Read at each command: a renewed token reaches the next cargo.
    token: LiveToken,
    /// The registry's index wants the token even to be read: builds get it through a cargo
    /// credential provider instead of their environment.
    auth_required: bool,
    masker: &'a Masker,
}

/// Whether a cargo command may hold the token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Packaging and verifying: may build, so no token in its environment.
    Build,
    /// The upload: `--no-verify`, builds nothing, the token in its environment.
    Upload,
}

impl<'a> Cargo<'a> {
    /// `env` must be the build environment (`secret::scrub` for `Child::Build`).
    pub(crate) fn new(
        exe: &'a Path,
        plan: &'a Plan,
        cfg: &'a Config,
        token: &LiveToken,
        env: &Env,
        auth_required: bool,
        masker: &'a Masker,
    ) -> Self {
        let mut env = env.clone();
        // cargo#9822: debug logging printed the token.
        env.remove("CARGO_LOG");
        env.remove("CARGO_HTTP_DEBUG");
        env.insert(
            "CARGO_TARGET_DIR".to_owned(),
            plan.target_dir.display().to_string(),
        );
        if let Target::Index(url) = &cfg.target {
            env.insert(
                format!(
                    "CARGO_REGISTRIES_{}_INDEX",
                    crate::registry::env_name(Target::INDEX_NAME)
                ),
                url.clone(),
            );
        }
        Cargo {
            exe,
            plan,
            cfg,
            env,
            token: token.clone(),
            auth_required,
            masker,
        }
    }

    /// The command, and for a build against an `auth-required` registry the file its
    /// credential provider reads the token from (removed when dropped: keep it until cargo
    /// has finished).
    fn command(
        &self,
        subcommand: &str,
        packages: &[&Package],
        verify: bool,
        role: Role,
    ) -> Result<(Command, Option<TokenFile>)> {
        let mut command = cmd::command(self.exe, &self.plan.dir, &self.env);
        command.arg(subcommand);
        for package in packages {
            command.args(["--package", &package.name]);
        }
        if let Some(name) = self.cfg.target.cargo_name() {
            command.args(["--registry", name]);
        }
        let flags = [
            (self.cfg.allow_dirty, "--allow-dirty"),
            // A command holding the token must build nothing.
            (
                self.cfg.no_verify || !verify || role == Role::Upload,
                "--no-verify",
            ),
            (self.cfg.locked, "--locked"),
            (self.cfg.all_features, "--all-features"),
        ];
        command.args(flags.iter().filter(|(on, _)| *on).map(|(_, flag)| flag));
        if !self.cfg.features.is_empty() {
            command.args(["--features", &self.cfg.features.join(",")]);
        }
        let mut file = None;
        match (role, self.token.get()) {
            // cargo wants an explicit credential provider for such a registry, uploads too.
            (_, Some(token)) if self.auth_required => {
                let held = TokenFile::new(token.expose())?;
                command.args(["--config", &held.provider_config(&self.cfg.target)]);
                file = Some(held);
            }
            (Role::Upload, Some(token)) => {
                command.env(self.cfg.target.token_var(), token.expose());
            }
            _ => {}
        }
        Ok((command, file))
    }

    /// The `.crate` cargo would upload for `package`, without verifying it.
    pub(crate) fn package(&self, package: &Package) -> Result<Vec<u8>> {
        let (mut command, _token_file) = self.command("package", &[package], false, Role::Build)?;
        command.arg("--quiet");
        cmd::capture(command)
            .with_context(|| format!("could not package {} to compare it", package.spec()))?;
        let file = self
            .plan
            .target_dir
            .join("package")
            .join(format!("{}-{}.crate", package.name, package.version));
        fs_err::read(&file).with_context(|| format!("cargo package wrote no `{}`", file.display()))
    }

    /// Verify `packages` without uploading, each against its siblings' new versions: one
    /// multi-package `cargo publish --dry-run` (cargo ≥ 1.90) — or, where dev-dependencies
    /// close a cycle that cargo can't order, one crate at a time with its siblings patched in
    /// from the tree.
    pub(crate) fn dry_run(
        &self,
        packages: &[Package],
        reporter: &Reporter,
    ) -> Result<Vec<CrateOutcome>> {
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        let cyclic = self
            .plan
            .dev_cycles
            .iter()
            .any(|(a, b)| names.contains(&a.as_str()) && names.contains(&b.as_str()));
        if !cyclic {
            let refs: Vec<&Package> = packages.iter().collect();
            return self.dry_run_batch(&refs, &[], reporter);
        }
        reporter.status(
            "Verifying",
            "one crate at a time: dev-dependencies form a cycle cargo can't order",
        );
        let table = self.cfg.target.cargo_name().unwrap_or("crates-io");
        let mut outcomes = Vec::new();
        for (i, package) in packages.iter().enumerate() {
            // Only the crates ordered before it: those are what it can depend on, and none of
            // them depends back on it (a patched copy of itself would collide in its lockfile).
            let patches: Vec<String> = packages[..i]
                .iter()
                .map(|p| {
                    format!(
                        "patch.{table}.{}.path={:?}",
                        p.name,
                        p.dir.display().to_string()
                    )
                })
                .collect();
            outcomes.extend(self.dry_run_batch(&[package], &patches, reporter)?);
        }
        Ok(outcomes)
    }

    fn dry_run_batch(
        &self,
        packages: &[&Package],
        config: &[String],
        reporter: &Reporter,
    ) -> Result<Vec<CrateOutcome>> {
        let (mut command, token_file) = self.command("publish", packages, true, Role::Build)?;
        command.arg("--dry-run");
        for value in config {
            command.args(["--config", value]);
        }
        let started = Instant::now();
        reporter.group_start("cargo_publish_dry_run", "cargo publish --dry-run");
        let finished = cmd::stream(command, self.masker);
        drop(token_file);
        reporter.group_end("cargo_publish_dry_run");
        let finished = finished?;
        let duration_ms = started.elapsed().as_millis();
        // cargo stops at the first crate that fails: the ones it verified before are
        // verified, the rest never were. When its output doesn't say which, all failed.
        let (verified, failing) = progress(packages, &finished.output);
        Ok(packages
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (outcome, reason) = match failing {
                    _ if finished.code == 0 => (Outcome::Verified, None),
                    Some(_) if verified.contains(&i) => (Outcome::Verified, None),
                    Some(at) if at != i => (
                        Outcome::NotStarted,
                        Some(format!("{} failed to verify", packages[at].spec())),
                    ),
                    _ => (Outcome::Failed, Some(first_error(&finished.output))),
                };
                CrateOutcome {
                    duration_ms,
                    ..CrateOutcome::new(p, outcome, reason)
                }
            })
            .collect())
    }

    /// Upload the verified `packages` (in plan order) with one `cargo publish --no-verify` for
    /// as many of them as the token's life covers, reading cargo's output as it streams. When
    /// cargo stops partway, the index says what is published; what the registry pushed back on
    /// is waited out and the rest resumed with a new cargo. A crate whose upload cargo saw
    /// through but couldn't confirm is waited for in the index, for at most `index_timeout`.
    pub(crate) fn upload(
        &self,
        packages: &[Package],
        index: &mut Index,
        life: &mut dyn TokenLife,
        reporter: &Reporter,
    ) -> Uploads {
        let mut run = UploadRun::new(packages);
        let halted = self.upload_rest(&mut run, index, life, reporter).err();
        Uploads {
            outcomes: run.finish(halted.as_ref()),
            halted,
        }
    }

    fn upload_rest(
        &self,
        run: &mut UploadRun,
        index: &mut Index,
        life: &mut dyn TokenLife,
        reporter: &Reporter,
    ) -> Result<()> {
        while !run.rest.is_empty() {
            let rest: Vec<&str> = run.rest.iter().map(|p| p.name.as_str()).collect();
            let cyclic = self
                .plan
                .dev_cycles
                .iter()
                .any(|(a, b)| rest.contains(&a.as_str()) && rest.contains(&b.as_str()));
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
            let failure = self.upload_batch(&batch, run, reporter)?;
            self.settle(&batch, run, failure, index, life, reporter)?;
        }
        Ok(())
    }

    /// One `cargo publish --no-verify -p a -p b …`; what it said about each crate goes into
    /// `run`. Returns cargo's output when it failed.
    fn upload_batch(
        &self,
        batch: &[Package],
        run: &mut UploadRun,
        reporter: &Reporter,
    ) -> Result<Option<String>> {
        let refs: Vec<&Package> = batch.iter().collect();
        let names: Vec<String> = batch
            .iter()
            .map(|p| format!("{} v{}", p.name, p.version))
            .collect();
        reporter.status(
            "Publishing",
            &format!("{} to {}", names.join(", "), self.cfg.target),
        );
        // The token in force now: a renewal before this run reaches it.
        let (mut command, token_file) = self.command("publish", &refs, false, Role::Upload)?;
        // cargo's status lines are how each crate's result is known as it happens: not
        // quieted, not overdrawn by a progress bar, whatever the commit's cargo config says.
        command
            .env("CARGO_TERM_QUIET", "false")
            .env("CARGO_TERM_PROGRESS_WHEN", "never");
        run.next_run();
        reporter.group_start("cargo_publish", "cargo publish");
        let finished = cmd::stream_with(command, self.masker, |line| run.observe(batch, line));
        drop(token_file);
        reporter.group_end("cargo_publish");
        let finished = finished?;
        Ok((finished.code != 0).then_some(finished.output))
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
                    wait_for_index(index, package, self.cfg.index_timeout, life, reporter)
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
        let failure = retry::classify(&output);
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
                let timeout = self.cfg.index_timeout.min(Duration::from_secs(60));
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
        if retries > self.cfg.max_retries {
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
        if wait > self.cfg.max_wait + retry::JITTER_MAX {
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
                self.cfg.max_retries,
                culprit.spec()
            ),
            &mut || life.ensure(Duration::ZERO, reporter).map(drop),
            reporter,
        )
    }
}

/// How long cargo waits for each uploaded crate to appear in the index (fixed on stable).
const CARGO_INDEX_WAIT: Duration = Duration::from_secs(60);

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

/// What a line of `cargo publish` output says about a crate of `batch`.
#[derive(Debug, PartialEq)]
enum CargoSays<'p> {
    /// `Uploading a v0.1.0 (…)`
    Uploading(&'p Package),
    /// `Uploaded a v0.1.0 to registry `…``
    Uploaded(&'p Package),
    /// `Published a v0.1.0 and b v0.2.0 at registry `…``: in the index.
    Published(Vec<&'p Package>),
}

impl<'p> CargoSays<'p> {
    fn read(line: &str, batch: &'p [Package]) -> Option<Self> {
        let line = line.trim_start();
        let (verb, rest) = line.split_once(' ')?;
        // "name vX.Y.Z" pairs, wherever they stand in a list ("a v1, b v2, and c v3").
        let words: Vec<&str> = rest
            .split_whitespace()
            .map(|w| w.trim_end_matches(','))
            .collect();
        let named = |p: &Package| {
            let version = format!("v{}", p.version);
            words
                .windows(2)
                .any(|pair| pair[0] == p.name && pair[1] == version)
        };
        let first = || {
            batch
                .iter()
                .find(|p| words.len() >= 2 && named(p) && words[0] == p.name)
        };
        match verb {
            "Uploading" => first().map(CargoSays::Uploading),
            "Uploaded" => first().map(CargoSays::Uploaded),
            "Published" => {
                let list: Vec<&Package> = batch.iter().filter(|p| named(p)).collect();
                (!list.is_empty()).then_some(CargoSays::Published(list))
            }
            _ => None,
        }
    }
}

/// `output` names `spec` (`name@version`) as a whole word: `b@0.1.0` is not in
/// `crate ab@0.1.0 already exists`.
fn names(output: &str, spec: &str) -> bool {
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    output.match_indices(spec).any(|(at, _)| {
        !output[..at].chars().next_back().is_some_and(part_of_name)
            && !output[at + spec.len()..]
                .chars()
                .next()
                .is_some_and(|c| part_of_name(c) || c == '.')
    })
}

fn listed(index: &Index, package: &Package) -> Result<bool> {
    Ok(index
        .versions(&package.name)?
        .iter()
        .any(|v| v.version == package.version))
}

/// The token in a file only its owner can read, in a temp dir of its own, for cargo's
/// `cargo:token-from-stdout` credential provider: how a build against an `auth-required`
/// registry reads the index without the token in the environment its build scripts inherit.
struct TokenFile {
    dir: tempfile::TempDir,
}

impl TokenFile {
    fn new(token: &str) -> Result<Self> {
        use fs_err::os::unix::fs::OpenOptionsExt;
        use std::io::Write;
        let dir = tempfile::Builder::new()
            .prefix("shipcrate-token-")
            .tempdir()
            .context("could not create a temporary directory for the token")?;
        signals::track_dir(dir.path());
        let held = TokenFile { dir };
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(held.path())?;
        file.write_all(token.as_bytes())?;
        Ok(held)
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("token")
    }

    /// `--config` value pointing `target`'s credential provider at this file.
    fn provider_config(&self, target: &Target) -> String {
        let key = match target.cargo_name() {
            None => "registry.credential-provider".to_owned(),
            Some(name) => format!("registries.{name}.credential-provider"),
        };
        let provider = [
            "cargo:token-from-stdout",
            "cat",
            &self.path().display().to_string(),
        ];
        format!(
            "{key}={}",
            serde_json::to_string(&provider).unwrap_or_default()
        )
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        signals::untrack_dir(self.dir.path());
    }
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

/// How far cargo got with `packages` before its first error: the ones it verified, and the
/// one it was packaging or verifying when it failed (`None` when its output doesn't say).
fn progress(packages: &[&Package], output: &str) -> (Vec<usize>, Option<usize>) {
    let mut verified = Vec::new();
    let mut current = None;
    for line in output.lines().take_while(|l| !l.starts_with("error")) {
        let line = line.trim_start();
        let (verifying, rest) = match (
            line.strip_prefix("Verifying "),
            line.strip_prefix("Packaging "),
        ) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => continue,
        };
        let Some(at) = packages
            .iter()
            .position(|p| rest.starts_with(&format!("{} v{} ", p.name, p.version)))
        else {
            continue;
        };
        if verifying {
            verified.push(at);
        }
        current = Some(at);
    }
    verified.retain(|&i| Some(i) != current);
    (verified, current)
}

/// cargo's error, without the progress lines before it, nor the response headers cargo
/// prints for a registry's non-JSON answer (its body — the registry's own words — stays).
fn first_error(output: &str) -> String {
    let mut in_headers = false;
    let mut text: Vec<&str> = output
        .lines()
        .skip_while(|l| !l.starts_with("error"))
        .map(str::trim)
        .filter(|l| {
            match *l {
                "headers:" => in_headers = true,
                "body:" => {
                    in_headers = false;
                    return false;
                }
                _ => {}
            }
            !in_headers && !l.is_empty()
        })
        .take(6)
        .collect();
    if text.is_empty() {
        text.push("cargo failed");
    }
    text.join(" ")
}

#[cfg(test)]
mod tests {
    use super::CargoSays;
    use crate::plan::Package;

    #[test]
    fn an_error_names_a_crate_only_as_a_whole_word() {
        let out = "error: crate ab@0.1.0 already exists on registry `alternative`";
        assert!(super::names(out, "ab@0.1.0"));
        assert!(!super::names(out, "b@0.1.0"));
        assert!(!super::names(out, "ab@0.1"));
        assert!(super::names("crate `ab@0.1.0`, and", "ab@0.1.0"));
    }

    #[test]
    fn cargos_upload_lines_are_read_for_the_crates_of_the_run() {
        let batch: Vec<Package> = [("a", "0.1.0"), ("ab", "1.2.3"), ("c", "0.1.0")]
            .map(|(name, version)| Package {
                name: name.to_owned(),
                version: version.to_owned(),
                dir: std::path::PathBuf::new(),
            })
            .into();
        let read = |line: &str| CargoSays::read(line, &batch);
        assert_eq!(
            read("   Uploading ab v1.2.3 (/t/ab)"),
            Some(CargoSays::Uploading(&batch[1]))
        );
        assert_eq!(
            read("    Uploaded a v0.1.0 to registry `alternative`"),
            Some(CargoSays::Uploaded(&batch[0]))
        );
        // cargo's list forms: "x and y", "x, y, and z" (sorted by name).
        assert_eq!(
            read("   Published a v0.1.0 and c v0.1.0 at registry `crates-io`"),
            Some(CargoSays::Published(vec![&batch[0], &batch[2]]))
        );
        assert_eq!(
            read("   Published a v0.1.0, ab v1.2.3, and c v0.1.0 at registry `crates-io`"),
            Some(CargoSays::Published(batch.iter().collect()))
        );
        // Another version, another crate, or another verb: nothing.
        assert_eq!(read("   Uploading ab v1.2.4 (/t/ab)"), None);
        assert_eq!(read("   Uploading abc v1.2.3 (/t/abc)"), None);
        assert_eq!(read("   Packaging a v0.1.0 (/t/a)"), None);
    }

    #[test]
    fn a_failed_dry_run_is_read_in_cargos_order_not_ours() {
        let packages: Vec<Package> = ["a", "b", "c"]
            .map(|name| Package {
                name: name.to_owned(),
                version: "0.1.0".to_owned(),
                dir: std::path::PathBuf::new(),
            })
            .into();
        let refs: Vec<&Package> = packages.iter().collect();
        // cargo packages all, then verifies in an order of its own; `b` breaks.
        let output = "   Packaging a v0.1.0 (/t/a)\n    Packaged 4 files\n   Packaging c v0.1.0 (/t/c)\n\
                      \x20  Packaging b v0.1.0 (/t/b)\n   Verifying c v0.1.0 (/t/c)\n\
                      \x20  Compiling c v0.1.0\n   Verifying b v0.1.0 (/t/b)\n\
                      error[E0425]: cannot find value `oops`\n";
        assert_eq!(super::progress(&refs, output), (vec![2], Some(1)));
        // A registry's plain-text refusal: its words, not cargo's dump of the headers.
        let refused = "   Uploading a v0.1.0 (/t/a)\nerror: failed to publish a v0.1.0 to registry at http://r/\n\n\
                       Caused by:\n  failed to get a 200 OK response, got 401\n  headers:\n  \tHTTP/1.1 401\n\
                       \x20 \tContent-Length: 33\n  \t\n  body:\n  Unauthorized message from server.\n";
        assert_eq!(
            super::first_error(refused),
            "error: failed to publish a v0.1.0 to registry at http://r/ Caused by: failed to get a \
             200 OK response, got 401 Unauthorized message from server."
        );
        // Nothing recognisable: no crate to blame.
        assert_eq!(
            super::progress(&refs, "error: no such registry\n"),
            (vec![], None)
        );
    }
}

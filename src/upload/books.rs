//! The books of one upload: what cargo said about each crate, as it said it, and each crate's
//! outcome.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};

use super::deadline::Deadline;
use super::life::{CARGO_INDEX_WAIT, FIRST_CRATE_ESTIMATE};
use super::pace::{Kind, Pace};
use crate::cargo_output::CargoSays;
use crate::outcome::{CrateOutcome, Outcome, Progress};
use crate::plan::Package;

/// The bookkeeping of one upload: what cargo said about each crate, as it said it.
pub(super) struct UploadRun {
    /// Not yet published, in plan order.
    pub(super) rest: Vec<Package>,
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
    /// Crates the registry had no version of when the run began (the rest are new versions),
    /// when each crate's latest upload began by the wall clock, and the buckets learned.
    new_crates: BTreeSet<String>,
    began: BTreeMap<String, SystemTime>,
    pub(super) pace: Pace,
    /// Each crate's outcome as far as it is known now, for a signal's report.
    progress: Progress,
    pub(super) deadline: Option<Deadline>,
}

impl UploadRun {
    pub(super) fn new(
        packages: &[Package],
        new_crates: BTreeSet<String>,
        progress: Progress,
    ) -> Self {
        UploadRun {
            progress,
            deadline: None,
            new_crates,
            began: BTreeMap::new(),
            pace: Pace::default(),
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
    pub(super) fn per_crate_estimate(&self) -> Duration {
        if self.longest.is_zero() {
            FIRST_CRATE_ESTIMATE
        } else {
            (self.longest * 3 / 2).max(CARGO_INDEX_WAIT)
        }
    }

    /// A new cargo run begins: what the last one began uploading was attempted before.
    pub(super) fn next_run(&mut self) {
        self.attempted.extend(std::mem::take(&mut self.uploading));
        self.uploaded.clear();
    }

    /// One line of cargo's output, as it arrives.
    pub(super) fn observe(&mut self, batch: &[Package], line: &str) {
        match CargoSays::read(line, batch) {
            Some(CargoSays::Uploading(p)) => {
                self.started
                    .entry(p.name.clone())
                    .or_insert_with(Instant::now);
                self.uploading.insert(p.name.clone());
                self.attempt.insert(p.name.clone(), Instant::now());
                self.began.insert(p.name.clone(), SystemTime::now());
                self.progress.set(
                    p,
                    Outcome::Interrupted,
                    Some(
                        "its upload was under way when the run stopped: the registry may have it; a \
                         re-run checks the index"
                            .to_owned(),
                    ),
                );
            }
            Some(CargoSays::Uploaded(p)) => {
                self.uploaded.insert(p.name.clone());
                // The registry took it: published, whether or not the index shows it yet.
                self.progress.set(p, Outcome::Published, None);
                let began = self.began.get(&p.name).copied();
                self.pace
                    .accepted(self.kind(p), began.unwrap_or_else(SystemTime::now));
            }
            Some(CargoSays::Published(list)) => {
                for p in list {
                    self.confirm(p);
                }
            }
            None => {}
        }
    }

    /// A cargo run ended: what it began and didn't upload was not started after all.
    pub(super) fn cargo_ended(&self, batch: &[Package]) {
        for p in batch {
            if !self.settled(p) && !self.uploaded(p) {
                self.progress.set(p, Outcome::NotStarted, None);
            }
        }
    }

    /// Which of the registry's buckets `package`'s upload draws on.
    pub(super) fn kind(&self, package: &Package) -> Kind {
        if self.new_crates.contains(&package.name) {
            Kind::NewCrate
        } else {
            Kind::NewVersion
        }
    }

    pub(super) fn uploaded(&self, package: &Package) -> bool {
        self.uploaded.contains(&package.name)
    }

    /// Published, already there, or failed: no longer to upload.
    pub(super) fn settled(&self, package: &Package) -> bool {
        !self.rest.iter().any(|p| p.name == package.name)
    }

    pub(super) fn is_in_flight(&self, package: &Package) -> bool {
        self.uploading.contains(&package.name) && !self.uploaded.contains(&package.name)
    }

    /// The crate cargo was uploading when it stopped.
    pub(super) fn in_flight<'p>(&self, batch: &'p [Package]) -> Option<&'p Package> {
        batch
            .iter()
            .find(|p| self.is_in_flight(p) && !self.settled(p))
    }

    /// This cargo run got at least one crate in.
    pub(super) fn progressed(&self, batch: &[Package]) -> bool {
        batch.iter().any(|p| self.confirmed.contains(&p.name))
    }

    /// `package` is in the index after our upload.
    pub(super) fn confirm(&mut self, package: &Package) {
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
    pub(super) fn listed(&mut self, package: &Package, maybe_ours: bool) {
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

    pub(super) fn fail(&mut self, package: &Package, reason: String) {
        self.record(package, Outcome::Failed, Some(reason));
    }

    pub(super) fn attempted_before(&self, package: &Package) -> bool {
        self.attempted.contains(&package.name)
    }

    /// Count a retry of `package`; returns its number (1-based).
    pub(super) fn retry(&mut self, package: &Package) -> u32 {
        let count = self.retries.entry(package.name.clone()).or_default();
        *count += 1;
        *count
    }

    pub(super) fn record(&mut self, package: &Package, outcome: Outcome, reason: Option<String>) {
        self.rest.retain(|p| p.name != package.name);
        self.progress.set(package, outcome, reason.clone());
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
    pub(super) fn finish(mut self, halted: Option<&anyhow::Error>) -> Vec<CrateOutcome> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_seen_through_sets_the_per_crate_estimate() {
        let package = Package {
            name: "a".to_owned(),
            version: "0.1.0".to_owned(),
            dir: "a".into(),
        };
        let batch = [package.clone()];
        let mut run = UploadRun::new(&batch, BTreeSet::new(), Progress::default());
        assert_eq!(run.per_crate_estimate(), FIRST_CRATE_ESTIMATE);
        run.observe(&batch, "   Uploading a v0.1.0 (/tmp/a)");
        run.observe(&batch, "    Uploaded a v0.1.0 to registry `alternative`");
        run.observe(&batch, "   Published a v0.1.0 at registry `alternative`");
        // Seen through in moments: cargo's own 60 s wait for the index is the floor.
        assert_eq!(run.per_crate_estimate(), CARGO_INDEX_WAIT);
        assert!(run.settled(&package));
    }
}

//! The one owner of what talks to the registry after the checks (`Publisher`): mint, start
//! early, upload, close; and the index's temp dir, gone behind a dry run (`DropBehind`).

use anyhow::Result;

use crate::checkout::PristineTree;
use crate::config::{Config, RetryPolicy};
use crate::index::Index;
use crate::outcome::Progress;
use crate::plan::Package;
use crate::publish::Cargo;
use crate::report::Reporter;
use crate::secret::LiveToken;
use crate::trusted::Session;
use crate::upload::{Early, Forever, TokenLife, Uploader, Uploads};

/// The one owner of what talks to the registry: cargo, the index (none on a dry run, which
/// uploads nothing), and the trusted-publishing session. All three hold the run's one
/// [`LiveToken`], so a token the session renews reaches cargo and the index at once.
pub(super) struct Publisher<'a> {
    pub(super) cargo: Cargo<'a>,
    pub(super) retry: RetryPolicy,
    pub(super) index: Option<Index>,
    pub(super) trusted: Option<Session>,
    /// The first upload cargo, started while the verification builds (see `upload::Early`).
    pub(super) early: Option<Early>,
}

impl<'a> Publisher<'a> {
    /// Cargo, the index (`None` on a dry run) and the session, with no upload started yet.
    pub(super) fn new(
        cargo: Cargo<'a>,
        retry: RetryPolicy,
        index: Option<Index>,
        trusted: Option<Session>,
    ) -> Self {
        Publisher {
            cargo,
            retry,
            index,
            trusted,
            early: None,
        }
    }

    /// 11. The trusted-publishing token, minted now that every crate has built (a slow build
    ///     doesn't eat its life) and, on GitHub, before any hook runs (renewal is free there;
    ///     a GitLab job's one JWT is minted right before the first upload instead, so a long
    ///     hook doesn't eat its life).
    pub(super) fn mint_early(&mut self, dry_run: bool, reporter: &Reporter) -> Result<()> {
        match &mut self.trusted {
            Some(session) if !dry_run && session.mints_freely() => session
                .ensure(std::time::Duration::ZERO, reporter)
                .map(drop),
            _ => Ok(()),
        }
    }

    /// Nothing between the verification and the uploads can change them (no `before_deploy`,
    /// a token known now that lasts, an order cargo can make), and the index is read without
    /// a token: the upload cargo starts now and waits at its gate, its index update and
    /// packaging done while the verification builds. Should it not start, the uploads start
    /// after the verification, as they otherwise do.
    pub(super) fn start_early(&mut self, cfg: &Config, upload: &[Package], live: &LiveToken) {
        if !cfg.dry_run
            && !cfg.no_verify
            && cfg.before_deploy.is_empty()
            && self.trusted.is_none()
            && self.index.as_ref().is_some_and(|i| !i.auth_required())
            && !self.cargo.cannot_order(upload)
            && let Some(token) = live.get()
        {
            self.early = Early::start(&self.cargo, upload, token).ok();
        }
    }

    /// 12. Upload, in order, each crate visible in the index before anything that needs it;
    ///     `None` on a dry run.
    pub(super) fn upload(
        &mut self,
        upload: &[Package],
        progress: Progress,
        reporter: &Reporter,
    ) -> Option<Uploads> {
        let index = self.index.as_mut()?;
        let life: &mut dyn TokenLife = match &mut self.trusted {
            Some(session) => session,
            None => &mut Forever,
        };
        let uploader = Uploader {
            cargo: &self.cargo,
            policy: self.retry,
        };
        Some(uploader.upload(upload, self.early.take(), (index, progress), life, reporter))
    }

    /// Done with the registry: cargo and the index go, then the pristine copy, then the
    /// session revokes its token (a failure is a warning).
    pub(super) fn close(self, tree: Option<PristineTree>, reporter: &Reporter) {
        let Publisher {
            cargo,
            retry: _,
            index,
            trusted,
            early,
        } = self;
        drop(early);
        drop(cargo);
        drop(index);
        drop(tree);
        if let Some(mut session) = trusted {
            session.close(reporter);
        }
    }
}

/// Drops a value (a temp dir's owner) on a thread of its own, and waits for that when it is
/// dropped itself, so the removal overlaps other work but never outlives the run.
pub(super) struct DropBehind(Option<std::thread::JoinHandle<()>>);

impl DropBehind {
    pub(super) fn start<T: Send + 'static>(value: Option<T>) -> Self {
        DropBehind(value.map(|value| std::thread::spawn(move || drop(value))))
    }
}

impl Drop for DropBehind {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            // A panic while removing a temp dir has nothing left to stop.
            thread.join().ok();
        }
    }
}

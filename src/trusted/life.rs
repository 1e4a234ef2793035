//! The token's life: minted right before the first upload, renewed before it runs out,
//! revoked on every way out (the end of the run, a signal, a drop).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use secrecy::{ExposeSecret, SecretString};

use super::wire::{Refusal, revoke};
use super::{Identity, Session};
use crate::report::Reporter;
use crate::secret::Token;
use crate::signals;
use crate::upload::TokenLife;

/// How long after a failed renewal the next is tried (while the token is still usable).
const RENEWAL_PAUSE: Duration = Duration::from_secs(15);

impl Session {
    /// A fresh token, exchanged for a fresh JWT, put in force; then the one it replaces is
    /// revoked (never before: a failed mint leaves the old one working until it expires).
    fn mint(&mut self, reporter: &Reporter) -> Result<()> {
        // An unreachable registry or a 429/5xx is asked again, three tries in all; GitHub
        // gives a fresh JWT for each try, a GitLab job retries its one.
        let mut pause = Duration::from_millis(500);
        let mut tries = 0;
        let minted = loop {
            tries += 1;
            let answer = match &self.identity {
                Identity::Github { .. } => {
                    let jwt = self.github_id_token(reporter)?;
                    self.exchange(&jwt, reporter)
                }
                Identity::Gitlab { unused } => {
                    let (_, jwt) = unused
                        .front()
                        .cloned()
                        .context("every ID token of this job has been exchanged")?;
                    let answer = self.exchange(jwt.expose_secret(), reporter);
                    // A JWT is spent once the registry has judged it; one it never got to
                    // judge (unreachable, 5xx) stays for the next try.
                    if !matches!(answer, Err(Refusal::Transient(_)))
                        && let Identity::Gitlab { unused } = &mut self.identity
                    {
                        unused.pop_front();
                    }
                    answer
                }
            };
            match answer {
                Ok(minted) => break minted,
                Err(Refusal::Transient(error)) if tries < 3 => {
                    reporter.status("Retrying", &format!("the token exchange: {error:#}"));
                    std::thread::sleep(pause);
                    pause *= 2;
                }
                Err(refusal) => return Err(refusal.into_error()),
            }
        };
        reporter.add_secret(&minted);
        let renewal = self.held.is_some();
        let old = self
            .held
            .replace((SecretString::from(minted.clone()), Instant::now()));
        // A signal from here on revokes both, until the old one is revoked below.
        self.revoke_on_signal(old.iter().map(|(t, _)| t.clone()).collect());
        self.live.set(Token::new(
            minted,
            "trusted publishing (the CI's OIDC identity)".to_owned(),
        ));
        if renewal {
            reporter.status(
                "Renewed",
                &format!(
                    "the trusted-publishing token; the new one lives {}s",
                    self.ttl.as_secs()
                ),
            );
        } else {
            reporter.status("Token", "from trusted publishing (the CI's OIDC identity)");
        }
        if let Some((old, _)) = old {
            if let Err(error) = revoke(&self.agent, &self.endpoint(), old.expose_secret()) {
                reporter.warn(&format!(
                    "{error:#}; it expires on its own within {}s, or revoke it by hand",
                    self.ttl.as_secs()
                ));
            }
            self.revoke_on_signal(Vec::new());
        }
        Ok(())
    }

    /// On a signal, revoke the held token and `also`.
    fn revoke_on_signal(&self, also: Vec<SecretString>) {
        let held = self.held.iter().map(|(t, _)| t.clone());
        let tokens: Vec<SecretString> = held.chain(also).collect();
        let (api, agent) = (self.endpoint(), self.agent.clone());
        signals::set_cleanup(Some(Box::new(move || {
            for token in &tokens {
                if let Err(error) = revoke(&agent, &api, token.expose_secret()) {
                    signals::unreported(&format!(
                        "warning: {error:#}; revoke it by hand if it matters to you"
                    ));
                }
            }
        })));
    }

    /// Give the held token back to the registry; a failure is a warning with its reason.
    pub(crate) fn close(&mut self, reporter: &Reporter) {
        if let Err(error) = self.revoke() {
            reporter.warn(&format!(
                "{error:#}; it expires on its own, or revoke it by hand"
            ));
        }
    }

    fn revoke(&mut self) -> Result<()> {
        signals::set_cleanup(None);
        match self.held.take() {
            Some((token, _)) => revoke(&self.agent, &self.endpoint(), token.expose_secret()),
            None => Ok(()),
        }
    }
}

impl TokenLife for Session {
    fn ensure(&mut self, work: Duration, reporter: &Reporter) -> Result<Option<Duration>> {
        if self.held.is_none() {
            self.mint(reporter)?;
        }
        let margin = self.margin();
        // GitHub hands out JWTs freely: renew whenever the work might outlast the token. A
        // GitLab job's spare JWTs are few: spend one only when the token is about to be
        // unusable (crates.io checks the token when an upload starts, so a short life left
        // still covers one crate's upload).
        let due = match self.identity {
            Identity::Github { .. } => self.left() < work + margin,
            Identity::Gitlab { .. } => self.left() < margin,
        };
        // After a failed renewal, wait a little before the next try (a wait ticks twice a
        // second), unless the token is about to be unusable.
        let resting = self
            .failed_renewal
            .is_some_and(|at| at.elapsed() < RENEWAL_PAUSE && self.left() >= margin);
        let mut failure = None;
        if due && self.can_mint() && !resting {
            // Mint first, switch, then revoke: a failed mint leaves the old token in force.
            match self.mint(reporter) {
                Ok(()) => self.failed_renewal = None,
                Err(error) => {
                    self.failed_renewal = Some(Instant::now());
                    if self.left() >= margin {
                        reporter.warn(&format!(
                            "renewing the trusted-publishing token failed: {error:#}; going on \
                             with the current one, which expires in {}s",
                            self.left().as_secs()
                        ));
                    }
                    failure = Some(error);
                }
            }
        }
        // Never hand cargo a token about to run out: stop cleanly instead.
        if self.left() < margin {
            return Err(match failure {
                Some(error) => error.context(format!(
                    "the trusted-publishing token expires in {}s and could not be renewed; \
                     stopped cleanly. Re-running the job continues where it stopped: published \
                     crates are skipped",
                    self.left().as_secs()
                )),
                None => self.stop("the next upload can safely finish"),
            });
        }
        Ok(Some(self.left().saturating_sub(margin)))
    }

    fn outlast(&mut self, work: Duration, _: &Reporter) -> Result<()> {
        if self.left() >= work + self.margin() || self.can_mint() {
            return Ok(());
        }
        Err(self.stop(&format!(
            "the registry's wait and the upload after it ({}s)",
            work.as_secs()
        )))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Err(error) = self.revoke() {
            signals::unreported(&format!(
                "warning: {error:#}; it expires on its own, or revoke it by hand"
            ));
        }
    }
}

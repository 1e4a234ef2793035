//! The run's step 5, before anything is copied: the token in force, the trusted-publishing
//! session, the commit to copy.

use anyhow::Result;

use crate::Env;
use crate::prepare::{self, Settled};
use crate::registry::Target;
use crate::report::Reporter;
use crate::secret::{self, LiveToken, Token};
use crate::trusted::{self, Session};

/// 5. Pre-flight, before anything is copied: the token in force when one is needed (a dry run
///    goes on without), the trusted-publishing session that will mint one where it applies,
///    and the commit to copy.
pub(super) fn preflight(
    settled: &Settled,
    token: Result<Option<Token>>,
    env: &Env,
    reporter: &Reporter,
) -> Result<(LiveToken, Option<Session>, String)> {
    let cfg = &settled.cfg;
    let token = match token {
        Ok(token) => token,
        Err(error) if cfg.dry_run => {
            reporter.warn(&format!("{error:#}; the dry run goes on without a token"));
            None
        }
        Err(error) => return Err(error),
    };
    // Trusted publishing: a short-lived token from the CI's identity, minted right before the
    // uploads (after verification, so a slow build doesn't eat its life), renewed before it
    // runs out, revoked on every way out (drop, signal). Every user of the token — cargo,
    // the index — reads the one in force from `live`.
    let live = LiveToken::new(token);
    let trusted = trusted::session(
        cfg.trusted_publishing(),
        env,
        settled.ctx.provider,
        live.get().is_some(),
        &live,
        reporter.masker(),
    )?;
    if trusted.is_none() && live.get().is_none() && !cfg.dry_run {
        let missing = secret::missing(&cfg.target, env);
        // dpl read `CARGO_TOKEN` too; a `.travis.yml` user may have it already.
        return Err(match (&cfg.entry, &cfg.target) {
            (Some(_), Target::CratesIo) => {
                missing.context("`.travis.yml`'s deploy takes `CARGO_TOKEN` as well")
            }
            _ => missing,
        });
    }
    if let Some(token) = live.get() {
        reporter.status("Token", &format!("from {}", token.from));
    }
    let commit = prepare::commit(&settled.ctx, "publish")?;
    Ok((live, trusted, commit))
}

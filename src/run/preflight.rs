//! The run's step 5, before anything is copied: the token in force, the trusted-publishing
//! session, the commit to copy.

use anyhow::Result;

use crate::Env;
use crate::prepare::{self, Settled};
use crate::report::Reporter;
use crate::secret::{LiveToken, Token};
use crate::trusted::Session;

/// 5. Pre-flight, before anything is copied: the token in force when one is needed (a dry run
///    goes on without), the trusted-publishing session that will mint one where it applies,
///    and the commit to copy.
pub(super) fn preflight(
    settled: &Settled,
    token: Result<Option<Token>>,
    env: &Env,
    reporter: &Reporter,
) -> Result<(LiveToken, Option<Session>, String)> {
    let (live, trusted) = prepare::credentials(settled, token, env, reporter)?;
    if let Some(token) = live.get() {
        reporter.status("Token", &format!("from {}", token.from));
    }
    let commit = prepare::commit(&settled.ctx, "publish")?;
    Ok((live, trusted, commit))
}

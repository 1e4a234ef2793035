//! Trusted publishing: trade the CI's OIDC identity (GitHub's ID-token endpoint, or the JWTs
//! GitLab puts in declared variables) for a short-lived registry token, minted right before
//! the first upload, renewed before it runs out, revoked on every way out.
//!
//! Talks to the CI and the registry's exchange endpoint only. The minted token goes into the
//! run's [`LiveToken`], where cargo and the index read it.
//!
//! Its parts: this module, where the identity comes from and the session that holds it;
//! `life` (mint, renew before the end, revoke on every way out); `wire` (the HTTP asked of
//! the CI's ID-token endpoint and the registry's exchange, each bounded in time); `answer`
//! (what an answer holds, read without showing its body).

mod answer;
mod life;
mod wire;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::Result;
use secrecy::SecretString;

use crate::Env;
use crate::ci::Provider;
use crate::config::{TrustedMode, TrustedPublishing};
use crate::error::UsageError;
use crate::registry::Target;
use crate::secret::{LiveToken, Masker};

const CRATES_IO_API: &str = "https://crates.io";

/// Where the CI's identity comes from.
enum Identity {
    /// GitHub Actions: `ACTIONS_ID_TOKEN_REQUEST_URL`, asked with its bearer token; every
    /// request gives a new JWT (its own `jti`).
    Github { url: String, bearer: SecretString },
    /// GitLab CI: the JWTs of the job's `id_tokens:` entries, each usable once (crates.io
    /// refuses a `jti` it has seen: `src/controllers/trustpub/tokens/exchange/mod.rs`).
    Gitlab {
        unused: VecDeque<(String, SecretString)>,
    },
}

/// A trusted-publishing session: the token it minted last, and when.
pub(crate) struct Session {
    api: String,
    audience: String,
    identity: Identity,
    ttl: Duration,
    agent: ureq::Agent,
    live: LiveToken,
    held: Option<(SecretString, Instant)>,
    /// When the last renewal failed, if it did.
    failed_renewal: Option<Instant>,
}

/// The session to use, if trusted publishing applies here; an error when `always` asks for
/// it and it can't be had. Mints nothing yet: the first upload does, through [`TokenLife`].
/// `masker` learns every credential involved (the CI's request token, each JWT), as GitHub's
/// own toolkit masks the ID token.
pub(crate) fn session(
    trusted: TrustedPublishing<'_>,
    env: &Env,
    provider: Provider,
    token_configured: bool,
    live: &LiveToken,
    masker: &Masker,
) -> Result<Option<Session>> {
    let mode = trusted.settings.mode;
    let cannot = |why: String| -> Result<Option<Session>> {
        match mode {
            TrustedMode::Always => {
                Err(UsageError(format!("`trusted_publishing: always`, but {why}")).into())
            }
            _ => Ok(None),
        }
    };
    if mode == TrustedMode::Never
        || (mode == TrustedMode::Auto && (token_configured || trusted.dry_run))
    {
        return Ok(None);
    }
    let api = match (&trusted.settings.url, trusted.target) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Target::CratesIo) => CRATES_IO_API.to_owned(),
        (None, target) => return cannot(format!("{target} has no `trusted_publishing_url`")),
    };
    let var = |name: &str| env.get(name).filter(|v| !v.is_empty());
    let identity = if provider == Provider::GithubActions {
        match (
            var("ACTIONS_ID_TOKEN_REQUEST_URL"),
            var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) {
            (Some(url), Some(bearer)) => {
                masker.add(bearer);
                Identity::Github {
                    url: url.clone(),
                    bearer: SecretString::from(bearer.clone()),
                }
            }
            _ => {
                return cannot(
                    "GitHub gave this job no ID token: add `permissions: id-token: write` to the job \
                     (and, when running the image with `docker run`, pass `-e ACTIONS_ID_TOKEN_REQUEST_URL \
                     -e ACTIONS_ID_TOKEN_REQUEST_TOKEN`)"
                        .to_owned(),
                );
            }
        }
    } else if provider == Provider::GitlabCi {
        let names = &trusted.settings.token_env;
        let unused: VecDeque<(String, SecretString)> = names
            .iter()
            .filter_map(|name| {
                let jwt = var(name)?;
                masker.add(jwt);
                Some((name.clone(), SecretString::from(jwt.clone())))
            })
            .collect();
        if unused.is_empty() {
            let name = &names[0];
            return cannot(format!(
                "`{name}` is not set: declare it in the job, `id_tokens: {{ {name}: {{ aud: {} }} }}` \
                 (or name another variable with `oidc_token_env`)",
                audience(&api)
            ));
        }
        Identity::Gitlab { unused }
    } else {
        return cannot(
            "trusted publishing needs GitHub Actions or GitLab CI to vouch for this build"
                .to_owned(),
        );
    };
    Ok(Some(Session {
        audience: trusted
            .settings
            .audience
            .clone()
            .unwrap_or_else(|| audience(&api)),
        api,
        identity,
        ttl: trusted.settings.ttl,
        agent: crate::index::agent(),
        live: live.clone(),
        held: None,
        failed_renewal: None,
    }))
}

/// The ID token's audience for a registry API: its URL without the scheme, port and path
/// kept (`https://crates.io` → `crates.io`), as rust-lang/crates-io-auth-action asks for it.
fn audience(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.trim_end_matches('/').to_owned()
}

impl Session {
    fn endpoint(&self) -> String {
        format!("{}/api/v1/trusted_publishing/tokens", self.api)
    }

    /// How long before its end the token is no longer handed to new work: two minutes, or a
    /// sixth of a shorter life.
    fn margin(&self) -> Duration {
        (self.ttl / 6).min(Duration::from_mins(2))
    }

    /// How long the held token has left; zero when none is held.
    fn left(&self) -> Duration {
        self.held.as_ref().map_or(Duration::ZERO, |(_, minted)| {
            self.ttl.saturating_sub(minted.elapsed())
        })
    }

    /// Whether another token can be minted: GitHub gives a new JWT on every request; a GitLab
    /// job has the JWTs it declared, each good for one exchange.
    fn can_mint(&self) -> bool {
        match &self.identity {
            Identity::Github { .. } => true,
            Identity::Gitlab { unused } => !unused.is_empty(),
        }
    }

    /// Whether a new token can be had whenever one is wanted (GitHub), rather than once per
    /// declared JWT (GitLab).
    pub(crate) fn mints_freely(&self) -> bool {
        matches!(self.identity, Identity::Github { .. })
    }

    /// Why the run must stop before the token runs out.
    fn stop(&self, what: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "the trusted-publishing token expires in {}s, before {what}, and this GitLab job has \
             no unused ID token to renew it (declare more in `oidc_token_env`); stopped cleanly. \
             Re-running the job continues where it stopped: published crates are skipped",
            self.left().as_secs()
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn audience_is_the_api_url_without_its_scheme() {
        assert_eq!(super::audience("https://crates.io"), "crates.io");
        assert_eq!(super::audience("https://crates.io/"), "crates.io");
        assert_eq!(
            super::audience("http://127.0.0.1:8080/x"),
            "127.0.0.1:8080/x"
        );
    }
}

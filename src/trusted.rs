//! Trusted publishing: trade the CI's OIDC identity (GitHub's ID-token endpoint, or the JWTs
//! GitLab puts in declared variables) for a short-lived registry token, minted right before
//! the first upload, renewed before it runs out, revoked on every way out.
//!
//! Talks to the CI and the registry's exchange endpoint only. The minted token goes into the
//! run's [`LiveToken`], where cargo and the index read it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use secrecy::{ExposeSecret, SecretString};

use crate::Env;
use crate::ci::Provider;
use crate::config::{TrustedMode, TrustedPublishing};
use crate::error::UsageError;
use crate::registry::Target;
use crate::report::Reporter;
use crate::secret::{LiveToken, Masker, Token};
use crate::signals;
use crate::upload::TokenLife;

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
    masker: Masker,
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
        masker: masker.clone(),
    }))
}

/// The ID token's audience for a registry API: its URL without the scheme, port and path
/// kept (`https://crates.io` → `crates.io`), as rust-lang/crates-io-auth-action asks for it.
fn audience(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.trim_end_matches('/').to_owned()
}

/// Why an exchange gave no token.
enum Refusal {
    /// The registry judged the JWT and said no: it is spent.
    Final(anyhow::Error),
    /// The registry couldn't be asked, or failed: the JWT may be tried again.
    Transient(anyhow::Error),
}

impl Refusal {
    fn into_error(self) -> anyhow::Error {
        match self {
            Refusal::Final(error) | Refusal::Transient(error) => error,
        }
    }
}

/// How long after a failed renewal the next is tried (while the token is still usable).
const RENEWAL_PAUSE: Duration = Duration::from_secs(15);

/// How often the ID-token request is tried: actions/toolkit's `getIDToken` gives its HTTP
/// client `maxRetries: 10` (packages/core/src/oidc-utils.ts).
const ID_TOKEN_TRIES: u32 = 11;

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
                    let jwt = self.github_id_token()?;
                    self.exchange(&jwt)
                }
                Identity::Gitlab { unused } => {
                    let (_, jwt) = unused
                        .front()
                        .cloned()
                        .context("every ID token of this job has been exchanged")?;
                    let answer = self.exchange(jwt.expose_secret());
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

    /// A new JWT from GitHub's ID-token endpoint, asked up to [`ID_TOKEN_TRIES`] times.
    fn github_id_token(&self) -> Result<String> {
        let Identity::Github { url, bearer } = &self.identity else {
            bail!("not on GitHub Actions");
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}audience={}", encode(&self.audience));
        let mut pause = Duration::from_millis(100);
        let mut tries = 0;
        loop {
            tries += 1;
            let answer = self
                .agent
                .get(&url)
                .header(
                    "Authorization",
                    &format!("Bearer {}", bearer.expose_secret()),
                )
                .header("Accept", "application/json")
                .call();
            let error = match answer {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let text = body_text(&mut response);
                    #[derive(serde::Deserialize)]
                    struct IdToken {
                        value: String,
                    }
                    match serde_json::from_str::<IdToken>(&text) {
                        Ok(IdToken { value }) if status == 200 => {
                            self.masker.add(&value);
                            return Ok(value);
                        }
                        _ if status == 429 || status >= 500 => {
                            anyhow::anyhow!("GitHub's ID-token endpoint answered {status}")
                        }
                        _ => bail!(
                            "GitHub's ID-token endpoint answered {status} without a token: {}",
                            detail(&text)
                        ),
                    }
                }
                Err(error) => {
                    anyhow::Error::new(error).context("could not reach GitHub's ID-token endpoint")
                }
            };
            if tries >= ID_TOKEN_TRIES {
                return Err(error.context(format!("gave up after {tries} tries")));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    /// The registry's token for `jwt`, asked once.
    fn exchange(&self, jwt: &str) -> std::result::Result<String, Refusal> {
        let mut response = match self
            .agent
            .post(&self.endpoint())
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .send(serde_json::json!({ "jwt": jwt }).to_string())
        {
            Ok(response) => response,
            Err(error) => {
                return Err(Refusal::Transient(
                    anyhow::Error::new(error)
                        .context(format!("could not reach {}", self.endpoint())),
                ));
            }
        };
        let status = response.status().as_u16();
        let text = body_text(&mut response);
        #[derive(serde::Deserialize)]
        struct Minted {
            token: String,
        }
        let refused = anyhow::anyhow!(
            "the registry refused the trusted-publishing exchange ({status}): {}",
            detail(&text)
        );
        match serde_json::from_str::<Minted>(&text) {
            Ok(Minted { token }) if status == 200 => Ok(token),
            _ if status == 429 || status >= 500 => Err(Refusal::Transient(refused)),
            _ => Err(Refusal::Final(refused)),
        }
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

fn revoke(agent: &ureq::Agent, endpoint: &str, token: &str) -> Result<()> {
    let mut response = agent
        .delete(endpoint)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .with_context(|| format!("could not revoke the trusted-publishing token at {endpoint}"))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        bail!(
            "revoking the trusted-publishing token at {endpoint} answered {status}: {}",
            detail(&body_text(&mut response))
        );
    }
    Ok(())
}

/// A response's body as text (at most 64 KiB is read).
fn body_text(response: &mut ureq::http::Response<ureq::Body>) -> String {
    response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default()
}

/// What an error answer says: the registry's `{"errors":[{"detail":…}]}` joined, GitHub's
/// `{"message":…}`, else the body's own text.
fn detail(text: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Detail>,
    }
    #[derive(serde::Deserialize)]
    struct Detail {
        detail: String,
    }
    #[derive(serde::Deserialize)]
    struct Message {
        message: String,
    }
    if let Ok(Errors { errors }) = serde_json::from_str::<Errors>(text)
        && !errors.is_empty()
    {
        return errors
            .into_iter()
            .map(|e| e.detail)
            .collect::<Vec<_>>()
            .join("; ");
    }
    if let Ok(Message { message }) = serde_json::from_str::<Message>(text) {
        return message;
    }
    let text: String = text.trim().chars().take(500).collect();
    if text.is_empty() {
        "no details (empty body)".to_owned()
    } else {
        text
    }
}

/// `text` as a URL query value: everything but RFC 3986's unreserved characters escaped.
fn encode(text: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, RESERVED).to_string()
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
        assert_eq!(super::encode("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn error_bodies_are_read_whatever_their_shape() {
        assert_eq!(
            super::detail(r#"{"errors":[{"detail":"a"},{"detail":"b"}]}"#),
            "a; b"
        );
        assert_eq!(super::detail(r#"{"message":"bad token"}"#), "bad token");
        assert_eq!(
            super::detail("<html>502 Bad Gateway</html>"),
            "<html>502 Bad Gateway</html>"
        );
        assert_eq!(super::detail(""), "no details (empty body)");
    }
}

//! What is asked over HTTP: GitHub's ID-token endpoint, the registry's exchange and its
//! revocation, each bounded in time; what their answers hold is read in `answer`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use secrecy::ExposeSecret;

use super::answer::Answer;
use super::{Identity, Session};
use crate::report::Reporter;
use crate::secret;

/// Why an exchange gave no token.
pub(super) enum Refusal {
    /// The registry judged the JWT and said no: it is spent.
    Final(anyhow::Error),
    /// The registry couldn't be asked, or failed: the JWT may be tried again.
    Transient(anyhow::Error),
}

impl Refusal {
    pub(super) fn into_error(self) -> anyhow::Error {
        match self {
            Refusal::Final(error) | Refusal::Transient(error) => error,
        }
    }
}

/// How often the ID-token request is tried: actions/toolkit's `getIDToken` gives its HTTP
/// client `maxRetries: 10` (packages/core/src/oidc-utils.ts) — within [`ID_TOKEN_DEADLINE`].
const ID_TOKEN_TRIES: u32 = 11;

/// How long the ID token is waited for, every try included: a hung endpoint must not hold
/// the run for the toolkit's eleven full timeouts.
const ID_TOKEN_DEADLINE: Duration = Duration::from_secs(90);

/// How long one request to a token endpoint may take, its answer read in full.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl Session {
    /// A new JWT from GitHub's ID-token endpoint, asked up to [`ID_TOKEN_TRIES`] times within
    /// [`ID_TOKEN_DEADLINE`]; masked (for the runner too) as soon as it is read.
    pub(super) fn github_id_token(&self, reporter: &Reporter) -> Result<String> {
        let Identity::Github { url, bearer } = &self.identity else {
            bail!("not on GitHub Actions");
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}audience={}", encode(&self.audience));
        let what = "GitHub's ID-token endpoint";
        let start = Instant::now();
        let mut pause = Duration::from_millis(100);
        let mut tries = 0;
        loop {
            tries += 1;
            let wait = ID_TOKEN_DEADLINE
                .saturating_sub(start.elapsed())
                .min(REQUEST_TIMEOUT);
            let sent = self
                .agent
                .get(&url)
                .config()
                .timeout_global(Some(wait))
                .build()
                .header(
                    "Authorization",
                    &format!("Bearer {}", bearer.expose_secret()),
                )
                .header("Accept", "application/json")
                .call();
            let error = match sent {
                Ok(response) => {
                    let answer = Answer::read(response);
                    #[derive(serde::Deserialize)]
                    struct IdToken {
                        value: String,
                    }
                    let status = answer.status;
                    if status == 200
                        && let Some(IdToken { value }) = answer.json()
                        && secret::unusable(&value).is_none()
                    {
                        reporter.add_secret(&value);
                        return Ok(value);
                    }
                    let found = self.contain(&answer, &["value"], false, reporter);
                    match status {
                        429 | 500.. => anyhow!("{what} at {url} answered {status}{found}"),
                        200 => bail!(
                            "{what} at {url} answered 200 without a usable ID token in the form \
                             `{{\"value\": \"…\"}}`: {}{found}",
                            answer.unshown()
                        ),
                        _ => bail!(
                            "{what} at {url} answered {status} without an ID token: {}{found}",
                            answer.said()
                        ),
                    }
                }
                Err(error) => crate::index::unreached(error, what, &url, wait),
            };
            if tries >= ID_TOKEN_TRIES || start.elapsed() + pause >= ID_TOKEN_DEADLINE {
                return Err(error.context(format!(
                    "gave up on GitHub's ID token after {tries} tries in {}s",
                    start.elapsed().as_secs()
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    /// The registry's token for `jwt`, asked once. Its body is never shown: a token in an
    /// answer that isn't exactly `{"token": …}` with a usable token is masked at once and
    /// revoked.
    pub(super) fn exchange(&self, jwt: &str, reporter: &Reporter) -> Result<String, Refusal> {
        let endpoint = self.endpoint();
        let what = "the registry's trusted-publishing exchange";
        let sent = self
            .agent
            .post(&endpoint)
            .config()
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build()
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .send(serde_json::json!({ "jwt": jwt }).to_string());
        let answer = match sent {
            Ok(response) => Answer::read(response),
            Err(error) => {
                return Err(Refusal::Transient(crate::index::unreached(
                    error,
                    what,
                    &endpoint,
                    REQUEST_TIMEOUT,
                )));
            }
        };
        #[derive(serde::Deserialize)]
        struct Minted {
            token: String,
        }
        let status = answer.status;
        let minted = (status == 200).then(|| answer.json::<Minted>()).flatten();
        if let Some(Minted { token }) = &minted
            && secret::unusable(token).is_none()
        {
            return Ok(token.clone());
        }
        let found = self.contain(&answer, &["token"], true, reporter);
        if let Some(Minted { token }) = minted {
            let why = secret::unusable(&token).unwrap_or_default();
            return Err(Refusal::Final(anyhow!(
                "{what} at {endpoint} answered with a token that {why}: not a usable token, \
                 so nothing is uploaded with it{found}"
            )));
        }
        if status == 200 {
            return Err(Refusal::Final(anyhow!(
                "{what} at {endpoint} answered 200 without a token in the form \
                 `{{\"token\": \"…\"}}`: {}{found}",
                answer.unshown()
            )));
        }
        let refused = anyhow!(
            "the registry refused the trusted-publishing exchange ({status}): {}{found}",
            answer.said()
        );
        match status {
            429 | 500.. => Err(Refusal::Transient(refused)),
            _ => Err(Refusal::Final(refused)),
        }
    }

    /// Mask every credential `answer` seems to hold, at once; with `revocable` (a registry's
    /// answer), revoke each, as it may be live. What the error adds about them.
    fn contain(
        &self,
        answer: &Answer,
        keys: &[&str],
        revocable: bool,
        reporter: &Reporter,
    ) -> String {
        let found = answer.credentials(keys);
        if found.is_empty() {
            return String::new();
        }
        for credential in &found {
            reporter.add_secret(credential);
        }
        if !revocable {
            return "; a credential in it is masked from here on".to_owned();
        }
        let failed: Vec<String> = found
            .iter()
            .filter(|c| !c.chars().any(char::is_control))
            .filter_map(|c| revoke(&self.agent, &self.endpoint(), c).err())
            .map(|error| format!("{error:#}"))
            .collect();
        if failed.is_empty() {
            "; a token in it is masked from here on, and was revoked".to_owned()
        } else {
            format!(
                "; a token in it is masked from here on, but revoking it failed ({}): it \
                 expires on its own, or revoke it by hand",
                failed.join("; ")
            )
        }
    }
}

/// Give `token` back to the registry (`DELETE` on the exchange's endpoint).
pub(super) fn revoke(agent: &ureq::Agent, endpoint: &str, token: &str) -> Result<()> {
    let what = "the trusted-publishing token's revocation";
    let answer = agent
        .delete(endpoint)
        .config()
        .timeout_global(Some(REQUEST_TIMEOUT))
        .build()
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .map_err(|error| crate::index::unreached(error, what, endpoint, REQUEST_TIMEOUT))
        .context("could not revoke the trusted-publishing token")?;
    let answer = Answer::read(answer);
    let status = answer.status;
    if !(200..300).contains(&status) {
        bail!(
            "revoking the trusted-publishing token at {endpoint} answered {status}: {}",
            answer.said()
        );
    }
    Ok(())
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
    fn the_audience_is_escaped_for_the_query() {
        assert_eq!(super::encode("a b/c"), "a%20b%2Fc");
    }
}

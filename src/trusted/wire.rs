//! What is asked over HTTP: GitHub's ID-token endpoint, the registry's exchange and its
//! revocation, and how their answers are read.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use secrecy::ExposeSecret;

use super::{Identity, Session};

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
/// client `maxRetries: 10` (packages/core/src/oidc-utils.ts).
const ID_TOKEN_TRIES: u32 = 11;

impl Session {
    /// A new JWT from GitHub's ID-token endpoint, asked up to [`ID_TOKEN_TRIES`] times.
    pub(super) fn github_id_token(&self) -> Result<String> {
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
    pub(super) fn exchange(&self, jwt: &str) -> std::result::Result<String, Refusal> {
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
}

pub(super) fn revoke(agent: &ureq::Agent, endpoint: &str, token: &str) -> Result<()> {
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
    fn error_bodies_are_read_whatever_their_shape() {
        assert_eq!(super::encode("a b/c"), "a%20b%2Fc");
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

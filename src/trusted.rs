//! Trusted publishing: trade the CI's OIDC identity (GitHub's ID-token endpoint, or the JWT
//! GitLab puts in a declared variable) for a short-lived registry token, renew it before it
//! runs out, and revoke it on every way out.
//!
//! Talks to the CI and the registry's exchange endpoint only; the token goes to cargo through
//! the caller, like any other.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use secrecy::{ExposeSecret, SecretString};

use crate::Env;
use crate::config::{Config, Target, TrustedMode};
use crate::error::UsageError;
use crate::secret::Masker;
use crate::signals;

const CRATES_IO_API: &str = "https://crates.io";

/// Where the CI's identity comes from.
enum Identity {
    /// GitHub Actions: `ACTIONS_ID_TOKEN_REQUEST_URL`, asked with its bearer token.
    Github { url: String, bearer: SecretString },
    /// GitLab CI: the JWT of an `id_tokens:` entry.
    Gitlab { jwt: SecretString },
}

/// A trusted-publishing session: the current minted token, if any.
pub struct Session {
    api: String,
    audience: String,
    identity: Identity,
    ttl: Duration,
    agent: ureq::Agent,
    current: Option<(SecretString, Instant)>,
    masker: Masker,
}

/// The session to use, if trusted publishing applies here; an error when `always` asks for
/// it and it can't be had.
/// `masker` learns every credential involved (the CI's request token, each JWT), as GitHub's
/// own toolkit masks the ID token.
pub fn session(
    cfg: &Config,
    env: &Env,
    token_configured: bool,
    masker: &Masker,
) -> Result<Option<Session>> {
    let mode = cfg.trusted.mode;
    let cannot = |why: String| -> Result<Option<Session>> {
        match mode {
            TrustedMode::Always => {
                Err(UsageError(format!("`trusted_publishing: always`, but {why}")).into())
            }
            _ => Ok(None),
        }
    };
    if mode == TrustedMode::Never
        || (mode == TrustedMode::Auto && (token_configured || cfg.dry_run))
    {
        return Ok(None);
    }
    let api = match (&cfg.trusted.url, &cfg.target) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Target::CratesIo) => CRATES_IO_API.to_owned(),
        (None, target) => return cannot(format!("{target} has no `trusted_publishing_url`")),
    };
    let var = |name: &str| env.get(name).filter(|v| !v.is_empty());
    let identity = if env.get("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
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
    } else if env.get("GITLAB_CI").is_some_and(|v| v == "true") {
        let name = &cfg.trusted.token_env;
        match var(name) {
            Some(jwt) => {
                masker.add(jwt);
                Identity::Gitlab {
                    jwt: SecretString::from(jwt.clone()),
                }
            }
            None => {
                return cannot(format!(
                    "`{name}` is not set: declare it in the job, `id_tokens: {{ {name}: {{ aud: {} }} }}` \
                     (or name another variable with `oidc_token_env`)",
                    host(&api)
                ));
            }
        }
    } else {
        return cannot(
            "trusted publishing needs GitHub Actions or GitLab CI to vouch for this build"
                .to_owned(),
        );
    };
    Ok(Some(Session {
        audience: cfg.trusted.audience.clone().unwrap_or_else(|| host(&api)),
        api,
        identity,
        ttl: cfg.trusted.ttl,
        agent: crate::index::agent(),
        current: None,
        masker: masker.clone(),
    }))
}

/// `https://crates.io/…` → `crates.io`.
fn host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', ':']).next().unwrap_or(rest).to_owned()
}

impl Session {
    fn endpoint(&self) -> String {
        format!("{}/api/v1/trusted_publishing/tokens", self.api)
    }

    /// A fresh token: the CI's JWT exchanged at the registry. Revokes the one held before.
    pub fn mint(&mut self) -> Result<String> {
        self.revoke()?;
        let jwt = match &self.identity {
            Identity::Gitlab { jwt } => jwt.expose_secret().to_owned(),
            Identity::Github { url, bearer } => {
                let sep = if url.contains('?') { '&' } else { '?' };
                let url = format!("{url}{sep}audience={}", encode(&self.audience));
                let mut response = self
                    .agent
                    .get(&url)
                    .header(
                        "Authorization",
                        &format!("Bearer {}", bearer.expose_secret()),
                    )
                    .header("Accept", "application/json")
                    .call()
                    .context("could not reach GitHub's ID-token endpoint")?;
                let status = response.status().as_u16();
                let body = json_body(&mut response);
                match body["value"].as_str() {
                    Some(jwt) if status == 200 => {
                        self.masker.add(jwt);
                        jwt.to_owned()
                    }
                    _ => bail!("GitHub's ID-token endpoint answered {status} without a token"),
                }
            }
        };
        let mut response = self
            .agent
            .post(&self.endpoint())
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .send(serde_json::json!({ "jwt": jwt }).to_string())
            .with_context(|| format!("could not reach {}", self.endpoint()))?;
        let status = response.status().as_u16();
        let body = json_body(&mut response);
        let token = match body["token"].as_str() {
            Some(token) if status == 200 => token.to_owned(),
            _ => bail!(
                "the registry refused the trusted-publishing exchange ({status}): {}",
                registry_detail(&body)
            ),
        };
        self.current = Some((SecretString::from(token.clone()), Instant::now()));
        let (api, agent, held) = (self.endpoint(), self.agent.clone(), token.clone());
        signals::set_cleanup(Some(Box::new(move || {
            if let Err(error) = revoke(&agent, &api, &held) {
                eprintln!("warning: {error:#}");
            }
        })));
        Ok(token)
    }

    /// A new token when the held one is within a sixth of its life of expiring.
    pub fn renew_if_due(&mut self) -> Result<Option<String>> {
        match &self.current {
            Some((_, minted)) if minted.elapsed() + self.ttl / 6 >= self.ttl => {
                self.mint().map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Give the held token back to the registry.
    pub fn revoke(&mut self) -> Result<()> {
        signals::set_cleanup(None);
        match self.current.take() {
            Some((token, _)) => revoke(&self.agent, &self.endpoint(), token.expose_secret()),
            None => Ok(()),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Err(error) = self.revoke() {
            eprintln!("warning: {error:#}");
        }
    }
}

fn revoke(agent: &ureq::Agent, endpoint: &str, token: &str) -> Result<()> {
    let response = agent
        .delete(endpoint)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .with_context(|| format!("could not revoke the trusted-publishing token at {endpoint}"))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        bail!(
            "revoking the trusted-publishing token at {endpoint} answered {status}; it expires on its own"
        );
    }
    Ok(())
}

/// A JSON answer, or `null` when it is not JSON.
fn json_body(response: &mut ureq::http::Response<ureq::Body>) -> serde_json::Value {
    let text = response.body_mut().read_to_string().unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_default()
}

/// The registry's `{"errors":[{"detail":…}]}`, joined.
fn registry_detail(body: &serde_json::Value) -> String {
    let details: Vec<&str> = body["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["detail"].as_str()).collect())
        .unwrap_or_default();
    if details.is_empty() {
        "no details".to_owned()
    } else {
        details.join("; ")
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn audience_is_the_api_host() {
        assert_eq!(super::host("https://crates.io"), "crates.io");
        assert_eq!(super::host("http://127.0.0.1:8080/x"), "127.0.0.1");
        assert_eq!(super::encode("a b/c"), "a%20b%2Fc");
    }
}

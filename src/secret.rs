//! The registry token: where it comes from, and keeping it out of every log, argv and hook.
//!
//! The token lives in a `SecretString`; it is exposed only to build a child's environment and
//! to mask output. It never goes into argv.

use std::collections::BTreeMap;

use anyhow::Result;
use secrecy::{ExposeSecret, SecretString};

use crate::Env;
use crate::config::{Target, TokenSetting};
use crate::error::UsageError;

/// A resolved token and the variable it was read from (for messages, never the value).
pub struct Token {
    value: SecretString,
    /// `token` key, `$VAR`, or the cargo variable it came from.
    pub from: String,
}

impl Token {
    pub fn new(value: String, from: String) -> Self {
        Token {
            value: SecretString::from(value),
            from,
        }
    }

    /// The value, for a child process's environment or for masking; nothing else.
    pub fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

/// The token for `target`: the `token` key (a `$VAR` / `${VAR}` reference, or a literal from a
/// non-file source), else cargo's own variable for that registry. A crates.io token is never
/// used for another registry.
pub fn resolve(
    setting: Option<&TokenSetting>,
    target: &Target,
    env: &Env,
) -> Result<Option<Token>> {
    if let Some(setting) = setting {
        return match reference(&setting.raw) {
            Some(var) => match env.get(var).filter(|v| !v.trim().is_empty()) {
                Some(value) => Ok(Some(Token {
                    value: SecretString::from(value.trim().to_owned()),
                    from: format!("`${var}` (via `token`, {})", setting.origin),
                })),
                None => Err(UsageError(format!(
                    "`token` ({}) refers to `${var}`, which is {}. Set it from a CI secret; \
                     note that CI secrets are empty on pull requests from forks",
                    setting.origin,
                    if env.contains_key(var) {
                        "empty"
                    } else {
                        "not set"
                    }
                ))
                .into()),
            },
            None => Ok(Some(Token {
                value: SecretString::from(setting.raw.trim().to_owned()),
                from: format!("`token` ({})", setting.origin),
            })),
        };
    }
    let var = target.token_var();
    Ok(env
        .get(&var)
        .filter(|v| !v.trim().is_empty())
        .map(|v| Token {
            value: SecretString::from(v.trim().to_owned()),
            from: format!("`{var}`"),
        }))
}

/// The error for a publish that needs a token and has none.
pub fn missing(target: &Target, env: &Env) -> anyhow::Error {
    let var = target.token_var();
    let how = match target {
        Target::Index(_) => "set the `token` key to a `${VAR}` reference".to_owned(),
        _ => format!("set `{var}` from a CI secret, or the `token` key to a `${{VAR}}` reference"),
    };
    let state = if env.contains_key(&var) {
        format!(
            "`{var}` is set but empty (CI secrets are empty on pull requests from forks, or when the secret's name is misspelled)"
        )
    } else {
        "no token was given".to_owned()
    };
    UsageError(format!(
        "publishing to {target} needs a token, and {state}: {how}"
    ))
    .into()
}

/// `$VAR` or `${VAR}` → `VAR`.
fn reference(raw: &str) -> Option<&str> {
    let name = raw.trim();
    let name = name
        .strip_prefix("${")
        .and_then(|n| n.strip_suffix('}'))
        .or_else(|| name.strip_prefix('$'))?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

/// The environment for a child that must not see any registry token: the `token` key's sources,
/// cargo's token variables, and anything holding the token's value are removed.
pub fn scrub(env: &Env, token: Option<&Token>) -> Env {
    let is_token_var = |k: &str| {
        k == "CARGO_REGISTRY_TOKEN"
            || k == "SHIPCRATE_TOKEN"
            || k == "INPUT_TOKEN"
            || (k.starts_with("CARGO_REGISTRIES_") && k.ends_with("_TOKEN"))
    };
    env.iter()
        .filter(|(k, v)| !is_token_var(k) && token.is_none_or(|t| v.trim() != t.expose()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect::<BTreeMap<_, _>>()
}

/// Replaces every secret in text with `***`. Clones share one list, so a secret added later
/// (a renewed token) is masked by every stream already running.
#[derive(Clone, Default)]
pub struct Masker {
    secrets: std::sync::Arc<std::sync::Mutex<Vec<SecretString>>>,
}

impl Masker {
    pub fn add(&self, secret: &str) {
        if !secret.is_empty() {
            self.secrets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(SecretString::from(secret.to_owned()));
        }
    }

    pub fn mask(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in self
            .secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            text = text.replace(secret.expose_secret(), "***");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;

    use crate::test_env as env;

    fn setting(raw: &str) -> TokenSetting {
        TokenSetting {
            raw: raw.into(),
            origin: Origin("test".into()),
        }
    }

    #[test]
    fn references_read_the_named_variable() {
        let e = env(&[("MY_SECRET", "abc")]);
        for raw in ["$MY_SECRET", "${MY_SECRET}"] {
            let t = resolve(Some(&setting(raw)), &Target::CratesIo, &e)
                .unwrap()
                .unwrap();
            assert_eq!(t.expose(), "abc");
            assert!(t.from.contains("MY_SECRET"));
        }
        let err = resolve(Some(&setting("$NOPE")), &Target::CratesIo, &e)
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("`$NOPE`, which is not set"),
            "{err}"
        );
    }

    #[test]
    fn a_crates_io_token_never_goes_to_another_registry() {
        let e = env(&[("CARGO_REGISTRY_TOKEN", "crates-io-token")]);
        let named = Target::Named("my-reg".into());
        assert!(resolve(None, &named, &e).unwrap().is_none());
        let e = env(&[
            ("CARGO_REGISTRY_TOKEN", "x"),
            ("CARGO_REGISTRIES_MY_REG_TOKEN", "mine"),
        ]);
        assert_eq!(resolve(None, &named, &e).unwrap().unwrap().expose(), "mine");
        assert_eq!(
            resolve(None, &Target::CratesIo, &e)
                .unwrap()
                .unwrap()
                .expose(),
            "x"
        );
    }

    #[test]
    fn empty_token_variable_gets_its_own_message() {
        let e = env(&[("CARGO_REGISTRY_TOKEN", "")]);
        assert!(resolve(None, &Target::CratesIo, &e).unwrap().is_none());
        let msg = missing(&Target::CratesIo, &e).to_string();
        assert!(
            msg.contains("`CARGO_REGISTRY_TOKEN` is set but empty"),
            "{msg}"
        );
    }

    #[test]
    fn scrub_removes_every_token_source() {
        let e = env(&[
            ("CARGO_REGISTRY_TOKEN", "a"),
            ("CARGO_REGISTRIES_X_TOKEN", "b"),
            ("SHIPCRATE_TOKEN", "c"),
            ("INPUT_TOKEN", "d"),
            ("MY_SECRET", "tok"),
            ("PATH", "/bin"),
        ]);
        let t = resolve(Some(&setting("$MY_SECRET")), &Target::CratesIo, &e).unwrap();
        let clean = scrub(&e, t.as_ref());
        assert_eq!(clean.keys().collect::<Vec<_>>(), ["PATH"]);
    }

    #[test]
    fn masker_hides_secrets() {
        let m = Masker::default();
        m.add("s3cr3t");
        assert_eq!(m.mask("token s3cr3t and s3cr3t"), "token *** and ***");
    }
}

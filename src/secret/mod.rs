//! The registry token: where it comes from, and keeping it out of every log, argv and hook.
//!
//! The token lives in a `SecretString`; it is exposed only to build a child's environment and
//! to mask output. It never goes into argv. Its parts: this module (resolved, held, scrubbed
//! from children, private files) and `mask` (every secret out of what is printed).

mod mask;

pub(crate) use mask::{MIN_MASKED, Masker, forms, too_short_to_mask, without_userinfo};

use std::collections::BTreeMap;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use secrecy::{ExposeSecret, SecretString};

use crate::Env;
use crate::config::TokenSetting;
use crate::error::UsageError;
use crate::registry::Target;

/// A resolved token and the variable it was read from (for messages, never the value).
#[derive(Clone)]
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
    pub(crate) fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

/// The token in force, one for the whole run: cargo's uploads, the index and revocation all
/// read it here, so a renewed token reaches every one of them at once.
#[derive(Clone, Default)]
pub struct LiveToken(std::sync::Arc<std::sync::Mutex<Option<std::sync::Arc<Token>>>>);

impl LiveToken {
    pub fn new(token: Option<Token>) -> Self {
        LiveToken(std::sync::Arc::new(std::sync::Mutex::new(
            token.map(std::sync::Arc::new),
        )))
    }

    /// The token in force now.
    pub(crate) fn get(&self) -> Option<std::sync::Arc<Token>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replace the token in force; returns the one it replaces.
    pub fn set(&self, token: Token) -> Option<std::sync::Arc<Token>> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(std::sync::Arc::new(token))
    }
}

/// The token for `target` ([`resolve_as_given`]), refused when it holds whitespace or control
/// characters inside it: no registry hands such a token out (a minted one is held to the same
/// rule, [`unusable`]).
pub(crate) fn resolve(
    setting: Option<&TokenSetting>,
    target: &Target,
    env: &Env,
) -> Result<Option<Token>> {
    let token = resolve_as_given(setting, target, env)?;
    if let Some(token) = &token
        && token
            .expose()
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(UsageError(format!(
            "the token from {} holds whitespace or control characters inside it, which no \
             registry token does (a secret pasted with a line break or a space?): set it again \
             to the token alone",
            token.from
        ))
        .into());
    }
    Ok(token)
}

/// The token for `target`: the `token` key (a `$VAR` / `${VAR}` reference, or a literal from a
/// non-file source), else cargo's own variable for that registry; trimmed, not checked (to
/// mask whatever is there). A crates.io token is never used for another registry.
pub(crate) fn resolve_as_given(
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
            // `$ghp-…`: no variable by that name can exist. Read as a literal it would be
            // used as the token (and dodge the literal-token check); never echo it.
            None if setting.raw.trim().starts_with('$') => Err(UsageError(format!(
                "`token` ({}) starts with `$` but is not a variable reference: write `$NAME` \
                 or `${{NAME}}`, where NAME (letters, digits, `_`) is the variable holding the \
                 token. If what you wrote is the token itself, treat it as leaked and revoke it",
                setting.origin
            ))
            .into()),
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

/// Why `value` can't be a registry token, if it can't: empty, holding whitespace or control
/// characters (cargo sends it whole in a header), or too short to mask in the log.
pub(crate) fn unusable(value: &str) -> Option<String> {
    if value.is_empty() {
        Some("is empty".to_owned())
    } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("holds whitespace or control characters".to_owned())
    } else if too_short_to_mask(value) {
        Some(format!(
            "is {} characters long, too short to be a secret (at least {MIN_MASKED})",
            value.chars().count()
        ))
    } else {
        None
    }
}

/// The error for a publish that needs a token and has none.
pub(crate) fn missing(target: &Target, env: &Env) -> anyhow::Error {
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

/// The variable the `token` key names, if it names one.
pub(crate) fn reference_name(setting: &TokenSetting) -> Option<&str> {
    reference(&setting.raw)
}

/// `$VAR` or `${VAR}` → `VAR`.
fn reference(raw: &str) -> Option<&str> {
    let name = raw.trim();
    let name = name
        .strip_prefix("${")
        .and_then(|n| n.strip_suffix('}'))
        .or_else(|| name.strip_prefix('$'))?;
    let valid = name.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(name)
}

/// Who a scrubbed environment is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Child {
    /// cargo's builds (the verify build, packaging, metadata) and git: their build scripts and
    /// proc-macros run code from every dependency, so they get no credential at all.
    Build,
    /// `before_deploy` / `after_deploy` and `on.condition`: the user's own commands. No registry
    /// token and no OIDC request credential, but the CI's own credentials (`GITHUB_TOKEN`,
    /// `CI_JOB_TOKEN`) stay, for release steps.
    Hook,
}

/// Variables that hold a registry token, whatever the registry.
fn is_registry_token(name: &str) -> bool {
    matches!(
        name,
        "CARGO_REGISTRY_TOKEN" | "CARGO_TOKEN" | "SHIPCRATE_TOKEN" | "INPUT_TOKEN"
    ) || (name.starts_with("CARGO_REGISTRIES_") && name.ends_with("_TOKEN"))
}

/// What lets a job ask its CI for an OIDC identity (GitHub's request pair; the GitLab
/// `id_tokens:` variable is named by the config and checked separately).
const OIDC_REQUEST: &[&str] = &[
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "BITBUCKET_STEP_OIDC_TOKEN",
    "CIRCLE_OIDC_TOKEN",
    "CIRCLE_OIDC_TOKEN_V2",
];

/// Credentials CI services hand every job (or that jobs commonly map in): kept for hooks,
/// removed from builds.
const CI_CREDENTIALS: &[&str] = &[
    "ACTIONS_RUNTIME_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "CI_JOB_TOKEN",
    "CI_JOB_JWT",
    "CI_JOB_JWT_V1",
    "CI_JOB_JWT_V2",
    "CI_REGISTRY_PASSWORD",
    "CI_DEPLOY_PASSWORD",
    "CI_DEPENDENCY_PROXY_PASSWORD",
    "CI_REPOSITORY_URL",
    "BUILDKITE_AGENT_ACCESS_TOKEN",
    "SYSTEM_ACCESSTOKEN",
    "CI_NETRC_PASSWORD",
    "DRONE_NETRC_PASSWORD",
];

/// The environment for `child`: every registry token and OIDC request credential removed
/// (and for builds every CI credential too), plus any variable holding one of their values —
/// the `$VAR` the `token` key names, a URL with a job token inside (`CI_REPOSITORY_URL`).
/// `id_token_vars` are the GitLab `id_tokens:` variables trusted publishing reads.
pub(crate) fn scrub(
    env: &Env,
    token: Option<&Token>,
    id_token_vars: &[String],
    child: Child,
) -> Env {
    let removed = |name: &str| {
        is_registry_token(name)
            || OIDC_REQUEST.contains(&name)
            || id_token_vars.iter().any(|v| v == name)
            || (child == Child::Build && CI_CREDENTIALS.contains(&name))
    };
    let secrets: Vec<&str> = env
        .iter()
        .filter(|(k, _)| removed(k))
        .map(|(_, v)| v.trim())
        .chain(token.map(Token::expose))
        .filter(|v| !v.is_empty())
        .collect();
    // A copy of a secret goes, and so does a value with one inside — unless the secret is too
    // short to tell ("1", "true" would take innocent variables along).
    let holds = |value: &str| {
        secrets
            .iter()
            .any(|s| value.trim() == *s || (s.len() >= 8 && value.contains(s)))
    };
    env.iter()
        .filter(|(k, v)| {
            let jwt = child == Child::Build && looks_like_jwt(v);
            !(removed(k) || holds(v) || jwt)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect::<BTreeMap<_, _>>()
}

/// A JSON Web Token (an OIDC identity: GitLab's `id_tokens:` variables can have any name).
fn looks_like_jwt(value: &str) -> bool {
    let parts: Vec<&str> = value.trim().split('.').collect();
    parts.len() == 3
        && value.trim_start().starts_with("eyJ")
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        })
}

/// A temp dir of our own (0700; removed when dropped, and on a signal) for files only our
/// user may read: the token a cargo credential provider hands over, the upload's gate.
pub(crate) struct PrivateDir {
    dir: tempfile::TempDir,
}

impl PrivateDir {
    /// `what` names it in the error when it can't be made.
    pub(crate) fn new(prefix: &str, what: &str) -> Result<PrivateDir> {
        use std::os::unix::fs::PermissionsExt;
        // Made 0700 (tempfile's default is 0777 less the umask: 0755, readable by all).
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .with_context(|| format!("could not create a temporary directory for {what}"))?;
        crate::signals::track_dir(dir.path());
        Ok(PrivateDir { dir })
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `text` in the file `name`, readable by us only, written whole or not at all (a reader
    /// may look at any moment): written aside, then renamed into place.
    pub(crate) fn put(&self, name: &str, text: &str) -> Result<PathBuf> {
        use fs_err::os::unix::fs::OpenOptionsExt;
        use std::io::Write;
        let partial = self.dir.path().join(format!(".{name}"));
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)?;
        file.write_all(text.as_bytes())?;
        drop(file);
        let path = self.dir.path().join(name);
        fs_err::rename(&partial, &path)?;
        Ok(path)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        crate::signals::untrack_dir(self.dir.path());
    }
}

/// A variable shipcrate reads that isn't UTF-8 would otherwise read as "not set": settings
/// (`SHIPCRATE_*`, `INPUT_*`), cargo's token variables, and the one `token` names.
pub(crate) fn refuse_unreadable(names: &[String], token: Option<&TokenSetting>) -> Result<()> {
    let token_var = token.and_then(reference_name);
    let read = |name: &str| {
        ["SHIPCRATE_", "INPUT_", "CARGO_REGISTRIES_"]
            .iter()
            .any(|p| name.starts_with(p))
            || matches!(name, "CARGO_REGISTRY_TOKEN" | "CARGO_TOKEN")
            || Some(name) == token_var
    };
    match names.iter().find(|name| read(name)) {
        Some(name) => Err(crate::error::UsageError(format!(
            "`{name}` is not valid UTF-8: shipcrate reads its settings and tokens as text. \
             Check how the variable is set (an encoding mix-up, or binary data)"
        ))
        .into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;

    #[test]
    fn a_private_dir_and_its_files_are_ours_alone() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let dir = PrivateDir::new("shipcrate-test-", "a test").unwrap();
        assert_eq!(mode(dir.path()), 0o700, "{}", dir.path().display());
        let file = dir.put("token", "s3cret").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "s3cret");
        let path = dir.path().to_owned();
        drop(dir);
        assert!(!path.exists());
    }

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
        for raw in ["$ghp-literal-123", "${A-B}", "$1abc", "${}", "$"] {
            let err = resolve(Some(&setting(raw)), &Target::CratesIo, &e)
                .err()
                .unwrap();
            let msg = err.to_string();
            assert!(msg.contains("is not a variable reference"), "{raw}: {msg}");
            assert!(raw.len() < 3 || !msg.contains(raw), "{raw} echoed: {msg}");
        }
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
    fn a_token_with_whitespace_inside_is_refused_without_being_echoed() {
        for value in [
            "cio-first-half\ncio-second-half",
            "cio token",
            "cio\u{7}bell",
        ] {
            let e = env(&[("CARGO_REGISTRY_TOKEN", value)]);
            let err = resolve(None, &Target::CratesIo, &e)
                .err()
                .unwrap()
                .to_string();
            assert!(
                err.contains("holds whitespace or control characters"),
                "{err}"
            );
            assert!(!err.contains("cio"), "echoed: {err}");
            // Still masked: what is there is found as given.
            let given = resolve_as_given(None, &Target::CratesIo, &e)
                .unwrap()
                .unwrap();
            assert_eq!(given.expose(), value);
        }
        // Around it, whitespace is trimmed as before.
        let e = env(&[("CARGO_REGISTRY_TOKEN", "  cio-token-123\n")]);
        assert_eq!(
            resolve(None, &Target::CratesIo, &e)
                .unwrap()
                .unwrap()
                .expose(),
            "cio-token-123"
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
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0In0.c2lnbmF0dXJl";
        let e = env(&[
            ("CARGO_REGISTRY_TOKEN", "a-registry-token"),
            ("CARGO_REGISTRIES_X_TOKEN", "b-registry-token"),
            ("SHIPCRATE_TOKEN", "$MY_SECRET"),
            ("INPUT_TOKEN", "d-input-token"),
            ("CARGO_TOKEN", "e-travis-token"),
            ("MY_SECRET", "tok-from-my-secret"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "oidc-request-bearer"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://oidc.example/x"),
            ("CRATES_IO_ID_TOKEN", jwt),
            (
                "VAULT_ID_TOKEN",
                "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ2YXVsdCJ9.b3RoZXItc2lnbmF0dXJl",
            ),
            ("CI_JOB_TOKEN", "glcbt-job-token-123"),
            (
                "CI_REPOSITORY_URL",
                "https://gitlab-ci-token:glcbt-job-token-123@gitlab.example/g/p.git",
            ),
            ("GITHUB_TOKEN", "ghs_0123456789abcdef"),
            ("ACTIONS_RUNTIME_TOKEN", "runtime-token-xyz"),
            ("PATH", "/bin"),
            ("CI", "true"),
        ]);
        let t = resolve(Some(&setting("$MY_SECRET")), &Target::CratesIo, &e).unwrap();
        let build = scrub(
            &e,
            t.as_ref(),
            &["CRATES_IO_ID_TOKEN".to_owned()],
            Child::Build,
        );
        assert_eq!(build.keys().collect::<Vec<_>>(), ["CI", "PATH"]);
        let hook = scrub(
            &e,
            t.as_ref(),
            &["CRATES_IO_ID_TOKEN".to_owned()],
            Child::Hook,
        );
        assert_eq!(
            hook.keys().collect::<Vec<_>>(),
            [
                "ACTIONS_RUNTIME_TOKEN",
                "CI",
                "CI_JOB_TOKEN",
                "CI_REPOSITORY_URL",
                "GITHUB_TOKEN",
                "PATH",
                "VAULT_ID_TOKEN"
            ]
        );
    }
}

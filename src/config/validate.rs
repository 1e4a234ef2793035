//! The raw, merged settings turned into a [`Config`]: each value checked and resolved, with
//! where it came from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use figment::{Figment, Profile, Source};

use super::in_force::{in_force, show};
use super::raw::Raw;
use super::{Config, KEYS, Mismatch, On, Origin, TokenSetting, Trusted, TrustedMode};
use crate::error::UsageError;
use crate::registry::Target;

pub(super) fn validate(
    raw: Raw,
    figment: &Figment,
    file: Option<PathBuf>,
    root: &Path,
) -> Result<Config> {
    let origin = |key: &str| -> Origin {
        let path: Vec<&str> = key.split('.').collect();
        match figment.find_metadata(key) {
            Some(meta) if !matches!(meta.source, Some(Source::Code(_))) => {
                Origin(match &meta.source {
                    Some(Source::File(f)) => format!("{}: {key}", display_rel(f, root)),
                    _ => meta.interpolate(&Profile::Default, &path),
                })
            }
            _ => Origin("default".to_owned()),
        }
    };

    let target = match (raw.registry, raw.index) {
        (Some(_), Some(_)) => {
            return Err(UsageError(format!(
                "`registry` ({}) and `index` ({}) are both set; give one of them",
                origin("registry"),
                origin("index")
            ))
            .into());
        }
        (Some(name), None) => {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
            {
                return Err(UsageError(format!(
                    "`registry` ({}) must be a registry name from cargo's config, like `my-registry`; for a URL use `index`",
                    origin("registry")
                ))
                .into());
            }
            if name == "crates-io" {
                Target::CratesIo
            } else {
                Target::Named(name)
            }
        }
        (None, Some(url)) => Target::Index(url),
        (None, None) => Target::CratesIo,
    };

    let token = raw.token.map(|raw| TokenSetting {
        raw,
        origin: origin("token"),
    });
    if let (Some(token), Some(file)) = (&token, &file) {
        let from_file = figment
            .find_metadata("token")
            .is_some_and(|m| m.source == Some(Source::File(file.clone())));
        // The file itself, however it was named (`sub/../x.yml`, a symlink): git tracks
        // files, not the names that lead to them.
        let real = fs_err::canonicalize(file)?;
        if from_file && !token.raw.trim().starts_with('$') && crate::git::is_tracked(&real) {
            return Err(UsageError(format!(
                "`token` in {} is a literal token in a file git tracks: anyone who can read the \
                 repository can read it, so treat it as leaked and revoke it. Store it as a CI \
                 secret and write `token: ${{CARGO_REGISTRY_TOKEN}}` (or leave `token` out)",
                display_rel(file, root)
            ))
            .into());
        }
    }

    let path = PathBuf::from(raw.path.as_deref().unwrap_or("."));
    if path.is_absolute()
        || path
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        return Err(UsageError(format!(
            "`path` ({}) must be a directory inside the repository, given relative to its root",
            origin("path")
        ))
        .into());
    }

    let travis = raw.travis;
    let mut cfg = Config {
        token,
        target,
        path,
        allow_dirty: raw.allow_dirty,
        dry_run: raw.dry_run,
        no_verify: raw.no_verify,
        locked: raw.locked,
        features: raw.features,
        all_features: raw.all_features,
        report: raw.report.map(PathBuf::from),
        dotenv: raw.dotenv.map(PathBuf::from),
        packages: raw.packages,
        exclude: raw.exclude,
        check_tag: raw.check_tag.unwrap_or(true),
        checksum_mismatch: match raw.checksum_mismatch.as_deref() {
            // Real releases publish one crate while the others carry unreleased edits.
            None | Some("warn") => Mismatch::Warn,
            Some("fail") => Mismatch::Fail,
            Some(other) => {
                return Err(UsageError(format!(
                    "`checksum_mismatch` ({}) is `{other}`; it takes `warn` or `fail`",
                    origin("checksum_mismatch")
                ))
                .into());
            }
        },
        index_timeout: duration(
            raw.index_timeout.as_deref(),
            "index_timeout",
            Duration::from_mins(5),
            &origin,
        )?,
        max_retries: match raw.max_retries.as_deref() {
            None => 5,
            Some(n) => n.trim().parse().map_err(|_| {
                UsageError(format!(
                    "`max_retries` ({}) is `{n}`; it takes a whole number",
                    origin("max_retries")
                ))
            })?,
        },
        max_wait: duration(
            raw.max_wait.as_deref(),
            "max_wait",
            Duration::from_mins(15),
            &origin,
        )?,
        on: On {
            tags: raw.on.tags,
            branch: raw.on.branch,
            all_branches: raw.on.all_branches,
            repo: raw.on.repo,
            condition: raw.on.condition,
            ..On::default()
        },
        before_deploy: raw.before_deploy,
        after_deploy: raw.after_deploy,
        sources: Vec::new(),
        file,
        notes: Vec::new(),
        entry: None,
        later_entries: Vec::new(),
        token_by_branch: Vec::new(),
        trusted: Trusted {
            mode: match raw.trusted_publishing.as_deref() {
                None | Some("auto") => TrustedMode::Auto,
                Some("always") => TrustedMode::Always,
                Some("never") => TrustedMode::Never,
                Some(other) => {
                    return Err(UsageError(format!(
                        "`trusted_publishing` ({}) is `{other}`; it takes `auto`, `always` or `never`",
                        origin("trusted_publishing")
                    ))
                    .into());
                }
            },
            url: raw.trusted_publishing_url,
            audience: raw.oidc_audience,
            token_env: if raw.oidc_token_env.is_empty() {
                vec!["CRATES_IO_ID_TOKEN".to_owned()]
            } else {
                raw.oidc_token_env
            },
            ttl: match duration(
                raw.trusted_publishing_ttl.as_deref(),
                "trusted_publishing_ttl",
                TRUSTED_TOKEN_LIFE,
                &origin,
            )? {
                // crates.io's tokens live 30 minutes, fixed (rust-lang/crates.io
                // `src/controllers/trustpub/tokens/exchange/mod.rs`); a longer setting would
                // renew too late.
                ttl if ttl > TRUSTED_TOKEN_LIFE || ttl.is_zero() => {
                    return Err(UsageError(format!(
                        "`trusted_publishing_ttl` ({}) is {}s; trusted-publishing tokens live at \
                         most 30 minutes, so it takes a duration from `1s` to `30m`",
                        origin("trusted_publishing_ttl"),
                        ttl.as_secs()
                    ))
                    .into());
                }
                ttl => ttl,
            },
        },
    };
    cfg.sources = KEYS
        .iter()
        .map(|(key, _, _)| {
            let shown =
                in_force(&cfg, key, travis).unwrap_or_else(|| show(figment.find_value(key).ok()));
            ((*key).to_owned(), shown, origin(key))
        })
        .collect();
    Ok(cfg)
}

/// How long crates.io's trusted-publishing tokens live.
const TRUSTED_TOKEN_LIFE: Duration = Duration::from_mins(30);

/// `300`, `300s`, `5m`, `1h` → a duration.
fn duration(
    value: Option<&str>,
    key: &str,
    default: Duration,
    origin: &dyn Fn(&str) -> Origin,
) -> Result<Duration> {
    let Some(value) = value else {
        return Ok(default);
    };
    let text = value.trim();
    // Plain seconds, or anything humantime reads (`5m`, `1h 30m`, `90s`).
    let parsed = match text.parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text),
    };
    parsed.map_err(|_| {
        UsageError(format!(
            "`{key}` ({}) is `{value}`; it takes seconds, or a duration like `90s`, `5m` or `1h 30m`",
            origin(key)
        ))
        .into()
    })
}

fn display_rel(file: &Path, root: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

//! The raw, merged settings turned into a [`Config`]: each value checked against its key's
//! rule and resolved, with where it came from. The rules that are data sit in tables below: the
//! words a setting takes (`one_of`), each duration's default and limit (`Span`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use figment::{Figment, Profile, Source};

use super::in_force::{in_force, show};
use super::raw::Raw;
use super::{CiMode, Config, KEYS, Mismatch, On, Origin, TokenSetting, Trusted, TrustedMode};
use crate::error::UsageError;
use crate::registry::Target;

pub(super) fn validate(
    raw: Raw,
    figment: &Figment,
    file: Option<PathBuf>,
    root: &Path,
) -> Result<Config> {
    let origins = Origins { figment, root };
    // Every rule is checked, and every one broken is reported at once.
    let mut b = Broken(Vec::new());
    let target = b.or(target(raw.registry, raw.index, &origins), Target::CratesIo);
    let token = b.or(token(raw.token, file.as_deref(), &origins), None);
    let path = b.or(path(raw.path.as_deref(), &origins), PathBuf::new());
    let mismatch = one_of(raw.checksum_mismatch.as_deref(), MISMATCH, &origins);
    let retries = whole(raw.max_retries.as_deref(), "max_retries", 5, &origins);
    let trusted_mode = one_of(raw.trusted_publishing.as_deref(), TRUSTED_MODES, &origins);
    let trusted_ttl = TRUSTED_TTL.read(raw.trusted_publishing_ttl.as_deref(), &origins);
    let travis = raw.travis;
    let mut cfg = Config {
        token,
        target,
        path,
        allow_dirty: raw.allow_dirty,
        dry_run: raw.dry_run,
        no_verify: raw.no_verify,
        locked: raw.locked,
        verbose: raw.verbose,
        color: match raw.color.as_deref() {
            None => None,
            color => b.or(one_of(color, COLORS, &origins).map(Some), None),
        },
        features: raw.features,
        all_features: raw.all_features,
        report: raw.report.map(PathBuf::from),
        dotenv: raw.dotenv.map(PathBuf::from),
        crate_dir: raw.crate_dir.map(PathBuf::from),
        packages: raw.packages,
        exclude: raw.exclude,
        check_tag: raw.check_tag.unwrap_or(true),
        checksum_mismatch: b.or(mismatch, Mismatch::Warn),
        index_timeout: b.or(
            INDEX_TIMEOUT.read(raw.index_timeout.as_deref(), &origins),
            ZERO,
        ),
        max_retries: b.or(retries, 0),
        max_wait: b.or(MAX_WAIT.read(raw.max_wait.as_deref(), &origins), ZERO),
        deadline: b.or(deadline(raw.deadline.as_deref(), &origins), None),
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
            mode: b.or(trusted_mode, TrustedMode::Auto),
            url: raw.trusted_publishing_url,
            audience: raw.oidc_audience,
            token_env: if raw.oidc_token_env.is_empty() {
                vec!["CRATES_IO_ID_TOKEN".to_owned()]
            } else {
                raw.oidc_token_env
            },
            ttl: b.or(trusted_ttl, ZERO),
        },
        ci: b.or(ci(raw.ci.as_deref(), &origins), CiMode::Auto),
    };
    b.none()?;
    cfg.sources = KEYS
        .iter()
        .map(|(key, _, _)| {
            let shown =
                in_force(&cfg, key, travis).unwrap_or_else(|| show(figment.find_value(key).ok()));
            ((*key).to_owned(), shown, origins.of(key))
        })
        .collect();
    Ok(cfg)
}

/// A duration that stands in for one whose rule is broken (the run stops before using it).
const ZERO: Duration = Duration::ZERO;

/// The rules broken so far: each rule's error is kept (a stand-in value in its place) so that
/// all of them are reported, not just the first.
struct Broken(Vec<anyhow::Error>);

impl Broken {
    fn or<T>(&mut self, result: Result<T>, stand_in: T) -> T {
        result.unwrap_or_else(|error| {
            self.0.push(error);
            stand_in
        })
    }

    /// None broken; else the one error, or all of them, one a line, as bad configuration.
    fn none(mut self) -> Result<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(self.0.remove(0)),
            _ => {
                let lines: Vec<String> = self.0.iter().map(|e| format!("{e:#}")).collect();
                Err(UsageError(lines.join("\n")).into())
            }
        }
    }
}

/// Where each key's value came from, as errors and `explain` name it: the file (relative to
/// the repository), the variable or flag, or `default`.
struct Origins<'a> {
    figment: &'a Figment,
    root: &'a Path,
}

impl Origins<'_> {
    fn of(&self, key: &str) -> Origin {
        let path: Vec<&str> = key.split('.').collect();
        match self.figment.find_metadata(key) {
            Some(meta) if !matches!(meta.source, Some(Source::Code(_))) => {
                Origin(match &meta.source {
                    Some(Source::File(f)) => format!("{}: {key}", display_rel(f, self.root)),
                    _ => meta.interpolate(&Profile::Default, &path),
                })
            }
            _ => Origin("default".to_owned()),
        }
    }
}

/// Where packages go: `registry` (a name from cargo's config) or `index` (a URL), never both;
/// neither is crates.io.
fn target(registry: Option<String>, index: Option<String>, origins: &Origins) -> Result<Target> {
    Ok(match (registry, index) {
        (Some(_), Some(_)) => {
            return Err(UsageError(format!(
                "`registry` ({}) and `index` ({}) are both set; give one of them",
                origins.of("registry"),
                origins.of("index")
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
                    origins.of("registry")
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
    })
}

/// The `token` setting, refused when the config file git tracks holds it literally.
fn token(
    raw: Option<String>,
    file: Option<&Path>,
    origins: &Origins,
) -> Result<Option<TokenSetting>> {
    let token = raw.map(|raw| TokenSetting {
        raw,
        origin: origins.of("token"),
    });
    if let (Some(token), Some(file)) = (&token, file) {
        let from_file = origins
            .figment
            .find_metadata("token")
            .is_some_and(|m| m.source == Some(Source::File(file.to_path_buf())));
        // The file itself, however it was named (`sub/../x.yml`, a symlink): git tracks
        // files, not the names that lead to them.
        let real = fs_err::canonicalize(file)?;
        if from_file && !token.raw.trim().starts_with('$') && crate::git::is_tracked(&real) {
            return Err(UsageError(format!(
                "`token` in {} is a literal token in a file git tracks: anyone who can read the \
                 repository can read it, so treat it as leaked and revoke it. Store it as a CI \
                 secret and write `token: ${{CARGO_REGISTRY_TOKEN}}` (or leave `token` out)",
                display_rel(file, origins.root)
            ))
            .into());
        }
    }
    Ok(token)
}

/// `path`: a directory inside the repository, relative to its root (`.` when unset).
fn path(raw: Option<&str>, origins: &Origins) -> Result<PathBuf> {
    let path = PathBuf::from(raw.unwrap_or("."));
    if path.is_absolute()
        || path
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        return Err(UsageError(format!(
            "`path` ({}) must be a directory inside the repository, given relative to its root",
            origins.of("path")
        ))
        .into());
    }
    Ok(path)
}

/// A setting that takes one of a few words: its key, then each word and what it means, the
/// default first.
type Words<T> = (&'static str, &'static [(&'static str, T)]);

/// Real releases publish one crate while the others carry unreleased edits: a published
/// version with other content is a warning unless asked.
const MISMATCH: Words<Mismatch> = (
    "checksum_mismatch",
    &[("warn", Mismatch::Warn), ("fail", Mismatch::Fail)],
);

/// cargo's `--color` words, as cargo takes them.
const COLORS: Words<&str> = (
    "color",
    &[("auto", "auto"), ("always", "always"), ("never", "never")],
);

const CI_MODES: Words<CiMode> = ("ci", &[("auto", CiMode::Auto), ("none", CiMode::None)]);

const TRUSTED_MODES: Words<TrustedMode> = (
    "trusted_publishing",
    &[
        ("auto", TrustedMode::Auto),
        ("always", TrustedMode::Always),
        ("never", TrustedMode::Never),
    ],
);

/// The word `value` is, from `words` (the first when unset).
fn one_of<T: Copy>(value: Option<&str>, (key, words): Words<T>, origins: &Origins) -> Result<T> {
    let Some(value) = value else {
        return Ok(words[0].1);
    };
    if let Some((_, meaning)) = words.iter().find(|(word, _)| *word == value) {
        return Ok(*meaning);
    }
    let names: Vec<String> = words.iter().map(|(word, _)| format!("`{word}`")).collect();
    let takes = match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    Err(UsageError(format!(
        "`{key}` ({}) is `{value}`; it takes {takes}",
        origins.of(key)
    ))
    .into())
}

/// `ci`, where `none` is taken only from where the run is started (a variable, an input, the
/// command line): a config file is the commit's, and a pull request adding `ci: none` would
/// lift the hold on branch rules in a container that shows no CI's variables.
fn ci(value: Option<&str>, origins: &Origins) -> Result<CiMode> {
    let mode = one_of(value, CI_MODES, origins)?;
    let from_file = origins
        .figment
        .find_metadata("ci")
        .is_some_and(|m| matches!(m.source, Some(Source::File(_))));
    if mode == CiMode::None && from_file {
        return Err(UsageError(format!(
            "`ci: none` ({}) is refused from a config file: the file is the commit's, so a pull \
             request could say it and publish from a container where shipcrate can't tell it \
             from a push. Say it where the run is started: `SHIPCRATE_CI=none` (or `--ci none`)",
            origins.of("ci")
        ))
        .into());
    }
    Ok(mode)
}

/// A whole number, `default` when unset.
fn whole(value: Option<&str>, key: &str, default: u32, origins: &Origins) -> Result<u32> {
    let Some(n) = value else {
        return Ok(default);
    };
    Ok(n.trim().parse().map_err(|_| {
        UsageError(format!(
            "`{key}` ({}) is `{n}`; it takes a whole number",
            origins.of(key)
        ))
    })?)
}

/// A duration setting: its default and, where there is one, the most it may be and why.
struct Span {
    key: &'static str,
    default: Duration,
    most: Option<(Duration, &'static str)>,
}

const INDEX_TIMEOUT: Span = Span {
    key: "index_timeout",
    default: Duration::from_mins(5),
    most: None,
};

const MAX_WAIT: Span = Span {
    key: "max_wait",
    default: Duration::from_mins(15),
    most: None,
};

/// crates.io's tokens live 30 minutes, fixed (rust-lang/crates.io
/// `src/controllers/trustpub/tokens/exchange/mod.rs`); a longer setting would renew too late.
const TRUSTED_TTL: Span = Span {
    key: "trusted_publishing_ttl",
    default: TRUSTED_TOKEN_LIFE,
    most: Some((
        TRUSTED_TOKEN_LIFE,
        "trusted-publishing tokens live at most 30 minutes",
    )),
};

impl Span {
    /// The setting's value, within its limit (more than nothing, at most the most).
    fn read(&self, value: Option<&str>, origins: &Origins) -> Result<Duration> {
        let duration = duration(value, self.key, self.default, origins)?;
        match self.most {
            Some((most, why)) if duration > most || duration.is_zero() => Err(UsageError(format!(
                "`{}` ({}) is {}s; {why}, so it takes a duration from `1s` to `{}`",
                self.key,
                origins.of(self.key),
                duration.as_secs(),
                humantime::format_duration(most)
            ))
            .into()),
            _ => Ok(duration),
        }
    }
}

/// `deadline`: unset, or a duration of at least a second.
fn deadline(value: Option<&str>, origins: &Origins) -> Result<Option<Duration>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let deadline = duration(Some(value), "deadline", Duration::ZERO, origins)?;
    if deadline < Duration::from_secs(1) {
        return Err(UsageError(format!(
            "`deadline` ({}) is `{value}`; it takes a duration from the run's start, e.g. \
             `5h50m` (unset: no deadline)",
            origins.of("deadline")
        ))
        .into());
    }
    Ok(Some(deadline))
}

/// How long crates.io's trusted-publishing tokens live.
const TRUSTED_TOKEN_LIFE: Duration = Duration::from_mins(30);

/// `300`, `300s`, `5m`, `1h` → a duration.
fn duration(
    value: Option<&str>,
    key: &str,
    default: Duration,
    origins: &Origins,
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
            origins.of(key)
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

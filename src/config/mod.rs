//! Settings: defaults < YAML file < `SHIPCRATE_*` env < GitHub `INPUT_*` < CLI, merged by figment.
//!
//! Every layer's keys are checked against [`KEYS`] before merging, so an unknown key is reported
//! with its exact source; figment then reports type errors with theirs. Nothing here touches the
//! network, the registry or the token's value.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use figment::providers::Serialized;
use figment::value::{Dict, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use serde::{Deserialize, Serialize};

use crate::Env;
use crate::error::UsageError;
use crate::registry::Target;

mod de;
mod file;
mod layers;

use de::{de_bool, de_list, de_opt_bool, de_opt_text};
use layers::StringLayer;
pub use layers::input_name;

/// The type a key takes; drives how string-only layers (env, inputs, flags) are read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Bool,
    Text,
    /// A string or a list of strings; from env and inputs, one item per line.
    List,
}

/// Every key shipcrate knows, as a dotted path, with its type and a one-line description.
/// The README's option table and `action.yml`'s inputs follow this list.
pub const KEYS: &[(&str, Kind, &str)] = &[
    (
        "token",
        Kind::Text,
        "registry token, as a `$VAR` / `${VAR}` reference",
    ),
    (
        "registry",
        Kind::Text,
        "name of a registry cargo knows (default: crates.io)",
    ),
    (
        "index",
        Kind::Text,
        "index URL of a registry, instead of `registry`",
    ),
    (
        "path",
        Kind::Text,
        "crate directory inside the repository (default: its root)",
    ),
    (
        "allow_dirty",
        Kind::Bool,
        "publish the working tree as it is, not the commit",
    ),
    ("dry_run", Kind::Bool, "package and verify, upload nothing"),
    ("no_verify", Kind::Bool, "skip cargo's verify build"),
    ("locked", Kind::Bool, "pass `--locked` to cargo"),
    (
        "features",
        Kind::List,
        "features to enable for the verify build",
    ),
    (
        "all_features",
        Kind::Bool,
        "enable all features for the verify build",
    ),
    ("report", Kind::Text, "write a JSON report to this path"),
    (
        "dotenv",
        Kind::Text,
        "write the outcome as a dotenv file (GitLab `artifacts: reports: dotenv`)",
    ),
    (
        "packages",
        Kind::List,
        "workspace members to publish (default: every member that may)",
    ),
    ("exclude", Kind::List, "workspace members not to publish"),
    (
        "check_tag",
        Kind::Bool,
        "on a tag build, a version tag must match a crate's version (default: true)",
    ),
    (
        "checksum_mismatch",
        Kind::Text,
        "a published version whose content differs from the commit: `warn` (default) or `fail`; the crate a version tag names must never differ",
    ),
    (
        "index_timeout",
        Kind::Text,
        "how long an upload may take to show in the index, e.g. `300`, `5m` (default: 5m)",
    ),
    (
        "max_retries",
        Kind::Text,
        "retries of an upload the registry pushed back on, 429 or 5xx (default: 5)",
    ),
    (
        "max_wait",
        Kind::Text,
        "longest single wait before a retry (default: 15m)",
    ),
    (
        "travis",
        Kind::Bool,
        "read the `provider: cargo` deploy block of .travis.yml instead of a shipcrate config file",
    ),
    (
        "trusted_publishing",
        Kind::Text,
        "`auto` (default): use an OIDC token from the CI when no token is set; `always`; `never`",
    ),
    (
        "trusted_publishing_url",
        Kind::Text,
        "API URL of a registry other than crates.io that does trusted publishing",
    ),
    (
        "oidc_audience",
        Kind::Text,
        "audience of the CI's ID token (default: the registry API's URL without its scheme)",
    ),
    (
        "oidc_token_env",
        Kind::List,
        "GitLab: the `id_tokens:` variable(s) to read; each one after the first is a spare JWT for one renewal (default: CRATES_IO_ID_TOKEN)",
    ),
    (
        "trusted_publishing_ttl",
        Kind::Text,
        "how long a minted token lives, at most 30m (crates.io's); a fresh one is minted before it runs out (default: 30m)",
    ),
    (
        "on.tags",
        Kind::Bool,
        "true: tag builds only (lifts the branch rule); false: no tag builds",
    ),
    (
        "on.branch",
        Kind::List,
        "branches that publish (default: the default branch)",
    ),
    ("on.all_branches", Kind::Bool, "publish from any branch"),
    (
        "on.repo",
        Kind::Text,
        "publish only from this repository slug (`owner/name`)",
    ),
    (
        "on.condition",
        Kind::List,
        "shell commands that must all exit 0",
    ),
    (
        "before_deploy",
        Kind::List,
        "commands run before publishing",
    ),
    ("after_deploy", Kind::List, "commands run after publishing"),
];

/// Env vars with the `SHIPCRATE_` prefix that are not keys: the config file's name, the
/// variables shipcrate hands to hooks (so a hook may run shipcrate again), and the outputs of
/// its dotenv file (so a later GitLab job may run it too).
const RESERVED_ENV: &[&str] = &[
    "SHIPCRATE_CONFIG",
    "SHIPCRATE_COMMIT",
    "SHIPCRATE_CRATES",
    "SHIPCRATE_PRISTINE_DIR",
    "SHIPCRATE_STAGE",
];

const RESERVED_ENV_PREFIX: &str = "SHIPCRATE_OUTPUT_";

const CONFIG_FILES: &[&str] = &[".shipcrate.yml", ".shipcrate.yaml", "shipcrate.yml"];

/// The raw, merged settings, before validation.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Raw {
    token: Option<String>,
    registry: Option<String>,
    index: Option<String>,
    path: Option<String>,
    #[serde(deserialize_with = "de_bool")]
    allow_dirty: bool,
    #[serde(deserialize_with = "de_bool")]
    dry_run: bool,
    #[serde(deserialize_with = "de_bool")]
    no_verify: bool,
    #[serde(deserialize_with = "de_bool")]
    locked: bool,
    #[serde(deserialize_with = "de_list")]
    features: Vec<String>,
    #[serde(deserialize_with = "de_bool")]
    all_features: bool,
    report: Option<String>,
    dotenv: Option<String>,
    #[serde(deserialize_with = "de_bool")]
    travis: bool,
    trusted_publishing: Option<String>,
    trusted_publishing_url: Option<String>,
    oidc_audience: Option<String>,
    #[serde(deserialize_with = "de_list")]
    oidc_token_env: Vec<String>,
    #[serde(deserialize_with = "de_opt_text")]
    trusted_publishing_ttl: Option<String>,
    #[serde(deserialize_with = "de_list")]
    packages: Vec<String>,
    #[serde(deserialize_with = "de_list")]
    exclude: Vec<String>,
    #[serde(deserialize_with = "de_opt_bool")]
    check_tag: Option<bool>,
    checksum_mismatch: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    index_timeout: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    max_retries: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    max_wait: Option<String>,
    on: RawOn,
    #[serde(deserialize_with = "de_list")]
    before_deploy: Vec<String>,
    #[serde(deserialize_with = "de_list")]
    after_deploy: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawOn {
    #[serde(deserialize_with = "de_opt_bool")]
    tags: Option<bool>,
    #[serde(deserialize_with = "de_list")]
    branch: Vec<String>,
    #[serde(deserialize_with = "de_bool")]
    all_branches: bool,
    repo: Option<String>,
    #[serde(deserialize_with = "de_list")]
    condition: Vec<String>,
}

/// Where a value came from, for `explain` and for errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Origin(pub String);

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `token` key as configured: never the secret itself unless the user wrote it literally.
#[derive(Clone)]
pub(crate) struct TokenSetting {
    pub raw: String,
    pub origin: Origin,
}

impl fmt::Debug for TokenSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenSetting(***, {})", self.origin)
    }
}

/// The `on:` rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct On {
    pub tags: Option<bool>,
    pub branch: Vec<String>,
    pub all_branches: bool,
    pub repo: Option<String>,
    pub condition: Vec<String>,
    /// `.travis.yml`: `on.rust: stable` and the like; `TRAVIS_<NAME>_VERSION` must equal it.
    pub runtimes: Vec<crate::travis::Runtime>,
    /// `.travis.yml`: the `if:` of the `jobs.include` job holding the deploy, in Travis's
    /// condition language.
    pub job_if: Option<String>,
}

/// Validated settings, as the rest of shipcrate sees them.
#[derive(Debug)]
pub(crate) struct Config {
    pub token: Option<TokenSetting>,
    pub target: Target,
    /// Crate or workspace directory, relative to the repository root.
    pub path: PathBuf,
    pub allow_dirty: bool,
    pub dry_run: bool,
    pub no_verify: bool,
    pub locked: bool,
    pub features: Vec<String>,
    pub all_features: bool,
    pub report: Option<PathBuf>,
    pub dotenv: Option<PathBuf>,
    pub packages: Vec<String>,
    pub exclude: Vec<String>,
    pub check_tag: bool,
    pub checksum_mismatch: Mismatch,
    pub index_timeout: Duration,
    pub max_retries: u32,
    pub max_wait: Duration,
    pub on: On,
    pub before_deploy: Vec<String>,
    pub after_deploy: Vec<String>,
    /// Every key with its shown value and origin, for `explain`.
    pub sources: Vec<(String, String, Origin)>,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    /// What a `.travis.yml` held that shipcrate ignores or can't carry over.
    pub notes: Vec<String>,
    /// `.travis.yml`: which deploy entry this is (`deploy entry #2`).
    pub entry: Option<String>,
    /// `.travis.yml`: the cargo deploy entries after this one, each a whole config. Travis ran
    /// every entry with its own rules; the first whose rules hold publishes.
    pub later_entries: Vec<Config>,
    /// `.travis.yml`: a per-branch `token` map; the built branch's entry replaces `token`.
    pub token_by_branch: Vec<(String, Option<TokenSetting>)>,
    pub trusted: Trusted,
}

/// When to mint a short-lived token from the CI's OIDC identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TrustedMode {
    Auto,
    Always,
    Never,
}

/// Trusted publishing settings.
#[derive(Clone, Debug)]
pub(crate) struct Trusted {
    pub mode: TrustedMode,
    /// The registry's API base for the exchange (crates.io's unless set).
    pub url: Option<String>,
    pub audience: Option<String>,
    /// GitLab: the variables holding the job's ID tokens, in the order they are used.
    pub token_env: Vec<String>,
    pub ttl: Duration,
}

/// What to do when a version is already published with other content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mismatch {
    Fail,
    Warn,
}

/// Command-line settings, already out of clap's types. `None` / empty = not given.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub values: Vec<(&'static str, String)>,
}

/// Load and validate the settings for the repository at `root`.
pub(crate) fn load(root: &Path, env: &Env, flags: &Flags) -> Result<Config> {
    let file = config_file(root, env, flags)?;
    let figment = Figment::from(Serialized::defaults(Raw::default()));
    if travis_asked(env, flags) {
        let travis_yml = root.join(".travis.yml");
        if let Some(own) = &file {
            return Err(UsageError(format!(
                "`travis` asks for {} but there is also {}: keep one of them",
                travis_yml.display(),
                own.display()
            ))
            .into());
        }
        return load_travis(figment, root, env, flags, travis_yml);
    }
    let figment = match &file {
        Some(file) => {
            let yaml = file::YamlFile::read(file)?;
            check_layer(&yaml)?;
            figment.merge(yaml)
        }
        None => figment,
    };
    assemble(figment, root, env, flags, file)
}

/// `.travis.yml`: one config per cargo deploy entry, each its layer under the same env, inputs
/// and flags; the first holds the others (`later_entries`).
fn load_travis(
    figment: Figment,
    root: &Path,
    env: &Env,
    flags: &Flags,
    travis_yml: PathBuf,
) -> Result<Config> {
    let travis = crate::travis::read(&travis_yml)?;
    // dpl read `CARGO_TOKEN` when no token was given; crates.io's variable comes first.
    let dpl_token = || TokenSetting {
        raw: "$CARGO_TOKEN".to_owned(),
        origin: Origin(".travis.yml: dpl's `CARGO_TOKEN`".to_owned()),
    };
    let use_dpl_token =
        non_empty(env, "CARGO_REGISTRY_TOKEN").is_none() && non_empty(env, "CARGO_TOKEN").is_some();
    let mut configs = Vec::new();
    for entry in &travis.entries {
        let layer = crate::travis::Layer {
            path: &travis_yml,
            entry,
        };
        check_layer(&layer)?;
        let mut cfg = assemble(
            figment.clone().merge(layer),
            root,
            env,
            flags,
            Some(travis_yml.clone()),
        )?;
        let env_token =
            |cfg: &Config| (use_dpl_token && cfg.target == Target::CratesIo).then(dpl_token);
        if cfg.token.is_none() {
            cfg.token = env_token(&cfg);
        }
        if let crate::travis::TokenRule::PerBranch(map) = &entry.token {
            cfg.token_by_branch = map
                .iter()
                .map(|(branch, value)| {
                    let setting = match value {
                        Some(raw) => Some(TokenSetting {
                            raw: raw.clone(),
                            origin: Origin(format!(".travis.yml: token.{branch}")),
                        }),
                        None => env_token(&cfg),
                    };
                    (branch.clone(), setting)
                })
                .collect();
        }
        cfg.entry = Some(entry.label.clone());
        cfg.on.runtimes = entry.runtimes.clone();
        cfg.on.job_if = entry.job_if.clone();
        configs.push(cfg);
    }
    let mut first = configs.remove(0);
    first.later_entries = configs;
    first.notes = travis.notes;
    Ok(first)
}

/// The env, input and flag layers over `figment`, extracted and validated.
fn assemble(
    mut figment: Figment,
    root: &Path,
    env: &Env,
    flags: &Flags,
    file: Option<PathBuf>,
) -> Result<Config> {
    let layers = [
        StringLayer::shipcrate_env(env),
        StringLayer::github_inputs(env),
        StringLayer::flags(flags),
    ];
    for layer in layers {
        let layer = layer?;
        check_layer(&layer)?;
        figment = figment.merge(layer);
    }
    let raw: Raw = figment.extract().map_err(|e| UsageError(describe(&e)))?;
    validate(raw, &figment, file, root)
}

/// `travis` from a flag, an input or the environment: it decides which file is read, so it
/// is looked up before the layers are merged.
fn travis_asked(env: &Env, flags: &Flags) -> bool {
    let from_flag = flags
        .values
        .iter()
        .find(|(k, _)| *k == "travis")
        .map(|(_, v)| v.as_str());
    let value = from_flag
        .or_else(|| non_empty(env, "INPUT_TRAVIS"))
        .or_else(|| non_empty(env, "SHIPCRATE_TRAVIS"));
    value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "yes" | "on" | "1"
        )
    })
}

/// `--config` / `INPUT_CONFIG` / `SHIPCRATE_CONFIG`, else the first default name that exists.
fn config_file(root: &Path, env: &Env, flags: &Flags) -> Result<Option<PathBuf>> {
    let named = flags
        .config
        .clone()
        .map(|p| (p, "--config".to_owned()))
        .or_else(|| non_empty(env, "INPUT_CONFIG").map(|p| (p.into(), "INPUT_CONFIG".into())))
        .or_else(|| {
            non_empty(env, "SHIPCRATE_CONFIG").map(|p| (p.into(), "SHIPCRATE_CONFIG".into()))
        });
    if let Some((path, from)) = named {
        let path = if path.is_absolute() {
            path
        } else {
            root.join(path)
        };
        if let Some(what) = file::not_a_file(&path) {
            let what = match what {
                "missing" => "does not exist".to_owned(),
                other => format!("is {other}, not a file"),
            };
            return Err(UsageError(format!(
                "config file `{}` (from {from}) {what}",
                path.display()
            ))
            .into());
        }
        return Ok(Some(path));
    }
    for path in CONFIG_FILES.iter().map(|name| root.join(name)) {
        match file::not_a_file(&path) {
            None => return Ok(Some(path)),
            Some("missing") => {}
            Some(what) => {
                return Err(UsageError(format!(
                    "`{}` is {what}, not a config file: remove it, or name the config file with \
                     `--config`",
                    path.display()
                ))
                .into());
            }
        }
    }
    Ok(None)
}

fn non_empty<'a>(env: &'a Env, name: &str) -> Option<&'a str> {
    env.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// Refuse keys that no field takes, naming the source and the key probably meant.
fn check_layer(provider: &impl Provider) -> Result<()> {
    let meta = provider.metadata();
    let data = provider.data().map_err(|e| {
        UsageError(format!(
            "cannot read the configuration {}: {}",
            where_from(&meta, &[] as &[&str]),
            describe(&e)
        ))
    })?;
    for dict in data.values() {
        check_dict(dict, &[], &meta)?;
    }
    Ok(())
}

fn check_dict(dict: &Dict, prefix: &[&str], meta: &Metadata) -> Result<()> {
    for (key, value) in dict {
        let mut path = prefix.to_vec();
        path.push(key);
        let dotted = path.join(".");
        if KEYS.iter().any(|(k, _, _)| *k == dotted) {
            continue;
        }
        let is_section = KEYS
            .iter()
            .any(|(k, _, _)| k.starts_with(&format!("{dotted}.")));
        match value {
            Value::Dict(_, inner) if is_section => check_dict(inner, &path, meta)?,
            _ if is_section => {
                return Err(UsageError(format!(
                    "`{dotted}` {} must be a map of rules, like `{dotted}: {{ tags: true }}`",
                    where_from(meta, &path)
                ))
                .into());
            }
            _ => {
                let hint = suggest(&dotted)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(UsageError(format!(
                    "unknown key `{dotted}` {}{hint}",
                    where_from(meta, &path)
                ))
                .into());
            }
        }
    }
    Ok(())
}

/// The known key closest to `key`, when it is close enough to be a slip.
fn suggest(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|(k, _, _)| (*k, strsim::jaro_winkler(key, k)))
        .filter(|(_, score)| *score > 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

/// "in .shipcrate.yml", "from env `SHIPCRATE_DRY_RUN`", "from input `on-tags`", "from flag `--x`".
fn where_from(meta: &Metadata, path: &[impl AsRef<str>]) -> String {
    match &meta.source {
        Some(Source::File(file)) => format!("in {}", file.display()),
        _ => format!("from {}", meta.interpolate(&Profile::Default, path)),
    }
}

fn describe(error: &figment::Error) -> String {
    let mut out = Vec::new();
    for e in error.clone() {
        let key = e.path.join(".");
        let from = e
            .metadata
            .as_ref()
            .map(|m| format!(" {}", where_from(m, &e.path)))
            .unwrap_or_default();
        let what = match &e.kind {
            // Never echo what was given for the token: it may be the secret.
            figment::error::Kind::InvalidType(_, expected) if key == "token" => {
                format!("expected {expected}")
            }
            kind => kind.to_string(),
        };
        out.push(if key.is_empty() {
            format!("bad configuration{from}: {what}")
        } else {
            format!("bad value for `{key}`{from}: {what}")
        });
    }
    out.join("\n")
}

fn validate(raw: Raw, figment: &Figment, file: Option<PathBuf>, root: &Path) -> Result<Config> {
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
            Duration::from_secs(300),
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
            Duration::from_secs(900),
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

/// The value of `key` that is in force, as `explain` shows it: the built-in default when
/// nothing set it, and for an unset key what that means. `None` for a key not listed here.
fn in_force(cfg: &Config, key: &str, travis: bool) -> Option<String> {
    let text = |v: &Option<String>, none: &str| v.clone().unwrap_or_else(|| none.to_owned());
    let path = |v: &Option<PathBuf>| {
        v.as_ref()
            .map_or("(none)".to_owned(), |p| p.display().to_string())
    };
    let list = |items: &[String], empty: &str| {
        if items.is_empty() {
            empty.to_owned()
        } else {
            format!("[{}]", items.join(", "))
        }
    };
    let crates_io = cfg.target == Target::CratesIo;
    Some(match key {
        "token" => if cfg.token.is_some() {
            "***"
        } else {
            "(cargo's env var)"
        }
        .to_owned(),
        "registry" => match &cfg.target {
            Target::CratesIo => "crates.io".to_owned(),
            Target::Named(name) => name.clone(),
            Target::Index(_) => "(none: `index` is set)".to_owned(),
        },
        "index" => match &cfg.target {
            Target::Index(url) => url.clone(),
            _ => "(the registry's)".to_owned(),
        },
        "path" => cfg.path.display().to_string(),
        "allow_dirty" => cfg.allow_dirty.to_string(),
        "dry_run" => cfg.dry_run.to_string(),
        "no_verify" => cfg.no_verify.to_string(),
        "locked" => cfg.locked.to_string(),
        "features" => list(&cfg.features, "[]"),
        "all_features" => cfg.all_features.to_string(),
        "report" => path(&cfg.report),
        "dotenv" => path(&cfg.dotenv),
        "packages" => list(&cfg.packages, "(every member that may)"),
        "exclude" => list(&cfg.exclude, "[]"),
        "check_tag" => cfg.check_tag.to_string(),
        "checksum_mismatch" => match cfg.checksum_mismatch {
            Mismatch::Warn => "warn",
            Mismatch::Fail => "fail",
        }
        .to_owned(),
        "index_timeout" => human(cfg.index_timeout),
        "max_retries" => cfg.max_retries.to_string(),
        "max_wait" => human(cfg.max_wait),
        "travis" => travis.to_string(),
        "trusted_publishing" => match cfg.trusted.mode {
            TrustedMode::Auto => "auto",
            TrustedMode::Always => "always",
            TrustedMode::Never => "never",
        }
        .to_owned(),
        "trusted_publishing_url" => text(
            &cfg.trusted.url,
            if crates_io {
                "(crates.io's API)"
            } else {
                "(none)"
            },
        ),
        "oidc_audience" => text(
            &cfg.trusted.audience,
            if crates_io && cfg.trusted.url.is_none() {
                "crates.io"
            } else {
                "(the API URL without its scheme)"
            },
        ),
        "oidc_token_env" => cfg.trusted.token_env.join(", "),
        "trusted_publishing_ttl" => human(cfg.trusted.ttl),
        "on.tags" => cfg
            .on
            .tags
            .map_or("(no tag rule)".to_owned(), |t| t.to_string()),
        "on.branch" => list(&cfg.on.branch, "(the default branch)"),
        "on.all_branches" => cfg.on.all_branches.to_string(),
        "on.repo" => text(&cfg.on.repo, "(any)"),
        "on.condition" => list(&cfg.on.condition, "[]"),
        "before_deploy" => list(&cfg.before_deploy, "[]"),
        "after_deploy" => list(&cfg.after_deploy, "[]"),
        _ => return None,
    })
}

/// A duration the way the settings take it: `5m`, `1h`, `1m 30s`.
fn human(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

/// How long crates.io's trusted-publishing tokens live.
const TRUSTED_TOKEN_LIFE: Duration = Duration::from_secs(30 * 60);

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

fn show(value: Option<Value>) -> String {
    match value {
        None | Some(Value::Empty(..)) => "(unset)".to_owned(),
        Some(Value::String(_, s)) => s,
        Some(Value::Bool(_, b)) => b.to_string(),
        Some(Value::Array(_, items)) if items.is_empty() => "[]".to_owned(),
        Some(Value::Array(_, items)) => {
            let items: Vec<String> = items.into_iter().map(|v| show(Some(v))).collect();
            format!("[{}]", items.join(", "))
        }
        Some(other) => other.into_string().unwrap_or_else(|| "…".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_env as env;

    fn load_with(yaml: Option<&str>, env_pairs: &[(&str, &str)], flags: Flags) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        if let Some(yaml) = yaml {
            std::fs::write(dir.path().join(".shipcrate.yml"), yaml).unwrap();
        }
        load(dir.path(), &env(env_pairs), &flags)
    }

    #[test]
    fn every_key_shows_the_value_in_force() {
        let cfg = load_with(None, &[], Flags::default()).unwrap();
        for (key, _, _) in KEYS {
            assert!(
                in_force(&cfg, key, false).is_some(),
                "`{key}` has no line in config::in_force"
            );
        }
        let shown = |k: &str| cfg.sources.iter().find(|s| s.0 == k).unwrap().1.clone();
        assert_eq!(shown("index_timeout"), "5m");
        assert_eq!(shown("max_wait"), "15m");
        assert_eq!(shown("trusted_publishing_ttl"), "30m");
        assert_eq!(shown("max_retries"), "5");
        assert_eq!(shown("check_tag"), "true");
        let cfg = load_with(
            Some("max_wait: 90\non:\n  branch: [main, next]\n"),
            &[("SHIPCRATE_INDEX_TIMEOUT", "2h")],
            Flags::default(),
        )
        .unwrap();
        let shown = |k: &str| cfg.sources.iter().find(|s| s.0 == k).unwrap().1.clone();
        assert_eq!(shown("max_wait"), "1m 30s");
        assert_eq!(shown("index_timeout"), "2h");
        assert_eq!(shown("on.branch"), "[main, next]");
    }

    fn err(result: Result<Config>) -> String {
        let e = result.unwrap_err();
        assert!(e.is::<UsageError>(), "not a usage error: {e:#}");
        e.to_string()
    }

    #[test]
    fn layers_override_in_order() {
        let yaml = "dry_run: false\nregistry: from-file\nlocked: true\n";
        let cfg = load_with(
            Some(yaml),
            &[
                ("SHIPCRATE_DRY_RUN", "true"),
                ("SHIPCRATE_REGISTRY", "from-env"),
                ("INPUT_REGISTRY", "from-input"),
            ],
            Flags {
                config: None,
                values: vec![("registry", "from-flag".into())],
            },
        )
        .unwrap();
        assert!(cfg.dry_run);
        assert!(cfg.locked);
        assert_eq!(cfg.target, Target::Named("from-flag".into()));
        let origin = |k: &str| cfg.sources.iter().find(|s| s.0 == k).unwrap().2.to_string();
        assert_eq!(origin("dry_run"), "env `SHIPCRATE_DRY_RUN`");
        assert_eq!(origin("locked"), ".shipcrate.yml: locked");
        assert_eq!(origin("registry"), "flag `--registry`");
        assert_eq!(origin("no_verify"), "default");
    }

    #[test]
    fn empty_values_mean_unset() {
        let cfg = load_with(
            Some("registry: from-file\n"),
            &[
                ("INPUT_REGISTRY", ""),
                ("SHIPCRATE_REGISTRY", ""),
                ("INPUT_DRY-RUN", ""),
            ],
            Flags::default(),
        )
        .unwrap();
        assert_eq!(cfg.target, Target::Named("from-file".into()));
        assert!(!cfg.dry_run);
    }

    #[test]
    fn booleans_accept_what_users_write() {
        for (value, want) in [
            ("true", true),
            ("1", true),
            ("yes", true),
            ("false", false),
            ("0", false),
        ] {
            let cfg = load_with(None, &[("SHIPCRATE_ON__TAGS", value)], Flags::default()).unwrap();
            assert_eq!(cfg.on.tags, Some(want), "{value}");
        }
        let cfg = load_with(
            Some("on:\n  tags: \"true\"\nallow_dirty: 1\n"),
            &[],
            Flags::default(),
        )
        .unwrap();
        assert_eq!(cfg.on.tags, Some(true));
        assert!(cfg.allow_dirty);
    }

    #[test]
    fn lists_from_yaml_string_yaml_list_and_input_lines() {
        let cfg = load_with(
            Some("before_deploy: echo one\nafter_deploy: [a, b]\non:\n  branch: main\n"),
            &[("INPUT_ON-CONDITION", "test -f x\n\n  test -f y  \n")],
            Flags::default(),
        )
        .unwrap();
        assert_eq!(cfg.before_deploy, ["echo one"]);
        assert_eq!(cfg.after_deploy, ["a", "b"]);
        assert_eq!(cfg.on.branch, ["main"]);
        assert_eq!(cfg.on.condition, ["test -f x", "test -f y"]);
    }

    #[test]
    fn unknown_keys_name_source_and_suggestion() {
        let e = err(load_with(Some("alow_dirty: true\n"), &[], Flags::default()));
        assert!(
            e.contains("unknown key `alow_dirty`") && e.contains(".shipcrate.yml"),
            "{e}"
        );
        assert!(e.contains("did you mean `allow_dirty`"), "{e}");

        let e = err(load_with(Some("on:\n  tag: true\n"), &[], Flags::default()));
        assert!(
            e.contains("`on.tag`") && e.contains("did you mean `on.tags`"),
            "{e}"
        );

        let e = err(load_with(
            None,
            &[("SHIPCRATE_DRYRUN", "1")],
            Flags::default(),
        ));
        assert!(
            e.contains("`SHIPCRATE_DRYRUN`") && e.contains("`dry_run`"),
            "{e}"
        );

        let e = err(load_with(
            None,
            &[("INPUT_ALLOW_DIRTY", "true")],
            Flags::default(),
        ));
        assert!(
            e.contains("`INPUT_ALLOW_DIRTY`") && e.contains("`allow-dirty`"),
            "{e}"
        );
    }

    #[test]
    fn bad_types_name_key_and_source() {
        let e = err(load_with(
            None,
            &[("SHIPCRATE_ON__TAGS", "sometimes")],
            Flags::default(),
        ));
        assert!(
            e.contains("`on.tags`") && e.contains("SHIPCRATE_ON__TAGS") && e.contains("sometimes"),
            "{e}"
        );

        let e = err(load_with(Some("dry_run: [1, 2]\n"), &[], Flags::default()));
        assert!(
            e.contains("`dry_run`") && e.contains(".shipcrate.yml"),
            "{e}"
        );

        let e = err(load_with(Some("on: true\n"), &[], Flags::default()));
        assert!(e.contains("`on`") && e.contains("map"), "{e}");
    }

    #[test]
    fn token_type_errors_do_not_echo_the_value() {
        let e = err(load_with(
            Some("token:\n  secret: hunter2hunter2\n"),
            &[],
            Flags::default(),
        ));
        assert!(e.contains("`token`") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn broken_yaml_is_a_usage_error_naming_the_file() {
        let e = err(load_with(Some("on: [unclosed\n"), &[], Flags::default()));
        assert!(e.contains(".shipcrate.yml"), "{e}");
    }

    #[test]
    fn registry_and_index_conflict() {
        let e = err(load_with(
            None,
            &[
                ("SHIPCRATE_REGISTRY", "a"),
                ("SHIPCRATE_INDEX", "sparse+http://x/"),
            ],
            Flags::default(),
        ));
        assert!(e.contains("`registry`") && e.contains("`index`"), "{e}");
    }

    #[test]
    fn token_origin_is_shown_not_its_value() {
        let cfg = load_with(None, &[("INPUT_TOKEN", "abc-secret")], Flags::default()).unwrap();
        let row = cfg.sources.iter().find(|s| s.0 == "token").unwrap();
        assert_eq!(row.1, "***");
        assert_eq!(row.2.to_string(), "input `token`");
    }

    #[test]
    fn publishing_limits_parse_and_are_checked() {
        let cfg = load_with(
            Some("max_retries: 2\nindex_timeout: 90\nmax_wait: 2m\n"),
            &[],
            Flags::default(),
        )
        .unwrap();
        assert_eq!(cfg.max_retries, 2);
        assert_eq!(cfg.index_timeout, Duration::from_secs(90));
        assert_eq!(cfg.max_wait, Duration::from_secs(120));
        assert_eq!(cfg.checksum_mismatch, Mismatch::Warn);
        assert!(cfg.check_tag);
        let cfg = load_with(Some("checksum_mismatch: fail\n"), &[], Flags::default()).unwrap();
        assert_eq!(cfg.checksum_mismatch, Mismatch::Fail);
        let e = err(load_with(
            None,
            &[("SHIPCRATE_INDEX_TIMEOUT", "soon")],
            Flags::default(),
        ));
        assert!(
            e.contains("`index_timeout`") && e.contains("SHIPCRATE_INDEX_TIMEOUT"),
            "{e}"
        );
        let e = err(load_with(
            None,
            &[("SHIPCRATE_CHECKSUM_MISMATCH", "ignore")],
            Flags::default(),
        ));
        assert!(e.contains("`warn` or `fail`"), "{e}");
    }

    #[test]
    fn input_names_follow_keys() {
        assert_eq!(input_name("on.all_branches"), "on-all-branches");
        assert_eq!(input_name("before_deploy"), "before-deploy");
    }
}

//! Settings: defaults < YAML file < `SHIPCRATE_*` env < GitHub `INPUT_*` < CLI, merged by figment.
//!
//! Every layer's keys are checked against [`KEYS`] before merging, so an unknown key is reported
//! with its exact source; figment then reports type errors with theirs. Nothing here touches the
//! network, the registry or the token's value.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use figment::Figment;
use figment::providers::Serialized;

use crate::Env;
use crate::error::UsageError;
use crate::registry::Target;

mod check;
mod de;
mod file;
mod in_force;
mod keys;
mod layers;
mod raw;
#[cfg(test)]
mod tests;
mod validate;

use check::{check_layer, describe, suggest};
pub use keys::{KEYS, Kind};
use keys::{RESERVED_ENV, RESERVED_ENV_PREFIX};
use layers::StringLayer;
pub use layers::input_name;
use raw::Raw;
use validate::validate;

const CONFIG_FILES: &[&str] = &[".shipcrate.yml", ".shipcrate.yaml", "shipcrate.yml"];

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
    /// `.travis.yml`: the job that deploys (its stage, rust, os, env), when a `jobs.include`
    /// entry holds the deploy.
    pub job: Vec<crate::travis::JobRule>,
    /// `.travis.yml`: the branches and tags Travis built (`branches.only` / `except`).
    pub built: Option<crate::travis::Built>,
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
    /// cargo's `--verbose`.
    pub verbose: bool,
    /// cargo's `--color`, when set.
    pub color: Option<&'static str>,
    pub features: Vec<String>,
    pub all_features: bool,
    pub report: Option<PathBuf>,
    pub dotenv: Option<PathBuf>,
    /// Where each uploaded `.crate` is copied.
    pub crate_dir: Option<PathBuf>,
    pub packages: Vec<String>,
    pub exclude: Vec<String>,
    pub check_tag: bool,
    pub checksum_mismatch: Mismatch,
    pub index_timeout: Duration,
    pub max_retries: u32,
    pub max_wait: Duration,
    /// From the run's start: no upload starts after it.
    pub deadline: Option<Duration>,
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
    /// `ci: none`: a run by hand, where git alone says what is built.
    pub ci: CiMode,
}

/// Whether shipcrate reads the CI from its variables (`auto`), or is told there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CiMode {
    Auto,
    /// No CI: in a container that shows no CI's variables, git's branch may still publish.
    None,
}

/// When to mint a short-lived token from the CI's OIDC identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TrustedMode {
    Auto,
    Always,
    Never,
}

/// What every cargo command is told: the registry and the user's cargo flags (a slice of
/// [`Config`] for `publish::Cargo`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CargoFlags<'a> {
    pub target: &'a Target,
    pub allow_dirty: bool,
    pub no_verify: bool,
    pub locked: bool,
    pub verbose: bool,
    pub color: Option<&'static str>,
    pub all_features: bool,
    pub features: &'a [String],
}

/// Which crates: where the crate or workspace is, the members asked for and left out, and
/// the registry they go to (a slice of [`Config`] for `plan`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Selection<'a> {
    pub path: &'a Path,
    pub packages: &'a [String],
    pub exclude: &'a [String],
    pub target: &'a Target,
}

/// Trusted publishing as a run needs it: the settings, the registry (whose API mints), and
/// whether anything is uploaded (a slice of [`Config`] for `trusted::session`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrustedPublishing<'a> {
    pub settings: &'a Trusted,
    pub target: &'a Target,
    pub dry_run: bool,
}

/// How long the uploads wait: for the index to list an upload, and for a registry that
/// pushes back (a slice of [`Config`] for `upload`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub index_timeout: Duration,
    pub max_retries: u32,
    pub max_wait: Duration,
    pub deadline: Option<Duration>,
}

impl Config {
    pub(crate) fn cargo_flags(&self) -> CargoFlags<'_> {
        CargoFlags {
            target: &self.target,
            allow_dirty: self.allow_dirty,
            no_verify: self.no_verify,
            locked: self.locked,
            verbose: self.verbose,
            color: self.color,
            all_features: self.all_features,
            features: &self.features,
        }
    }

    pub(crate) fn selection(&self) -> Selection<'_> {
        Selection {
            path: &self.path,
            packages: &self.packages,
            exclude: &self.exclude,
            target: &self.target,
        }
    }

    pub(crate) fn trusted_publishing(&self) -> TrustedPublishing<'_> {
        TrustedPublishing {
            settings: &self.trusted,
            target: &self.target,
            dry_run: self.dry_run,
        }
    }

    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            index_timeout: self.index_timeout,
            max_retries: self.max_retries,
            max_wait: self.max_wait,
            deadline: self.deadline,
        }
    }
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
        return load_travis(&figment, root, env, flags, &travis_yml);
    }
    let (figment, problems) = match &file {
        Some(file) => {
            let yaml = file::YamlFile::read(file)?;
            let problems = check_layer(&yaml)?;
            (figment.merge(yaml), problems)
        }
        None => (figment, Vec::new()),
    };
    assemble(figment, root, env, flags, file, problems)
}

/// `.travis.yml`: one config per cargo deploy entry, each its layer under the same env, inputs
/// and flags; the first holds the others (`later_entries`).
fn load_travis(
    figment: &Figment,
    root: &Path,
    env: &Env,
    flags: &Flags,
    travis_yml: &Path,
) -> Result<Config> {
    let travis = crate::travis::read(travis_yml)?;
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
            path: travis_yml,
            entry,
        };
        let problems = check_layer(&layer)?;
        let mut cfg = assemble(
            figment.clone().merge(layer),
            root,
            env,
            flags,
            Some(travis_yml.to_path_buf()),
            problems,
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
        cfg.on.runtimes.clone_from(&entry.runtimes);
        cfg.on.job_if.clone_from(&entry.job_if);
        cfg.on.job.clone_from(&entry.job);
        cfg.on.built.clone_from(&travis.built);
        configs.push(cfg);
    }
    let mut first = configs.remove(0);
    first.later_entries = configs;
    first.notes = travis.notes;
    Ok(first)
}

/// The env, input and flag layers over `figment`, extracted and validated. `problems`: what
/// the file's layer already found wrong; every layer's unknown keys and every value of the
/// wrong type are reported together, one a line.
fn assemble(
    mut figment: Figment,
    root: &Path,
    env: &Env,
    flags: &Flags,
    file: Option<PathBuf>,
    mut problems: Vec<String>,
) -> Result<Config> {
    let layers = [
        StringLayer::shipcrate_env(env),
        StringLayer::github_inputs(env),
        StringLayer::flags(flags),
    ];
    for layer in layers {
        let layer = layer?;
        problems.extend(check_layer(&layer)?);
        figment = figment.merge(layer);
    }
    problems.extend(check::type_problems(&figment));
    if !problems.is_empty() {
        // The rules the other settings break, too: every problem in one report.
        match check::well_formed(&figment).extract::<Raw>() {
            Ok(raw) => {
                if let Err(broken) = validate(raw, &figment, file, root) {
                    problems.push(format!("{broken:#}"));
                }
            }
            Err(error) => problems.push(describe(&error)),
        }
        return Err(UsageError(problems.join("\n")).into());
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
    // Not a boolean: false here; the merged value's check names the key and its source.
    value.and_then(de::boolean).unwrap_or(false)
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

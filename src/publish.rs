//! Runs `cargo publish` in the pristine tree: the plan from `cargo metadata`, the token in the
//! child's environment only, and what cargo said turned into per-crate outcomes.
//!
//! Never puts the token in argv, never reads `Cargo.toml` by hand.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::Env;
use crate::cmd;
use crate::config::{Config, Target};
use crate::secret::{Masker, Token};

/// A crate of the plan.
#[derive(Clone, Debug, Serialize)]
pub struct Package {
    pub name: String,
    pub version: String,
}

/// What will be published, what won't and why, and where cargo builds.
#[derive(Debug)]
pub struct Plan {
    pub publish: Vec<Package>,
    pub skipped: Vec<(Package, String)>,
    /// The dir in `tree` where `cargo publish` runs.
    pub dir: PathBuf,
    /// The user's target dir, so the verify build is warm.
    pub target_dir: PathBuf,
}

/// How one crate ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Published,
    /// Packaged and verified by a dry run; nothing uploaded.
    Verified,
    Skipped,
    Failed,
    NotStarted,
}

#[derive(Clone, Debug, Serialize)]
pub struct CrateOutcome {
    pub name: String,
    pub version: String,
    pub outcome: Outcome,
    pub duration_ms: u128,
    pub reason: Option<String>,
}

/// Read the packages under `cfg.path` in `tree` with `cargo metadata`.
pub fn plan(cargo: &Path, tree: &Path, user_root: &Path, cfg: &Config, env: &Env) -> Result<Plan> {
    let dir = tree.join(&cfg.path);
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        anyhow::bail!(
            "no `Cargo.toml` at `{}` in the commit; set `path` to the crate's directory",
            cfg.path.join("Cargo.toml").display()
        );
    }
    let mut command = cargo_metadata::MetadataCommand::new();
    command.cargo_path(cargo).manifest_path(&manifest).no_deps();
    let mut command = command.cargo_command();
    command.env_clear().envs(env).current_dir(&dir);
    let json = cmd::capture(command).context("could not read the crate's metadata")?;
    let metadata = cargo_metadata::MetadataCommand::parse(json)
        .context("cargo metadata gave unexpected output")?;

    let registry = cfg.target.cargo_name().unwrap_or("crates-io");
    let candidates: Vec<&cargo_metadata::Package> = match metadata.root_package() {
        Some(root) => vec![root],
        None => metadata.workspace_default_packages(),
    };
    let mut plan = Plan {
        publish: Vec::new(),
        skipped: Vec::new(),
        dir,
        target_dir: PathBuf::new(),
    };
    for package in candidates {
        let entry = Package {
            name: package.name.to_string(),
            version: package.version.to_string(),
        };
        match &package.publish {
            Some(allowed) if allowed.is_empty() => {
                plan.skipped.push((entry, "publish = false".to_owned()))
            }
            Some(allowed) if !allowed.iter().any(|r| r == registry) => plan.skipped.push((
                entry,
                format!(
                    "its `publish` list ({}) does not include `{registry}`",
                    allowed.join(", ")
                ),
            )),
            _ => plan.publish.push(entry),
        }
    }

    let target = metadata.target_directory.into_std_path_buf();
    plan.target_dir = match env.get("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => user_root.join(dir),
        None => match target.strip_prefix(tree) {
            Ok(inside) => user_root.join(inside),
            Err(_) => target,
        },
    };
    Ok(plan)
}

/// Run `cargo publish` for the plan. `env` must already be scrubbed of tokens.
pub fn publish(
    cargo: &Path,
    plan: &Plan,
    cfg: &Config,
    token: Option<&Token>,
    env: &Env,
    masker: &Masker,
) -> Result<Vec<CrateOutcome>> {
    let mut env = env.clone();
    // cargo#9822: debug logging printed the token.
    env.remove("CARGO_LOG");
    env.remove("CARGO_HTTP_DEBUG");
    env.insert(
        "CARGO_TARGET_DIR".to_owned(),
        plan.target_dir.display().to_string(),
    );
    if let Target::Index(url) = &cfg.target {
        env.insert(
            format!(
                "CARGO_REGISTRIES_{}_INDEX",
                crate::config::env_name(Target::INDEX_NAME)
            ),
            url.clone(),
        );
    }
    if let Some(token) = token {
        env.insert(cfg.target.token_var(), token.expose().to_owned());
    }

    let mut command = cmd::command(cargo, &plan.dir, &env);
    command.arg("publish");
    for package in &plan.publish {
        command.args(["--package", &package.name]);
    }
    if let Some(name) = cfg.target.cargo_name() {
        command.args(["--registry", name]);
    }
    let flags = [
        (cfg.allow_dirty, "--allow-dirty"),
        (cfg.dry_run, "--dry-run"),
        (cfg.no_verify, "--no-verify"),
        (cfg.locked, "--locked"),
        (cfg.all_features, "--all-features"),
    ];
    command.args(flags.iter().filter(|(on, _)| *on).map(|(_, flag)| flag));
    if !cfg.features.is_empty() {
        command.args(["--features", &cfg.features.join(",")]);
    }

    let started = Instant::now();
    let finished = cmd::stream(command, masker)?;
    let duration_ms = started.elapsed().as_millis();
    let outcomes = plan
        .publish
        .iter()
        .map(|p| {
            let uploaded = finished
                .output
                .contains(&format!("Uploaded {} v{}", p.name, p.version));
            let (outcome, reason) = match (finished.code, cfg.dry_run, uploaded) {
                (0, true, _) => (Outcome::Verified, None),
                (0, false, _) | (_, false, true) => (Outcome::Published, None),
                (code, _, _) => (
                    Outcome::Failed,
                    Some(format!("cargo publish exited with status {code}")),
                ),
            };
            CrateOutcome {
                name: p.name.clone(),
                version: p.version.clone(),
                outcome,
                duration_ms,
                reason,
            }
        })
        .collect();
    Ok(outcomes)
}

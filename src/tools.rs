//! Finds `cargo`, `git` and `sh` up front, and checks cargo is new enough.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::Env;
use crate::cmd;

/// Oldest cargo that publishes several packages in one command.
pub(crate) const MIN_CARGO: (u32, u32) = (1, 90);

/// The external programs shipcrate runs, resolved on `PATH` once.
#[derive(Debug, Clone)]
pub(crate) struct Tools {
    pub cargo: PathBuf,
    pub git: PathBuf,
    pub sh: PathBuf,
    /// For `[[ … ]]` conditions (Travis's form); not needed otherwise.
    pub bash: Option<PathBuf>,
}

pub(crate) fn find(env: &Env, cwd: &Path) -> Result<Tools> {
    let path = env.get("PATH").cloned().unwrap_or_default();
    let lookup = |name: &str, how: &str| {
        which::which_in(name, Some(&path), cwd)
            .with_context(|| format!("`{name}` was not found on PATH; {how}"))
    };
    Ok(Tools {
        cargo: lookup(
            "cargo",
            "install Rust with rustup (https://rustup.rs) or use the shipcrate image",
        )?,
        git: lookup(
            "git",
            "install git (e.g. `apt-get install git`) or use the shipcrate image",
        )?,
        sh: lookup("sh", "a POSIX shell is needed for hooks and conditions")?,
        bash: lookup("bash", "").ok(),
    })
}

/// `cargo --version`, checked against [`MIN_CARGO`]; run in `dir` so a toolchain file applies.
pub(crate) fn cargo_version(cargo: &Path, dir: &Path, env: &Env) -> Result<String> {
    let mut version = cmd::command(cargo, dir, env);
    version.arg("--version");
    let line = cmd::capture(version)?;
    let line = line.trim().to_owned();
    let version = parse_version(&line)
        .with_context(|| format!("cannot read cargo's version from `{line}`"))?;
    if version < MIN_CARGO {
        bail!(
            "{line} is too old: shipcrate needs cargo {}.{} or newer (multi-package publish). \
             Update with `rustup update stable`",
            MIN_CARGO.0,
            MIN_CARGO.1
        );
    }
    Ok(line)
}

fn parse_version(line: &str) -> Option<(u32, u32)> {
    let mut parts = line.strip_prefix("cargo ")?.split(['.', ' ', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_cargo_versions() {
        assert_eq!(
            super::parse_version("cargo 1.95.0 (f2d3ce0bd 2026-03-21)"),
            Some((1, 95))
        );
        assert_eq!(
            super::parse_version("cargo 1.92.0-nightly (abc 2026-01-01)"),
            Some((1, 92))
        );
        assert_eq!(super::parse_version("rustc 1.0"), None);
    }
}

//! The pristine copy: the built commit's tree in a temp dir that is a git repository at that
//! commit, so cargo sees a clean tree and records the real sha.
//!
//! Objects are read from the user's repository through git's alternates, never copied, and
//! nothing is written to the user's checkout. The temp dir goes away on drop and on signals.
//!
//! Its parts: which commit and what of it the copy holds (`inspect`), how it is written
//! (`write`: git writes the files, then each submodule), and where it lives (`place`: in
//! memory when it fits, else `TMPDIR`).

mod inspect;
mod lfs;
mod place;
mod write;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::Env;
use crate::cmd;
use crate::signals;

pub(crate) use lfs::pointers_said as lfs_pointers_said;

use inspect::inspect;
use place::{SHM, memory_room};
use write::Git;

/// A temp dir holding the commit's tree as a clean git checkout. Dropped = removed.
pub(crate) struct PristineTree {
    dir: tempfile::TempDir,
    lfs_pointers: Vec<String>,
}

impl PristineTree {
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Files the commit holds as Git LFS pointers that the copy holds as such: LFS is not set
    /// up in the checkout (its content was never fetched).
    pub(crate) fn lfs_pointers(&self) -> &[String] {
        &self.lfs_pointers
    }
}

impl Drop for PristineTree {
    fn drop(&mut self) {
        signals::untrack_dir(self.dir.path());
    }
}

/// Git variables that would point our commands at another repository than the one we name.
const GIT_LOCATION_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
];

/// Copy `commit` of the repository at `repo_root` (with its submodules) into a fresh temp dir.
/// `path` (the crate dir, relative to the root) must lie inside the commit's tree, its
/// symlinks followed. `hooks`: hooks will run (with the copy at hand).
pub(crate) fn create(
    git: &Path,
    repo_root: &Path,
    commit: &str,
    path: &Path,
    env: &Env,
    hooks: bool,
) -> Result<PristineTree> {
    let env = without_location_vars(env);
    let git = Git {
        exe: git,
        env: &env,
    };
    let crate_dir = path.to_string_lossy();
    let room = memory_room(&env, hooks);
    let copy = inspect(
        repo_root,
        commit,
        Path::new(""),
        Some(&crate_dir),
        room.is_some(),
    )?;
    let mut dir = tempfile::Builder::new();
    dir.prefix("shipcrate-");
    // A copy with submodules isn't measured: it goes to the temp dir.
    let fits = room.is_some_and(|room| copy.links.is_empty() && copy.bytes <= room);
    let dir = match fits {
        true => dir.tempdir_in(SHM),
        false => dir.tempdir(),
    }
    .map_err(|e| place::said_when_full(e.into(), &std::env::temp_dir(), &env))
    .context("could not create a temporary directory for the pristine copy")?;
    signals::track_dir(dir.path());
    let mut tree = PristineTree {
        dir,
        lfs_pointers: Vec::new(),
    };
    tree.lfs_pointers = git.write(&copy, tree.root()).map_err(|e| {
        let place = tree.root().parent().unwrap_or(tree.root());
        place::said_when_full(e, place, &env)
    })?;
    Ok(tree)
}

/// The same copy into `dest`, an empty directory the caller owns (`shipcrate copy`).
pub(crate) fn create_in(
    git: &Path,
    repo_root: &Path,
    commit: &str,
    path: &Path,
    env: &Env,
    dest: &Path,
) -> Result<Vec<String>> {
    let env = without_location_vars(env);
    let git = Git {
        exe: git,
        env: &env,
    };
    let crate_dir = path.to_string_lossy();
    git.materialize(repo_root, dest, commit, Path::new(""), Some(&crate_dir))
}

fn without_location_vars(env: &Env) -> Env {
    env.iter()
        .filter(|(k, _)| !GIT_LOCATION_VARS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Check out `paths` (inside the tree) that a sparse copy left out, e.g. a manifest's
/// `readme = "../../docs/README.md"`.
/// Whether it wrote anything.
pub(crate) fn ensure(git: &Path, tree: &Path, paths: &[PathBuf], env: &Env) -> Result<bool> {
    let missing: Vec<String> = paths
        .iter()
        .filter(|p| !p.exists())
        .filter_map(|p| p.strip_prefix(tree).ok())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Ok(false);
    }
    let mut command = cmd::command(git, tree, env);
    command
        .args([
            "checkout-index",
            "--force",
            "--ignore-skip-worktree-bits",
            "--",
        ])
        .args(&missing);
    cmd::capture(command).context("could not check out files the manifests point at")?;
    Ok(true)
}

fn submodule_missing(path: &Path, commit: &str) -> String {
    format!(
        "submodule `{}` at commit {commit} is not in the checkout: fetch submodules before \
         running shipcrate (`git submodule update --init --recursive`; on GitHub, \
         `submodules: recursive` on actions/checkout; on GitLab, `GIT_SUBMODULE_STRATEGY: recursive`)",
        path.display()
    )
}

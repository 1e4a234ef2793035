//! Reads the user's repository through libgit2: HEAD, branch, tags, default branch.
//!
//! Read-only by design: nothing here writes to the checkout or its `.git`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::Env;
use crate::error::UsageError;

/// What plain git says about the build, for when no CI provider says it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GitFacts {
    pub head: Option<String>,
    pub branch: Option<String>,
    pub tags_at_head: Vec<String>,
    pub default_branch: Option<String>,
    pub shallow: bool,
}

/// A commit's short form, as the log shows it.
pub(crate) fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// How many `GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>` pairs `env` gives git (0 when
/// `GIT_CONFIG_COUNT` is unset or not a number).
pub(crate) fn config_count(env: &Env) -> usize {
    env.get("GIT_CONFIG_COUNT")
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// `rev`'s full commit id in the repository at `root`; `None` when it has no such commit.
pub(crate) fn resolve_commit(root: &Path, rev: &str) -> Option<String> {
    let repo = git2::Repository::open(root).ok()?;
    let commit = repo.revparse_single(rev).ok()?.peel_to_commit().ok()?;
    Some(commit.id().to_string())
}

/// The repository containing `start`: its work tree root and its facts. `env` is read for
/// `safe.directory` given through `GIT_CONFIG_COUNT`, which git honours and libgit2 does not.
pub(crate) fn open(start: &Path, env: &Env) -> Result<(PathBuf, GitFacts)> {
    let repo = git2::Repository::discover(start).map_err(|e| match e.code() {
        git2::ErrorCode::Owner => UsageError(format!(
            "`{dir}` belongs to another user, and shipcrate reads repositories with libgit2, \
             which refuses that unless git's global or system config marks the directory safe: \
             run `git config --global --add safe.directory {dir}` (the shipcrate image does \
             this for its working directory){}",
            safe_directory_via_env(env)
                .map(|value| format!(
                    ". `safe.directory` = `{value}` given through `GIT_CONFIG_COUNT`/\
                     `GIT_CONFIG_KEY_<n>` is honoured by git, but not by libgit2"
                ))
                .unwrap_or_default(),
            dir = start.display(),
        )),
        _ => UsageError(format!(
            "`{}` is not inside a git repository: shipcrate publishes a commit, so run it in \
             the checkout of the repository ({})",
            start.display(),
            e.message()
        )),
    })?;
    let root = repo
        .workdir()
        .with_context(|| {
            format!(
                "`{}` is a bare repository; run shipcrate in a checkout",
                repo.path().display()
            )
        })?
        .to_path_buf();
    let root = fs_err::canonicalize(&root)?;
    Ok((root, facts(&repo)))
}

/// A `safe.directory` value given in the environment (`GIT_CONFIG_COUNT` pairs), if any.
fn safe_directory_via_env(env: &Env) -> Option<String> {
    (0..config_count(env).min(1000)).find_map(|n| {
        let key = env.get(&format!("GIT_CONFIG_KEY_{n}"))?;
        key.eq_ignore_ascii_case("safe.directory")
            .then(|| env.get(&format!("GIT_CONFIG_VALUE_{n}")).cloned())
            .flatten()
    })
}

fn facts(repo: &git2::Repository) -> GitFacts {
    let head_ref = repo.head().ok();
    let head = head_ref
        .as_ref()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id());
    let branch = head_ref
        .as_ref()
        .filter(|h| h.is_branch())
        .and_then(|h| h.shorthand().map(str::to_owned));
    let mut tags_at_head = Vec::new();
    if let (Some(head), Ok(names)) = (head, repo.tag_names(None)) {
        for name in names.iter().flatten() {
            let at_head = repo
                .find_reference(&format!("refs/tags/{name}"))
                .and_then(|r| r.peel_to_commit())
                .is_ok_and(|c| c.id() == head);
            if at_head {
                tags_at_head.push(name.to_owned());
            }
        }
    }
    GitFacts {
        head: head.map(|h| h.to_string()),
        branch,
        tags_at_head,
        default_branch: default_branch(repo),
        shallow: repo.is_shallow(),
    }
}

/// `origin/HEAD`'s target, else `main` or `master` when such a branch exists.
fn default_branch(repo: &git2::Repository) -> Option<String> {
    if let Ok(r) = repo.find_reference("refs/remotes/origin/HEAD")
        && let Some(target) = r.symbolic_target()
    {
        return target
            .strip_prefix("refs/remotes/origin/")
            .map(str::to_owned);
    }
    ["main", "master"].into_iter().map(str::to_owned).find(|b| {
        repo.find_reference(&format!("refs/heads/{b}")).is_ok()
            || repo
                .find_reference(&format!("refs/remotes/origin/{b}"))
                .is_ok()
    })
}

/// Whether git tracks `file` (a real path, symlinks resolved) in the repository holding it —
/// the checkout's, or a submodule's.
pub(crate) fn is_tracked(file: &Path) -> bool {
    let Some(dir) = file.parent() else {
        return false;
    };
    let Ok(repo) = git2::Repository::discover(dir) else {
        return false;
    };
    let Some(workdir) = repo.workdir().and_then(|w| fs_err::canonicalize(w).ok()) else {
        return false;
    };
    let Ok(rel) = file.strip_prefix(&workdir) else {
        return false;
    };
    repo.index()
        .is_ok_and(|index| index.get_path(rel, 0).is_some())
}

/// The tracked files (and staged new ones) whose working-tree or index state differs from
/// HEAD, as paths relative to the root: edits a run leaves out, since it publishes the commit.
/// Untracked files are left out (a CI's build output is untracked), and so are submodules.
pub(crate) fn uncommitted(root: &Path) -> Vec<String> {
    let Ok(repo) = git2::Repository::open(root) else {
        return Vec::new();
    };
    let mut options = git2::StatusOptions::new();
    options
        .include_untracked(false)
        .include_ignored(false)
        .exclude_submodules(true);
    let Ok(statuses) = repo.statuses(Some(&mut options)) else {
        return Vec::new();
    };
    statuses
        .iter()
        .filter(|entry| !entry.status().is_empty() && !entry.status().is_ignored())
        .filter_map(|entry| entry.path().map(str::to_owned))
        .collect()
}

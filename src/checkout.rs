//! The pristine copy: the built commit's tree in a temp dir that is a git repository at that
//! commit, so cargo sees a clean tree and records the real sha.
//!
//! Objects are read from the user's repository through git's alternates, never copied, and
//! nothing is written to the user's checkout. The temp dir goes away on drop and on signals.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::Env;
use crate::cmd;
use crate::signals;

/// A temp dir holding the commit's tree as a clean git checkout. Dropped = removed.
pub struct PristineTree {
    dir: tempfile::TempDir,
}

impl PristineTree {
    pub fn root(&self) -> &Path {
        self.dir.path()
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
pub fn create(git: &Path, repo_root: &Path, commit: &str, env: &Env) -> Result<PristineTree> {
    let dir = tempfile::Builder::new()
        .prefix("shipcrate-")
        .tempdir()
        .context("could not create a temporary directory for the pristine copy")?;
    signals::track_dir(dir.path());
    let tree = PristineTree { dir };
    create_in(git, repo_root, commit, env, tree.root())?;
    Ok(tree)
}

/// The same copy into `dest`, an empty directory the caller owns (`shipcrate copy`).
pub fn create_in(git: &Path, repo_root: &Path, commit: &str, env: &Env, dest: &Path) -> Result<()> {
    let env: Env = env
        .iter()
        .filter(|(k, _)| !GIT_LOCATION_VARS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let git = Git {
        exe: git,
        env: &env,
    };
    git.materialize(repo_root, dest, commit, Path::new(""))
}

struct Git<'a> {
    exe: &'a Path,
    env: &'a Env,
}

impl Git<'_> {
    fn run(&self, dir: &Path, args: &[&str]) -> Result<String> {
        let mut cmd = cmd::command(self.exe, dir, self.env);
        cmd.args(args);
        cmd::capture(cmd)
    }

    /// Check out `commit` of the repository at `source` into the empty dir `dest`.
    /// `shown` is the path inside the top repository, for messages.
    fn materialize(&self, source: &Path, dest: &Path, commit: &str, shown: &Path) -> Result<()> {
        let common = self.run(
            source,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        )?;
        let common = PathBuf::from(common.trim());
        if self
            .run(source, &["cat-file", "-e", &format!("{commit}^{{commit}}")])
            .is_err()
        {
            if shown.as_os_str().is_empty() {
                bail!(
                    "commit {commit} is not in the checkout at `{}`: fetch it (for example \
                     `git fetch origin {commit}`) before running shipcrate",
                    source.display()
                );
            }
            bail!(submodule_missing(shown, commit));
        }

        self.run(dest, &["init", "--quiet", "--template="])?;
        let info = dest.join(".git/objects/info");
        fs_err::create_dir_all(&info)?;
        fs_err::write(
            info.join("alternates"),
            format!("{}\n", common.join("objects").display()),
        )?;
        // A shallow source has commits whose parents are absent; say so, as the source does.
        let shallow = common.join("shallow");
        if shallow.is_file() {
            fs_err::copy(&shallow, dest.join(".git/shallow"))?;
        }
        if shown.as_os_str().is_empty()
            && let Some(patterns) = self.sparse_patterns(dest, commit)?
        {
            fs_err::create_dir_all(dest.join(".git/info"))?;
            fs_err::write(dest.join(".git/info/sparse-checkout"), patterns)?;
            self.run(dest, &["config", "core.sparseCheckout", "true"])?;
        }
        self.run(dest, &["read-tree", "--reset", "-u", commit])?;
        self.run(dest, &["update-ref", "--no-deref", "HEAD", commit])?;

        let links = gitlinks(&self.run(dest, &["ls-files", "--stage"])?);
        // Submodules a sparse copy left out are not checked out; list the skipped entries
        // only when there are submodules to ask about.
        let skipped: Vec<String> = if links.is_empty() {
            Vec::new()
        } else {
            self.run(dest, &["ls-files", "-t"])?
                .lines()
                .filter_map(|l| l.strip_prefix("S ").map(str::to_owned))
                .collect()
        };
        for (path, sub_commit) in links {
            if skipped.contains(&path) {
                continue;
            }
            let sub_source = source.join(&path);
            let sub_shown = shown.join(&path);
            let checked_out = self
                .run(&sub_source, &["rev-parse", "--show-toplevel"])
                .is_ok_and(|top| {
                    Path::new(top.trim()) == fs_err::canonicalize(&sub_source).unwrap_or_default()
                });
            if !checked_out {
                bail!(submodule_missing(&sub_shown, &sub_commit));
            }
            let sub_dest = dest.join(&path);
            fs_err::create_dir_all(&sub_dest)?;
            self.materialize(&sub_source, &sub_dest, &sub_commit, &sub_shown)?;
        }
        Ok(())
    }
}

impl Git<'_> {
    /// For a workspace whose crates live in subdirectories: write only what cargo reads —
    /// the root's files, `.cargo/`, and every directory holding a `Cargo.toml` — as a git
    /// sparse checkout, so the rest of a large repository costs nothing. `None` (a full
    /// checkout) when the root manifest is itself a package, whose files could be anywhere.
    fn sparse_patterns(&self, dest: &Path, commit: &str) -> Result<Option<String>> {
        let names = self.run(dest, &["ls-tree", "-r", "--name-only", "-z", commit])?;
        let mut dirs: Vec<&str> = Vec::new();
        for name in names.split('\0') {
            if name == "Cargo.toml" {
                let text =
                    self.run(dest, &["cat-file", "blob", &format!("{commit}:Cargo.toml")])?;
                let is_package = toml::from_str::<toml::Table>(&text)
                    .map_or(true, |t| t.contains_key("package"));
                if is_package {
                    return Ok(None);
                }
            } else if let Some(dir) = name.strip_suffix("/Cargo.toml") {
                dirs.push(dir);
            }
        }
        if dirs.is_empty() {
            return Ok(None);
        }
        let mut patterns = String::from("/*\n!/*/\n/.cargo/\n");
        for dir in dirs {
            let escaped: String = dir
                .chars()
                .flat_map(|c| match c {
                    '*' | '?' | '[' | ']' | '\\' | '!' | '#' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            patterns += &format!("/{escaped}/\n");
        }
        Ok(Some(patterns))
    }
}

/// Check out `paths` (inside the tree) that a sparse copy left out, e.g. a manifest's
/// `readme = "../../docs/README.md"`.
pub fn ensure(git: &Path, tree: &Path, paths: &[PathBuf], env: &Env) -> Result<()> {
    let missing: Vec<String> = paths
        .iter()
        .filter(|p| !p.exists())
        .filter_map(|p| p.strip_prefix(tree).ok())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
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
    Ok(())
}

fn submodule_missing(path: &Path, commit: &str) -> String {
    format!(
        "submodule `{}` at commit {commit} is not in the checkout: fetch submodules before \
         running shipcrate (`git submodule update --init --recursive`; on GitHub, \
         `submodules: recursive` on actions/checkout; on GitLab, `GIT_SUBMODULE_STRATEGY: recursive`)",
        path.display()
    )
}

/// `(path, commit)` of every submodule entry in `git ls-files --stage` output.
fn gitlinks(stage: &str) -> Vec<(String, String)> {
    stage
        .lines()
        .filter_map(|line| {
            let (meta, path) = line.split_once('\t')?;
            let mut fields = meta.split_whitespace();
            (fields.next()? == "160000").then(|| {
                (
                    path.to_owned(),
                    fields.next().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_gitlinks() {
        let out = "100644 aaaa 0\tsrc/lib.rs\n160000 bbbb 0\tvendor/sub\n";
        assert_eq!(
            super::gitlinks(out),
            [("vendor/sub".to_owned(), "bbbb".to_owned())]
        );
    }
}

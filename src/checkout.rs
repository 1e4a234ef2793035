//! The pristine copy: the built commit's tree in a temp dir that is a git repository at that
//! commit, so cargo sees a clean tree and records the real sha.
//!
//! Objects are read from the user's repository through git's alternates, never copied, and
//! nothing is written to the user's checkout. The temp dir goes away on drop and on signals.

use std::io::Write as _;
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
    ///
    /// The reading (where the objects live, the commit's tree) is done in-process with
    /// libgit2; git itself writes the files and the index (`read-tree`), which it does faster
    /// and with sparse-checkout support.
    fn materialize(&self, source: &Path, dest: &Path, commit: &str, shown: &Path) -> Result<()> {
        let repo = git2::Repository::open(source)
            .with_context(|| format!("git cannot read the repository at `{}`", source.display()))?;
        let Ok(found) = repo
            .revparse_single(&format!("{commit}^{{commit}}"))
            .and_then(|c| c.peel_to_commit())
        else {
            if shown.as_os_str().is_empty() {
                bail!(
                    "commit {commit} is not in the checkout at `{}`: fetch it (for example \
                     `git fetch origin {commit}`) before running shipcrate",
                    source.display()
                );
            }
            bail!(submodule_missing(shown, commit));
        };
        let contents = Contents::of(&repo, &found.tree()?)?;

        fs_err::create_dir_all(dest)?;
        let mut init = git2::RepositoryInitOptions::new();
        init.no_reinit(true).external_template(false);
        git2::Repository::init_opts(dest, &init)
            .with_context(|| format!("could not make a repository in `{}`", dest.display()))?;
        let common = repo.commondir();
        fs_err::write(
            dest.join(".git/objects/info/alternates"),
            format!("{}\n", common.join("objects").display()),
        )?;
        // A shallow source has commits whose parents are absent; say so, as the source does.
        let shallow = common.join("shallow");
        if shallow.is_file() {
            fs_err::copy(&shallow, dest.join(".git/shallow"))?;
        }
        if shown.as_os_str().is_empty()
            && let Some(patterns) = contents.sparse_patterns()
        {
            fs_err::create_dir_all(dest.join(".git/info"))?;
            fs_err::write(dest.join(".git/info/sparse-checkout"), patterns)?;
            // Cone mode: git matches directories by hash lookup, where plain patterns are
            // matched one by one against every path (seconds on a large repository).
            fs_err::OpenOptions::new()
                .append(true)
                .open(dest.join(".git/config"))?
                .write_all(b"[core]\n\tsparseCheckout = true\n\tsparseCheckoutCone = true\n")?;
        }
        let commit = found.id().to_string();
        self.run(dest, &["read-tree", "--reset", "-u", &commit])?;
        // A detached HEAD at the commit.
        fs_err::write(dest.join(".git/HEAD"), format!("{commit}\n"))?;

        // Submodules a sparse copy left out are not checked out; list the skipped entries
        // only when there are submodules to ask about.
        let skipped: Vec<String> = if contents.links.is_empty() {
            Vec::new()
        } else {
            self.run(dest, &["ls-files", "-t"])?
                .lines()
                .filter_map(|l| l.strip_prefix("S ").map(str::to_owned))
                .collect()
        };
        for (path, sub_commit) in &contents.links {
            if skipped.contains(path) {
                continue;
            }
            let sub_source = source.join(path);
            let sub_shown = shown.join(path);
            let checked_out = git2::Repository::open(&sub_source).is_ok_and(|sub| {
                sub.workdir().and_then(|w| fs_err::canonicalize(w).ok())
                    == fs_err::canonicalize(&sub_source).ok()
            });
            if !checked_out {
                bail!(submodule_missing(&sub_shown, sub_commit));
            }
            self.materialize(&sub_source, &dest.join(path), sub_commit, &sub_shown)?;
        }
        Ok(())
    }
}

/// What a commit's tree holds that the copy cares about.
struct Contents {
    /// Whether the root `Cargo.toml` has a `[package]` (its files could be anywhere).
    root_is_package: bool,
    /// Directories (below the root) holding a `Cargo.toml`.
    manifest_dirs: Vec<String>,
    /// `(path, commit)` of each submodule.
    links: Vec<(String, String)>,
}

impl Contents {
    fn of(repo: &git2::Repository, tree: &git2::Tree<'_>) -> Result<Contents> {
        let mut contents = Contents {
            root_is_package: false,
            manifest_dirs: Vec::new(),
            links: Vec::new(),
        };
        let mut root_manifest = None;
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            let name = String::from_utf8_lossy(entry.name_bytes());
            if entry.filemode() == 0o160_000 {
                contents
                    .links
                    .push((format!("{dir}{name}"), entry.id().to_string()));
            } else if name == "Cargo.toml" && entry.kind() == Some(git2::ObjectType::Blob) {
                match dir.strip_suffix('/') {
                    Some(dir) => contents.manifest_dirs.push(dir.to_owned()),
                    None => root_manifest = Some(entry.id()),
                }
            }
            git2::TreeWalkResult::Ok
        })?;
        if let Some(id) = root_manifest {
            let blob = repo.find_blob(id)?;
            contents.root_is_package = std::str::from_utf8(blob.content())
                .ok()
                .and_then(|text| toml::from_str::<toml::Table>(text).ok())
                .is_none_or(|t| t.contains_key("package"));
        }
        Ok(contents)
    }

    /// For a workspace whose crates live in subdirectories: write only what cargo reads —
    /// the root's files, `.cargo/`, and every directory holding a `Cargo.toml` — as a git
    /// sparse checkout, so the rest of a large repository costs nothing. `None` (a full
    /// checkout) when the root manifest is itself a package, whose files could be anywhere.
    fn sparse_patterns(&self) -> Option<String> {
        if self.root_is_package {
            return None;
        }
        let dirs: Vec<&str> = self.manifest_dirs.iter().map(String::as_str).collect();
        cone_patterns(&dirs)
    }
}

/// A cone-mode sparse-checkout file: the root's files, `.cargo/`, each of `dirs` whole, and
/// for every parent of those only its own files — the form `git sparse-checkout set --cone`
/// writes, escaping git's glob characters (`*?[\`) as it does. `None` when there is nothing to leave out, or a path git's patterns can't spell.
fn cone_patterns(dirs: &[&str]) -> Option<String> {
    if dirs.is_empty() || dirs.iter().any(|d| d.contains('\n') || d.ends_with(' ')) {
        return None;
    }
    let mut whole: Vec<&str> = dirs.to_vec();
    whole.push(".cargo");
    whole.sort_unstable();
    whole.dedup();
    // A directory inside one already taken whole adds nothing.
    let whole: Vec<&str> = whole
        .iter()
        .copied()
        .filter(|d| {
            !whole
                .iter()
                .any(|outer| d.strip_prefix(outer).is_some_and(|r| r.starts_with('/')))
        })
        .collect();
    let mut parents: Vec<&str> = whole
        .iter()
        .flat_map(|d| d.match_indices('/').map(|(i, _)| &d[..i]))
        .collect();
    parents.sort_unstable();
    parents.dedup();
    let escape = |dir: &str| -> String {
        dir.chars()
            .flat_map(|c| match c {
                '*' | '?' | '[' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect()
    };
    let mut patterns = String::from("/*\n!/*/\n");
    for parent in parents {
        patterns += &format!("/{0}/\n!/{0}/*/\n", escape(parent));
    }
    for dir in whole {
        patterns += &format!("/{}/\n", escape(dir));
    }
    Some(patterns)
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

#[cfg(test)]
mod tests {
    #[test]
    fn cone_patterns_name_each_parent_once_and_nested_crates_not_at_all() {
        let patterns = super::cone_patterns(&["crates/a", "crates/a/inner", "tools/x/y", "b[1]"]);
        assert_eq!(
            patterns.as_deref(),
            Some(
                "/*\n!/*/\n/crates/\n!/crates/*/\n/tools/\n!/tools/*/\n/tools/x/\n!/tools/x/*/\n\
                 /.cargo/\n/b\\[1]/\n/crates/a/\n/tools/x/y/\n"
            )
        );
        assert_eq!(super::cone_patterns(&[]), None);
        assert_eq!(super::cone_patterns(&["odd\nname"]), None);
    }
}

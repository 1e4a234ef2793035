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
    fn materialize(&self, source: &Path, dest: &Path, commit: &str, shown: &Path) -> Result<()> {
        // One call for where the objects live and whether the commit is among them.
        let mut probe = cmd::command(self.exe, source, self.env);
        probe.args([
            "rev-parse",
            "--path-format=absolute",
            "--git-common-dir",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{commit}^{{commit}}"),
        ]);
        let out = probe
            .output()
            .with_context(|| format!("could not start `{}`", self.exe.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let common = stdout
            .lines()
            .next()
            .filter(|line| !line.is_empty())
            .map(PathBuf::from)
            .with_context(|| {
                format!(
                    "git cannot read the repository at `{}`: {}",
                    source.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )
            })?;
        if !out.status.success() {
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
        let entries = self.run(dest, &["ls-tree", "-r", "--full-tree", "-z", commit])?;
        let entries = tree_entries(&entries);
        if shown.as_os_str().is_empty()
            && let Some(patterns) = self.sparse_patterns(dest, commit, &entries)?
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
        self.run(dest, &["read-tree", "--reset", "-u", commit])?;
        self.run(dest, &["update-ref", "--no-deref", "HEAD", commit])?;

        let links: Vec<&Entry> = entries.iter().filter(|e| e.mode == "160000").collect();
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
        for link in links {
            if skipped.iter().any(|s| s == link.path) {
                continue;
            }
            let sub_source = source.join(link.path);
            let sub_shown = shown.join(link.path);
            let checked_out = self
                .run(&sub_source, &["rev-parse", "--show-toplevel"])
                .is_ok_and(|top| {
                    Path::new(top.trim()) == fs_err::canonicalize(&sub_source).unwrap_or_default()
                });
            if !checked_out {
                bail!(submodule_missing(&sub_shown, link.object));
            }
            let sub_dest = dest.join(link.path);
            fs_err::create_dir_all(&sub_dest)?;
            self.materialize(&sub_source, &sub_dest, link.object, &sub_shown)?;
        }
        Ok(())
    }

    /// For a workspace whose crates live in subdirectories: write only what cargo reads —
    /// the root's files, `.cargo/`, and every directory holding a `Cargo.toml` — as a git
    /// sparse checkout, so the rest of a large repository costs nothing. `None` (a full
    /// checkout) when the root manifest is itself a package, whose files could be anywhere.
    fn sparse_patterns(
        &self,
        dest: &Path,
        commit: &str,
        entries: &[Entry<'_>],
    ) -> Result<Option<String>> {
        let mut dirs: Vec<&str> = Vec::new();
        for entry in entries {
            if entry.path == "Cargo.toml" {
                let text =
                    self.run(dest, &["cat-file", "blob", &format!("{commit}:Cargo.toml")])?;
                let is_package = toml::from_str::<toml::Table>(&text)
                    .map_or(true, |t| t.contains_key("package"));
                if is_package {
                    return Ok(None);
                }
            } else if let Some(dir) = entry.path.strip_suffix("/Cargo.toml") {
                dirs.push(dir);
            }
        }
        Ok(cone_patterns(&dirs))
    }
}

/// One entry of `git ls-tree -r -z`: `<mode> <type> <object>\t<path>`.
struct Entry<'a> {
    mode: &'a str,
    object: &'a str,
    path: &'a str,
}

fn tree_entries(listing: &str) -> Vec<Entry<'_>> {
    listing
        .split('\0')
        .filter_map(|record| {
            let (meta, path) = record.split_once('\t')?;
            let mut fields = meta.split(' ');
            let mode = fields.next()?;
            let object = fields.nth(1)?;
            Some(Entry { mode, object, path })
        })
        .collect()
}

/// A cone-mode sparse-checkout file: the root's files, `.cargo/`, each of `dirs` whole, and
/// for every parent of those only its own files — the form `git sparse-checkout set --cone`
/// writes. `None` when there is nothing to leave out, or a path git's patterns can't spell.
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
                '*' | '?' | '[' | ']' | '\\' => vec!['\\', c],
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
    fn reads_tree_entries() {
        let listing = "100644 blob aaaa\tsrc/lib.rs\x00160000 commit bbbb\tvendor/sub\0";
        let entries = super::tree_entries(listing);
        let links: Vec<_> = entries
            .iter()
            .filter(|e| e.mode == "160000")
            .map(|e| (e.path, e.object))
            .collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(links, [("vendor/sub", "bbbb")]);
    }

    #[test]
    fn cone_patterns_name_each_parent_once_and_nested_crates_not_at_all() {
        let patterns = super::cone_patterns(&["crates/a", "crates/a/inner", "tools/x/y", "b[1]"]);
        assert_eq!(
            patterns.as_deref(),
            Some(
                "/*\n!/*/\n/crates/\n!/crates/*/\n/tools/\n!/tools/*/\n/tools/x/\n!/tools/x/*/\n\
                 /.cargo/\n/b\\[1\\]/\n/crates/a/\n/tools/x/y/\n"
            )
        );
        assert_eq!(super::cone_patterns(&[]), None);
        assert_eq!(super::cone_patterns(&["odd\nname"]), None);
    }
}

//! How the copy is written: git writes the files and the index, a cone-mode sparse checkout
//! when only part of the tree is wanted; then each submodule, copied the same way.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::inspect::{Inspected, inspect};
use super::submodule_missing;
use crate::Env;
use crate::cmd;

pub(super) struct Git<'a> {
    pub(super) exe: &'a Path,
    pub(super) env: &'a Env,
}

impl Git<'_> {
    fn run(&self, dir: &Path, args: &[&str]) -> Result<String> {
        let mut cmd = cmd::command(self.exe, dir, self.env);
        cmd.args(args);
        cmd::capture(cmd)
    }

    /// Check out `commit` of the repository at `source` into the empty dir `dest`; the files
    /// left as Git LFS pointers are returned (see [`Git::write`]).
    /// `shown` is the path inside the top repository, for messages; `crate_dir` (top
    /// repository only) is `path`, which must resolve inside the tree.
    pub(super) fn materialize(
        &self,
        source: &Path,
        dest: &Path,
        commit: &str,
        shown: &Path,
        crate_dir: Option<&str>,
    ) -> Result<Vec<String>> {
        let copy = inspect(source, commit, shown, crate_dir, false)?;
        self.write(&copy, dest)
    }

    /// Write `copy` into the empty dir `dest`: git itself writes the files and the index
    /// (`read-tree`), which it does faster than libgit2, in parallel, and with sparse-checkout
    /// support. Then its submodules, each copied the same way.
    /// The files left as Git LFS pointers (LFS not set up in the checkout; its submodules'
    /// too) are returned.
    pub(super) fn write(&self, copy: &Inspected, dest: &Path) -> Result<Vec<String>> {
        fs_err::create_dir_all(dest)?;
        let mut init = git2::RepositoryInitOptions::new();
        init.no_reinit(true).external_template(false);
        git2::Repository::init_opts(dest, &init)
            .with_context(|| format!("could not make a repository in `{}`", dest.display()))?;
        fs_err::write(
            dest.join(".git/objects/info/alternates"),
            format!("{}\n", copy.common.join("objects").display()),
        )?;
        // A shallow source has commits whose parents are absent; say so, as the source does.
        let shallow = copy.common.join("shallow");
        if shallow.is_file() {
            fs_err::copy(&shallow, dest.join(".git/shallow"))?;
        }
        let patterns = copy.whole.as_deref().and_then(|dirs| {
            let dirs: Vec<&str> = dirs.iter().map(String::as_str).collect();
            cone_patterns(&dirs)
        });
        // Files written by as many processes as there are cores (git's parallel checkout).
        let mut config = String::from("[checkout]\n\tworkers = 0\n");
        if let Some(patterns) = &patterns {
            fs_err::create_dir_all(dest.join(".git/info"))?;
            fs_err::write(dest.join(".git/info/sparse-checkout"), patterns)?;
            // Cone mode: git matches directories by hash lookup, where plain patterns are
            // matched one by one against every path (seconds on a large repository).
            config.push_str("[core]\n\tsparseCheckout = true\n\tsparseCheckoutCone = true\n");
        }
        fs_err::OpenOptions::new()
            .append(true)
            .open(dest.join(".git/config"))?
            .write_all(config.as_bytes())?;
        let mut pointers = match &copy.lfs {
            // git's own view of the checkout's settings (libgit2 reads other files).
            Some(lfs) => {
                let settings =
                    self.run(&copy.source, &["config", "--get-regexp", r"^filter\.lfs\."]);
                lfs.configure(&settings.unwrap_or_default(), &copy.common, dest)?
            }
            None => Vec::new(),
        };
        let commit = copy.commit.as_str();
        self.run(dest, &["read-tree", "--reset", "-u", commit])
            .with_context(|| match &copy.lfs {
                Some(_) if pointers.is_empty() => {
                    "could not write the copy with the checkout's Git LFS content: git-lfs must be on \
                     PATH, and the content fetched (`git lfs pull`)".to_owned()
                }
                _ => "could not write the copy".to_owned(),
            })?;
        if patterns.is_some() && !copy.extra.is_empty() {
            let mut args = vec![
                "checkout-index",
                "--force",
                "--ignore-skip-worktree-bits",
                "--",
            ];
            args.extend(copy.extra.iter().map(String::as_str));
            self.run(dest, &args)
                .context("could not check out the targets of the copy's symlinks")?;
        }
        // A detached HEAD at the commit.
        fs_err::write(dest.join(".git/HEAD"), format!("{commit}\n"))?;

        // Submodules a sparse copy left out are not checked out; list the skipped entries
        // only when there are submodules to ask about.
        let skipped: Vec<String> = if copy.links.is_empty() {
            Vec::new()
        } else {
            self.run(dest, &["ls-files", "-t"])?
                .lines()
                .filter_map(|l| l.strip_prefix("S ").map(str::to_owned))
                .collect()
        };
        for (path, sub_commit) in &copy.links {
            if skipped.contains(path) {
                continue;
            }
            let sub_source = copy.source.join(path);
            let sub_shown = copy.shown.join(path);
            let checked_out = git2::Repository::open(&sub_source).is_ok_and(|sub| {
                sub.workdir().and_then(|w| fs_err::canonicalize(w).ok())
                    == fs_err::canonicalize(&sub_source).ok()
            });
            if !checked_out {
                bail!(submodule_missing(&sub_shown, sub_commit));
            }
            let left =
                self.materialize(&sub_source, &dest.join(path), sub_commit, &sub_shown, None)?;
            pointers.extend(left.into_iter().map(|p| format!("{path}/{p}")));
        }
        Ok(pointers)
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

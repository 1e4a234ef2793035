//! Git LFS files in the copy: the commit holds them as pointers (`version
//! https://git-lfs.github.com/spec/v1`, an `oid`, a `size`), and the checkout smudges them
//! into their content with its `filter.lfs.*` settings, from git-lfs's objects in its git dir.
//! The copy is a repository of its own, so it gets those settings and reads those objects
//! (through a link: nothing is written to the checkout). Without LFS set up in the checkout,
//! the copy holds the pointers as the checkout does, and the caller is told which.

use std::path::Path;

use anyhow::{Context, Result};

/// The first line of every LFS pointer (git-lfs `docs/spec.md`).
const POINTER: &[u8] = b"version https://git-lfs.github.com/spec/v1\n";

/// The commit's Git LFS files, when its `.gitattributes` name the lfs filter.
pub(super) struct Lfs {
    /// The files of the copy that the commit holds as pointers.
    pointers: Vec<String>,
}

impl Lfs {
    /// `None` unless one of the commit's `.gitattributes` blobs (`attributes`) names
    /// `filter=lfs`; then `files` (path and blob, those the copy holds) are read for pointers.
    pub(super) fn of(
        repo: &git2::Repository,
        attributes: &[git2::Oid],
        files: impl FnOnce() -> Result<Vec<(String, git2::Oid)>>,
    ) -> Result<Option<Lfs>> {
        let mut named = false;
        for id in attributes {
            let text = repo.find_blob(*id)?;
            named |= String::from_utf8_lossy(text.content()).contains("filter=lfs");
        }
        if !named {
            return Ok(None);
        }
        // A pointer is under 200 bytes: only small blobs are read.
        let odb = repo.odb()?;
        let mut pointers = Vec::new();
        for (path, id) in files()? {
            if odb.read_header(id).is_ok_and(|(size, _)| size < 1024)
                && repo.find_blob(id)?.content().starts_with(POINTER)
            {
                pointers.push(path);
            }
        }
        Ok(Some(Lfs { pointers }))
    }

    /// Before the copy at `dest` is written: when the checkout smudges LFS files (`settings`,
    /// its `filter.lfs.*` lines as `git config --get-regexp` prints them, in git's own view
    /// of its config), the copy gets them, and reads git-lfs's objects in `common` (the
    /// checkout's git dir) through a link. What stays a pointer in the copy: nothing then,
    /// else every pointer.
    pub(super) fn configure(
        &self,
        settings: &str,
        common: &Path,
        dest: &Path,
    ) -> Result<Vec<String>> {
        let settings: Vec<(&str, &str)> =
            settings.lines().filter_map(|l| l.split_once(' ')).collect();
        let smudges = settings
            .iter()
            .any(|(k, _)| *k == "filter.lfs.process" || *k == "filter.lfs.smudge");
        if self.pointers.is_empty() || !smudges {
            return Ok(self.pointers.clone());
        }
        let mut config = git2::Config::open(&dest.join(".git/config"))?;
        for (key, value) in &settings {
            config.set_str(key, value)?;
        }
        let objects = common.join("lfs/objects");
        let store = dest.join(".git/lfs");
        fs_err::create_dir_all(&store)?;
        if objects.is_dir() {
            std::os::unix::fs::symlink(&objects, store.join("objects")).with_context(|| {
                format!(
                    "could not link the copy to git-lfs's objects in `{}`",
                    objects.display()
                )
            })?;
        }
        Ok(Vec::new())
    }
}

/// The warning for `pointers`, files the copy holds as LFS pointers (LFS not set up in the
/// checkout): at most ten named. `None` when there are none.
pub(crate) fn pointers_said(pointers: &[String]) -> Option<String> {
    if pointers.is_empty() {
        return None;
    }
    let more = match pointers.len().saturating_sub(10) {
        0 => String::new(),
        more => format!(" and {more} more"),
    };
    Some(format!(
        "{}{more} hold Git LFS pointers, not their content: `.gitattributes` names the lfs \
         filter but LFS is not set up in the checkout, so a package holding them would ship \
         the pointer text. Fetch the content first (`git lfs install --local && git lfs \
         pull`; on GitHub, `lfs: true` on actions/checkout)",
        pointers[..pointers.len().min(10)].join(", ")
    ))
}

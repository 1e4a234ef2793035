//! Hands files shipcrate created inside the user's checkout (its target dir) back to the
//! checkout's owner, so a CI runner's later steps can delete them.
//!
//! Only matters in a container running as another user than the checkout's owner; a no-op
//! everywhere else. Never touches files outside `dir` or files owned by anyone else.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{Context, Result};

use crate::report::Reporter;

/// On every way out after the plan: files cargo made in the checkout's target dir go back to
/// the checkout's owner (we may be root in a container, the checkout someone else's).
pub(crate) struct HandBack<'a> {
    pub(crate) root: &'a Path,
    pub(crate) dir: &'a Path,
    pub(crate) reporter: &'a Reporter,
}

impl Drop for HandBack<'_> {
    fn drop(&mut self) {
        if let Err(error) = hand_back(self.root, self.dir) {
            self.reporter.warn(&format!("{error:#}"));
        }
    }
}

/// Give every entry under `dir` that we own to the owner of `root`.
pub(crate) fn hand_back(root: &Path, dir: &Path) -> Result<()> {
    if !dir.starts_with(root) || !dir.exists() {
        return Ok(());
    }
    let owner = fs_err::metadata(root)?;
    let me = rustix::process::geteuid().as_raw();
    if me == owner.uid() {
        return Ok(());
    }
    chown_tree(dir, me, owner.uid(), owner.gid())
}

fn chown_tree(path: &Path, me: u32, uid: u32, gid: u32) -> Result<()> {
    let meta = fs_err::symlink_metadata(path)?;
    if meta.uid() == me {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))
            .with_context(|| format!("cannot hand `{}` back to uid {uid}", path.display()))?;
    }
    if meta.is_dir() {
        for entry in fs_err::read_dir(path)? {
            chown_tree(&entry?.path(), me, uid, gid)?;
        }
    }
    Ok(())
}

//! `shipcrate copy DIR [COMMIT]`: the pristine copy of a commit (the built one unless named),
//! kept in a new or empty directory, and nothing else: no config read, nothing published.

use std::path::Path;

use anyhow::Result;

use crate::git::{GitFacts, short};
use crate::prepare::commit;
use crate::report::Reporter;
use crate::{Env, checkout, ci, secret, tools};

/// Copy `commit` (or the built one) of the repository at `root` into `dest`.
pub(crate) fn copy(
    root: &Path,
    facts: &GitFacts,
    env: &Env,
    dest: &Path,
    commit_named: Option<&str>,
    reporter: &Reporter,
) -> Result<()> {
    let tools = tools::find(env, root)?;
    let commit = match commit_named {
        Some(commit) => commit.to_owned(),
        None => commit(&ci::detect(env, facts), "copy")?,
    };
    if dest.exists() && fs_err::read_dir(dest)?.next().is_some() {
        return Err(crate::error::UsageError(format!("`{}` is not empty", dest.display())).into());
    }
    fs_err::create_dir_all(dest)?;
    let pointers = checkout::create_in(
        &tools.git,
        root,
        &commit,
        Path::new(""),
        &secret::scrub(env, None, &[], secret::Child::Build),
        dest,
    )?;
    crate::prepare::note_lfs_pointers(&pointers, reporter);
    reporter.status(
        "Copied",
        &format!("commit {} to {}", short(&commit), dest.display()),
    );
    Ok(())
}

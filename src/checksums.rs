//! What went up, as the registry holds it: each uploaded `.crate`'s SHA-256, checked against
//! the `cksum` the index records for that version, and the files kept in `crate_dir` — what
//! an attestation (`actions/attest-build-provenance`) is made from.
//!
//! The index's `cksum` is the registry's own SHA-256 of the bytes it received (crates.io
//! computes it on upload: rust-lang/crates.io, `src/controllers/krate/publish.rs`, `cksum =
//! Sha256::digest(&tarball_bytes)`; cargo checks downloads against it). A `.crate` whose hash
//! differs is not the file the registry serves: attesting it would sign the wrong bytes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::index::Index;
use crate::outcome::{CrateOutcome, Outcome};
use crate::report::Reporter;

/// The `.crate` file's name for `name` `version`, as cargo and registries spell it.
pub(crate) fn file_name(name: &str, version: &str) -> String {
    format!("{name}-{version}.crate")
}

/// The SHA-256 of `bytes`, in lower-case hex (the index's `cksum` form).
pub(crate) fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// For each crate of `outcomes` that was uploaded: its `.crate` (at `file(name, version)`)
/// hashed, the hash compared with the index's `cksum` for that version, recorded in the
/// outcome when they agree, and the file copied into `crate_dir`. A crate the index doesn't
/// list yet with a `cksum` is a warning (its hash is still what cargo uploaded); a `cksum` that
/// differs is an error naming both, once every crate is checked.
pub(crate) fn check(
    outcomes: &mut [CrateOutcome],
    file: impl Fn(&str, &str) -> PathBuf,
    index: &mut Index,
    crate_dir: Option<&Path>,
    reporter: &Reporter,
) -> Result<()> {
    let mut refreshed = false;
    let mut differ = Vec::new();
    for c in outcomes
        .iter_mut()
        .filter(|c| c.outcome == Outcome::Published)
    {
        let path = file(&c.name, &c.version);
        let bytes = fs_err::read(&path)
            .with_context(|| format!("the `.crate` cargo uploaded for {} is gone", c.name))?;
        let ours = sha256(&bytes);
        let mut in_index = recorded(index, &c.name, &c.version)?;
        if in_index.is_none() && !refreshed {
            // A git index is read as of its last fetch: fetch once more.
            index.refresh()?;
            refreshed = true;
            in_index = recorded(index, &c.name, &c.version)?;
        }
        match in_index {
            Some(theirs) if !theirs.eq_ignore_ascii_case(&ours) => {
                differ.push(format!(
                    "{} v{}: the index records SHA-256 {theirs}, but the `.crate` cargo \
                     uploaded ({}) has {ours}",
                    c.name,
                    c.version,
                    path.display()
                ));
                c.reason = Some("its `.crate` differs from the index's checksum".to_owned());
                continue;
            }
            Some(_) => {}
            None => reporter.warn(&format!(
                "{} v{}: the index lists no checksum for it yet, so its `.crate` ({ours}) \
                 was not checked against the registry's",
                c.name, c.version
            )),
        }
        if let Some(dir) = crate_dir {
            keep(&path, dir, &c.name, &c.version)?;
        }
        c.sha256 = Some(ours);
    }
    if differ.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "the registry holds other bytes than this run uploaded — {}. Don't attest these \
         files; ask the registry's operators what it stored",
        differ.join("; ")
    )
}

/// The `cksum` the index lists for `name` `version`, if it lists one.
fn recorded(index: &Index, name: &str, version: &str) -> Result<Option<String>> {
    let listed = index
        .versions(name)
        .with_context(|| format!("could not read the index to check {name} v{version}"))?;
    Ok(listed
        .into_iter()
        .find(|l| l.version == version && !l.cksum.is_empty())
        .map(|l| l.cksum))
}

/// `path` copied into `dir` (made if missing) under the name cargo gives it.
fn keep(path: &Path, dir: &Path, name: &str, version: &str) -> Result<()> {
    fs_err::create_dir_all(dir).context("could not make `crate_dir`")?;
    let to = dir.join(file_name(name, version));
    fs_err::copy(path, &to).context("could not copy a `.crate` into `crate_dir`")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_lower_case_hex_as_the_index_writes_it() {
        // FIPS 180-2's test vector for "abc".
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

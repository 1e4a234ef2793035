//! Compares a local package with the published one of the same version, file by file.
//!
//! Files cargo generates at packaging time are left out: `.cargo_vcs_info.json` (the commit),
//! `Cargo.toml` (normalized; `Cargo.toml.orig`, the manifest as written, is compared instead)
//! and `Cargo.lock` (resolved against whatever the registry held at that moment, so a later
//! packaging of the very same commit resolves differently).

use std::collections::BTreeMap;
use std::io::Read;

use anyhow::{Context, Result};

/// Paths (inside the package) whose content differs, or that only one side has.
pub(crate) fn differences(local: &[u8], published: &[u8]) -> Result<Vec<String>> {
    let local = unpack(local).context("cannot read the local package")?;
    let published = unpack(published).context("cannot read the published package")?;
    let paths: std::collections::BTreeSet<&String> = local
        .keys()
        .chain(published.keys())
        .filter(|p| local.get(*p) != published.get(*p))
        .collect();
    Ok(paths.into_iter().cloned().collect())
}

/// Every file of a `.crate` (a gzipped tar under `name-version/`), by its path below that
/// directory. The one reader of `.crate` files, the tests' included.
pub fn read_crate(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = BTreeMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let inner = path
            .split_once('/')
            .map_or(path.as_str(), |(_, rest)| rest)
            .to_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content)?;
        files.insert(inner, content);
    }
    Ok(files)
}

/// The files of a `.crate` that come from the commit: all but those cargo generates.
fn unpack(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = read_crate(bytes)?;
    files.retain(|path, _| {
        ![".cargo_vcs_info.json", "Cargo.toml", "Cargo.lock"].contains(&path.as_str())
    });
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krate(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        for (path, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, format!("foo-1.0.0/{path}"), text.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn vcs_info_and_generated_manifest_are_ignored() {
        let a = krate(&[
            ("Cargo.toml", "gen a"),
            (".cargo_vcs_info.json", "sha a"),
            ("src/lib.rs", "x"),
        ]);
        let b = krate(&[
            ("Cargo.toml", "gen b"),
            (".cargo_vcs_info.json", "sha b"),
            ("src/lib.rs", "x"),
        ]);
        assert!(differences(&a, &b).unwrap().is_empty());
    }

    #[test]
    fn changed_added_and_removed_files_are_listed() {
        let a = krate(&[
            ("Cargo.toml.orig", "m"),
            ("src/lib.rs", "new"),
            ("src/extra.rs", ""),
        ]);
        let b = krate(&[
            ("Cargo.toml.orig", "m"),
            ("src/lib.rs", "old"),
            ("README.md", ""),
        ]);
        assert_eq!(
            differences(&a, &b).unwrap(),
            ["README.md", "src/extra.rs", "src/lib.rs"]
        );
    }
}

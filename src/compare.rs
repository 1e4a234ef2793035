//! Compares a local package with the published one of the same version, file by file.
//!
//! Files cargo generates at packaging time are left out: `.cargo_vcs_info.json` (the commit),
//! `Cargo.toml` (normalized; `Cargo.toml.orig`, the manifest as written, is compared instead,
//! and of the generated one only the dependencies' version requirements, which a workspace's
//! `[workspace.dependencies]` changes without touching the member's own manifest) and
//! `Cargo.lock` (resolved against whatever the registry held at that moment, so a later
//! packaging of the very same commit resolves differently).
//!
//! A published package that shares nothing with the local one is another crate under the same
//! name, not an unreleased change: another `repository` (one inside the other is the same
//! place: regex-test 0.1.1 names `…/regex/tree/master/regex-test`, the commit `…/regex`) and
//! not one `.rs` file the same — so a repository that moved, its code kept, is still this
//! crate; or, when the two don't both name a repository, not one file the same.

use std::collections::BTreeMap;
use std::io::Read;

use anyhow::{Context, Result};

/// What the published package is to the one this commit makes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The same files.
    Same,
    /// Plausibly this crate, released from other content: the paths that differ (changed,
    /// or only on one side).
    Differs(Vec<String>),
    /// Another crate under the same name.
    Foreign(Foreign),
}

/// Why the published package is taken for another crate's.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Foreign {
    /// Both name a `repository`, not the same one, and no source file is the same.
    Repository { published: String, local: String },
    /// Not one file (path and content) in common, and no `repository` named by both.
    NoFileInCommon,
}

/// The published package against the local one of the same name and version.
pub(crate) fn judge(local: &[u8], published: &[u8]) -> Result<Verdict> {
    let local = read_crate(local).context("cannot read the local package")?;
    let published = read_crate(published).context("cannot read the published package")?;
    let repositories = (repository(&local), repository(&published));
    let requirements = changed_requirements(&local, &published);
    let (local, published) = (from_commit(local), from_commit(published));
    let differs: Vec<String> = local
        .keys()
        .chain(published.keys())
        .filter(|p| local.get(*p) != published.get(*p))
        .collect::<std::collections::BTreeSet<&String>>()
        .into_iter()
        .cloned()
        .chain(requirements)
        .collect();
    if differs.is_empty() {
        return Ok(Verdict::Same);
    }
    let shared = |source_only: bool| {
        local.iter().any(|(path, content)| {
            (!source_only
                || std::path::Path::new(path)
                    .extension()
                    .is_some_and(|e| e == "rs"))
                && published.get(path) == Some(content)
        })
    };
    Ok(match repositories {
        (Some(ours), Some(theirs)) if same_place(&ours, &theirs) => Verdict::Differs(differs),
        (Some(local), Some(published)) if !shared(true) => {
            Verdict::Foreign(Foreign::Repository { published, local })
        }
        (Some(_), Some(_)) => Verdict::Differs(differs),
        _ if !shared(false) => Verdict::Foreign(Foreign::NoFileInCommon),
        _ => Verdict::Differs(differs),
    })
}

/// The requirements (normal and build dependencies, a target's too) whose version differs
/// between the two generated `Cargo.toml`s: one inherited from the workspace
/// (`dep.workspace = true`) changes there and not in `Cargo.toml.orig`. Only versions, on
/// dependencies both name: the rest of that file is cargo's own wording, which changes
/// between cargo versions.
fn changed_requirements(
    local: &BTreeMap<String, Vec<u8>>,
    published: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    let (Some(here), Some(there)) = (requirements(local), requirements(published)) else {
        return Vec::new();
    };
    here.iter()
        .filter_map(|(dep, version)| {
            let old = there.get(dep).filter(|old| *old != version)?;
            Some(format!(
                "the requirement on {dep} in Cargo.toml (published {old}, here {version})"
            ))
        })
        .collect()
}

/// `` `name` `` (or `` `name` (target) ``) → its version requirement, from a package's
/// generated `Cargo.toml`.
fn requirements(files: &BTreeMap<String, Vec<u8>>) -> Option<BTreeMap<String, String>> {
    let manifest: toml::Table =
        toml::from_str(std::str::from_utf8(files.get("Cargo.toml")?).ok()?).ok()?;
    let mut found = BTreeMap::new();
    let mut read = |table: Option<&toml::Value>, target: Option<&str>| {
        for (name, dep) in table.and_then(toml::Value::as_table).into_iter().flatten() {
            let version = dep
                .as_str()
                .or_else(|| dep.get("version").and_then(toml::Value::as_str));
            if let Some(version) = version {
                let key = match target {
                    Some(target) => format!("`{name}` ({target})"),
                    None => format!("`{name}`"),
                };
                found.insert(key, version.to_owned());
            }
        }
    };
    for section in ["dependencies", "build-dependencies"] {
        read(manifest.get(section), None);
        let targets = manifest.get("target").and_then(toml::Value::as_table);
        for (target, tables) in targets.into_iter().flatten() {
            read(tables.get(section), Some(target));
        }
    }
    Some(found)
}

/// `package.repository` of a package's normalized `Cargo.toml`, when it names one.
fn repository(files: &BTreeMap<String, Vec<u8>>) -> Option<String> {
    let manifest: toml::Table =
        toml::from_str(std::str::from_utf8(files.get("Cargo.toml")?).ok()?).ok()?;
    let url = manifest.get("package")?.get("repository")?.as_str()?.trim();
    (!url.is_empty()).then(|| url.to_owned())
}

/// Two repository URLs name the same place: scheme, case, a trailing `/` or `.git` aside,
/// or one is a path inside the other (a browser link to a member's directory).
fn same_place(a: &str, b: &str) -> bool {
    let bare = |url: &str| {
        let url = url.to_ascii_lowercase();
        let url = url
            .split_once("://")
            .map_or(url.as_str(), |(_, rest)| rest)
            .to_owned();
        let url = url.trim_end_matches('/');
        format!("{}/", url.strip_suffix(".git").unwrap_or(url))
    };
    let (a, b) = (bare(a), bare(b));
    a.starts_with(&b) || b.starts_with(&a)
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
fn from_commit(mut files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    files.retain(|path, _| {
        ![".cargo_vcs_info.json", "Cargo.toml", "Cargo.lock"].contains(&path.as_str())
    });
    files
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

    fn manifest(repository: &str) -> String {
        format!("[package]\nname = \"foo\"\nrepository = \"{repository}\"\n")
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
        assert_eq!(judge(&a, &b).unwrap(), Verdict::Same);
    }

    #[test]
    fn a_requirement_inherited_from_the_workspace_that_changed_is_a_difference() {
        // `base.workspace = true` in both `Cargo.toml.orig`s; the workspace's requirement on
        // base moved from 1.0.0 to 1.1.0, which only the generated `Cargo.toml` shows.
        let generated = |base: &str, cfg: &str| {
            format!(
                "[package]\nname = \"plugin\"\n[dependencies.base]\nversion = \"{base}\"\n\
                 [dependencies]\nserde = \"1\"\n[target.'cfg(unix)'.dependencies]\n\
                 libc = \"{cfg}\"\n[dev-dependencies]\nbase = \"9\"\n"
            )
        };
        let orig = ("Cargo.toml.orig", "base.workspace = true");
        let here = generated("1.1.0", "0.2");
        let there = generated("1.0.0", "0.2");
        let a = krate(&[("Cargo.toml", &here), orig, ("src/lib.rs", "x")]);
        let b = krate(&[("Cargo.toml", &there), orig, ("src/lib.rs", "x")]);
        assert_eq!(
            judge(&a, &b).unwrap(),
            Verdict::Differs(vec![
                "the requirement on `base` in Cargo.toml (published 1.0.0, here 1.1.0)".into()
            ])
        );
        // With a file changed too, and a target's dependency.
        let here = generated("1.0.0", "0.3");
        let a = krate(&[("Cargo.toml", &here), orig, ("src/lib.rs", "y")]);
        assert_eq!(
            judge(&a, &b).unwrap(),
            Verdict::Differs(vec![
                "src/lib.rs".into(),
                "the requirement on `libc` (cfg(unix)) in Cargo.toml (published 0.2, here 0.3)"
                    .into()
            ])
        );
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
            judge(&a, &b).unwrap(),
            Verdict::Differs(vec![
                "README.md".into(),
                "src/extra.rs".into(),
                "src/lib.rs".into()
            ])
        );
    }

    #[test]
    fn another_repository_is_another_crate() {
        let ours = manifest("https://github.com/me/foo");
        let theirs = manifest("https://gitlab.com/someone/foo");
        let a = krate(&[
            ("Cargo.toml", &ours),
            ("LICENSE-MIT", "the same text"),
            ("src/lib.rs", "x"),
        ]);
        let b = krate(&[
            ("Cargo.toml", &theirs),
            ("LICENSE-MIT", "the same text"),
            ("src/lib.rs", "y"),
        ]);
        assert_eq!(
            judge(&a, &b).unwrap(),
            Verdict::Foreign(Foreign::Repository {
                published: "https://gitlab.com/someone/foo".into(),
                local: "https://github.com/me/foo".into()
            })
        );
        // A repository that moved, the code kept: still this crate.
        let a = krate(&[
            ("Cargo.toml", &ours),
            ("src/lib.rs", "y"),
            ("src/new.rs", ""),
        ]);
        assert_eq!(
            judge(&a, &b).unwrap(),
            Verdict::Differs(vec!["LICENSE-MIT".into(), "src/new.rs".into()])
        );
    }

    #[test]
    fn a_repository_link_into_a_members_directory_is_the_same_place() {
        // regex-test 0.1.1 on crates.io, and the regex repository at tag 1.13.1.
        assert!(same_place(
            "https://github.com/rust-lang/regex/tree/master/regex-test",
            "https://github.com/rust-lang/regex"
        ));
        assert!(same_place(
            "https://github.com/rust-lang/regex.git",
            "HTTP://github.com/rust-lang/regex/"
        ));
        assert!(!same_place(
            "https://github.com/rust-lang/regex",
            "https://github.com/rust-lang/regex-automata"
        ));
    }

    #[test]
    fn no_file_in_common_is_another_crate_unless_the_repository_is_the_same() {
        // `cargo new foo` against someone else's foo: nothing alike, no repository of ours.
        let theirs = manifest("https://github.com/someone/foo");
        let a = krate(&[("Cargo.toml.orig", "mine"), ("src/lib.rs", "fn a() {}")]);
        let b = krate(&[
            ("Cargo.toml", &theirs),
            ("Cargo.toml.orig", "theirs"),
            ("src/lib.rs", "fn b() {}"),
        ]);
        assert_eq!(
            judge(&a, &b).unwrap(),
            Verdict::Foreign(Foreign::NoFileInCommon)
        );
        // The same repository (spelled another way): a rewrite of one's own crate.
        let ours = manifest("http://GitHub.com/someone/foo.git/");
        let a = krate(&[
            ("Cargo.toml", &ours),
            ("Cargo.toml.orig", "mine"),
            ("src/lib.rs", "fn a() {}"),
        ]);
        assert_eq!(
            judge(&a, &b).unwrap(),
            Verdict::Differs(vec!["Cargo.toml.orig".into(), "src/lib.rs".into()])
        );
    }
}

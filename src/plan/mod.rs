//! What to publish, and in which order: cargo's own view of the workspace (`cargo metadata`),
//! the member selection, the target registry's `publish` rules, and the tag check.
//!
//! Decides only; never runs cargo publish and never talks to a registry.
//!
//! Its parts: this file (the workspace read and the selection, `Plan`), `order.rs` (dependency
//! order, dev-dependency cycles), `tags.rs` (the plan held to a tag build's tags, the
//! first-release line).

mod order;
mod tags;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::Env;
use crate::cmd;
use crate::config::Selection;
use crate::error::UsageError;

pub(crate) use order::DevEdge;
use order::order;
pub(crate) use tags::{check_tags, first_release_line, may_name_a_crate};

/// A crate of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Package {
    pub name: String,
    pub version: String,
    /// The package's directory in the tree.
    pub dir: PathBuf,
}

impl Package {
    pub(crate) fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Why a member with `publish = false` is left out (cargo's `--workspace` leaves it out too).
pub(crate) const PUBLISH_FALSE: &str = "publish = false";

/// `CARGO_TARGET_DIR`, relative to the checkout: cargo's own variable wins over any config.
fn target_dir_from_env(user_root: &Path, env: &Env) -> Option<PathBuf> {
    env.get("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(|dir| user_root.join(dir))
}

/// The user's target dir as [`plan`] will find it for a workspace at the root of `tree`,
/// known before `cargo metadata` runs: `CARGO_TARGET_DIR` (relative to the checkout), or the
/// checkout's `target` — `None` when cargo's config may say otherwise
/// (`CARGO_BUILD_TARGET_DIR`, or `target-dir` in the tree's or `CARGO_HOME`'s config).
pub(crate) fn target_dir_before_metadata(
    user_root: &Path,
    tree: &Path,
    env: &Env,
) -> Option<PathBuf> {
    let set = |name: &str| env.get(name).filter(|d| !d.is_empty());
    if let Some(dir) = target_dir_from_env(user_root, env) {
        return Some(dir);
    }
    let cargo_home = set("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|home| Path::new(home).join(".cargo")))?;
    let configured = [tree.join(".cargo"), cargo_home].iter().any(|dir| {
        ["config.toml", "config"].iter().any(|name| {
            std::fs::read_to_string(dir.join(name)).is_ok_and(|text| text.contains("target-dir"))
        })
    });
    (set("CARGO_BUILD_TARGET_DIR").is_none() && !configured).then(|| user_root.join("target"))
}

/// The crates to publish in dependency order, those left out and why, and where cargo runs.
#[derive(Debug)]
pub(crate) struct Plan {
    pub publish: Vec<Package>,
    pub skipped: Vec<(Package, String)>,
    /// The members are the whole workspace's (not one package below its root).
    pub whole_workspace: bool,
    /// Dev-dependency edges `(crate, its dev-dependency)` left out of the order because they
    /// close a cycle; cargo's own multi-package packaging can't order these.
    pub dev_cycles: Vec<DevEdge>,
    /// The dir in the tree where cargo runs.
    pub dir: PathBuf,
    /// The user's target dir, so the verify build is warm.
    pub target_dir: PathBuf,
    /// Files the manifests point at (readme, license file), which may lie outside the crates'
    /// directories.
    pub referenced: Vec<PathBuf>,
    /// The crates the build's tags name (`1.2.3` → the crates at 1.2.3, `foo-1.2.3` and
    /// `foo-v1.2.3` → foo): these must never be published already with other content. Set
    /// by [`check_tags`].
    pub tagged: Vec<String>,
    /// Every member of the workspace by name, in the plan or not: the names a tag may use.
    pub workspace: Vec<String>,
}

/// Read the packages under `selection.path` in `tree` and order them.
pub(crate) fn plan(
    cargo: &Path,
    tree: &Path,
    user_root: &Path,
    selection: Selection<'_>,
    env: &Env,
) -> Result<Plan> {
    let dir = tree.join(selection.path);
    let (metadata, manifest) = read_metadata(cargo, tree, &dir, &selection, env)?;
    let (members, whole_workspace) = members(&metadata, &manifest, &selection)?;
    let (chosen, skipped) = select(&members, &selection);
    let (publish, dev_cycles) = order(&chosen)?;
    Ok(Plan {
        publish,
        skipped,
        whole_workspace,
        dev_cycles,
        dir,
        target_dir: target_dir(&metadata, tree, user_root, env),
        referenced: referenced(&metadata),
        tagged: Vec::new(),
        workspace: metadata
            .workspace_packages()
            .iter()
            .map(|p| p.name.to_string())
            .collect(),
    })
}

/// `cargo metadata` of the manifest in `dir` (which must be in the commit, and inside the
/// repository), with that manifest's canonical path.
fn read_metadata(
    cargo: &Path,
    tree: &Path,
    dir: &Path,
    selection: &Selection<'_>,
    env: &Env,
) -> Result<(cargo_metadata::Metadata, PathBuf)> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(UsageError(format!(
            "no `Cargo.toml` at `{}` in the commit; set `path` to the crate's directory",
            selection.path.join("Cargo.toml").display()
        ))
        .into());
    }
    // The config refuses `..` and absolute paths; a symlink in the working tree (with
    // `allow_dirty`) could still lead out.
    if !fs_err::canonicalize(dir)?.starts_with(fs_err::canonicalize(tree)?) {
        return Err(UsageError(format!(
            "`path` (`{}`) leads outside the repository through a symlink; set `path` to the \
             crate's real directory inside the repository",
            selection.path.display()
        ))
        .into());
    }
    let mut command = cmd::command(cargo, dir, env);
    command
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(&manifest);
    let json = cmd::capture(command).context("could not read the crate's metadata")?;
    let metadata = cargo_metadata::MetadataCommand::parse(json)
        .context("cargo metadata gave unexpected output")?;
    Ok((metadata, fs_err::canonicalize(&manifest)?))
}

/// The members `path` names, and whether they are the whole workspace's: `path` naming the
/// workspace root (virtual or itself a package) means every member; `path` naming a member's
/// directory means that member (`packages` / `exclude` widen it to the workspace again).
/// Every name in `packages` / `exclude` must be one of them.
fn members<'m>(
    metadata: &'m cargo_metadata::Metadata,
    manifest: &Path,
    selection: &Selection<'_>,
) -> Result<(Vec<&'m cargo_metadata::Package>, bool)> {
    // (`root_package()` needs the resolve graph, which `--no-deps` leaves out, so match the
    // manifest path.)
    let at_root = fs_err::canonicalize(&metadata.workspace_root)
        .is_ok_and(|root| manifest.parent() == Some(root.as_path()));
    let own = metadata
        .packages
        .iter()
        .find(|p| fs_err::canonicalize(&p.manifest_path).is_ok_and(|m| m == manifest));
    let (members, whole_workspace) = match own {
        Some(package)
            if !at_root && selection.packages.is_empty() && selection.exclude.is_empty() =>
        {
            (vec![package], false)
        }
        _ => (metadata.workspace_packages(), true),
    };
    let names: BTreeSet<&str> = members.iter().map(|p| p.name.as_str()).collect();
    for wanted in selection.packages.iter().chain(selection.exclude) {
        if !names.contains(wanted.as_str()) {
            return Err(UsageError(format!(
                "`{wanted}` (in `packages` or `exclude`) is not a member of the workspace; members: {}",
                names.iter().copied().collect::<Vec<_>>().join(", ")
            ))
            .into());
        }
    }
    Ok((members, whole_workspace))
}

/// The members that may go to the target registry, and the others with why not: not in
/// `packages`, in `exclude`, `publish = false`, or a `publish` list without the registry.
fn select<'m>(
    members: &[&'m cargo_metadata::Package],
    selection: &Selection<'_>,
) -> (Vec<&'m cargo_metadata::Package>, Vec<(Package, String)>) {
    let registry = selection.target.cargo_name().unwrap_or("crates-io");
    let mut chosen = Vec::new();
    let mut skipped = Vec::new();
    for package in members {
        let entry = to_package(package);
        let selected = (selection.packages.is_empty() || selection.packages.contains(&entry.name))
            && !selection.exclude.contains(&entry.name);
        match &package.publish {
            _ if !selected => skipped.push((entry, "not selected".to_owned())),
            Some(allowed) if allowed.is_empty() => {
                skipped.push((entry, PUBLISH_FALSE.to_owned()));
            }
            Some(allowed) if !allowed.iter().any(|r| r == registry) => skipped.push((
                entry,
                format!(
                    "its `publish` list ({}) does not include `{registry}`",
                    allowed.join(", ")
                ),
            )),
            _ => chosen.push(*package),
        }
    }
    (chosen, skipped)
}

/// The user's target dir: `CARGO_TARGET_DIR`, else cargo's, moved from the copy to the
/// checkout when it lies inside the copy.
fn target_dir(
    metadata: &cargo_metadata::Metadata,
    tree: &Path,
    user_root: &Path,
    env: &Env,
) -> PathBuf {
    let target = metadata.target_directory.clone().into_std_path_buf();
    target_dir_from_env(user_root, env).unwrap_or_else(|| match target.strip_prefix(tree) {
        Ok(inside) => user_root.join(inside),
        Err(_) => target,
    })
}

/// The files the workspace's manifests point at (readme, license file).
fn referenced(metadata: &cargo_metadata::Metadata) -> Vec<PathBuf> {
    metadata
        .workspace_packages()
        .iter()
        .flat_map(|p| {
            let dir = p
                .manifest_path
                .parent()
                .map(|d| d.as_std_path().to_path_buf())
                .unwrap_or_default();
            [p.readme.as_ref(), p.license_file.as_ref()]
                .into_iter()
                .flatten()
                .map(move |f| dir.join(f.as_std_path()))
        })
        .collect()
}

fn to_package(package: &cargo_metadata::Package) -> Package {
    Package {
        name: package.name.to_string(),
        version: package.version.to_string(),
        dir: package
            .manifest_path
            .parent()
            .map(|p| p.as_std_path().to_path_buf())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::order::find_cycle;
    use super::tags::{crate_tag, version_tag};
    use super::*;

    fn package(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            dir: PathBuf::new(),
        }
    }

    fn plan_of(crates: &[(&str, &str)]) -> Plan {
        Plan {
            publish: crates.iter().map(|(n, v)| package(n, v)).collect(),
            skipped: vec![],
            whole_workspace: true,
            dev_cycles: vec![],
            referenced: vec![],
            tagged: vec![],
            workspace: crates.iter().map(|(n, _)| (*n).to_owned()).collect(),
            dir: PathBuf::new(),
            target_dir: PathBuf::new(),
        }
    }

    #[test]
    fn version_tags() {
        assert_eq!(version_tag("v1.2.3"), Some("1.2.3"));
        assert_eq!(version_tag("1.2.3-rc.1"), Some("1.2.3-rc.1"));
        assert_eq!(version_tag("release"), None);
        assert_eq!(version_tag("v1.2"), None);
        assert_eq!(version_tag("v1.2.3+build.5"), Some("1.2.3+build.5"));
        assert_eq!(
            version_tag("v01.2.3"),
            None,
            "not a version cargo would take"
        );
        assert_eq!(version_tag("v1.2.3-"), None);
    }

    #[test]
    fn a_version_tag_must_match_some_crate() {
        let mut plan = plan_of(&[("serde", "1.0.228"), ("serde_derive_internals", "0.29.1")]);
        check_tags(&mut plan, &["v1.0.228".into()], true).unwrap();
        assert_eq!(plan.publish.len(), 2);
        assert_eq!(plan.tagged, ["serde"]);
        let err = check_tags(&mut plan, &["v1.0.229".into()], true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("v1.0.229") && err.contains("serde@1.0.228"),
            "{err}"
        );
        check_tags(&mut plan, &["nightly".into()], true).unwrap();
    }

    #[test]
    fn a_crate_tag_publishes_only_that_crate() {
        let mut plan = plan_of(&[("core-x", "0.2.0"), ("cli", "1.0.0")]);
        check_tags(&mut plan, &["core-x-v0.2.0".into()], true).unwrap();
        assert_eq!(plan.publish, [package("core-x", "0.2.0")]);
        assert_eq!(plan.tagged, ["core-x"]);
        let mut plan = plan_of(&[("cli", "1.0.0")]);
        let err = check_tags(&mut plan, &["cli-v1.0.1".into()], true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cli 1.0.1") && err.contains("1.0.0"), "{err}");
    }

    #[test]
    fn a_tag_names_a_member_in_both_spellings_the_longest_name_winning() {
        let members: Vec<String> = ["tokio", "tokio-util", "foo", "foo-vendor"]
            .map(str::to_owned)
            .into();
        let named = |tag: &'static str| crate_tag(tag, &members);
        assert_eq!(named("tokio-1.48.0"), Some(("tokio".into(), "1.48.0")));
        assert_eq!(named("tokio-v1.48.0"), Some(("tokio".into(), "1.48.0")));
        assert_eq!(
            named("tokio-util-0.7.19"),
            Some(("tokio-util".into(), "0.7.19"))
        );
        assert_eq!(
            named("tokio-util-v0.7.19"),
            Some(("tokio-util".into(), "0.7.19"))
        );
        // `foo-v` is a prefix of `foo-vendor-v…`: the longer member is the one named.
        assert_eq!(
            named("foo-vendor-v1.0.0"),
            Some(("foo-vendor".into(), "1.0.0"))
        );
        assert_eq!(named("foo-2.0.0-rc.1"), Some(("foo".into(), "2.0.0-rc.1")));
        assert_eq!(
            named("foo-v2.0.0-alpha.1+build.7"),
            Some(("foo".into(), "2.0.0-alpha.1+build.7"))
        );
        for fits_none in [
            "v1.2.3",
            "1.2.3",
            "tokio",
            "tokio-1.48",
            "tokio-util",
            "tokio-stream-0.1.0",
            "tokio_1.0.0",
            "xtokio-1.0.0",
            "tokio--1.0.0",
        ] {
            assert_eq!(named(fits_none), None, "{fits_none}");
        }
    }

    #[test]
    fn a_tag_that_may_name_a_crate_is_told_before_the_members_are_known() {
        for tag in [
            "tokio-1.48.0",
            "tokio-util-v0.7.19",
            "foo-2.0.0-rc.1",
            "release-1.0.0",
        ] {
            assert!(may_name_a_crate(tag), "{tag}");
        }
        for tag in [
            "v1.2.3",
            "1.2.3",
            "1.2.3-rc.1",
            "nightly",
            "tokio-1.48",
            "-1.0.0",
        ] {
            assert!(!may_name_a_crate(tag), "{tag}");
        }
    }

    #[test]
    fn a_dash_version_tag_publishes_only_that_crate_at_that_version() {
        let mut plan = plan_of(&[
            ("tokio", "1.48.0"),
            ("tokio-util", "0.7.19"),
            ("tokio-macros", "2.6.0"),
        ]);
        check_tags(&mut plan, &["tokio-util-0.7.19".into()], true).unwrap();
        assert_eq!(plan.publish, [package("tokio-util", "0.7.19")]);
        assert_eq!(plan.tagged, ["tokio-util"]);
        assert_eq!(plan.skipped.len(), 2);
        assert!(
            plan.skipped
                .iter()
                .all(|(_, why)| why == "tag `tokio-util-0.7.19` names another crate")
        );

        let mut plan = plan_of(&[("tokio", "1.48.0"), ("tokio-util", "0.7.19")]);
        let err = check_tags(&mut plan, &["tokio-util-0.7.20".into()], true)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "tag `tokio-util-0.7.20` asks for tokio-util 0.7.20, but its Cargo.toml says 0.7.19: \
             bump the version (or move the tag) before publishing"
        );
        let mut plan = plan_of(&[("tokio", "1.48.0-rc.1")]);
        check_tags(&mut plan, &["tokio-1.48.0-rc.1".into()], true).unwrap();
        assert_eq!(plan.tagged, ["tokio"]);
        let mut plan = plan_of(&[("tokio", "1.48.0")]);
        assert!(check_tags(&mut plan, &["tokio-1.48.0-rc.1".into()], true).is_err());
    }

    #[test]
    fn without_the_tag_checks_a_crate_tag_still_publishes_only_that_crate() {
        let tokio = || {
            plan_of(&[
                ("tokio", "1.48.0"),
                ("tokio-util", "0.7.19"),
                ("tokio-macros", "2.6.0"),
            ])
        };
        // The tag's version is not the crate's: no check, but still tokio-util alone.
        let mut plan = tokio();
        check_tags(&mut plan, &["tokio-util-0.7.20".into()], false).unwrap();
        assert_eq!(plan.publish, [package("tokio-util", "0.7.19")]);
        assert!(plan.tagged.is_empty(), "no tag check: {:?}", plan.tagged);
        assert_eq!(plan.skipped.len(), 2);
        // A version tag naming no crate is not checked, and narrows nothing.
        let mut plan = tokio();
        check_tags(&mut plan, &["v9.9.9".into()], false).unwrap();
        assert_eq!(plan.publish.len(), 3);
        assert!(plan.tagged.is_empty());
    }

    #[test]
    fn two_crate_tags_on_one_commit_publish_both_and_a_version_tag_beside_them_is_ignored() {
        let mut plan = plan_of(&[("a", "1.0.0"), ("b", "2.0.0"), ("c", "3.0.0")]);
        check_tags(
            &mut plan,
            &["v9.9.9".into(), "a-1.0.0".into(), "b-v2.0.0".into()],
            true,
        )
        .unwrap();
        assert_eq!(plan.publish, [package("a", "1.0.0"), package("b", "2.0.0")]);
        assert_eq!(
            plan.skipped,
            [(
                package("c", "3.0.0"),
                "the tags (`a-1.0.0`, `b-v2.0.0`) name other crates".to_owned()
            )]
        );
    }

    #[test]
    fn a_tag_naming_a_member_left_out_of_the_plan_publishes_nothing() {
        // `cli` is a member with `publish = false` (released as binaries, cargo-dist style):
        // its tag is not a release of the library.
        let mut plan = plan_of(&[("lib", "1.0.0")]);
        plan.workspace.push("cli".into());
        check_tags(&mut plan, &["cli-v1.0.0".into()], true).unwrap();
        assert!(plan.publish.is_empty());
        assert!(plan.tagged.is_empty());
        assert_eq!(
            plan.skipped,
            [(
                package("lib", "1.0.0"),
                "tag `cli-v1.0.0` names another crate".to_owned()
            )]
        );
    }

    #[test]
    fn a_first_release_says_the_name_is_taken_and_how_to_name_it_in_a_tag() {
        let plan = plan_of(&[("tokio", "1.0.0"), ("tokio-macros", "2.0.0-rc.1")]);
        let macros = package("tokio-macros", "2.0.0-rc.1");
        let taken = "first release of `tokio-macros`: the name is taken for good once uploaded";
        assert_eq!(first_release_line(&plan, &macros, &[]), taken);
        assert_eq!(
            first_release_line(&plan, &macros, &["tokio-macros-2.0.0-rc.1".into()]),
            taken
        );
        assert_eq!(
            first_release_line(&plan, &macros, &["tokio-v1.0.0".into()]),
            taken
        );
        for tag in ["v1.0.0", "release-1"] {
            assert_eq!(
                first_release_line(&plan, &macros, &[tag.into()]),
                format!(
                    "{taken}. No tag of this build names a crate, so the plan is every selected \
                     member of the workspace: to release `tokio-macros` alone, tag \
                     `tokio-macros-2.0.0-rc.1` (or `tokio-macros-v2.0.0-rc.1`); to leave it out, \
                     add it to `exclude` or set `publish = false` in its Cargo.toml"
                )
            );
        }
        // One crate, no workspace to narrow: nothing more to say.
        let single = plan_of(&[("anyhow", "1.0.0")]);
        assert_eq!(
            first_release_line(&single, &package("anyhow", "1.0.0"), &["1.0.0".into()]),
            "first release of `anyhow`: the name is taken for good once uploaded"
        );
    }

    #[test]
    fn cycles_are_found_and_named_in_order() {
        let before = vec![
            BTreeSet::from([1]),
            BTreeSet::from([2]),
            BTreeSet::from([0]),
        ];
        let cycle = find_cycle(&before).unwrap();
        assert_eq!(cycle.len(), 4);
        assert_eq!(cycle.first(), cycle.last());
        assert!(find_cycle(&[BTreeSet::from([1]), BTreeSet::new()]).is_none());
    }
}

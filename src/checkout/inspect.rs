//! Which commit, and what of it the copy holds: read in-process with libgit2, every symlink
//! checked, the bytes it takes measured.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::lfs::Lfs;
use super::submodule_missing;
use crate::error::UsageError;

/// What the copy of `commit` holds, read in-process with libgit2: where the objects
/// live, the commit's tree, which directories to write, every symlink checked, and how
/// many bytes that is.
pub(super) fn inspect(
    source: &Path,
    commit: &str,
    shown: &Path,
    crate_dir: Option<&str>,
    measure: bool,
) -> Result<Inspected> {
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
    let tree = found.tree()?;
    let contents = Contents::of(&repo, &tree)?;
    if let Some(dir) = crate_dir
        && resolve(&contents.symlinks, "", dir).is_none()
    {
        return Err(UsageError(format!(
            "`path` (`{dir}`) leads outside the repository through a symlink in the commit; \
             set `path` to the crate's real directory inside the repository"
        ))
        .into());
    }
    // What the copy holds (`None`: everything), every symlink in it checked, and the
    // in-repository targets of those links brought along.
    let top = shown.as_os_str().is_empty();
    let (whole, extra) = contents.copied(&tree, top)?;
    let bytes = if measure {
        bytes_written(&repo, &tree, whole.as_deref())?
    } else {
        0
    };
    let lfs = Lfs::of(&repo, &contents.attributes, || {
        files_in(&repo, &tree, whole.as_deref())
    })?;
    Ok(Inspected {
        source: source.to_path_buf(),
        shown: shown.to_path_buf(),
        common: repo.commondir().to_path_buf(),
        commit: found.id().to_string(),
        whole,
        extra,
        links: contents.links,
        bytes,
        lfs,
    })
}

/// A copy to write, as [`inspect`] read it.
pub(super) struct Inspected {
    pub(super) source: PathBuf,
    pub(super) shown: PathBuf,
    /// The source's git dir holding its objects (the copy borrows them as alternates).
    pub(super) common: PathBuf,
    pub(super) commit: String,
    /// Directories written whole (a cone-mode sparse copy), `None` for everything.
    pub(super) whole: Option<Vec<String>>,
    /// Files outside those that symlinks in the copy point at.
    pub(super) extra: Vec<String>,
    /// `(path, commit)` of each submodule.
    pub(super) links: Vec<(String, String)>,
    /// Roughly what the copy takes (each file rounded up to a 4 KiB block, and a margin):
    /// blob sizes are read from object headers, not the objects. 0 when not measured.
    pub(super) bytes: u64,
    /// Its Git LFS files, if `.gitattributes` names them.
    pub(super) lfs: Option<Lfs>,
}

/// Roughly what writing `tree`'s files (those in the cone of `whole`, or all) takes on disk.
fn bytes_written(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
    whole: Option<&[String]>,
) -> Result<u64> {
    const BLOCK: u64 = 4096;
    let odb = repo.odb()?;
    let mut bytes = 0u64;
    walk(repo, tree, "", true, &mut |dir, _, entry| {
        let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
        match entry.kind() {
            // A directory outside the cone holds nothing that is written.
            Some(git2::ObjectType::Tree) => {
                if whole.is_some_and(|dirs| !in_cone(&format!("{path}/x"), dirs)) {
                    return Ok(false);
                }
                bytes += BLOCK;
                return Ok(true);
            }
            Some(git2::ObjectType::Blob) if whole.is_none_or(|dirs| in_cone(&path, dirs)) => {}
            _ => return Ok(false),
        }
        let (size, _) = odb.read_header(entry.id())?;
        bytes += (size as u64).div_ceil(BLOCK).max(1) * BLOCK;
        Ok(false)
    })?;
    // The copy's git index (an entry for every path, sparse or not), the files symlinks and
    // manifests bring along, cargo's lockfile: a margin.
    const MARGIN: u64 = 4 << 20;
    Ok(bytes + MARGIN)
}

/// The files (path and blob) of `tree` in the cone of `whole` (or all).
fn files_in(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
    whole: Option<&[String]>,
) -> Result<Vec<(String, git2::Oid)>> {
    let mut files = Vec::new();
    walk(repo, tree, "", true, &mut |dir, _, entry| {
        let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                Ok(whole.is_none_or(|dirs| in_cone(&format!("{path}/x"), dirs)))
            }
            Some(git2::ObjectType::Blob)
                if entry.filemode() != 0o120_000 && whole.is_none_or(|d| in_cone(&path, d)) =>
            {
                files.push((path, entry.id()));
                Ok(false)
            }
            _ => Ok(false),
        }
    })?;
    Ok(files)
}

/// Every entry below `tree`, depth first, each before what it holds: `visit(dir, exact,
/// entry)` gets the entry's directory (`a/b/`; a name that is not UTF-8 read lossily, and
/// `exact` false below it — libgit2's own walk stops at such a name with an error) and says
/// whether to go into the entry when it is a directory.
fn walk(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
    dir: &str,
    exact: bool,
    visit: &mut dyn FnMut(&str, bool, &git2::TreeEntry<'_>) -> Result<bool>,
) -> Result<()> {
    for entry in tree {
        if visit(dir, exact, &entry)? && entry.kind() == Some(git2::ObjectType::Tree) {
            let name = entry.name_bytes();
            let below = format!("{dir}{}/", String::from_utf8_lossy(name));
            let exact = exact && std::str::from_utf8(name).is_ok();
            walk(repo, &repo.find_tree(entry.id())?, &below, exact, visit)?;
        }
    }
    Ok(())
}

/// What a commit's tree holds that the copy cares about.
struct Contents {
    /// Whether the root `Cargo.toml` has a `[package]` (its files could be anywhere).
    root_is_package: bool,
    /// A `Cargo.toml` below a directory whose name is not UTF-8: a sparse copy's patterns
    /// can't name it, so everything is copied.
    unspellable: bool,
    /// Directories (below the root) holding a `Cargo.toml`.
    manifest_dirs: Vec<String>,
    /// `(path, commit)` of each submodule.
    links: Vec<(String, String)>,
    /// Each committed symlink's path and target.
    symlinks: BTreeMap<String, String>,
    /// Each `.gitattributes` file's blob.
    attributes: Vec<git2::Oid>,
}

impl Contents {
    fn of(repo: &git2::Repository, tree: &git2::Tree<'_>) -> Result<Contents> {
        let mut contents = Contents {
            root_is_package: false,
            unspellable: false,
            manifest_dirs: Vec::new(),
            links: Vec::new(),
            symlinks: BTreeMap::new(),
            attributes: Vec::new(),
        };
        let mut root_manifest = None;
        let mut symlinks = Vec::new();
        walk(repo, tree, "", true, &mut |dir, exact, entry| {
            let name = String::from_utf8_lossy(entry.name_bytes());
            if entry.filemode() == 0o160_000 {
                contents
                    .links
                    .push((format!("{dir}{name}"), entry.id().to_string()));
            } else if entry.filemode() == 0o120_000 {
                symlinks.push((format!("{dir}{name}"), entry.id()));
            } else if name == ".gitattributes" && entry.kind() == Some(git2::ObjectType::Blob) {
                contents.attributes.push(entry.id());
            } else if name == "Cargo.toml" && entry.kind() == Some(git2::ObjectType::Blob) {
                contents.unspellable |= !exact;
                match dir.strip_suffix('/') {
                    Some(dir) => contents.manifest_dirs.push(dir.to_owned()),
                    None => root_manifest = Some(entry.id()),
                }
            }
            Ok(true)
        })?;
        for (path, id) in symlinks {
            let target = String::from_utf8_lossy(repo.find_blob(id)?.content()).into_owned();
            contents.symlinks.insert(path, target);
        }
        if let Some(id) = root_manifest {
            let blob = repo.find_blob(id)?;
            contents.root_is_package = std::str::from_utf8(blob.content())
                .ok()
                .and_then(|text| toml::from_str::<toml::Table>(text).ok())
                .is_none_or(|t| t.contains_key("package"));
        }
        Ok(contents)
    }

    /// What the copy holds: for the top repository of a workspace whose crates live in
    /// subdirectories, only what cargo reads — the root's files, `.cargo/`, every directory
    /// holding a `Cargo.toml` (`whole`, for a cone-mode sparse checkout, so the rest of a
    /// large repository costs nothing) — else everything (`None`: a root manifest that is
    /// itself a package could take files from anywhere). Every symlink in the copy must
    /// resolve inside the repository, or this fails naming it: the package is the commit.
    /// Their targets come along (`extra` files, or directories added to `whole`), so an
    /// in-repository link out of the copied directories still resolves in the copy.
    fn copied(
        &self,
        tree: &git2::Tree<'_>,
        top: bool,
    ) -> Result<(Option<Vec<String>>, Vec<String>)> {
        let mut whole: Option<Vec<String>> = (top && !self.root_is_package && !self.unspellable)
            .then(|| {
                let mut dirs = self.manifest_dirs.clone();
                dirs.push(".cargo".to_owned());
                dirs
            });
        let mut extra: BTreeSet<String> = BTreeSet::new();
        let mut checked: BTreeSet<&str> = BTreeSet::new();
        loop {
            let mut grown = false;
            for (link, target) in &self.symlinks {
                if checked.contains(link.as_str())
                    || whole.as_ref().is_some_and(|dirs| !in_cone(link, dirs))
                {
                    continue;
                }
                checked.insert(link);
                let parent = link.rsplit_once('/').map_or("", |(dir, _)| dir);
                let Some((end, via)) = resolve(&self.symlinks, parent, target) else {
                    bail!(
                        "`{link}` is a symlink to `{target}`, outside the repository: cargo would \
                         package whatever that is on this machine, not what the commit holds. \
                         Commit the file itself (or a link to a file inside the repository)"
                    );
                };
                extra.extend(via);
                let Some(dirs) = whole.as_mut() else { continue };
                extra.insert(link.clone());
                match tree.get_path(Path::new(&end)).ok().and_then(|e| e.kind()) {
                    Some(git2::ObjectType::Tree) if !in_cone(&format!("{end}/x"), dirs) => {
                        dirs.push(end);
                        grown = true;
                    }
                    Some(git2::ObjectType::Blob) => {
                        extra.insert(end);
                    }
                    // A dangling link, or one into a submodule: cargo says what it says.
                    _ => {}
                }
            }
            if !grown {
                break;
            }
        }
        Ok((whole, extra.into_iter().collect()))
    }
}

/// Whether the file `path` is in a cone of `whole` directories: at the root, inside one of
/// them, or directly in one of their parents.
fn in_cone(path: &str, whole: &[String]) -> bool {
    let parent = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    parent.is_empty()
        || whole.iter().any(|dir| {
            parent == dir
                || parent
                    .strip_prefix(dir.as_str())
                    .is_some_and(|r| r.starts_with('/'))
                || dir.strip_prefix(parent).is_some_and(|r| r.starts_with('/'))
        })
}

/// Where `target`, read from the directory `from` (both inside the tree), ends up with the
/// tree's `symlinks` followed as the filesystem would, and the links passed on the way.
/// `None` when it leaves the tree: an absolute target, `..` past the root, or a loop.
fn resolve(
    symlinks: &BTreeMap<String, String>,
    from: &str,
    target: &str,
) -> Option<(String, Vec<String>)> {
    let mut at: Vec<String> = from
        .split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let mut pending: VecDeque<String> = VecDeque::new();
    fn push_target(pending: &mut VecDeque<String>, target: &str) -> Option<()> {
        if target.starts_with('/') {
            return None;
        }
        for part in target.split('/').rev() {
            pending.push_front(part.to_owned());
        }
        Some(())
    }
    push_target(&mut pending, target)?;
    let mut via = Vec::new();
    while let Some(part) = pending.pop_front() {
        match part.as_str() {
            "" | "." => {}
            ".." => {
                at.pop()?;
            }
            name => {
                at.push(name.to_owned());
                let here = at.join("/");
                if let Some(next) = symlinks.get(&here) {
                    // As the kernel does (ELOOP), give up on a chain this long.
                    if via.len() >= 40 {
                        return None;
                    }
                    via.push(here);
                    at.pop();
                    push_target(&mut pending, next)?;
                }
            }
        }
    }
    Some((at.join("/"), via))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[test]
    fn links_resolve_as_the_filesystem_would_and_never_past_the_root() {
        let links: BTreeMap<String, String> = [
            ("docs/current", "v1"),
            ("up", "sub/.."),
            ("loop", "loop"),
            ("abs", "/etc"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let resolve = |from, target| super::resolve(&links, from, target);
        assert_eq!(
            resolve("crates/a", "../../docs/current/GUIDE.md"),
            Some((
                "docs/v1/GUIDE.md".to_owned(),
                vec!["docs/current".to_owned()]
            ))
        );
        assert_eq!(resolve("", "up/x").map(|r| r.0), Some("x".to_owned()));
        assert_eq!(resolve("crates", "../.."), None);
        assert_eq!(resolve("", "up/.."), None);
        assert_eq!(resolve("", "abs/passwd"), None);
        assert_eq!(resolve("", "/proc/self/environ"), None);
        assert_eq!(resolve("", "loop/x"), None);
    }

    #[test]
    fn the_cone_holds_root_files_whole_dirs_and_their_parents_files() {
        let whole = ["crates/a".to_owned(), ".cargo".to_owned()];
        for inside in [
            "LICENSE",
            "crates/a/LICENSE",
            "crates/a/src/x",
            "crates/README",
        ] {
            assert!(super::in_cone(inside, &whole), "{inside}");
        }
        for outside in ["crates/b/LICENSE", "docs/x", "crates/ab/x"] {
            assert!(!super::in_cone(outside, &whole), "{outside}");
        }
    }
}

//! The pristine copy: the built commit's tree in a temp dir that is a git repository at that
//! commit, so cargo sees a clean tree and records the real sha.
//!
//! Objects are read from the user's repository through git's alternates, never copied, and
//! nothing is written to the user's checkout. The temp dir goes away on drop and on signals.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::Env;
use crate::cmd;
use crate::error::UsageError;
use crate::signals;

/// A temp dir holding the commit's tree as a clean git checkout. Dropped = removed.
pub(crate) struct PristineTree {
    dir: tempfile::TempDir,
}

impl PristineTree {
    pub(crate) fn root(&self) -> &Path {
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
/// `path` (the crate dir, relative to the root) must lie inside the commit's tree, its
/// symlinks followed. `hooks`: hooks will run (with the copy at hand).
pub(crate) fn create(
    git: &Path,
    repo_root: &Path,
    commit: &str,
    path: &Path,
    env: &Env,
    hooks: bool,
) -> Result<PristineTree> {
    let env = without_location_vars(env);
    let git = Git {
        exe: git,
        env: &env,
    };
    let crate_dir = path.to_string_lossy();
    let room = memory_room(&env, hooks);
    let copy = inspect(
        repo_root,
        commit,
        Path::new(""),
        Some(&crate_dir),
        room.is_some(),
    )?;
    let mut dir = tempfile::Builder::new();
    dir.prefix("shipcrate-");
    // A copy with submodules isn't measured: it goes to the temp dir.
    let fits = room.is_some_and(|room| copy.links.is_empty() && copy.bytes <= room);
    let dir = match fits {
        true => dir.tempdir_in(SHM),
        false => dir.tempdir(),
    }
    .context("could not create a temporary directory for the pristine copy")?;
    signals::track_dir(dir.path());
    let tree = PristineTree { dir };
    git.write(&copy, tree.root())?;
    Ok(tree)
}

/// The same copy into `dest`, an empty directory the caller owns (`shipcrate copy`).
pub(crate) fn create_in(
    git: &Path,
    repo_root: &Path,
    commit: &str,
    path: &Path,
    env: &Env,
    dest: &Path,
) -> Result<()> {
    let env = without_location_vars(env);
    let git = Git {
        exe: git,
        env: &env,
    };
    let crate_dir = path.to_string_lossy();
    git.materialize(repo_root, dest, commit, Path::new(""), Some(&crate_dir))
}

fn without_location_vars(env: &Env) -> Env {
    env.iter()
        .filter(|(k, _)| !GIT_LOCATION_VARS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Where memory can hold the copy: `/dev/shm`, when `TMPDIR` names no place of the user's
/// choosing, no hook will run (a hook may build in the copy, filling memory), it is a tmpfs
/// that lets programs run (a commit's `.cargo/config.toml` may name a linker or a rustc
/// wrapper inside the repository; container runtimes mount it `noexec`), and the copy fits
/// with room to spare: a quarter of what the tmpfs has free, an eighth of the memory
/// available (tmpfs pages count against a job's memory limit), 256 MiB at most. A copy lives
/// for one run and is written and removed in full: on a disk a build has just filled with
/// dirty pages, writing it took up to 10× as long as in memory (BENCHMARKS.md). `None` when
/// memory is out of the question before measuring; else `Some` of the room it has.
fn memory_room(env: &Env, hooks: bool) -> Option<u64> {
    use rustix::fs::{StatVfsMountFlags, statfs, statvfs};
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const MAX: u64 = 256 << 20;
    if hooks || env.get("TMPDIR").is_some_and(|dir| !dir.is_empty()) {
        return None;
    }
    let fs = statfs(SHM).ok()?;
    let vfs = statvfs(SHM).ok()?;
    #[allow(
        clippy::useless_conversion,
        reason = "`f_type`'s type differs between targets"
    )]
    let tmpfs = i64::from(fs.f_type) == TMPFS_MAGIC;
    let usable = tmpfs
        && !vfs.f_flag.contains(StatVfsMountFlags::NOEXEC)
        && rustix::fs::access(
            SHM,
            rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
        )
        .is_ok();
    let free = vfs.f_bavail.saturating_mul(vfs.f_frsize) / 4;
    usable.then(|| free.min(memory_available() / 8).min(MAX))
}

const SHM: &str = "/dev/shm";

/// Memory this process may still take: the system's available memory, or less when its
/// cgroup (v2) caps it.
fn memory_available() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let system = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024);
    let read = |name: &str| {
        std::fs::read_to_string(Path::new("/sys/fs/cgroup").join(name))
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    match (read("memory.max"), read("memory.current")) {
        (Some(max), Some(current)) => system.min(max.saturating_sub(current)),
        _ => system,
    }
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
    /// `shown` is the path inside the top repository, for messages; `crate_dir` (top
    /// repository only) is `path`, which must resolve inside the tree.
    fn materialize(
        &self,
        source: &Path,
        dest: &Path,
        commit: &str,
        shown: &Path,
        crate_dir: Option<&str>,
    ) -> Result<()> {
        let copy = inspect(source, commit, shown, crate_dir, false)?;
        self.write(&copy, dest)
    }

    /// Write `copy` into the empty dir `dest`: git itself writes the files and the index
    /// (`read-tree`), which it does faster than libgit2, in parallel, and with sparse-checkout
    /// support. Then its submodules, each copied the same way.
    fn write(&self, copy: &Inspected, dest: &Path) -> Result<()> {
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
        let commit = copy.commit.as_str();
        self.run(dest, &["read-tree", "--reset", "-u", commit])?;
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
            self.materialize(&sub_source, &dest.join(path), sub_commit, &sub_shown, None)?;
        }
        Ok(())
    }
}

/// What the copy of `commit` holds, read in-process with libgit2: where the objects
/// live, the commit's tree, which directories to write, every symlink checked, and how
/// many bytes that is.
fn inspect(
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
    Ok(Inspected {
        source: source.to_path_buf(),
        shown: shown.to_path_buf(),
        common: repo.commondir().to_path_buf(),
        commit: found.id().to_string(),
        whole,
        extra,
        links: contents.links,
        bytes,
    })
}

/// A copy to write, as [`inspect`] read it.
struct Inspected {
    source: PathBuf,
    shown: PathBuf,
    /// The source's git dir holding its objects (the copy borrows them as alternates).
    common: PathBuf,
    commit: String,
    /// Directories written whole (a cone-mode sparse copy), `None` for everything.
    whole: Option<Vec<String>>,
    /// Files outside those that symlinks in the copy point at.
    extra: Vec<String>,
    /// `(path, commit)` of each submodule.
    links: Vec<(String, String)>,
    /// Roughly what the copy takes (each file rounded up to a 4 KiB block, and a margin):
    /// blob sizes are read from object headers, not the objects. 0 when not measured.
    bytes: u64,
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
    let mut failed = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
        match entry.kind() {
            // A directory outside the cone holds nothing that is written.
            Some(git2::ObjectType::Tree) => {
                if whole.is_some_and(|dirs| !in_cone(&format!("{path}/x"), dirs)) {
                    return git2::TreeWalkResult::Skip;
                }
                bytes += BLOCK;
                return git2::TreeWalkResult::Ok;
            }
            Some(git2::ObjectType::Blob) if whole.is_none_or(|dirs| in_cone(&path, dirs)) => {}
            _ => return git2::TreeWalkResult::Ok,
        }
        match odb.read_header(entry.id()) {
            Ok((size, _)) => bytes += (size as u64).div_ceil(BLOCK).max(1) * BLOCK,
            Err(e) => {
                failed = Some(e);
                return git2::TreeWalkResult::Abort;
            }
        }
        git2::TreeWalkResult::Ok
    })
    .or_else(|e| if failed.is_some() { Ok(()) } else { Err(e) })?;
    // The copy's git index (an entry for every path, sparse or not), the files symlinks and
    // manifests bring along, cargo's lockfile: a margin.
    const MARGIN: u64 = 4 << 20;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(bytes + MARGIN),
    }
}

/// What a commit's tree holds that the copy cares about.
struct Contents {
    /// Whether the root `Cargo.toml` has a `[package]` (its files could be anywhere).
    root_is_package: bool,
    /// Directories (below the root) holding a `Cargo.toml`.
    manifest_dirs: Vec<String>,
    /// `(path, commit)` of each submodule.
    links: Vec<(String, String)>,
    /// Each committed symlink's path and target.
    symlinks: BTreeMap<String, String>,
}

impl Contents {
    fn of(repo: &git2::Repository, tree: &git2::Tree<'_>) -> Result<Contents> {
        let mut contents = Contents {
            root_is_package: false,
            manifest_dirs: Vec::new(),
            links: Vec::new(),
            symlinks: BTreeMap::new(),
        };
        let mut root_manifest = None;
        let mut symlinks = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            let name = String::from_utf8_lossy(entry.name_bytes());
            if entry.filemode() == 0o160_000 {
                contents
                    .links
                    .push((format!("{dir}{name}"), entry.id().to_string()));
            } else if entry.filemode() == 0o120_000 {
                symlinks.push((format!("{dir}{name}"), entry.id()));
            } else if name == "Cargo.toml" && entry.kind() == Some(git2::ObjectType::Blob) {
                match dir.strip_suffix('/') {
                    Some(dir) => contents.manifest_dirs.push(dir.to_owned()),
                    None => root_manifest = Some(entry.id()),
                }
            }
            git2::TreeWalkResult::Ok
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
        let mut whole: Option<Vec<String>> = (top && !self.root_is_package).then(|| {
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

/// Check out `paths` (inside the tree) that a sparse copy left out, e.g. a manifest's
/// `readme = "../../docs/README.md"`.
/// Whether it wrote anything.
pub(crate) fn ensure(git: &Path, tree: &Path, paths: &[PathBuf], env: &Env) -> Result<bool> {
    let missing: Vec<String> = paths
        .iter()
        .filter(|p| !p.exists())
        .filter_map(|p| p.strip_prefix(tree).ok())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Ok(false);
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
    Ok(true)
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

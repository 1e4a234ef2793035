//! Git fixtures: repositories under the test's root built commit by commit, isolated from any
//! user or system git config, and snapshots that prove a checkout was left untouched.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_test_support::paths;

use super::runs::{Run, base_env};

/// A git repository under the test's root, built step by step.
pub struct Repo {
    pub root: PathBuf,
}
#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    tool("git", dir, args)
}

/// Runs `program args` in `dir` with the tests' base environment; its trimmed stdout, or a
/// panic with its stderr.
#[track_caller]
pub fn tool(program: &str, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(base_env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Repo {
    /// An empty repository on branch `main`.
    pub fn new(name: &str) -> Self {
        let root = paths::root().join(name);
        std::fs::create_dir_all(&root).unwrap();
        git(&root, &["init", "--quiet", "--initial-branch=main"]);
        Repo { root }
    }

    /// A repository whose root manifest is a virtual workspace of `members` (not committed).
    pub fn workspace(members: &[&str]) -> Self {
        Repo::new("repo").file(
            "Cargo.toml",
            &format!("[workspace]\nmembers = {members:?}\nresolver = \"2\"\n"),
        )
    }

    /// A repository with one library crate `name` v`version`, committed.
    pub fn with_crate(name: &str, version: &str) -> Self {
        Repo::new("repo")
            .file("Cargo.toml", &manifest(name, version))
            .file("src/lib.rs", "pub fn answer() -> u32 { 42 }\n")
            .file(".gitignore", "/target\n")
            .commit("initial")
    }

    #[must_use]
    pub fn file(self, path: &str, contents: &str) -> Self {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    #[must_use]
    pub fn commit(self, message: &str) -> Self {
        git(&self.root, &["add", "-A"]);
        git(&self.root, &["commit", "--quiet", "-m", message]);
        self
    }

    #[must_use]
    pub fn tag(self, name: &str) -> Self {
        git(&self.root, &["tag", "-a", name, "-m", name]);
        self
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(&self.root, args)
    }

    /// `git submodule add` of the local repository `source` at `path` (not committed).
    pub fn add_submodule(&self, source: &Repo, path: &str) {
        self.git(&[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "--quiet",
            "add",
            source.root.to_str().unwrap(),
            path,
        ]);
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// Run shipcrate in this repository.
    pub fn shipcrate(&self) -> Run {
        Run::new(&self.root)
    }

    /// Every file and dir below the root, `.git` included, with its mode, mtime and content
    /// hash. `target/` is left out, and so is the root's own mtime, which changes when cargo
    /// creates `target/` (the one place shipcrate may write).
    pub fn snapshot(&self) -> Snapshot {
        let entries = walkdir::WalkDir::new(&self.root)
            .min_depth(1)
            .into_iter()
            .filter_entry(|e| e.path() != self.root.join("target"))
            .map(|e| e.unwrap())
            .map(|e| {
                let meta = std::fs::symlink_metadata(e.path()).unwrap();
                let hash = if meta.is_file() {
                    fnv(&std::fs::read(e.path()).unwrap())
                } else {
                    0
                };
                (
                    e.path().to_path_buf(),
                    (meta.mode(), meta.mtime(), meta.mtime_nsec(), hash),
                )
            })
            .collect();
        Snapshot(entries)
    }

    #[track_caller]
    pub fn assert_unchanged(&self, before: &Snapshot) {
        let after = self.snapshot();
        let changed: Vec<&PathBuf> = before
            .0
            .keys()
            .chain(after.0.keys())
            .filter(|p| before.0.get(*p) != after.0.get(*p))
            .collect();
        assert!(changed.is_empty(), "the checkout changed: {changed:?}");
    }
}

/// Paths with (mode, mtime s, mtime ns, content hash).
pub struct Snapshot(BTreeMap<PathBuf, (u32, i64, i64, u64)>);

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn manifest(name: &str, version: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
         description = \"test crate\"\nlicense = \"MIT\"\n"
    )
}

//! Symlinks keep "the package is the commit": links out of the repository stop the run,
//! links inside it are packaged as cargo packages them, in a full or a sparse copy.

use std::os::unix::fs::symlink;

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

fn link(repo: Repo, path: &str, target: &str) -> Repo {
    let at = repo.root.join(path);
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    symlink(target, at).unwrap();
    repo
}

#[cargo_test]
fn a_symlink_out_of_the_repository_stops_the_run_before_anything_is_packaged() {
    let _registry = registry();
    std::fs::write(paths::root().join("outside.txt"), "not in the commit\n").unwrap();
    // (link, target): absolute, `..` past the root, /proc, past the root through another
    // link of the commit (`up` itself stays inside).
    let cases = [
        ("LICENSE-MIT", "/etc/hostname"),
        ("src/notes.txt", "../../outside.txt"),
        ("environ", "/proc/self/environ"),
        ("src/escape", "../up/../../outside.txt"),
        // The checkout's target dir, where cargo would write.
        ("target", "../outside-target"),
    ];
    for (path, target) in cases {
        let repo = Repo::new("repo")
            .file("Cargo.toml", &manifest("linked", "0.1.0"))
            .file("src/lib.rs", "pub fn answer() -> u32 { 42 }\n")
            .file("sub/keep", "");
        let repo = link(repo, "up", "sub").pipe(|r| link(r, path, target));
        let repo = repo.commit("a link out");
        repo.shipcrate()
            .registry_target()
            .run()
            .code(1)
            .stderr_has(&format!(
                "`{path}` is a symlink to `{target}`, outside the repository"
            ))
            .lacks("Packaging");
        assert!(index_entries("linked").is_empty());
        assert!(!paths::root().join("outside-target").exists());
        std::fs::remove_dir_all(&repo.root).unwrap();
    }

    // In a workspace's sparse copy the crates' directories are checked the same way.
    let repo = Repo::workspace(&["crates/a"])
        .file("crates/a/Cargo.toml", &manifest("a", "0.1.0"))
        .file("crates/a/src/lib.rs", "");
    let repo = link(repo, "crates/a/README.md", "../../../outside.txt").commit("ws");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .code(1)
        .stderr_has("`crates/a/README.md` is a symlink to `../../../outside.txt`");
}

#[cargo_test]
fn in_repository_symlinks_are_packaged_and_their_targets_come_along() {
    let registry = registry();
    // The crate's license and data are links to directories no manifest is in, which a
    // sparse copy would leave out; `docs/current` is a link to a link.
    let repo = Repo::workspace(&["crates/lean"])
        .file(".gitignore", "/target\n")
        .file("legal/LICENSE-MIT", "MIT, kept in legal/\n")
        .file("shared/data/answer.txt", "42")
        .file("docs/v1/GUIDE.md", "the guide\n")
        .file("elsewhere/left-out.txt", "")
        .file(
            "crates/lean/Cargo.toml",
            &format!(
                "{}readme = \"README.md\"\n",
                manifest("lean", "0.1.0")
                    .replace("license = \"MIT\"\n", "license-file = \"LICENSE-MIT\"\n")
            ),
        )
        .file(
            "crates/lean/src/lib.rs",
            "pub fn answer() -> u32 { include_str!(\"../data/answer.txt\").parse().unwrap() }\n",
        );
    let repo = link(repo, "crates/lean/LICENSE-MIT", "../../legal/LICENSE-MIT")
        .pipe(|r| link(r, "crates/lean/data", "../../shared/data"))
        .pipe(|r| link(r, "docs/current", "v1"))
        .pipe(|r| link(r, "crates/lean/README.md", "../../docs/current/GUIDE.md"))
        .commit("links inside the repository");

    let dest = paths::root().join("copy");
    repo.shipcrate()
        .arg("copy")
        .arg(dest.to_str().unwrap())
        .run()
        .success();
    for (file, text) in [
        ("crates/lean/LICENSE-MIT", "MIT, kept in legal/\n"),
        ("crates/lean/data/answer.txt", "42"),
        ("crates/lean/README.md", "the guide\n"),
    ] {
        assert_eq!(
            std::fs::read_to_string(dest.join(file)).unwrap(),
            text,
            "{file}"
        );
    }
    assert!(!dest.join("elsewhere").exists(), "the copy is still sparse");
    assert_eq!(git(&dest, &["status", "--porcelain"]), "");

    let out = repo.shipcrate().registry_target().run().success();
    assert!(
        out.stderr.contains("Uploaded lean v0.1.0"),
        "{}",
        out.both()
    );
    consume(&registry, "lean", "0.1.0");
    let files = downloaded_crate(&paths::root().join("consumer-home"), "lean", "0.1.0");
    assert_eq!(files["lean-0.1.0/LICENSE-MIT"], "MIT, kept in legal/\n");
    assert_eq!(files["lean-0.1.0/README.md"], "the guide\n");
    assert_eq!(files["lean-0.1.0/data/answer.txt"], "42");
}

#[cargo_test]
fn path_through_a_symlink_out_of_the_repository_is_a_usage_error() {
    let _registry = registry();
    let other = paths::root().join("other");
    std::fs::create_dir_all(other.join("src")).unwrap();
    std::fs::write(other.join("Cargo.toml"), manifest("other", "0.1.0")).unwrap();
    std::fs::write(other.join("src/lib.rs"), "").unwrap();
    let repo = link(Repo::with_crate("inside", "0.1.0"), "alias", "../other").commit("alias");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_PATH", "alias")
        .run()
        .code(2)
        .stderr_has("`path` (`alias`) leads outside the repository through a symlink");
    // The working tree's own link, with `allow_dirty`: the same.
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_PATH", "alias")
        .env("SHIPCRATE_ALLOW_DIRTY", "true")
        .run()
        .code(2)
        .stderr_has("leads outside the repository through a symlink");
    assert!(index_entries("other").is_empty());
}

trait Pipe: Sized {
    fn pipe(self, f: impl FnOnce(Self) -> Self) -> Self {
        f(self)
    }
}
impl Pipe for Repo {}

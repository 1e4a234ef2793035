//! The pristine copy: shallow clones, detached HEADs, submodules, and leaving nothing behind.

use std::time::{Duration, Instant};

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use cargo_test_support::str;

use crate::support::*;

#[cargo_test]
fn shallow_clone_on_a_detached_tag() {
    let registry = registry();
    let origin = Repo::with_crate("shallow", "2.0.0")
        .file("CHANGELOG.md", "two\n")
        .commit("second")
        .tag("v2.0.0");
    let url = format!("file://{}", origin.root.display());
    git(
        &paths::root(),
        &[
            "clone", "--quiet", "--depth", "1", "--branch", "v2.0.0", &url, "clone",
        ],
    );
    let clone = Repo {
        root: paths::root().join("clone"),
    };
    assert_eq!(clone.git(&["rev-parse", "--is-shallow-repository"]), "true");
    let before = clone.snapshot();
    clone
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .success();
    clone.assert_unchanged(&before);
    consume(&registry, "shallow", "2.0.0");
    let files = downloaded_crate(&paths::root().join("consumer-home"), "shallow", "2.0.0");
    let vcs: serde_json::Value =
        serde_json::from_str(&files["shallow-2.0.0/.cargo_vcs_info.json"]).unwrap();
    assert_eq!(vcs["git"]["sha1"], origin.head().as_str());
}

fn with_submodule() -> Repo {
    let sub = Repo::new("sub")
        .file("data.txt", "from the submodule\n")
        .commit("data");
    let repo = Repo::with_crate("withsub", "0.1.0");
    repo.add_submodule(&sub, "vendor/sub");
    repo.file(
        "src/lib.rs",
        "pub const DATA: &str = include_str!(\"../vendor/sub/data.txt\");\npub fn answer() -> u32 { 42 }\n",
    )
    .commit("add submodule")
}

#[cargo_test]
fn submodules_are_copied_at_their_recorded_commit() {
    let registry = registry();
    let repo = with_submodule();
    // A later commit in the submodule's checkout, not recorded in the superproject.
    git(
        &repo.root.join("vendor/sub"),
        &["commit", "--quiet", "--allow-empty", "-m", "unrecorded"],
    );
    std::fs::write(
        repo.root.join("vendor/sub/data.txt"),
        "edited, uncommitted\n",
    )
    .unwrap();
    let before = repo.snapshot();
    repo.shipcrate().registry_target().run().success();
    repo.assert_unchanged(&before);
    consume(&registry, "withsub", "0.1.0");
    let files = downloaded_crate(&paths::root().join("consumer-home"), "withsub", "0.1.0");
    assert_eq!(
        files["withsub-0.1.0/vendor/sub/data.txt"],
        "from the submodule\n"
    );
}

#[cargo_test]
fn a_missing_submodule_is_named_with_how_to_fetch_it() {
    let _registry = registry();
    let repo = with_submodule();
    let url = format!("file://{}", repo.root.display());
    git(&paths::root(), &["clone", "--quiet", &url, "nosub"]);
    let clone = Repo {
        root: paths::root().join("nosub"),
    };
    let before = clone.snapshot();
    clone
        .shipcrate()
        .registry_target()
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
[ERROR] submodule `vendor/sub` at commit [..] is not in the checkout: fetch submodules before running shipcrate (`git submodule update --init --recursive`; on GitHub, `submodules: recursive` on actions/checkout; on GitLab, `GIT_SUBMODULE_STRATEGY: recursive`)

"#]]);
    clone.assert_unchanged(&before);
    assert!(leftovers().is_empty(), "{:?}", leftovers());
    assert!(index_entries("withsub").is_empty());
}

/// `shipcrate copy` of `repo`'s commit into a fresh directory, which is returned.
fn copied(repo: &Repo) -> std::path::PathBuf {
    let dest = paths::root().join("copy");
    repo.shipcrate()
        .arg("copy")
        .arg(dest.to_str().unwrap())
        .run()
        .success();
    dest
}

/// The directories of a copy's sparse checkout, read by git as a cone (hash lookups), not as
/// patterns matched one by one against every path: git warns and falls back otherwise.
fn cone(dest: &std::path::Path) -> String {
    let list = std::process::Command::new("git")
        .args(["sparse-checkout", "list"])
        .current_dir(dest)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&list.stderr), "");
    String::from_utf8_lossy(&list.stdout).into_owned()
}

#[cargo_test]
fn crate_directories_with_glob_characters_and_spaces_are_copied() {
    let repo = Repo::workspace(&["crates/*"])
        .file("crates/we ird[1]*?/Cargo.toml", &manifest("weird", "0.1.0"))
        .file(
            "crates/we ird[1]*?/src/lib.rs",
            "pub fn answer() -> u32 { 42 }\n",
        )
        .file("crates/we ird1/left-out.txt", "no manifest here\n")
        .file("elsewhere/left-out.txt", "no manifest here\n")
        .commit("odd names");
    let dest = copied(&repo);
    assert!(dest.join("crates/we ird[1]*?/src/lib.rs").is_file());
    assert!(!dest.join("crates/we ird1").exists() && !dest.join("elsewhere").exists());
    cone(&dest);
    assert_eq!(git(&dest, &["status", "--porcelain"]), "");
}

#[cargo_test]
fn a_workspace_needs_only_the_submodules_its_crates_hold() {
    let registry = registry();
    let sub = Repo::new("sub")
        .file("data.txt", "from the submodule\n")
        .commit("data");
    let unrelated = Repo::new("unrelated")
        .file("huge.bin", "not needed to publish\n")
        .commit("assets");
    let repo = Repo::workspace(&["crates/inner"])
        .file("crates/inner/Cargo.toml", &manifest("inner", "0.1.0"))
        .file(
            "crates/inner/src/lib.rs",
            "pub const DATA: &str = include_str!(\"../vendor/sub/data.txt\");\n\
             pub fn answer() -> u32 { 42 }\n",
        );
    repo.add_submodule(&sub, "crates/inner/vendor/sub");
    repo.add_submodule(&unrelated, "assets/big");
    let repo = repo.commit("a crate with a submodule, and assets in another");
    // A checkout that fetched only the submodule a crate needs.
    let url = format!("file://{}", repo.root.display());
    git(&paths::root(), &["clone", "--quiet", &url, "partial"]);
    let clone = Repo {
        root: paths::root().join("partial"),
    };
    clone.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "--quiet",
        "update",
        "--init",
        "crates/inner/vendor/sub",
    ]);
    clone.shipcrate().registry_target().run().success();
    consume(&registry, "inner", "0.1.0");
    let files = downloaded_crate(&paths::root().join("consumer-home"), "inner", "0.1.0");
    assert_eq!(
        files["inner-0.1.0/vendor/sub/data.txt"],
        "from the submodule\n"
    );
}

#[cargo_test]
fn sigterm_mid_run_removes_the_temp_dir_and_touches_nothing() {
    let _registry = registry();
    let repo = Repo::with_crate("interrupted", "0.1.0");
    let before = repo.snapshot();
    let child = repo.shipcrate().registry_target().spawn_until_hook_runs();
    assert_eq!(
        leftovers().iter().filter(|p| p.is_dir()).count(),
        1,
        "the pristine copy should exist while the hook runs"
    );
    signal("-TERM", child.id());
    let started = Instant::now();
    let out = Outcome::from_child(child)
        .code(143)
        .stderr_has("stopped by signal 15");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "shipcrate took too long to stop\n{}",
        out.both()
    );
    assert!(leftovers().is_empty(), "{:?}", leftovers());
    repo.assert_unchanged(&before);
    assert!(index_entries("interrupted").is_empty());
}

#[cargo_test]
fn sigterm_while_cargo_reads_the_workspace_stops_cargo_too() {
    let _registry = registry();
    let repo = Repo::with_crate("stuck", "0.1.0");
    // A cargo whose `metadata` hangs, leaving its pid where the test can see it.
    let pid_file = paths::root().join("metadata.pid");
    let shims = cargo_wrapper(
        "hanging",
        &format!(
            "if [ \"$1\" = metadata ]; then echo $$ > {pid}.tmp; mv {pid}.tmp {pid}; exec sleep 60; fi",
            pid = pid_file.display()
        ),
    );
    let child = repo
        .shipcrate()
        .registry_target()
        .path_prefix(&shims)
        .spawn();
    let deadline = Instant::now() + Duration::from_mins(1);
    while !pid_file.exists() {
        assert!(Instant::now() < deadline, "cargo metadata never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let cargo_pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_owned();
    let kill = |signal: &str, pid: &str| {
        std::process::Command::new("kill")
            .args([signal, pid])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success()
    };
    assert!(kill("-TERM", &child.id().to_string()));
    Outcome::from_child(child)
        .code(143)
        .stderr_has("stopped by signal 15");
    // The child is stopped with shipcrate, not left running in its own process group.
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        !kill("-0", &cargo_pid)
    });
    if !gone {
        kill("-KILL", &cargo_pid);
    }
    assert!(
        gone,
        "`cargo metadata` (pid {cargo_pid}) outlived shipcrate"
    );
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

#[cargo_test]
fn a_failed_publish_leaves_the_checkout_and_tmp_as_they_were() {
    let _registry = registry();
    let repo = Repo::with_crate("broken", "0.1.0")
        .file("src/lib.rs", "pub fn answer() -> u32 { nope }\n")
        .commit("broken");
    let before = repo.snapshot();
    repo.shipcrate()
        .registry_target()
        .run()
        .code(1)
        .stderr_has("published: nothing; failed: broken v0.1.0");
    repo.assert_unchanged(&before);
    assert!(leftovers().is_empty(), "{:?}", leftovers());
    assert!(index_entries("broken").is_empty());
}

#[cargo_test]
fn no_git_on_path_is_named_up_front() {
    let repo = Repo::with_crate("nogit", "0.1.0");
    let empty = paths::root().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    repo.shipcrate()
        .env("PATH", empty.to_str().unwrap())
        .run()
        .code(1)
        .stderr_eq(str![[r#"
[ERROR] `cargo` was not found on PATH; install Rust with rustup (https://rustup.rs) or use the shipcrate image: cannot find binary path

"#]]);
}

#[cargo_test]
fn a_cargo_too_old_for_multi_package_publish_is_named_with_the_fix() {
    let _registry = registry();
    let repo = Repo::with_crate("old", "0.1.0");
    let old = cargo_wrapper(
        "old-cargo",
        "if [ \"$1\" = --version ]; then echo 'cargo 1.85.1 (d73d2caf9 2024-12-31)'; exit 0; fi",
    );
    repo.shipcrate()
        .registry_target()
        .path_prefix(&old)
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
[ERROR] cargo 1.85.1 (d73d2caf9 2024-12-31) is too old: shipcrate needs cargo 1.90 or newer (multi-package publish). Update with `rustup update stable`

"#]]);
    assert!(index_entries("old").is_empty());
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

#[cargo_test]
fn a_directory_whose_name_is_not_utf8_is_copied() {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::OsStr::from_bytes(b"assets-\xff");
    // In a crate copied whole, and beside the members of a workspace copied in part.
    let single = Repo::with_crate("oddbytes", "0.1.0");
    let workspace = Repo::new("ws")
        .file("Cargo.toml", "[workspace]\nmembers = [\"crates/a\"]\n")
        .file("crates/a/Cargo.toml", &manifest("odd-a", "0.1.0"))
        .file("crates/a/src/lib.rs", "");
    for (repo, copied_too) in [(single, true), (workspace, false)] {
        for dir in [repo.root.join(name), repo.root.join("crates").join(name)] {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("data.txt"), "kept\n").unwrap();
        }
        let repo = repo.commit("directories whose names are not UTF-8");
        let dest = paths::root().join("copy");
        let _ = std::fs::remove_dir_all(&dest);
        repo.shipcrate()
            .arg("copy")
            .arg(dest.to_str().unwrap())
            .run()
            .success();
        assert_eq!(dest.join(name).join("data.txt").is_file(), copied_too);
        assert_eq!(git(&dest, &["status", "--porcelain"]), "");
    }
}

#[cargo_test]
fn copy_makes_a_clean_checkout_of_the_commit_and_stops() {
    let repo = Repo::with_crate("copied", "0.1.0").file("src/lib.rs", "// uncommitted\n");
    let before = repo.snapshot();
    let dest = paths::root().join("copy");
    repo.shipcrate()
        .arg("copy")
        .arg(dest.to_str().unwrap())
        .run()
        .success()
        .stderr_has("Copied commit");
    repo.assert_unchanged(&before);
    assert_eq!(git(&dest, &["rev-parse", "HEAD"]), repo.head());
    assert_eq!(
        git(&dest, &["status", "--porcelain"]),
        "",
        "the copy is not clean"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("src/lib.rs")).unwrap(),
        "pub fn answer() -> u32 { 42 }\n"
    );
    // Objects are borrowed from the checkout, not copied.
    assert!(dest.join(".git/objects/info/alternates").is_file());
    repo.shipcrate()
        .arg("copy")
        .arg(dest.to_str().unwrap())
        .run()
        .code(2)
        .stderr_eq(str![[r#"
[ERROR] `[ROOT]/copy` is not empty

"#]]);
}

#[cargo_test]
fn a_workspace_copy_writes_only_what_cargo_reads() {
    let registry = registry();
    let mut repo = Repo::workspace(&["crates/lean", "tools/deep/gen"])
        .file("tools/deep/gen/Cargo.toml", &manifest("gen", "0.1.0"))
        .file("tools/deep/gen/src/lib.rs", "pub fn gen() {}\n")
        .file(
            "tools/deep/fixtures/big.txt",
            "beside a crate, not in one\n",
        )
        .file("docs/README.md", "# lean\nfrom docs/\n")
        .file(
            "crates/lean/Cargo.toml",
            &format!(
                "{}readme = \"../../docs/README.md\"\n",
                manifest("lean", "0.1.0")
            ),
        )
        .file("crates/lean/src/lib.rs", "pub fn answer() -> u32 { 42 }\n");
    for i in 0..200 {
        repo = repo.file(
            &format!("data/d{}/f{i}.txt", i % 10),
            "not part of any crate\n",
        );
    }
    let repo = repo.commit("workspace with data");

    let dest = copied(&repo);
    assert!(!dest.join("data").exists(), "non-crate files were written");
    assert!(!dest.join("tools/deep/fixtures").exists());
    for file in [
        "Cargo.toml",
        "crates/lean/src/lib.rs",
        "tools/deep/gen/src/lib.rs",
    ] {
        assert!(dest.join(file).is_file(), "{file} is missing from the copy");
    }
    assert_eq!(cone(&dest), ".cargo\ncrates/lean\ntools/deep/gen\n");
    assert_eq!(
        git(&dest, &["status", "--porcelain"]),
        "",
        "the sparse copy is not clean"
    );

    repo.shipcrate().registry_target().run().success();
    consume(&registry, "lean", "0.1.0");
    let files = downloaded_crate(&paths::root().join("consumer-home"), "lean", "0.1.0");
    assert_eq!(files["lean-0.1.0/README.md"], "# lean\nfrom docs/\n");
}

/// The copy's root, as cargo's `Packaging` line for the crate names it.
fn packaged_from(stderr: &str, name: &str) -> std::path::PathBuf {
    let line = stderr
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("Packaging {name} ")))
        .unwrap_or_else(|| panic!("no Packaging line for {name}:\n{stderr}"));
    let open = line.find('(').unwrap();
    std::path::PathBuf::from(line[open + 1..].trim_end_matches(')'))
}

/// `/dev/shm` as this machine mounts it: (is it a tmpfs, is it `noexec`). The test below needs
/// a tmpfs there, as Linux distributions and container runtimes set up.
pub(crate) fn dev_shm() -> (bool, bool) {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    let line = mounts
        .lines()
        .find(|l| l.split(' ').nth(1) == Some("/dev/shm"))
        .expect("this test needs /dev/shm mounted (a tmpfs), as Linux systems have it");
    let fields: Vec<&str> = line.split(' ').collect();
    (
        fields[2] == "tmpfs",
        fields[3].split(',').any(|o| o == "noexec"),
    )
}

#[cargo_test]
#[ignore = "needs /dev/shm as a tmpfs that lets programs run (Linux's default; a container mounts it noexec)"]
fn the_copy_is_made_in_memory_unless_tmpdir_names_a_place() {
    let (tmpfs, noexec) = dev_shm();
    assert!(
        tmpfs && !noexec,
        "this test needs /dev/shm to be a tmpfs that lets programs run"
    );
    let _registry = registry();
    let repo = Repo::with_crate("inmemory", "0.1.0");
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .env_remove("TMPDIR")
        .run()
        .success();
    let copy = packaged_from(&out.stderr, "inmemory");
    assert!(
        copy.to_string_lossy().starts_with("/dev/shm/shipcrate-"),
        "{}",
        out.stderr
    );
    assert!(!copy.exists(), "the copy in memory is removed");

    // TMPDIR set: the user's choice of place wins.
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .success();
    assert!(packaged_from(&out.stderr, "inmemory").starts_with(tmp_dir()));

    // Hooks will run (they may build in the copy, or run a program from it): not in memory.
    let repo = repo.file(
        "hook.sh",
        "#!/bin/sh\ncd \"$(dirname \"$0\")\" && pwd > \"$1\"\n",
    );
    let script = repo.root.join("hook.sh");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let repo = repo.commit("a hook script");
    let said = paths::root().join("hook-ran-in");
    repo.shipcrate()
        .registry_target()
        .env_remove("TMPDIR")
        .env(
            "SHIPCRATE_BEFORE_DEPLOY",
            &format!("\"$SHIPCRATE_PRISTINE_DIR/hook.sh\" {}", said.display()),
        )
        .run()
        .success();
    let ran_in = std::fs::read_to_string(&said).unwrap();
    assert!(!ran_in.starts_with("/dev/shm/"), "{ran_in}");
}

/// A crate whose build needs the real content of `data/blob.bin` (a pointer fails it).
fn lfs_crate() -> Repo {
    Repo::with_crate("lfsdata", "0.1.0").file(
        "src/lib.rs",
        "pub const DATA: &[u8] = include_bytes!(\"../data/blob.bin\");\n\
         const _: () = assert!(DATA[0] == b'R', \"data/blob.bin is not its content\");\n",
    )
}

#[cargo_test]
#[ignore = "needs git-lfs: `apt-get install git-lfs`"]
fn git_lfs_files_are_copied_as_their_content_not_their_pointers() {
    let _registry = registry();
    let repo = lfs_crate();
    repo.git(&["lfs", "install", "--local"]);
    repo.git(&["lfs", "track", "data/*.bin"]);
    let content = format!("REAL {}\n", "lfs content ".repeat(100));
    let repo = repo.file("data/blob.bin", &content).commit("data in LFS");
    // Stored as a pointer: a copy without the checkout's LFS filter would hold that.
    let blob = repo.git(&["cat-file", "-p", "HEAD:data/blob.bin"]);
    assert!(blob.starts_with("version https://git-lfs"), "{blob}");
    let before = repo.snapshot();
    let dest = paths::root().join("copy");
    repo.shipcrate()
        .arg("copy")
        .arg(dest.to_str().unwrap())
        .run()
        .success();
    assert_eq!(
        std::fs::read_to_string(dest.join("data/blob.bin")).unwrap(),
        content
    );
    assert_eq!(git(&dest, &["status", "--porcelain"]), "");
    // The dry run builds the crate from the copy: it needs the content.
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .success()
        .lacks("LFS");
    repo.assert_unchanged(&before);

    // Content never fetched (git-lfs's store emptied): the copy fails saying so, rather than
    // holding the pointer.
    std::fs::remove_dir_all(repo.root.join(".git/lfs/objects")).unwrap();
    repo.shipcrate()
        .arg("copy")
        .arg(paths::root().join("copy-2").to_str().unwrap())
        .run()
        .code(1)
        .stderr_has(
            "could not write the copy with the checkout's Git LFS content: git-lfs must be on \
             PATH, and the content fetched (`git lfs pull`)",
        );
}

#[cargo_test]
fn git_lfs_pointers_without_lfs_set_up_are_named() {
    let _registry = registry();
    // Committed by a git without LFS: the pointer is the blob, and the checkout's file.
    let pointer = "version https://git-lfs.github.com/spec/v1\n\
                   oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n\
                   size 12345\n";
    let repo = lfs_crate()
        .file(
            ".gitattributes",
            "data/*.bin filter=lfs diff=lfs merge=lfs -text\n",
        )
        .file("data/blob.bin", pointer)
        .file("data/other.txt", "plain\n")
        .commit("an LFS pointer, its content never fetched");
    let said = "warning: data/blob.bin hold Git LFS pointers, not their content: \
                `.gitattributes` names the lfs filter but LFS is not set up in the checkout";
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .code(1)
        .stderr_has(said);
    repo.shipcrate()
        .arg("copy")
        .arg(paths::root().join("copy").to_str().unwrap())
        .run()
        .success()
        .stderr_has(said);
}

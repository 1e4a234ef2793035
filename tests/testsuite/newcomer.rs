//! The README's quick start, run as written on what looks like a new machine: an empty
//! `CARGO_HOME` (no config, no registry cache, no `bin/`), a crate of the user's own, and only
//! the path to fill in. It must install shipcrate and verify the crate.
//!
//! Bounded honestly: the `CARGO_HOME` is emptied before every run, so the install resolves
//! the index and downloads every dependency from crates.io afresh, as a newcomer's would;
//! only compiled artifacts are kept between runs (`CARGO_TARGET_DIR`), and cargo rebuilds
//! whatever changed. Both live at fixed paths under `target/newcomer/` because cargo's
//! fingerprints of registry crates include where their sources were unpacked: a new
//! `CARGO_HOME` path each run would rebuild ~150 crates. The first run builds them in release
//! mode (minutes); later ones take seconds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

/// The two tests here share `target/newcomer/` (its `CARGO_HOME` path and compiled
/// artifacts): one at a time.
static KEPT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `target/newcomer/`, with its `cargo-home/` emptied: the `CARGO_HOME` path stays the same
/// so the compiled artifacts kept beside it stay fresh.
fn kept_with_empty_cargo_home() -> (PathBuf, PathBuf) {
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("newcomer");
    let home = kept.join("cargo-home");
    if home.exists() {
        std::fs::remove_dir_all(&home).unwrap();
    }
    std::fs::create_dir_all(&home).unwrap();
    (kept, home)
}

/// The toolchain's bin dir (cargo, rustc), as rustup puts it on PATH.
fn toolchain() -> PathBuf {
    Path::new(&std::env::var("CARGO").unwrap())
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The crate the newcomer tries it on; a name no one has published, so the dry run treats it
/// as a new crate (crates.io is only read, never written: no token is set).
const NAME: &str = "zz-shipcrate-quick-start-probe";

/// The commands between the README's quick-start markers, from its `sh` block.
fn quick_start() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("<!-- quick-start")
        .expect("README.md has no `<!-- quick-start` marker");
    let section = &readme[start..];
    let end = section
        .find("<!-- /quick-start -->")
        .expect("README.md's quick start has no `<!-- /quick-start -->` marker");
    section[..end]
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block.to_owned())
        .expect("no ```sh block between the quick-start markers")
}

#[cargo_test]
#[ignore = "needs crates.io and a release build of shipcrate (minutes the first time)"]
fn the_readme_quick_start_verifies_a_crate_on_a_new_machine() {
    let block = quick_start();
    assert_eq!(
        block.matches("<clone>").count(),
        1,
        "the quick start should have one path to fill in, `<clone>`:\n{block}"
    );
    let script = block.replace("<clone>", env!("CARGO_MANIFEST_DIR"));

    let repo = Repo::new("your-crate")
        .file("Cargo.toml", &manifest(NAME, "0.1.0"))
        .file("src/lib.rs", "pub fn answer() -> u32 { 42 }\n")
        .file(".gitignore", "/target\n")
        .commit("initial");
    let _one_at_a_time = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    let (kept, home) = kept_with_empty_cargo_home();
    let toolchain = toolchain();

    let started = Instant::now();
    let out = Command::new("bash")
        .args(["-e", "-o", "pipefail", "-c", &script])
        .current_dir(&repo.root)
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}:/usr/local/bin:/usr/bin:/bin",
                home.join("bin").display(),
                toolchain.display()
            ),
        )
        .env("HOME", paths::home())
        .env("CARGO_HOME", &home)
        .env("CARGO_TARGET_DIR", kept.join("target"))
        .env("TMPDIR", tmp_dir())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    eprintln!("the quick start took {:.1?}", started.elapsed());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
    let shown = format!(
        "--- stdout\n{stdout}\n--- stderr (last 40 lines)\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    assert!(out.status.success(), "the quick start failed\n{shown}");

    // Installed where a newcomer's PATH finds it, from this checkout.
    let installed = Command::new(home.join("bin/shipcrate"))
        .arg("--version")
        .output()
        .expect("no shipcrate in the empty CARGO_HOME's bin/");
    assert_eq!(
        String::from_utf8_lossy(&installed.stdout).trim(),
        format!("shipcrate {}", env!("CARGO_PKG_VERSION"))
    );
    // `explain` saw the crate; the dry run verified it and uploaded nothing.
    assert!(stdout.contains("Configuration (file: none)"), "{shown}");
    assert!(
        stdout.contains(&format!("{NAME} v0.1.0: publish")),
        "{shown}"
    );
    assert!(
        stderr.contains(&format!(
            "Summary {NAME} v0.1.0: verified (dry run, not uploaded)"
        )),
        "{shown}"
    );
    assert!(!stderr.contains("Uploaded"), "{shown}");
}

/// What the release workflow's `crates-io` job does, against a loopback registry instead of
/// crates.io: in a tag build of this repository, the shipcrate built from it publishes
/// shipcrate; then `cargo install --locked` of it from that registry works, with an emptied
/// `CARGO_HOME`, as it will for users from crates.io.
#[cargo_test]
#[ignore = "needs crates.io and a release build of shipcrate (minutes the first time)"]
fn shipcrate_publishes_itself_and_cargo_install_locked_gets_it() {
    let _one_at_a_time = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    let (kept, home) = kept_with_empty_cargo_home();
    let registry = registry();
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    let version = env!("CARGO_PKG_VERSION");
    let head = git(checkout, &["rev-parse", "HEAD"]);
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", toolchain().display());
    let common = |cmd: &mut Command| {
        cmd.env_clear()
            .env("PATH", &path)
            .env("HOME", paths::home())
            .env("CARGO_HOME", &home)
            .env("CARGO_TARGET_DIR", kept.join("target"))
            .env("TMPDIR", tmp_dir())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("CARGO_TERM_COLOR", "never");
    };

    // The release job's command, in a GitHub tag build of this commit.
    let mut publish = Command::new(env!("CARGO_BIN_EXE_shipcrate"));
    common(&mut publish);
    let out = publish
        .current_dir(checkout)
        .args(["--on-tags", "--locked"])
        .env("SHIPCRATE_INDEX", registry.index_url().as_str())
        .env("SHIPCRATE_TOKEN", "${RELEASE_TOKEN}")
        .env("RELEASE_TOKEN", TOKEN)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_REF", format!("refs/tags/v{version}"))
        .env("GITHUB_REF_NAME", format!("v{version}"))
        .env("GITHUB_REF_TYPE", "tag")
        .env("GITHUB_SHA", &head)
        .env("GITHUB_REPOSITORY", "shipcrate/shipcrate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "publishing shipcrate failed:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("shipcrate v{version}: published")),
        "{stderr}"
    );
    let entries = index_entries("shipcrate");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["vers"], version);

    // A user's `cargo install --locked shipcrate`, from that registry.
    let root = kept.join("install-root");
    if root.exists() {
        std::fs::remove_dir_all(&root).unwrap();
    }
    let mut install = Command::new("cargo");
    common(&mut install);
    let out = install
        .current_dir(paths::root())
        .args(["install", "--locked", "--index"])
        .arg(registry.index_url().as_str())
        .arg("--root")
        .arg(&root)
        .arg("shipcrate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cargo install --locked failed:\n{stderr}"
    );
    let installed = Command::new(root.join("bin/shipcrate"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&installed.stdout).trim(),
        format!("shipcrate {version}")
    );
}

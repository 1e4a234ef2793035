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

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

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
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("newcomer");
    let home = kept.join("cargo-home");
    if home.exists() {
        std::fs::remove_dir_all(&home).unwrap();
    }
    std::fs::create_dir_all(&home).unwrap();
    let toolchain = Path::new(&std::env::var("CARGO").unwrap())
        .parent()
        .unwrap()
        .to_path_buf();

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

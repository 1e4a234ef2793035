//! The command line: `--help` of every command, held as snapshots in `snapshots/` so a change
//! to it is reviewed (regenerate with `SNAPSHOTS=overwrite cargo test --locked -- cli::`), and
//! the arguments only `copy` and `migrate` take.

use std::process::Command;

use cargo_test_support::file;
use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use cargo_test_support::snapbox::assert_data_eq;

use crate::support::*;

/// What `shipcrate <args>` prints on stdout, at clap's default width (no terminal, no
/// `COLUMNS`); it must succeed and print nothing on stderr.
#[track_caller]
fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_shipcrate"))
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "{args:?}: {stderr}"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn shipcrate_help() {
    assert_data_eq!(help(&["--help"]), file!["snapshots/shipcrate-help.txt"]);
}

#[test]
fn shipcrate_short_help() {
    assert_data_eq!(help(&["-h"]), file!["snapshots/shipcrate-short-help.txt"]);
}

#[test]
fn publish_help() {
    assert_data_eq!(
        help(&["publish", "--help"]),
        file!["snapshots/publish-help.txt"]
    );
}

#[test]
fn explain_help() {
    assert_data_eq!(
        help(&["explain", "--help"]),
        file!["snapshots/explain-help.txt"]
    );
}

#[test]
fn copy_help() {
    assert_data_eq!(help(&["copy", "--help"]), file!["snapshots/copy-help.txt"]);
}

#[test]
fn migrate_help() {
    assert_data_eq!(
        help(&["migrate", "--help"]),
        file!["snapshots/migrate-help.txt"]
    );
}

#[test]
fn help_help() {
    assert_data_eq!(help(&["help", "--help"]), file!["snapshots/help-help.txt"]);
}

#[test]
fn help_command_prints_what_help_flags_print() {
    assert_eq!(help(&["help"]), help(&["--help"]));
    for command in ["publish", "explain", "copy", "migrate", "help"] {
        assert_eq!(
            help(&["help", command]),
            help(&[command, "--help"]),
            "`shipcrate help {command}`"
        );
        assert!(help(&[command, "-h"]).contains(&format!("Usage: shipcrate {command}")));
    }
}

#[cargo_test]
fn copy_takes_the_commit_to_copy() {
    let repo = Repo::with_crate("copied", "0.1.0").tag("v0.1.0");
    let tagged = repo.head();
    let repo = repo
        .file("src/lib.rs", "pub fn answer() -> u32 { 43 }\n")
        .commit("later");
    let dest = paths::root().join("copy");
    repo.shipcrate()
        .arg("copy")
        .arg(dest.to_str().unwrap())
        .arg("v0.1.0")
        .run()
        .success()
        .stderr_has("Copied commit");
    assert_eq!(git(&dest, &["rev-parse", "HEAD"]), tagged);
    assert_eq!(
        std::fs::read_to_string(dest.join("src/lib.rs")).unwrap(),
        "pub fn answer() -> u32 { 42 }\n"
    );
    repo.shipcrate()
        .arg("copy")
        .arg(paths::root().join("other").to_str().unwrap())
        .arg("no-such-rev")
        .run()
        .code(1)
        .stderr_has("no-such-rev is not in the checkout");
}

#[cargo_test]
fn migrate_reads_the_travis_file_it_is_given() {
    let repo = Repo::with_crate("migrated", "0.1.0")
        .file(
            ".travis.yml",
            "deploy:\n  provider: cargo\n  on:\n    branch: release\n",
        )
        .file(
            "ci/old.travis.yml",
            "deploy:\n  provider: cargo\n  on:\n    tags: true\n",
        )
        .commit("travis files");
    repo.shipcrate()
        .arg("migrate")
        .run()
        .success()
        .stdout_has("release");
    repo.shipcrate()
        .arg("migrate")
        .arg("ci/old.travis.yml")
        .run()
        .success()
        .stdout_has("tags: true")
        .lacks("release");
}

#[cargo_test]
fn explain_shows_the_value_in_force_of_every_key() {
    let repo = Repo::with_crate("explained", "0.1.0");
    let out = repo
        .shipcrate()
        .arg("explain")
        .arg("--index-timeout")
        .arg("2m")
        .env("CARGO_REGISTRY_TOKEN", TOKEN)
        .run()
        .success();
    let row = |key: &str| -> Vec<String> {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no row for `{key}`\n{}", out.both()))
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for (key, _, _) in shipcrate::config::KEYS {
        let cells = row(key);
        assert!(
            !cells[1].contains("unset"),
            "`{key}` shows no value: {cells:?}"
        );
        match *key {
            "index_timeout" => {}
            // Every test run declares itself a run by hand (support::base_env).
            "ci" => assert_eq!(cells[2], "(env `SHIPCRATE_CI`)", "{cells:?}"),
            _ => assert_eq!(cells[2], "(default)", "{cells:?}"),
        }
    }
    for (key, value) in [
        ("check_tag", "true"),
        ("max_retries", "5"),
        ("max_wait", "15m"),
        ("trusted_publishing_ttl", "30m"),
        ("trusted_publishing", "auto"),
        ("oidc_token_env", "CRATES_IO_ID_TOKEN"),
        ("registry", "crates.io"),
        ("path", "."),
    ] {
        assert_eq!(row(key)[1], value, "`{key}`");
    }
    assert_eq!(
        row("index_timeout")[1..],
        ["2m", "(flag `--index-timeout`)"]
    );
}

//! Releases on top of a registry's history: members released from earlier commits, which the
//! release commit may no longer be able to package, beside the crates it does release. Only
//! what is being released may stop a release; everything else is a named warning.

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use cargo_test_support::registry::Response;

use crate::support::*;

fn path_dep(name: &str, version: &str) -> String {
    format!(
        "{name} = {{ path = \"../{name}\", version = \"{version}\", registry = \"alternative\" }}"
    )
}

/// `base` and `plugin` (which depends on it), both released from this first commit.
fn released_workspace() -> Repo {
    let repo = Repo::workspace(&["base", "plugin"])
        .file(".gitignore", "/target\n")
        .file("base/Cargo.toml", &manifest("base", "1.0.0"))
        .file("base/src/lib.rs", "pub fn base() -> u32 { 41 }\n")
        .file(
            "plugin/Cargo.toml",
            &format!(
                "{}\n[dependencies]\n{}\n",
                manifest("plugin", "0.1.0"),
                path_dep("base", "1.0.0")
            ),
        )
        .file(
            "plugin/src/lib.rs",
            "pub fn answer() -> u32 { base::base() + 1 }\n",
        )
        .commit("base 1.0.0, plugin 0.1.0");
    let out = repo.shipcrate().registry_target().run().success();
    assert_eq!(uploads(&out.stderr), ["base", "plugin"], "{}", out.both());
    repo
}

/// `extra` 1.0.0, someone else's crate on the same registry, built on `base` 1.0.
fn publish_extra() {
    let extra = Repo::new("extra")
        .file(
            "Cargo.toml",
            &format!(
                "{}\n[dependencies]\nbase = {{ version = \"1.0\", registry = \"alternative\" }}\n",
                manifest("extra", "1.0.0")
            ),
        )
        .file("src/lib.rs", "pub fn extra() -> u32 { base::base() }\n")
        .commit("extra 1.0.0");
    let out = extra.shipcrate().registry_target().run().success();
    assert_eq!(uploads(&out.stderr), ["extra"], "{}", out.both());
}

/// The release commit: `base` 1.1.0, and `plugin` (left at 0.1.0, not being released) now
/// asking for `base` 1.1 beside an optional `extra`, whose `base` the committed `Cargo.lock`
/// pins at 1.0.0 — as clap 4.6.6's `clap_complete_nushell` asks for clap 4.6.6 while its
/// optional `completest-nu` pulls a clap the lockfile pins at 4.5.60. cargo can't package
/// `plugin` alone at this commit: before `base` 1.1.0 is up the registry lacks it, after it
/// the lockfile's pin conflicts.
fn release_commit(repo: Repo) -> Repo {
    let repo = repo
        .file("base/Cargo.toml", &manifest("base", "1.1.0"))
        .file("base/src/lib.rs", "pub fn base() -> u32 { 40 + 1 }\n")
        .file(
            "plugin/Cargo.toml",
            &format!(
                "{}\n[dependencies]\n{}\nextra = {{ version = \"1\", optional = true, registry = \"alternative\" }}\n",
                manifest("plugin", "0.1.0"),
                path_dep("base", "1.1.0")
            ),
        );
    tool("cargo", &repo.root, &["generate-lockfile"]);
    let lock = std::fs::read_to_string(repo.root.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains("name = \"base\"\nversion = \"1.0.0\"\nsource = "),
        "extra's base is not pinned at 1.0.0: {lock}"
    );
    repo.commit("release base 1.1.0")
}

/// The warning for `plugin`, and the report's word on it.
const NOT_PACKAGED: &str = "warning: could not package plugin@0.1.0 to compare it with the \
                            published copy: error: failed to prepare local package for uploading";
const NOT_BLOCKING: &str = "it is not being released, so this does not block the release";

#[cargo_test]
fn a_published_member_cargo_cannot_package_does_not_stop_the_crates_being_released() {
    let _registry = sturdy_registry();
    let repo = released_workspace();
    publish_extra();
    let repo = release_commit(repo);
    let report = paths::root().join("report.json");

    let out = repo
        .shipcrate()
        .registry_target()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success()
        .stderr_has(NOT_PACKAGED)
        .stderr_has(NOT_BLOCKING)
        .stdout_has("::warning::could not package plugin@0.1.0")
        .stderr_has("plugin v0.1.0: skip: already published");
    assert_eq!(uploads(&out.stderr), ["base"], "{}", out.both());
    let versions = |name: &str| -> Vec<serde_json::Value> {
        index_entries(name)
            .into_iter()
            .map(|e| e["vers"].clone())
            .collect()
    };
    assert_eq!(versions("base"), ["1.0.0", "1.1.0"]);
    assert_eq!(versions("plugin"), ["0.1.0"]);
    let plugin = reported_crate(&report, "plugin");
    assert_eq!(plugin["outcome"], "already-published", "{plugin}");
    assert!(
        plugin["reason"]
            .as_str()
            .unwrap()
            .starts_with("not compared: could not package plugin@0.1.0"),
        "{plugin}"
    );
    assert_eq!(reported_crate(&report, "base")["outcome"], "published");

    // Run again with base 1.1.0 up: cargo now fails on the lockfile's pin, and nothing is
    // left to upload; still a warning, still exit 0.
    repo.shipcrate()
        .registry_target()
        .run()
        .success()
        .stderr_has(NOT_PACKAGED)
        .stderr_has("nothing to upload")
        .stderr_has("Summary base v1.1.0: already published (the same files as this commit)");
}

#[cargo_test]
fn a_member_that_cannot_be_compared_fails_the_run_when_asked_to_and_when_tagged() {
    let _registry = sturdy_registry();
    let repo = released_workspace();
    publish_extra();
    let repo = release_commit(repo);

    // `checksum_mismatch: fail` asks every published crate to be the commit's: when that
    // can't be known, the run says so and fails before anything goes up.
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_CHECKSUM_MISMATCH", "fail")
        .env("SHIPCRATE_BEFORE_DEPLOY", "touch hook-ran")
        .run()
        .code(1)
        .stderr_has(
            "error: could not package plugin@0.1.0 to compare it with the published copy: \
             error: failed to prepare local package for uploading",
        )
        .stderr_has(
            "comparison with the published copy was impossible, so whether it is this \
             commit's can't be known (`checksum_mismatch: fail` is set)",
        );
    assert!(uploads(&out.stderr).is_empty(), "{}", out.both());
    assert!(!repo.root.join("hook-ran").exists());
    assert_eq!(index_entries("base").len(), 1);

    // The tag names plugin 0.1.0: the crate the release is about can't be packaged, as
    // before this rule.
    let repo = repo.tag("plugin-v0.1.0");
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .code(1)
        .stderr_has("could not package plugin@0.1.0 to compare it");
    assert!(
        !out.stderr.contains(NOT_BLOCKING),
        "the tagged crate is being released: {}",
        out.both()
    );
    assert!(uploads(&out.stderr).is_empty(), "{}", out.both());
    assert_eq!(index_entries("base").len(), 1);
}

/// The release commit of [`released_workspace`] with `base` 1.1.0 and `plugin` untouched:
/// cargo packages both fine.
fn base_bumped(repo: Repo) -> Repo {
    repo.file("base/Cargo.toml", &manifest("base", "1.1.0"))
        .commit("release base 1.1.0")
}

/// The registry's file for `name` `version` (the test registry serves it from disk).
fn published_file(name: &str, version: &str) -> std::path::PathBuf {
    let path = paths::root()
        .join("alternative-dl")
        .join(name)
        .join(version)
        .join("download");
    assert!(path.is_file(), "no `{}`", path.display());
    path
}

#[cargo_test]
fn a_published_copy_that_cannot_be_downloaded_or_read_is_a_warning_for_a_crate_not_released() {
    let _registry = sturdy_registry();
    let repo = base_bumped(released_workspace());

    // The index lists plugin 0.1.0, but its file is gone from the registry.
    let file = published_file("plugin", "0.1.0");
    std::fs::remove_file(&file).unwrap();
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .success()
        .stderr_has("warning: could not download the published plugin@0.1.0 to compare it: ")
        .stderr_has(NOT_BLOCKING)
        .stderr_has("Summary base v1.1.0: verified (dry run, not uploaded)")
        .stderr_has("Summary plugin v0.1.0: already published (not compared: could not download");
    assert!(uploads(&out.stderr).is_empty(), "{}", out.both());

    // A file that is no `.crate` at all.
    std::fs::write(&file, "<html>not a crate</html>").unwrap();
    let out = repo
        .shipcrate()
        .registry_target()
        .run()
        .success()
        .stderr_has(
            "warning: could not compare plugin@0.1.0 with the published copy: cannot read the \
             published package",
        )
        .stderr_has(NOT_BLOCKING);
    assert_eq!(uploads(&out.stderr), ["base"], "{}", out.both());

    // The same for the crate the tag names stops the run: it is what is being released.
    let repo = repo.tag("plugin-v0.1.0");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .code(1)
        .stderr_has("error: could not compare plugin@0.1.0 with the published copy")
        .lacks(NOT_BLOCKING);
}

#[cargo_test]
fn a_name_someone_else_published_is_named_as_taken_not_as_a_missing_bump() {
    let _registry = sturdy_registry();
    // Someone else's `mycrate` 0.1.0, from their repository.
    let theirs = Repo::new("theirs")
        .file(
            "Cargo.toml",
            &format!(
                "{}repository = \"https://example.com/someone/mycrate\"\n",
                manifest("mycrate", "0.1.0")
            ),
        )
        .file("src/lib.rs", "//! Someone's.\npub fn theirs() {}\n")
        .file("README.md", "# mycrate\n")
        .commit("mycrate 0.1.0");
    theirs.shipcrate().registry_target().run().success();

    // A newcomer's `cargo new mycrate`, tried with the quick start's dry run: no file in
    // common, no repository named.
    let ours = Repo::with_crate("mycrate", "0.1.0");
    let taken = "the name `mycrate` is taken by another crate";
    ours.shipcrate()
        .registry_target()
        .arg("--dry-run")
        .arg("--on-all-branches")
        .run()
        .success()
        .stderr_has(
            "warning: mycrate@0.1.0 is on the registry, but it shares nothing with this commit \
             (not one of its files is this commit's)",
        )
        .stderr_has(taken)
        .stderr_has("first come, first served")
        .stderr_has("Summary mycrate v0.1.0: already published (name taken by another crate")
        .lacks("The code changed without a version bump");

    // The same with a repository of its own that is not theirs.
    let ours = ours
        .file(
            "Cargo.toml",
            &format!(
                "{}repository = \"https://example.com/me/mycrate\"\n",
                manifest("mycrate", "0.1.0")
            ),
        )
        .file("README.md", "# mycrate\n")
        .commit("my repository");
    ours.shipcrate()
        .registry_target()
        .env("SHIPCRATE_CHECKSUM_MISMATCH", "fail")
        .run()
        .code(1)
        .stderr_has(
            "its repository is https://example.com/someone/mycrate, this commit's is \
             https://example.com/me/mycrate",
        )
        .stderr_has(taken);

    // A version tag naming it: this build releases it, so the taken name stops the run.
    let ours = ours.tag("v0.1.0");
    ours.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .code(1)
        .stderr_has("error: mycrate@0.1.0 is on the registry")
        .stderr_has(taken)
        .lacks("was the tag moved");
    assert_eq!(index_entries("mycrate").len(), 1);
}

#[cargo_test]
fn an_index_read_that_fails_stops_the_run_naming_the_crate() {
    // The registry can't say which versions of plugin it has: that is what decides whether
    // plugin is to be uploaded, so neither guess is made.
    let _registry = sturdy(
        registry_builder().add_responder("/index/pl/ug/plugin", |_, _| Response {
            code: 500,
            headers: vec![],
            body: b"index on fire".to_vec(),
        }),
    );
    let repo = Repo::workspace(&["base", "plugin"])
        .file("base/Cargo.toml", &manifest("base", "1.0.0"))
        .file("base/src/lib.rs", "")
        .file("plugin/Cargo.toml", &manifest("plugin", "0.1.0"))
        .file("plugin/src/lib.rs", "")
        .commit("two independent crates");
    let out = repo
        .shipcrate()
        .registry_target()
        .run()
        .code(1)
        .stderr_has(
            "error: could not read which versions of plugin the registry has, so whether \
             plugin@0.1.0 is to be uploaded can't be known; nothing was uploaded",
        )
        .stderr_has("answered with status 500");
    assert!(uploads(&out.stderr).is_empty(), "{}", out.both());
    assert!(index_entries("base").is_empty());
    // `explain` reads the index as the run does, and says so as the run does.
    repo.shipcrate()
        .arg("explain")
        .registry_target()
        .run()
        .code(1)
        .stdout_has("Decision: publish, but the run would fail")
        .stderr_has(
            "error: could not read which versions of plugin the registry has, so whether \
             plugin@0.1.0 is to be uploaded can't be known",
        );
}

/// `base` 1.0.0 and `plugin` 0.1.0, plugin asking for base through the workspace
/// (`base.workspace = true`) with the workspace's `requirement`.
fn inheriting_workspace(repo: Repo, requirement: &str) -> Repo {
    repo.file(
        "Cargo.toml",
        &format!(
            "[workspace]\nmembers = [\"base\", \"plugin\"]\nresolver = \"2\"\n\
             [workspace.dependencies]\n{}\n",
            path_dep("base", requirement).replace("../base", "base")
        ),
    )
    .file(".gitignore", "/target\n")
    .file("base/Cargo.toml", &manifest("base", "1.0.0"))
    .file("base/src/lib.rs", "pub fn base() -> u32 { 41 }\n")
    .file(
        "plugin/Cargo.toml",
        &format!(
            "{}\n[dependencies]\nbase.workspace = true\n",
            manifest("plugin", "0.1.0")
        ),
    )
    .file(
        "plugin/src/lib.rs",
        "pub fn answer() -> u32 { base::base() + 1 }\n",
    )
}

#[cargo_test]
fn a_requirement_changed_through_the_workspace_is_named_as_a_change_without_a_bump() {
    let _registry = sturdy_registry();
    let repo = inheriting_workspace(Repo::new("repo"), "1.0.0").commit("base 1.0.0, plugin 0.1.0");
    let out = repo.shipcrate().registry_target().run().success();
    assert_eq!(uploads(&out.stderr), ["base", "plugin"], "{}", out.both());

    // The workspace now asks for base `1` (plugin 0.1.0 with it): plugin's own Cargo.toml
    // is untouched, so only the generated one shows the change.
    let repo = inheriting_workspace(repo, "1").commit("any base 1");
    let changed = "plugin@0.1.0 is already published, but the commit's content differs: the \
                   requirement on `base` in Cargo.toml (published 1.0.0, here 1)";
    repo.shipcrate()
        .registry_target()
        .run()
        .success()
        .stderr_has(&format!(
            "warning: {changed}. The code changed without a version bump"
        ))
        .stderr_has("Summary base v1.0.0: already published (the same files as this commit)")
        .stderr_has("nothing to upload");

    // The tag names plugin 0.1.0: not what was released, so the tag was moved.
    repo.tag("plugin-v0.1.0")
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .code(1)
        .stderr_has(&format!("error: {changed}. The tag names this version"));
}

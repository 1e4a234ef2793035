//! End to end: publish to the loopback registry, then build a consumer against it.

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use cargo_test_support::str;

use crate::support::*;

#[cargo_test]
fn publishes_the_commit_and_a_consumer_builds_against_it() {
    let registry = registry();
    let repo = Repo::with_crate("shipped", "1.2.3").tag("v1.2.3");
    let commit = repo.head();
    // Uncommitted edits and untracked files must not reach the package.
    let repo = repo
        .file(
            "src/lib.rs",
            "pub fn answer() -> u32 { 7 } // uncommitted\n",
        )
        .file("src/untracked.rs", "// not committed\n");
    let before = repo.snapshot();

    repo.shipcrate()
        .registry_target()
        .run()
        .success()
        .stderr_has("Publishing shipped v1.2.3 to registry `alternative`")
        .stderr_has("Uploaded shipped v1.2.3");

    repo.assert_unchanged(&before);
    assert!(
        leftovers().is_empty(),
        "temp dirs left behind: {:?}",
        leftovers()
    );

    let entries = index_entries("shipped");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["vers"], "1.2.3");

    let consumer = consume(&registry, "shipped", "1.2.3");
    let lock = std::fs::read_to_string(consumer.join("Cargo.lock")).unwrap();
    let cksum = entries[0]["cksum"].as_str().unwrap();
    assert!(
        lock.contains(&format!("checksum = \"{cksum}\"")),
        "lockfile checksum differs from the index:\n{lock}"
    );

    let files = downloaded_crate(&paths::root().join("consumer-home"), "shipped", "1.2.3");
    assert_eq!(
        files["shipped-1.2.3/src/lib.rs"],
        "pub fn answer() -> u32 { 42 }\n"
    );
    assert!(!files.contains_key("shipped-1.2.3/src/untracked.rs"));
    let vcs: serde_json::Value =
        serde_json::from_str(&files["shipped-1.2.3/.cargo_vcs_info.json"]).unwrap();
    assert_eq!(vcs["git"]["sha1"], commit.as_str());
    assert!(
        vcs["git"].get("dirty").is_none(),
        "package marked dirty: {vcs}"
    );
}

#[cargo_test]
fn a_crate_in_a_subdirectory_via_path() {
    let registry = registry();
    let repo = Repo::new("repo")
        .file("README.md", "monorepo\n")
        .file("rust/lib/Cargo.toml", &manifest("nested", "0.3.0"))
        .file("rust/lib/src/lib.rs", "pub fn answer() -> u32 { 42 }\n")
        .commit("nested crate");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_PATH", "rust/lib")
        .run()
        .success();
    consume(&registry, "nested", "0.3.0");
    let files = downloaded_crate(&paths::root().join("consumer-home"), "nested", "0.3.0");
    let vcs: serde_json::Value =
        serde_json::from_str(&files["nested-0.3.0/.cargo_vcs_info.json"]).unwrap();
    assert_eq!(vcs["path_in_vcs"], "rust/lib");
}

#[cargo_test]
fn an_index_url_instead_of_a_registry_name() {
    let registry = registry();
    let repo = Repo::with_crate("by-url", "0.1.0")
        .file(".shipcrate.yml", "token: ${MY_TOKEN}\n")
        .commit("config");
    repo.shipcrate()
        .env("SHIPCRATE_INDEX", registry.index_url().as_str())
        .env("MY_TOKEN", TOKEN)
        .run()
        .success();
    assert_eq!(index_entries("by-url").len(), 1);
}

/// A registry URL carrying credentials (`user:password@`) is shown without them, in the
/// index error and in the report (every line goes through the masker, which leaves userinfo
/// out: `secret::mask::without_userinfo`, unit-tested).
#[cargo_test]
fn an_index_url_with_credentials_is_shown_without_them() {
    // A user name alone (a token in its place) cargo takes; a password it refuses.
    let with_userinfo = |url: &str| url.replacen("http://", "http://hunter2-userinfo@", 1);
    let with_password = |url: &str| url.replacen("http://", "http://ci:hunter2-password@", 1);
    let report = paths::root().join("report.json");
    let repo = Repo::with_crate("by-secret-url", "0.1.0")
        .file(".shipcrate.yml", "token: ${MY_TOKEN}\n")
        .commit("config");
    // Nothing serves this index: the error names it, without the credentials.
    repo.shipcrate()
        .env(
            "SHIPCRATE_INDEX",
            &with_userinfo("sparse+http://127.0.0.1:9/index/"),
        )
        .env("MY_TOKEN", TOKEN)
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .lacks("hunter2")
        .code(1)
        .stderr_has("http://127.0.0.1:9/index/");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    // A password: refused before the URL is used, as cargo would refuse it, and not shown.
    repo.shipcrate()
        .env(
            "SHIPCRATE_INDEX",
            &with_password("sparse+http://127.0.0.1:9/index/"),
        )
        .env("MY_TOKEN", TOKEN)
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .lacks("hunter2")
        .code(2)
        .stderr_has(
            "the index URL sparse+http://127.0.0.1:9/index/ holds a password, and cargo \
             refuses a registry URL with one",
        );
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    // explain's settings table too.
    repo.shipcrate()
        .arg("explain")
        .env(
            "SHIPCRATE_INDEX",
            &with_userinfo("sparse+http://127.0.0.1:9/index/"),
        )
        .env("MY_TOKEN", TOKEN)
        .run()
        .lacks("hunter2")
        .stdout_has("sparse+http://127.0.0.1:9/index/");
}

#[cargo_test]
fn the_commits_cargo_config_names_the_index_not_an_edit_in_the_checkout() {
    let registry = registry();
    let config = |index: &str| format!("[registries.alternative]\nindex = \"{index}\"\n");
    let repo = Repo::with_crate("configured", "0.1.0")
        .file(".cargo/config.toml", &config(registry.index_url().as_str()))
        .commit("the registry, in the repository's cargo config")
        // Uncommitted: the checkout now points at an index nothing serves. cargo runs in the
        // pristine copy and reads the commit's file, and so must the index pre-check.
        .file(
            ".cargo/config.toml",
            &config("sparse+http://127.0.0.1:9/index/"),
        );
    repo.shipcrate()
        .registry_target()
        .run()
        .success()
        .stderr_has("Plan 1 crate(s) to upload");
    consume(&registry, "configured", "0.1.0");
}

#[cargo_test]
fn dry_run_verifies_lists_hooks_and_uploads_nothing() {
    let _registry = registry();
    let repo = Repo::with_crate("dry", "0.1.0");
    repo.shipcrate()
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("SHIPCRATE_DRY_RUN", "true")
        .env("SHIPCRATE_BEFORE_DEPLOY", "touch before-ran")
        .run()
        .success()
        .stderr_has("Would run before_deploy hook `touch before-ran` (dry run)")
        .stderr_has("aborting upload due to dry run")
        .stderr_has("dry v0.1.0: verified");
    assert!(!repo.root.join("before-ran").exists());
    assert!(index_entries("dry").is_empty());
}

#[cargo_test]
fn hooks_run_in_order_around_the_upload_with_documented_env() {
    let _registry = registry();
    let repo = Repo::with_crate("hooked", "0.1.0").tag("v0.1.0");
    let commit = repo.head();
    let log = paths::root().join("hooks.log");
    let hook = |stage: &str| {
        format!(
            "echo {stage} $SHIPCRATE_COMMIT $SHIPCRATE_CRATES >> {}",
            log.display()
        )
    };
    repo.shipcrate()
        .registry_target()
        .env(
            "INPUT_BEFORE-DEPLOY",
            &format!("{}\n{}", hook("before1"), hook("before2")),
        )
        .env("SHIPCRATE_AFTER_DEPLOY", &hook("after"))
        .run()
        .success();
    let lines: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        lines,
        [
            format!("before1 {commit} hooked@0.1.0"),
            format!("before2 {commit} hooked@0.1.0"),
            format!("after {commit} hooked@0.1.0"),
        ]
    );
}

#[cargo_test]
fn a_failing_before_deploy_publishes_nothing() {
    let _registry = registry();
    let repo = Repo::with_crate("guarded", "0.1.0");
    let report = paths::root().join("report.json");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_BEFORE_DEPLOY", "exit 3")
        .env("SHIPCRATE_AFTER_DEPLOY", "touch after-ran")
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
        Plan 1 crate(s) to upload, in this order:
             guarded v0.1.0: publish
        Note first release of `guarded`: the name is taken for good once uploaded
[VERIFYING] guarded@0.1.0 before uploading any
...
[RUNNING] before_deploy hook `exit 3`
[SUMMARY] guarded v0.1.0: not started (before_deploy failed)
[ERROR] nothing was published: before_deploy hook `exit 3` failed with [EXIT_STATUS] 3

"#]]);
    assert!(index_entries("guarded").is_empty());
    assert!(!repo.root.join("after-ran").exists());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(json["crates"][0]["outcome"], "not-started");
}

#[cargo_test]
fn a_failing_after_deploy_fails_the_run_but_the_report_says_published() {
    let _registry = registry();
    let repo = Repo::with_crate("late", "0.1.0");
    let report = paths::root().join("report.json");
    let outputs = paths::root().join("github_output");
    let summary = paths::root().join("step_summary");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_AFTER_DEPLOY", "false")
        .arg(&format!("--report={}", report.display()))
        .env("GITHUB_OUTPUT", outputs.to_str().unwrap())
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
        Plan 1 crate(s) to upload, in this order:
             late v0.1.0: publish
        Note first release of `late`: the name is taken for good once uploaded
[VERIFYING] late@0.1.0 before uploading any
...
  Publishing late v0.1.0 to registry `alternative`
...
[RUNNING] after_deploy hook `false`
[SUMMARY] late v0.1.0: published
[ERROR] after_deploy hook `false` failed with [EXIT_STATUS] 1

"#]]);
    assert_eq!(index_entries("late").len(), 1);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["crates"][0]["name"], "late");
    assert_eq!(json["crates"][0]["outcome"], "published");
    let outputs = std::fs::read_to_string(outputs).unwrap();
    assert!(
        outputs.contains(r#"[{"name":"late","version":"0.1.0"}]"#),
        "{outputs}"
    );
    assert!(outputs.contains("decision<<"), "{outputs}");
    assert!(
        std::fs::read_to_string(summary)
            .unwrap()
            .contains("| `late` | 0.1.0 | published |")
    );
}

#[cargo_test]
fn allow_dirty_publishes_the_working_tree() {
    let registry = registry();
    let repo = Repo::with_crate("dirty", "0.1.0")
        .file("src/lib.rs", "pub fn answer() -> u32 { 42 } // edited\n");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ALLOW_DIRTY", "true")
        .run()
        .success()
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
[WARNING] `allow_dirty` is set: publishing the working tree as it is, not the commit
       Using cargo [..]
       Token for [..]
        Plan 1 crate(s) to upload, in this order:
             dirty v0.1.0: publish
        Note first release of `dirty`: the name is taken for good once uploaded
[VERIFYING] dirty@0.1.0 before uploading any
...
  Publishing dirty v0.1.0 to registry `alternative`
...
[SUMMARY] dirty v0.1.0: published

"#]]);
    consume(&registry, "dirty", "0.1.0");
    let files = downloaded_crate(&paths::root().join("consumer-home"), "dirty", "0.1.0");
    assert!(files["dirty-0.1.0/src/lib.rs"].contains("// edited"));
}

#[cargo_test]
fn the_verify_build_reuses_the_checkouts_target_dir() {
    let _registry = registry();
    let repo = Repo::with_crate("warm", "0.1.0");
    repo.shipcrate().registry_target().run().success();
    // cargo's verify build ran in the user's target dir, not in the (deleted) temp copy.
    assert!(
        repo.root
            .join("target/package/warm-0.1.0/Cargo.toml.orig")
            .is_file()
    );
}

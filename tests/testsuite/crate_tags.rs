//! A workspace whose crates are released one at a time, each under a tag that names it:
//! `<crate>-v<version>` (cargo-release's default) and `<crate>-<version>` (tokio's,
//! tracing's, tower's), with names that nest (`tokio`, `tokio-util`), a pre-release, a tag
//! that names no member, and a plain version tag.

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

/// `tokio` 1.0.0, `tokio-util` 0.7.0 (needs tokio) and `tokio-macros` 2.0.0-rc.1, each
/// with its own version, as tokio's workspace has them, and `tokio-bench` (`publish =
/// false`).
fn tokio_like() -> Repo {
    Repo::workspace(&["tokio", "tokio-util", "tokio-macros", "tokio-bench"])
        .file(".gitignore", "/target\n")
        .file("tokio/Cargo.toml", &manifest("tokio", "1.0.0"))
        .file("tokio/src/lib.rs", "pub fn spawn() -> u32 { 1 }\n")
        .file(
            "tokio-util/Cargo.toml",
            &format!(
                "{}\n[dependencies]\ntokio = {{ path = \"../tokio\", version = \"1.0.0\", registry = \"alternative\" }}\n",
                manifest("tokio-util", "0.7.0")
            ),
        )
        .file("tokio-util/src/lib.rs", "pub fn util() -> u32 { tokio::spawn() + 1 }\n")
        .file("tokio-macros/Cargo.toml", &manifest("tokio-macros", "2.0.0-rc.1"))
        .file("tokio-macros/src/lib.rs", "")
        .file(
            "tokio-bench/Cargo.toml",
            &format!("{}publish = false\n", manifest("tokio-bench", "0.1.0")),
        )
        .file("tokio-bench/src/lib.rs", "")
        .commit("three crates, each with its own version")
}

/// The repository with `tag` the only tag on its commit.
fn tagged(repo: &Repo, tag: &str) -> Repo {
    let tags = repo.git(&["tag", "--list"]);
    for old in tags.lines() {
        repo.git(&["tag", "-d", old]);
    }
    Repo {
        root: repo.root.clone(),
    }
    .tag(tag)
}

/// A tag build (`on.tags`) of `repo` to the test registry.
fn tag_build(repo: &Repo) -> Run {
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
}

#[cargo_test]
fn each_crate_named_by_its_tag_goes_up_alone_in_either_spelling() {
    let _registry = sturdy_registry();
    let repo = tokio_like();

    // cargo-release's spelling. tokio is new to the registry: the run says so before the
    // upload, and the step summary and the JSON report keep the line.
    let report = paths::root().join("report.json");
    let summary = paths::root().join("step-summary.md");
    let out = tag_build(&tagged(&repo, "tokio-v1.0.0"))
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .run()
        .success()
        .stderr_has("tokio-util v0.7.0: skip: tag `tokio-v1.0.0` names another crate")
        .stderr_has("tokio-macros v2.0.0-rc.1: skip: tag `tokio-v1.0.0` names another crate");
    assert_eq!(uploads(&out.stderr), ["tokio"], "{}", out.both());
    let line = "first release of `tokio`: the name is taken for good once uploaded";
    let said = out
        .stderr
        .find(&format!("        Note {line}\n"))
        .unwrap_or_else(|| panic!("no first-release line\n{}", out.both()));
    assert!(
        said < out.stderr.find("Uploading").unwrap(),
        "{}",
        out.both()
    );
    assert_eq!(
        out.stderr.matches("first release of").count(),
        1,
        "{}",
        out.both()
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        json["first_releases"],
        serde_json::json!([{"name": "tokio", "version": "1.0.0", "line": line}])
    );
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(markdown.contains(&format!("**{line}**\n")), "{markdown}");

    // tokio's own spelling, and a name `tokio` is a prefix of.
    let out = tag_build(&tagged(&repo, "tokio-util-0.7.0"))
        .run()
        .success()
        .stderr_has("tokio v1.0.0: skip: tag `tokio-util-0.7.0` names another crate");
    assert_eq!(uploads(&out.stderr), ["tokio-util"], "{}", out.both());
    assert_eq!(index_entries("tokio").len(), 1);

    // The same tag again: nothing new, nothing first, an empty list in the report.
    tag_build(&tagged(&repo, "tokio-util-0.7.0"))
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success()
        .stderr_has("nothing to upload")
        .lacks("first release");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["first_releases"], serde_json::json!([]));

    // A pre-release in the tag.
    let out = tag_build(&tagged(&repo, "tokio-macros-2.0.0-rc.1"))
        .run()
        .success()
        .stderr_has(
            "        Note first release of `tokio-macros`: the name is taken for good once \
             uploaded\n",
        );
    assert_eq!(uploads(&out.stderr), ["tokio-macros"], "{}", out.both());
    assert_eq!(index_entries("tokio-macros")[0]["vers"], "2.0.0-rc.1");
}

#[cargo_test]
fn a_crate_tag_whose_version_is_not_the_crates_stops_before_any_upload() {
    let _registry = sturdy_registry();
    let repo = tokio_like();
    for (tag, asks, says) in [
        ("tokio-util-0.7.1", "tokio-util 0.7.1", "0.7.0"),
        ("tokio-util-v0.7.1", "tokio-util 0.7.1", "0.7.0"),
        ("tokio-macros-2.0.0", "tokio-macros 2.0.0", "2.0.0-rc.1"),
    ] {
        tag_build(&tagged(&repo, tag))
            .run()
            .code(1)
            .stderr_has(&format!(
                "error: tag `{tag}` asks for {asks}, but its Cargo.toml says {says}: bump the \
                 version (or move the tag) before publishing"
            ));
    }
    for name in ["tokio", "tokio-util", "tokio-macros"] {
        assert!(index_entries(name).is_empty(), "{name} went up");
    }
}

/// The line for a first release on a tag build whose tag names no crate of `tokio_like`.
fn first_of_three(name: &str, version: &str) -> String {
    format!(
        "first release of `{name}`: the name is taken for good once uploaded. No tag of this \
         build names a crate, so the plan is every selected member of the workspace: to release \
         `{name}` alone, tag `{name}-{version}` (or `{name}-v{version}`); to leave it out, add \
         it to `exclude` or set `publish = false` in its Cargo.toml"
    )
}

#[cargo_test]
fn a_tag_that_names_no_member_and_a_plain_version_tag_plan_the_whole_workspace() {
    let _registry = sturdy_registry();
    let repo = tokio_like();
    // `tokio-stream` is no member here, and `stream-0.1.0` is no version: not a crate tag.
    for tag in ["tokio-stream-0.1.0", "v1.0.0", "1.0.0"] {
        tagged(&repo, tag)
            .shipcrate()
            .arg("explain")
            .registry_target()
            .env("SHIPCRATE_ON__TAGS", "true")
            .run()
            .success()
            .stdout_has(&format!("  tags:            {tag}\n"))
            .stdout_has(&format!(
                "Note: {}\n",
                first_of_three("tokio-macros", "2.0.0-rc.1")
            ))
            .stdout_has(&format!(
                "Note: {}\n",
                first_of_three("tokio-util", "0.7.0")
            ))
            .stdout_has(
                "Decision: publish 3 crate(s): tokio@1.0.0, tokio-macros@2.0.0-rc.1, \
                 tokio-util@0.7.0",
            );
    }
    // The run says it too, before anything is uploaded (a dry run here).
    tag_build(&tagged(&repo, "v1.0.0"))
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .success()
        .stderr_has(&format!(
            "        Note {}\n",
            first_of_three("tokio-macros", "2.0.0-rc.1")
        ))
        .stderr_has("tokio-macros v2.0.0-rc.1: verified");
    // A version tag still must be some crate's version.
    tag_build(&tagged(&repo, "v0.9.0"))
        .run()
        .code(1)
        .stderr_has("tag `v0.9.0` is version 0.9.0, but no crate in the plan has that version");
}

#[cargo_test]
fn a_crate_tag_moved_to_other_content_is_refused_whatever_checksum_mismatch_says() {
    let _registry = sturdy_registry();
    let repo = tokio_like();
    tag_build(&tagged(&repo, "tokio-1.0.0")).run().success();
    tag_build(&tagged(&repo, "tokio-util-0.7.0"))
        .run()
        .success();

    // The tag moved to a commit whose tokio-util differs from what was released as 0.7.0.
    let repo = Repo {
        root: repo.root.clone(),
    }
    .file(
        "tokio-util/src/lib.rs",
        "pub fn util() -> u32 { tokio::spawn() + 2 }\n",
    )
    .commit("changed, not bumped");
    tag_build(&tagged(&repo, "tokio-util-0.7.0"))
        .run()
        .code(1)
        .stderr_has(
            "error: tokio-util@0.7.0 is already published, but the commit's content differs: \
             src/lib.rs. The tag names this version",
        );
    // `checksum_mismatch: warn` (the default) changes nothing for the crate the tag names.
    tag_build(&tagged(&repo, "tokio-util-v0.7.0"))
        .env("SHIPCRATE_CHECKSUM_MISMATCH", "warn")
        .run()
        .code(1)
        .stderr_has("The tag names this version");
    // The tag of another member: tokio-util is skipped, not judged; tokio is already there.
    tag_build(&tagged(&repo, "tokio-1.0.0"))
        .run()
        .success()
        .stderr_has("tokio-util v0.7.0: skip: tag `tokio-1.0.0` names another crate")
        .stderr_has("nothing to upload");
    // The moved-tag error offers `check_tag: false`. That turns the tag's checks off, not its
    // choice of crate: tokio-macros, never released, must not go up with it.
    let out = tag_build(&tagged(&repo, "tokio-util-0.7.0"))
        .env("SHIPCRATE_CHECK_TAG", "false")
        .run()
        .success()
        .stderr_has("tokio-macros v2.0.0-rc.1: skip: tag `tokio-util-0.7.0` names another crate")
        .stderr_has(
            "warning: tokio-util@0.7.0 is already published, but the commit's content differs",
        )
        .stderr_has("nothing to upload")
        .lacks("first release");
    assert!(uploads(&out.stderr).is_empty(), "{}", out.both());
    assert!(
        index_entries("tokio-macros").is_empty(),
        "tokio-macros went up"
    );
}

#[cargo_test]
fn a_tag_naming_a_member_that_is_not_published_publishes_nothing() {
    let _registry = sturdy_registry();
    let repo = tokio_like();
    // A member released some other way (`publish = false`), tagged as the others are.
    let out = tag_build(&tagged(&repo, "tokio-bench-v0.1.0"))
        .run()
        .success()
        .stderr_has("tokio-bench v0.1.0: skip: publish = false")
        .stderr_has("tokio v1.0.0: skip: tag `tokio-bench-v0.1.0` names another crate")
        .stderr_has("nothing to upload");
    assert!(uploads(&out.stderr).is_empty(), "{}", out.both());
    // `path` names one member; the tag names another, outside the plan: nothing either.
    let out = tag_build(&tagged(&repo, "tokio-util-0.7.0"))
        .env("SHIPCRATE_PATH", "tokio-macros")
        .run()
        .success()
        .stderr_has("tokio-macros v2.0.0-rc.1: skip: tag `tokio-util-0.7.0` names another crate")
        .stderr_has("nothing to upload");
    assert!(uploads(&out.stderr).is_empty(), "{}", out.both());
    for name in ["tokio", "tokio-util", "tokio-macros", "tokio-bench"] {
        assert!(index_entries(name).is_empty(), "{name} went up");
    }
}

//! A new user's first hour: what `explain`, the command line and the config say when
//! something is missing or wrong (issue #26's list), each as the user sees it.

use cargo_test_support::prelude::*;

use crate::support::*;

/// A GitHub tag push of `repo`'s HEAD tagged `tag`, publishing tag builds to crates.io.
fn github_tag_build(repo: &Repo, tag: &str) -> Run {
    repo.shipcrate()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_REF", &format!("refs/tags/{tag}"))
        .env("GITHUB_SHA", &repo.head())
        .env("GITHUB_REPOSITORY", "acme/widget")
        .env("SHIPCRATE_ON__TAGS", "true")
}

#[cargo_test]
fn explain_without_a_token_says_the_run_would_stop_and_exits_as_it_does() {
    let _crates_io = crates_io_stand_in();
    let repo = Repo::with_crate("widget", "0.1.0").tag("v0.1.0");
    let explained = github_tag_build(&repo, "v0.1.0")
        .arg("explain")
        .run()
        .code(2)
        .stdout_has("Decision: publish, but the run would stop before copying anything");
    let run = github_tag_build(&repo, "v0.1.0").run().code(2);
    // The same error, in the same words, from both; on GitHub, with `trusted_publishing:
    // auto`, it names the permission the job lacks.
    let error = |text: &str| -> String {
        text.lines()
            .find(|l| l.contains("needs a token"))
            .unwrap_or_else(|| panic!("no token error in:\n{text}"))
            .to_owned()
    };
    assert_eq!(error(&explained.stderr), error(&run.stderr));
    assert!(
        error(&run.stderr).contains("`permissions: id-token: write`"),
        "{}",
        run.stderr
    );
    // With trusted publishing off, the permission is no remedy and goes unmentioned.
    let never = github_tag_build(&repo, "v0.1.0")
        .env("SHIPCRATE_TRUSTED_PUBLISHING", "never")
        .arg("explain")
        .run()
        .code(2);
    assert!(
        !error(&never.stderr).contains("id-token"),
        "{}",
        never.stderr
    );
    // A dry run needs no token: explain says what it would verify and exits 0.
    github_tag_build(&repo, "v0.1.0")
        .env("SHIPCRATE_DRY_RUN", "true")
        .arg("explain")
        .run()
        .success()
        .stdout_has("Decision: publish 1 crate(s): widget@0.1.0");
    assert!(index_entries("widget").is_empty());
}

/// cargo's options, typed out of habit: `--token` is answered with where the token goes (its
/// value never shown), `-q` with what to use; `-p`/`--manifest-path`, `-v` and `--color` taken.
#[cargo_test]
fn cargos_options_are_taken_or_answered_with_what_to_use() {
    let _crates_io = crates_io_stand_in();
    let repo = Repo::workspace(&["alpha", "beta"])
        .file("alpha/Cargo.toml", &manifest("alpha", "0.1.0"))
        .file("alpha/src/lib.rs", "")
        .file("beta/Cargo.toml", &manifest("beta", "0.1.0"))
        .file("beta/src/lib.rs", "")
        .commit("two crates");
    for args in [
        &["--token", TOKEN][..],
        &[&format!("--token={TOKEN}")],
        &["explain", "--token", TOKEN],
    ] {
        let mut run = repo.shipcrate();
        for arg in args {
            run = run.arg(arg);
        }
        run.run()
            .code(2)
            .stderr_has("shipcrate takes the token from the environment only, never from argv")
            .stderr_has("`CARGO_REGISTRY_TOKEN`")
            .lacks("--dotenv")
            .lacks(TOKEN);
    }
    for (args, answer) in [
        (&["-q"][..], "`--report PATH`"),
        (&["--quiet"], "`--report PATH`"),
        (
            &["--color", "rainbow"],
            "[possible values: auto, always, never]",
        ),
        (&["--manifest-path", "alpha"], "names a `Cargo.toml`"),
    ] {
        let mut run = repo.shipcrate();
        for arg in args {
            run = run.arg(arg);
        }
        run.run().code(2).stderr_has(answer);
    }
    let plan = |args: &[&str]| -> String {
        let mut run = repo
            .shipcrate()
            .arg("explain")
            .env("CARGO_REGISTRY_TOKEN", TOKEN);
        for arg in args {
            run = run.arg(arg);
        }
        let out = run.run().success();
        let plan = out.stdout.split("\nPlan").nth(1).unwrap_or_default();
        plan.lines()
            .filter(|l| l.contains(": publish") || l.contains(": skip"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let only_beta = plan(&["--packages", "beta"]);
    assert!(
        only_beta.contains("beta v0.1.0: publish") && !only_beta.contains("alpha v0.1.0: publish"),
        "{only_beta}"
    );
    assert_eq!(plan(&["-p", "beta"]), only_beta);
    assert_eq!(plan(&["--package", "beta"]), only_beta);
    let by_path = plan(&["--path", "beta"]);
    assert_eq!(plan(&["--manifest-path", "beta/Cargo.toml"]), by_path);
}

/// `-v` and `--color` go to cargo, as cargo takes them: it shows the commands it runs, in
/// colour; without them, neither.
#[cargo_test]
fn verbose_and_color_are_cargos() {
    let _registry = registry();
    let repo = Repo::with_crate("chatty", "0.1.0");
    let dry_run = |args: &[&str]| {
        repo.shipcrate()
            .registry_target()
            .args(&["--dry-run", "--on-all-branches"])
            .args(args)
            .run()
            .success()
    };
    let out = dry_run(&["-vv", "--color", "always"]);
    assert!(
        out.stderr.contains("`rustc --crate-name chatty"),
        "{}",
        out.both()
    );
    assert!(out.stderr.contains("\u{1b}["), "no colour: {}", out.both());
    let out = dry_run(&["--color=never"]);
    assert!(
        !out.stderr.contains("`rustc --crate-name"),
        "{}",
        out.both()
    );
    assert!(!out.stderr.contains("\u{1b}["), "colour: {}", out.both());
}

/// Edits not committed are named once, with what is published instead; a clean checkout
/// and `allow_dirty` (which publishes them) get no such note.
#[cargo_test]
fn uncommitted_edits_are_named_as_not_published() {
    let _registry = registry();
    let repo = Repo::with_crate("widget", "0.1.0");
    let dry_run = || {
        repo.shipcrate()
            .registry_target()
            .arg("--dry-run")
            .arg("--on-all-branches")
    };
    dry_run().run().success().lacks("uncommitted changes to");
    std::fs::write(repo.root.join("src/lib.rs"), "pub fn edited() {}\n").unwrap();
    dry_run().run().success().stderr_has(
        "Note uncommitted changes to 1 tracked file(s) (`src/lib.rs`) are not published: the \
         commit is, not the working tree",
    );
    dry_run()
        .arg("--allow-dirty")
        .run()
        .success()
        .lacks("uncommitted changes to");
}

/// Configuration mistakes a newcomer makes are exit 2 (bad usage), like every other.
#[cargo_test]
fn a_path_to_no_crate_is_bad_usage() {
    let _registry = registry();
    let repo = Repo::with_crate("widget", "0.1.0");
    for path in ["missing", "src"] {
        repo.shipcrate()
            .registry_target()
            .arg("--dry-run")
            .arg("--on-all-branches")
            .arg("--path")
            .arg(path)
            .run()
            .code(2)
            .stderr_has(&format!(
                "no `Cargo.toml` at `{path}/Cargo.toml` in the commit; set `path` to the crate's directory"
            ));
    }
}

/// What the README says runs a condition: `[[ … ]]` under bash (it holds only there), any
/// other with `sh -c`.
#[cargo_test]
fn a_condition_starting_with_double_brackets_runs_under_bash() {
    let _registry = registry();
    let repo = Repo::with_crate("widget", "0.1.0");
    let decision = |condition: &str| -> String {
        let out = repo
            .shipcrate()
            .registry_target()
            .arg("explain")
            .arg("--on-all-branches")
            .arg("--on-condition")
            .arg(condition)
            .run()
            .success();
        out.stdout
            .lines()
            .find(|l| l.starts_with("Decision:"))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        decision("[[ -n $BASH_VERSION && widget == w* ]]").starts_with("Decision: publish"),
        "a `[[` condition did not run under bash"
    );
    assert!(decision("test \"${0##*/}\" = sh").starts_with("Decision: publish"));
    assert!(decision("[[ -z $BASH_VERSION ]]").starts_with("Decision: skip"));
}

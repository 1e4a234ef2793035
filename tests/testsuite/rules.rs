//! Whether a build publishes, per CI: each rule, pull requests never.

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use cargo_test_support::str;

use crate::support::*;

#[cargo_test]
fn github_pull_request_target_never_publishes() {
    let _registry = registry();
    let repo = Repo::with_crate("gh", "0.1.0");
    let outputs = paths::root().join("out");
    repo.shipcrate()
        .registry_target()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request_target")
        .env("GITHUB_REF", "refs/pull/4/merge")
        .env("GITHUB_SHA", &repo.head())
        .env("GITHUB_OUTPUT", outputs.to_str().unwrap())
        .env("SHIPCRATE_ON__ALL_BRANCHES", "true")
        .run()
        .success()
        .stdout_has("::notice::not publishing: this is a pull-request build");
    assert!(index_entries("gh").is_empty());
    let outputs = std::fs::read_to_string(outputs).unwrap();
    assert!(
        outputs.contains("decision<<") && outputs.contains("\nskip\n"),
        "{outputs}"
    );
}

#[cargo_test]
fn github_tag_push_with_on_tags_publishes() {
    let _registry = registry();
    let repo = Repo::with_crate("ghtag", "0.2.0").tag("v0.2.0");
    repo.shipcrate()
        .registry_target()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_REF", "refs/tags/v0.2.0")
        .env("GITHUB_SHA", &repo.head())
        .env("GITHUB_REPOSITORY", "acme/ghtag")
        .env("INPUT_ON-TAGS", "true")
        .env("INPUT_ON-REPO", "acme/ghtag")
        .env("INPUT_DRY-RUN", "")
        .run()
        .success();
    assert_eq!(index_entries("ghtag").len(), 1);
}

#[cargo_test]
fn a_fork_does_not_publish() {
    let _registry = registry();
    let repo = Repo::with_crate("forked", "0.1.0");
    repo.shipcrate()
        .registry_target()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_REF", "refs/heads/main")
        .env("GITHUB_REPOSITORY", "someone/forked")
        .env("SHIPCRATE_ON__REPO", "acme/forked")
        .env("SHIPCRATE_ON__BRANCH", "main")
        .run()
        .success()
        .stderr_has("this repository is `someone/forked`, not `acme/forked`");
    assert!(index_entries("forked").is_empty());
}

#[cargo_test]
fn gitlab_merge_request_never_publishes_and_tag_pipeline_does() {
    let _registry = registry();
    let repo = Repo::with_crate("gl", "1.0.0").tag("v1.0.0");
    let gitlab = |run: Run| {
        run.registry_target()
            .env("GITLAB_CI", "true")
            .env("CI_COMMIT_SHA", &repo.head())
            .env("CI_PROJECT_PATH", "group/gl")
            .env("CI_DEFAULT_BRANCH", "main")
            .env("SHIPCRATE_ON__TAGS", "true")
    };
    gitlab(repo.shipcrate())
        .env("CI_PIPELINE_SOURCE", "merge_request_event")
        .env("CI_MERGE_REQUEST_IID", "12")
        .env("CI_COMMIT_TAG", "v1.0.0")
        .run()
        .success()
        .stderr_eq(str![[r#"
        Note not publishing: this is a pull-request build (CI_MERGE_REQUEST_IID=12), and code not yet merged never publishes

"#]]);
    assert!(index_entries("gl").is_empty());
    gitlab(repo.shipcrate())
        .env("CI_PIPELINE_SOURCE", "push")
        .env("CI_COMMIT_TAG", "v1.0.0")
        .run()
        .success();
    assert_eq!(index_entries("gl").len(), 1);
}

#[cargo_test]
fn travis_publishes_only_from_master_by_default() {
    let _registry = registry();
    let repo = Repo::with_crate("tr", "0.1.0");
    let travis = |branch: &str| {
        repo.shipcrate()
            .registry_target()
            .env("TRAVIS", "true")
            .env("TRAVIS_BRANCH", branch)
            .env("TRAVIS_PULL_REQUEST", "false")
            .env("TRAVIS_COMMIT", &repo.head())
            .env("TRAVIS_REPO_SLUG", "acme/tr")
    };
    travis("main")
        .run()
        .success()
        .stderr_has("branch `main` is not permitted to publish; only `master`");
    assert!(index_entries("tr").is_empty());
    travis("master")
        .env("TRAVIS_PULL_REQUEST", "7")
        .run()
        .success()
        .stderr_eq(str![[r#"
        Note not publishing: this is a pull-request build (TRAVIS_PULL_REQUEST=7), and code not yet merged never publishes

"#]]);
    assert!(index_entries("tr").is_empty());
    travis("master").run().success();
    assert_eq!(index_entries("tr").len(), 1);
}

#[cargo_test]
fn plain_git_default_branch_branch_list_and_condition() {
    let _registry = registry();
    let repo = Repo::with_crate("plain", "0.1.0");
    repo.git(&["checkout", "--quiet", "-b", "feature"]);
    repo.shipcrate()
        .registry_target()
        .run()
        .success()
        .stderr_has("branch `feature` is not permitted");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__BRANCH", "feature")
        .env("SHIPCRATE_ON__CONDITION", "test -n \"$RELEASE\"")
        .run()
        .success()
        .stderr_has("`on.condition` `test -n \"$RELEASE\"` did not hold (exit status 1)");
    assert!(index_entries("plain").is_empty());
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__BRANCH", "feature")
        .env("SHIPCRATE_ON__CONDITION", "test -n \"$RELEASE\"")
        .env("RELEASE", "1")
        .run()
        .success();
    assert_eq!(index_entries("plain").len(), 1);
}

#[cargo_test]
fn unknown_ci_warns_that_pull_requests_cannot_be_told_apart() {
    let _registry = registry();
    let repo = Repo::with_crate("unknownci", "0.1.0");
    repo.shipcrate()
        .registry_target()
        .env("CI", "true")
        .env("SHIPCRATE_DRY_RUN", "1")
        .run()
        .success()
        .stderr_eq(str![[r#"
[WARNING] CI=true but no CI service was recognised: shipcrate cannot tell a pull-request build from any other here. Guard publishing with `on.condition` (for example a check of your CI's pull-request variable)
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
        Plan 1 crate(s) to upload, in this order:
             unknownci v0.1.0: publish
        Note first release of `unknownci`: the name is taken for good once uploaded
[VERIFYING] unknownci@0.1.0 (dry run)
...
[SUMMARY] unknownci v0.1.0: verified (dry run, not uploaded)

"#]]);
}

#[cargo_test]
fn explain_shows_sources_context_and_decision_and_changes_nothing() {
    let _registry = registry();
    let repo = Repo::with_crate("explained", "0.1.0")
        .file(
            ".shipcrate.yml",
            "on:\n  tags: true\nregistry: alternative\n",
        )
        .commit("config");
    let before = repo.snapshot();
    repo.shipcrate()
        .arg("explain")
        .env("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", TOKEN)
        .env("SHIPCRATE_DRY_RUN", "true")
        .env("INPUT_LOCKED", "true")
        .arg("--no-verify")
        .run()
        .success()
        .stdout_eq(str![[r#"
Configuration (file: [ROOT]/repo/.shipcrate.yml):
...
  dry_run                 true                      (env `SHIPCRATE_DRY_RUN`)
  no_verify               true                      (flag `--no-verify`)
  locked                  true                      (input `locked`)
...
  on.tags                 true                      (.shipcrate.yml: on.tags)
...
  token resolves to: *** from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`

Build (plain git):
...
  branch:          main
...
  pull request:    false
...
Plan (registry `alternative`, in this order):
    1. explained v0.1.0: publish

Note: first release of `explained`: the name is taken for good once uploaded

Decision: skip: this is not a tagged commit (`on.tags: true`)

"#]])
        .lacks(TOKEN);
    repo.assert_unchanged(&before);
    assert!(index_entries("explained").is_empty());
}

/// `$GITHUB_OUTPUT` as the runner reads it: `name<<DELIMITER`, the value's lines, then the
/// delimiter alone on a line.
fn read_outputs(text: &str) -> (Vec<String>, std::collections::BTreeMap<String, String>) {
    let mut delimiters = Vec::new();
    let mut values = std::collections::BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delimiter) = line.split_once("<<").expect("a `name<<delimiter` line");
        let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
        delimiters.push(delimiter.to_owned());
        values.insert(name.to_owned(), value.join("\n"));
    }
    (delimiters, values)
}

#[cargo_test]
fn github_outputs_use_a_random_delimiter_per_run() {
    let repo = Repo::with_crate("delim", "0.1.0");
    let run = |n: u32| {
        let outputs = paths::root().join(format!("out-{n}"));
        repo.shipcrate()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_REF", "refs/heads/feature")
            .env("GITHUB_SHA", &repo.head())
            .env("GITHUB_OUTPUT", outputs.to_str().unwrap())
            .run()
            .success();
        read_outputs(&std::fs::read_to_string(outputs).unwrap())
    };
    let (first, values) = run(1);
    let (second, _) = run(2);
    assert_eq!(values["decision"], "skip");
    assert!(values["skip-reason"].contains("feature"), "{values:?}");
    // One delimiter per run, unguessable (as actions/toolkit's `ghadelimiter_<uuid>`), and
    // different the next time.
    assert!(first.iter().all(|d| *d == first[0]));
    let hex = first[0].strip_prefix("ghadelimiter_").unwrap();
    assert!(
        hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "{}",
        first[0]
    );
    assert_ne!(first[0], second[0]);
}

/// The step summary as GitHub renders it (`CommonMark` with GFM tables): its text, with `<br>`
/// as a line break, and every element that is not plain text, a heading or a `<br>`.
fn rendered(markdown: &str) -> (String, Vec<String>) {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut text = String::new();
    let mut markup = Vec::new();
    for event in Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    ) {
        match event {
            Event::Text(t) => text += &t,
            Event::InlineHtml(html) if &*html == "<br>" => text += "\n",
            Event::SoftBreak | Event::HardBreak => text += "\n",
            Event::Start(Tag::Heading { .. } | Tag::Paragraph)
            | Event::End(TagEnd::Heading(_) | TagEnd::Paragraph) => {}
            other => markup.push(format!("{other:?}")),
        }
    }
    (text, markup)
}

#[cargo_test]
fn a_hostile_branch_name_is_text_in_the_summary_the_annotation_and_the_outputs() {
    let repo = Repo::with_crate("esc", "0.1.0");
    let branch = "x`y<b>bold</b>](https://evil.example)|cell|\n# heading\n::error::fake";
    let summary = paths::root().join("summary.md");
    let outputs = paths::root().join("out");
    let out = repo
        .shipcrate()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_REF", &format!("refs/heads/{branch}"))
        .env("GITHUB_SHA", &repo.head())
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .env("GITHUB_OUTPUT", outputs.to_str().unwrap())
        .run()
        .success();
    let (_, values) = read_outputs(&std::fs::read_to_string(&outputs).unwrap());
    // The output is data: the reason as it is, newlines and all.
    let reason = &values["skip-reason"];
    assert!(
        reason.starts_with(&format!("branch `{branch}` is not permitted")),
        "{reason}"
    );

    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(
        markdown,
        "### shipcrate\n\nNothing published: branch \\`x\\`y\\<b\\>bold\\</b\\>\\]\\(https://evil.example\\)\\|cell\\|<br># heading<br>::error::fake\\` is not permitted to publish; only \\`main\\` \\(the default branch\\).\n"
    );
    let (text, markup) = rendered(&markdown);
    assert_eq!(text, format!("shipcrateNothing published: {reason}."));
    assert!(markup.is_empty(), "rendered as more than text: {markup:?}");

    // One annotation, on one line, whose data is the whole message; no other command.
    let stdout = &out.stdout;
    let commands: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("::"))
        .collect();
    assert_eq!(commands.len(), 1, "{stdout}");
    assert!(commands[0].starts_with("::notice::not publishing: branch `x`y<b>bold</b>](https://evil.example)|cell|%0A# heading%0A::error::fake` is not permitted"), "{stdout}");
    // The human line on stderr (the runner reads commands there too) holds none.
    let stderr = &out.stderr;
    assert!(
        stderr.lines().all(|l| !l.trim_start().starts_with("::")),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n: :error::fake` is not permitted"),
        "{stderr}"
    );
}

//! Hostile and careless input, each a real run: a real registry, real git, real signals.
//! Each test asserts what a user sees, and that nothing was published or leaked.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use cargo_test_support::registry::Response;
use cargo_test_support::str;

use crate::support::*;

/// Credentials a CI job may carry besides the registry token: none may reach a build script.
const CI_CREDENTIALS: &[(&str, &str)] = &[
    ("CARGO_REGISTRY_TOKEN", "crates-io-token-9d2e"),
    ("CARGO_TOKEN", "travis-cargo-token-41ac"),
    ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "oidc-request-bearer-77f0"),
    (
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "http://127.0.0.1:9/oidc?request-id-5c1b",
    ),
    ("ACTIONS_RUNTIME_TOKEN", "actions-runtime-token-3e8d"),
    ("CI_JOB_TOKEN", "glcbt-job-token-0b6f"),
    // GitLab's clone URL carries the job token.
    (
        "CI_REPOSITORY_URL",
        "https://gitlab-ci-token:glcbt-job-token-0b6f@gitlab.example/g/p.git",
    ),
    (
        "CRATES_IO_ID_TOKEN",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6Zy9wIn0.c2lnbmF0dXJl",
    ),
    ("GITHUB_TOKEN", "ghs-github-token-2a9c"),
];

/// What hooks keep for release steps in `after_deploy`.
const KEPT_FOR_HOOKS: &[&str] = &[
    "ACTIONS_RUNTIME_TOKEN",
    "CI_JOB_TOKEN",
    "CI_REPOSITORY_URL",
    "GITHUB_TOKEN",
];

/// A crate whose build script writes its environment and argv to `probe/<pid>`, as a hostile
/// dependency would send them home.
fn probe_crate(name: &str, version: &str) -> Repo {
    let probe = probe_dir();
    Repo::new("repo")
        .file("Cargo.toml", &manifest(name, version))
        .file("src/lib.rs", "pub fn answer() -> u32 { 42 }\n")
        .file(".gitignore", "/target\n")
        .file(
            "build.rs",
            &format!(
                "fn main() {{\n    let mut seen = String::new();\n    \
                 for (k, v) in std::env::vars_os() {{\n        \
                 seen.push_str(&format!(\"{{}}={{}}\\n\", k.to_string_lossy(), v.to_string_lossy()));\n    }}\n    \
                 for a in std::env::args_os() {{ seen.push_str(&format!(\"ARG {{}}\\n\", a.to_string_lossy())); }}\n    \
                 std::fs::write(format!(\"{}/{{}}\", std::process::id()), seen).unwrap();\n}}\n",
                probe.display()
            ),
        )
        .commit("initial")
}

fn probe_dir() -> PathBuf {
    let dir = paths::root().join("probe");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every build script run so far, as the text it wrote.
fn probes() -> Vec<String> {
    std::fs::read_dir(probe_dir())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect()
}

fn bump(repo: Repo, name: &str, version: &str) -> Repo {
    repo.file("Cargo.toml", &manifest(name, version))
        .commit(version)
}

/// Assert no secret (by value) and no credential variable (by name) is in `text`.
#[track_caller]
fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} holds {secret:?}:\n{text}");
    }
    for line in text.lines() {
        let name = line.split('=').next().unwrap_or_default();
        assert!(
            !(name.ends_with("_TOKEN") || name.starts_with("ACTIONS_ID_TOKEN")),
            "{what} has the variable {name}:\n{text}"
        );
    }
}

/// `secret` appears nowhere in what the run printed but GitHub's `::add-mask::` commands,
/// which the runner itself hides.
#[track_caller]
fn assert_unleaked(out: &Outcome, secret: &str) {
    let printed = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .chain(out.stderr.lines());
    for line in printed {
        assert!(
            !line.contains(secret),
            "{secret:?} printed: {line}\n{}",
            out.both()
        );
    }
}

#[cargo_test]
fn no_token_reaches_a_build_script_or_a_hook_from_any_source() {
    let _registry = registry();
    let mut repo = probe_crate("probed", "0.0.1");
    let hook_log = paths::root().join("hooks");
    std::fs::create_dir_all(&hook_log).unwrap();
    // Each way a token can be given: cargo's variable for the registry, the `token` key naming
    // a variable (from env and from a GitHub input), with every CI credential beside it.
    let sources: &[&[(&str, &str)]] = &[
        &[("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", TOKEN)],
        &[
            ("SHIPCRATE_TOKEN", "${PUBLISH_SECRET}"),
            ("PUBLISH_SECRET", TOKEN),
        ],
        &[
            ("INPUT_TOKEN", "$PUBLISH_SECRET"),
            ("PUBLISH_SECRET", TOKEN),
        ],
    ];
    let mut secrets: Vec<&str> = CI_CREDENTIALS.iter().map(|(_, v)| *v).collect();
    secrets.push(TOKEN);
    let shims = shims();
    for (i, source) in sources.iter().enumerate() {
        let version = format!("0.{}.0", i + 1);
        repo = bump(repo, "probed", &version);
        for dry_run in [true, false] {
            let hook = format!("env > {}/{i}-$SHIPCRATE_STAGE", hook_log.display());
            let mut run = repo
                .shipcrate()
                .path_prefix(&shims)
                .env("SHIPCRATE_REGISTRY", "alternative")
                .env("SHIPCRATE_BEFORE_DEPLOY", &hook)
                .env("SHIPCRATE_AFTER_DEPLOY", &hook)
                .env("SHIPCRATE_DRY_RUN", if dry_run { "true" } else { "false" });
            for (k, v) in CI_CREDENTIALS.iter().chain(source.iter()) {
                run = run.env(k, v);
            }
            let out = run.run().success();
            for secret in &secrets {
                assert!(!out.both().contains(secret), "{secret}: {}", out.both());
            }
        }
        let listed: Vec<String> = index_entries("probed")
            .iter()
            .map(|e| e["vers"].as_str().unwrap().to_owned())
            .collect();
        assert!(listed.contains(&version), "{source:?}: {listed:?}");
    }

    // Every build script ran (a dry run and an upload's verify for each source), none saw
    // any credential.
    let seen = probes();
    assert!(
        seen.len() >= sources.len(),
        "{} build script runs",
        seen.len()
    );
    for text in &seen {
        assert_clean("a build script's environment or argv", text, &secrets);
    }

    assert_hooks_hold_only_the_cis_credentials(&hook_log, sources.len() * 2);
    assert_eq!(
        uploads_alone_hold_the_token(&shims, &secrets),
        sources.len()
    );
}

/// Hooks ran on the real publishes only (`runs` of them, in `hook_log`): no registry token, no
/// OIDC request credential, but the CI's own credentials for release steps.
#[track_caller]
fn assert_hooks_hold_only_the_cis_credentials(hook_log: &Path, runs: usize) {
    let hooks: Vec<PathBuf> = std::fs::read_dir(hook_log)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(hooks.len(), runs, "{hooks:?}");
    for hook in &hooks {
        let text = std::fs::read_to_string(hook).unwrap();
        for (name, value) in CI_CREDENTIALS {
            let kept = KEPT_FOR_HOOKS.contains(name);
            assert_eq!(
                text.contains(value),
                kept,
                "{name} in {}: {text}",
                hook.display()
            );
        }
        assert!(
            !text.contains(TOKEN),
            "the registry token in a hook: {text}"
        );
    }
}

/// Every child shipcrate started (as the `shims` recorded it): only the upload — `cargo publish
/// --no-verify`, which builds nothing — holds the token, and only in the registry's own
/// variable. Gives how many uploads there were.
#[track_caller]
fn uploads_alone_hold_the_token(shims: &Path, secrets: &[&str]) -> usize {
    shim_records(shims)
        .into_iter()
        .filter(|(tool, argv, env)| {
            let upload = tool == "cargo"
                && argv.first().is_some_and(|a| a == "publish")
                && !argv.iter().any(|a| a == "--dry-run");
            if upload {
                assert!(argv.iter().any(|a| a == "--no-verify"), "{argv:?}");
                let holding: Vec<&str> = env.lines().filter(|l| l.contains(TOKEN)).collect();
                assert_eq!(
                    holding,
                    [format!("CARGO_REGISTRIES_ALTERNATIVE_TOKEN={TOKEN}")]
                );
                let others: Vec<&str> = secrets.iter().copied().filter(|s| *s != TOKEN).collect();
                let rest: String = env
                    .lines()
                    .filter(|l| !l.contains(TOKEN))
                    .map(|l| format!("{l}\n"))
                    .collect();
                assert_clean("the upload's environment", &rest, &others);
            } else if tool == "sh" {
                // Hooks: the CI's own credentials stay.
                let kept: Vec<&str> = CI_CREDENTIALS
                    .iter()
                    .filter(|(k, _)| KEPT_FOR_HOOKS.contains(k))
                    .map(|(_, v)| *v)
                    .collect();
                let others: Vec<&str> = secrets
                    .iter()
                    .copied()
                    .filter(|s| !kept.contains(s))
                    .collect();
                for secret in others {
                    assert!(!env.contains(secret), "sh {argv:?} holds {secret}");
                }
            } else {
                assert_clean(&format!("{tool} {argv:?}"), env, secrets);
            }
            assert!(!argv.join(" ").contains(TOKEN), "token in argv: {argv:?}");
            upload
        })
        .count()
}

#[cargo_test]
fn an_auth_required_registry_is_read_without_the_token_in_any_build() {
    let _registry = sturdy(registry_builder().auth_required());
    let repo = probe_crate("guarded", "0.1.0");
    for dry_run in ["true", "false"] {
        repo.shipcrate()
            .registry_target()
            .env("SHIPCRATE_DRY_RUN", dry_run)
            .run()
            .success()
            .lacks(TOKEN);
    }
    assert_eq!(index_entries("guarded").len(), 1);
    let seen = probes();
    assert!(!seen.is_empty());
    for text in &seen {
        assert_clean("a build script's environment or argv", text, &[TOKEN]);
    }
    // The credential provider's file went with the verify build.
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

#[cargo_test]
fn a_refusal_saying_already_exists_is_a_failure_unless_the_index_lists_it() {
    let _registry = sturdy(registry_builder()
        .add_responder("/api/v1/crates/new", |_, _| Response {
            code: 403,
            headers: vec![],
            body: br#"{"errors":[{"detail":"crate `liar@0.1.0` already exists, and you are not an owner"}]}"#
                .to_vec(),
        })
        );
    let repo = Repo::with_crate("liar", "0.1.0");
    let report = paths::root().join("report.json");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_INDEX_TIMEOUT", "3")
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
        Plan 1 crate(s) to upload, in this order:
             liar v0.1.0: publish
        Note first release of `liar`: the name is taken for good once uploaded
[VERIFYING] liar@0.1.0 before uploading any
...
  Publishing liar v0.1.0 to registry `alternative`
...
[WAITING] for liar@0.1.0 to appear in sparse+http://127.0.0.1:[..]/index/
[SUMMARY] liar v0.1.0: failed ([..]: crate `liar@0.1.0` already exists, and you are not an owner — the registry says this version exists, but its index does not list it within 3s)
[ERROR] publishing liar@0.1.0 failed; published: nothing; failed: liar v0.1.0; not started: nothing

"#]]);
    assert!(index_entries("liar").is_empty());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["crates"][0]["outcome"], "failed");
}

#[cargo_test]
fn no_pull_request_build_publishes_whatever_the_config() {
    let _registry = registry();
    let repo = Repo::with_crate("prbuild", "0.1.0");
    let github = |event: &str, reference: &str| {
        vec![
            ("GITHUB_ACTIONS", event.to_owned()),
            ("GITHUB_EVENT_NAME", event.to_owned()),
            ("GITHUB_REF", reference.to_owned()),
        ]
    };
    let mut cases: Vec<Vec<(&str, String)>> = [
        "pull_request",
        "pull_request_target",
        "pull_request_review",
        "pull_request_review_comment",
    ]
    .iter()
    .map(|event| github(event, "refs/pull/1/merge"))
    .collect();
    // A PR ref is a PR build whatever the event says.
    cases.push(github("workflow_run", "refs/pull/2/head"));
    // A merge queue's group, as the event and as the push of its branch.
    cases.push(github(
        "merge_group",
        "refs/heads/gh-readonly-queue/main/pr-3-f00",
    ));
    cases.push(github("push", "refs/heads/gh-readonly-queue/main/pr-3-f00"));
    cases.push(vec![
        ("GITLAB_CI", "true".into()),
        ("CI_PIPELINE_SOURCE", "merge_request_event".into()),
        ("CI_MERGE_REQUEST_EVENT_TYPE", "merge_train".into()),
        ("CI_MERGE_REQUEST_IID", "4".into()),
    ]);
    cases.push(vec![
        ("BUILDKITE", "true".into()),
        ("BUILDKITE_BRANCH", "gh-readonly-queue/main/pr-3-f00".into()),
        ("BUILDKITE_MERGE_QUEUE_BASE_BRANCH", "main".into()),
        ("BUILDKITE_PULL_REQUEST", "false".into()),
    ]);
    cases.push(vec![
        ("GITLAB_CI", "true".into()),
        ("CI_PIPELINE_SOURCE", "external_pull_request_event".into()),
        ("CI_COMMIT_BRANCH", "topic".into()),
    ]);
    cases.push(vec![
        ("GITLAB_CI", "true".into()),
        ("CI_PIPELINE_SOURCE", "merge_request_event".into()),
    ]);
    cases.push(vec![
        ("TRAVIS", "true".into()),
        ("TRAVIS_BRANCH", "main".into()),
        ("TRAVIS_PULL_REQUEST", "7".into()),
    ]);
    cases.push(vec![
        ("DRONE", "true".into()),
        ("DRONE_COMMIT_REF", "refs/pull/5/head".into()),
    ]);
    for case in &cases {
        let mut run = repo
            .shipcrate()
            .registry_target()
            .arg("--on-all-branches")
            .env("SHIPCRATE_BEFORE_DEPLOY", "touch hook-ran");
        for (k, v) in case {
            // GITHUB_ACTIONS is "true" for every GitHub case.
            let v = if *k == "GITHUB_ACTIONS" { "true" } else { v };
            run = run.env(k, v);
        }
        let out = run
            .run()
            .success()
            .stderr_has("not publishing: this is a pull-request build");
        assert_unleaked(&out, TOKEN);
        assert!(index_entries("prbuild").is_empty(), "{case:?} published");
        assert!(!repo.root.join("hook-ran").exists(), "{case:?} ran a hook");
    }
    // `explain` says the same.
    repo.shipcrate()
        .arg("explain")
        .arg("--on-all-branches")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request_review")
        .env("GITHUB_REF", "refs/pull/1/merge")
        .run()
        .success()
        .stdout_has("pull request:    true")
        .stdout_has("Decision: skip");
}

#[cargo_test]
fn a_ci_seen_without_its_pull_request_variables_publishes_no_branch() {
    // A `docker run` that passed the CI's name and refs but not the variable it sets on every
    // build to say whether it is a pull request's: a PR's build looks like a push here
    // (`pull_request_target` and `workflow_run` even run on the base branch's ref).
    let _registry = registry();
    let repo = Repo::with_crate("partial", "0.1.0");
    type Vars = &'static [(&'static str, &'static str)];
    let cases: [(&str, &str, Vars); 3] = [
        (
            "GitHub Actions",
            "GITHUB_EVENT_NAME",
            &[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_REF", "refs/heads/main"),
            ],
        ),
        (
            "Buildkite",
            "BUILDKITE_PULL_REQUEST",
            &[("BUILDKITE", "true"), ("BUILDKITE_BRANCH", "main")],
        ),
        (
            "Azure Pipelines",
            "BUILD_REASON",
            &[
                ("TF_BUILD", "True"),
                ("BUILD_SOURCEBRANCH", "refs/heads/main"),
            ],
        ),
    ];
    for (ci, unseen, vars) in cases {
        let mut run = repo
            .shipcrate()
            .registry_target()
            .arg("--on-all-branches")
            .env("SHIPCRATE_BEFORE_DEPLOY", "touch hook-ran");
        for (k, v) in vars {
            run = run.env(k, v);
        }
        let out = run
            .run()
            .success()
            .stderr_has(&format!(
                "but not `{unseen}`, which {ci} sets on every build"
            ))
            .stderr_has(&format!(
                "not publishing: {ci} does not show `{unseen}` here, so this may be a \
                 pull-request build"
            ));
        println!("{}", out.both());
        assert!(index_entries("partial").is_empty(), "{ci} published");
        assert!(!repo.root.join("hook-ran").exists(), "{ci} ran a hook");
    }
    // Passed in, it is read: a push to a branch publishes.
    repo.shipcrate()
        .registry_target()
        .arg("--on-all-branches")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REF", "refs/heads/main")
        .env("GITHUB_EVENT_NAME", "push")
        .run()
        .success()
        .lacks("sets on every build");
    assert_eq!(index_entries("partial").len(), 1);
}

#[cargo_test]
fn a_checkout_at_another_commit_than_the_ci_built_publishes_nothing() {
    // `workflow_run` checking out a pull request's head, or `workflow_dispatch` checking out a
    // tag: the CI built one commit, the checkout is at another, whose `.shipcrate.yml` and
    // hooks would govern the release of the first.
    let _registry = registry();
    let repo = Repo::with_crate("moved", "0.1.0");
    let built = repo.head();
    let repo = repo
        .file(".shipcrate.yml", "before_deploy: touch hook-ran\n")
        .commit("settings the built commit doesn't have");
    let github = |sha: &str| {
        repo.shipcrate()
            .registry_target()
            .arg("--on-all-branches")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "workflow_run")
            .env("GITHUB_REF", "refs/heads/main")
            .env("GITHUB_SHA", sha)
    };
    let said = format!(
        "GitHub Actions built commit {}, but the checkout is at {}",
        &built[..12],
        &repo.head()[..12]
    );
    github(&built)
        .run()
        .code(2)
        .stderr_has(&said)
        .stderr_has("`actions/checkout` without `ref:`");
    assert!(index_entries("moved").is_empty());
    assert!(!repo.root.join("hook-ran").exists(), "a hook ran");
    // A dry run says so and goes on; the CI's commit, checked out, publishes.
    github(&built)
        .arg("--dry-run")
        .run()
        .success()
        .stderr_has(&said);
    github(&repo.head())
        .run()
        .success()
        .lacks("but the checkout is at");
    assert_eq!(index_entries("moved").len(), 1);
    assert!(repo.root.join("hook-ran").exists());
}

#[cargo_test]
fn add_mask_data_is_escaped_as_the_runner_unescapes_it() {
    // The runner reads `%25`, `%0D`, `%0A` in a command's data as `%`, CR, LF
    // (actions/runner ActionCommand.cs; actions/toolkit's setSecret escapes them): a token
    // holding `%0A` printed raw would be registered as two other strings, itself unmasked.
    let token = "tok%0Aen-5d1f3c9a8b";
    let repo = Repo::with_crate("percent", "0.1.0");
    let out = repo
        .shipcrate()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_REF", "refs/pull/1/merge")
        .env("CARGO_REGISTRY_TOKEN", token)
        .run();
    let masks: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::add-mask::"))
        .collect();
    // The token, and its percent-encoded form (`%` → `%25`), each escaped once more.
    assert!(
        masks.contains(&"::add-mask::tok%250Aen-5d1f3c9a8b")
            && masks.contains(&"::add-mask::tok%25250Aen-5d1f3c9a8b"),
        "{masks:?}\n{}",
        out.both()
    );
    assert!(!masks.iter().any(|m| m.contains("tok%0A")), "{masks:?}");
}

#[cargo_test]
fn a_two_line_token_is_masked_line_by_line_on_github() {
    // A registry that echoes the Authorization header back, as a broken or hostile one may.
    let server = echo_server();
    let (first, second) = ("first-line-7c2e1a", "second-line-b94f03");
    let repo = Repo::with_crate("twoline", "0.1.0");
    let out = repo
        .shipcrate()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_REF", "refs/heads/main")
        .env("SHIPCRATE_REGISTRY", "echo")
        .env(
            "CARGO_REGISTRIES_ECHO_INDEX",
            &format!("sparse+{}/index/", server.url()),
        )
        .env("SHIPCRATE_TOKEN", "${TWO_LINES}")
        .env("TWO_LINES", &format!("{first}\n{second}"))
        .env("SHIPCRATE_BEFORE_DEPLOY", "true")
        .run();
    // Each line registered with GitHub on its own, before anything else is printed.
    let masks: Vec<&str> = out
        .stdout
        .lines()
        .take_while(|l| l.starts_with("::add-mask::"))
        .collect();
    assert!(
        masks.contains(&format!("::add-mask::{first}").as_str()),
        "{masks:?}"
    );
    assert!(
        masks.contains(&format!("::add-mask::{second}").as_str()),
        "{masks:?}"
    );
    let rest: Vec<&str> = out
        .stdout
        .lines()
        .skip(masks.len())
        .chain(out.stderr.lines())
        .collect();
    for line in &rest {
        assert!(
            !line.contains(first) && !line.contains(second),
            "a line of the token printed raw: {line}\n{}",
            out.both()
        );
    }
    // No registry token holds a line break (cargo refuses one too, "token contains invalid
    // characters"): refused before anything is copied or built, without echoing it.
    out.code(2).stderr_has(
        "the token from `$TWO_LINES` (via `token`, env `SHIPCRATE_TOKEN`) holds whitespace or control \
         characters inside it",
    );
}

#[cargo_test]
fn a_literal_token_is_refused_however_the_tracked_file_is_named() {
    let _registry = registry();
    let literal = "cio-literal-token-5e7a";
    let repo = Repo::with_crate("leaky", "0.1.0")
        .file(
            ".shipcrate.yml",
            &format!("token: {literal}\nregistry: alternative\n"),
        )
        .file("sub/README", "a directory to walk out of\n")
        .commit("oops");
    std::os::unix::fs::symlink(".shipcrate.yml", repo.root.join("link.yml")).unwrap();
    std::os::unix::fs::symlink("../.shipcrate.yml", repo.root.join("sub/inner.yml")).unwrap();
    for config in [
        "sub/../.shipcrate.yml",
        "link.yml",
        "sub/inner.yml",
        "./.shipcrate.yml",
    ] {
        let out = repo
            .shipcrate()
            .arg("--config")
            .arg(config)
            .run()
            .code(2)
            .stderr_has("is a literal token in a file git tracks")
            .stderr_has("revoke it");
        assert_unleaked(&out, literal);
    }
    // An absolute path to it, from the environment.
    repo.shipcrate()
        .env(
            "SHIPCRATE_CONFIG",
            repo.root.join("sub/../link.yml").to_str().unwrap(),
        )
        .run()
        .code(2)
        .stderr_has("is a literal token in a file git tracks");
    assert!(index_entries("leaky").is_empty());
}

#[cargo_test]
fn a_dollar_token_that_names_no_variable_is_refused_when_a_token_is_needed() {
    let _registry = registry();
    let repo = Repo::with_crate("dollar", "0.1.0")
        .file(
            ".shipcrate.yml",
            "token: $ghp-literal-123\nregistry: alternative\n",
        )
        .commit("config");
    repo.shipcrate()
        .run()
        .code(2)
        .stderr_eq(str![[r#"
[ERROR] `token` (.shipcrate.yml: token) starts with `$` but is not a variable reference: write `$NAME` or `${NAME}`, where NAME (letters, digits, `_`) is the variable holding the token. If what you wrote is the token itself, treat it as leaked and revoke it

"#]])
        .lacks("ghp-literal-123");
    assert!(index_entries("dollar").is_empty());
    // `${…}` with a name no variable can have, from an input.
    repo.shipcrate()
        .env("INPUT_TOKEN", "${CARGO-TOKEN}")
        .run()
        .code(2)
        .stderr_eq(str![[r#"
[ERROR] `token` (input `token`) starts with `$` but is not a variable reference: write `$NAME` or `${NAME}`, where NAME (letters, digits, `_`) is the variable holding the token. If what you wrote is the token itself, treat it as leaked and revoke it

"#]]);
    // No token needed: a build the rules skip, and a fork's pull request, exit 0.
    repo.shipcrate()
        .env("SHIPCRATE_ON__BRANCH", "release")
        .run()
        .success()
        .stderr_eq(str![[r#"
        Note not publishing: branch `main` is not permitted to publish; only `release` (`on.branch`)

"#]]);
    repo.shipcrate()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_REF", "refs/pull/9/merge")
        .run()
        .success()
        .stderr_eq(str![[r#"
        Note not publishing: this is a pull-request build (GITHUB_EVENT_NAME=pull_request), and code not yet merged never publishes

"#]]);
    assert!(index_entries("dollar").is_empty());
}

#[cargo_test]
fn variables_that_are_not_utf8_are_named_not_dropped() {
    let _registry = registry();
    let repo = Repo::with_crate("bytes", "0.1.0");
    let cases: &[(&[u8], &str)] = &[
        (b"SHIPCRATE_DRY_RUN", "SHIPCRATE_DRY_RUN"),
        (b"INPUT_REGISTRY", "INPUT_REGISTRY"),
        (
            b"CARGO_REGISTRIES_ALTERNATIVE_TOKEN",
            "CARGO_REGISTRIES_ALTERNATIVE_TOKEN",
        ),
        (b"CARGO_REGISTRY_TOKEN", "CARGO_REGISTRY_TOKEN"),
    ];
    for (name, shown) in cases {
        repo.shipcrate()
            .env("SHIPCRATE_REGISTRY", "alternative")
            .env_bytes(name, b"s3cr\xff\xfet")
            .run()
            .code(2)
            .stderr_has(&format!("`{shown}` is not valid UTF-8"));
    }
    // The variable the `token` key names.
    repo.shipcrate()
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("SHIPCRATE_TOKEN", "${MY_TOKEN}")
        .env_bytes(b"MY_TOKEN", b"tok\xc3\x28en")
        .run()
        .code(2)
        .stderr_has("`MY_TOKEN` is not valid UTF-8");
    // Anything else shipcrate doesn't read is no reason to stop.
    repo.shipcrate()
        .registry_target()
        .env_bytes(b"SOME_TOOL_SETTING", b"\xff")
        .arg("--dry-run")
        .run()
        .success();
    assert!(index_entries("bytes").is_empty());
}

#[cargo_test]
fn a_key_given_twice_names_both_lines() {
    let _registry = registry();
    let repo = Repo::with_crate("twice", "0.1.0")
        .file(
            ".shipcrate.yml",
            "registry: alternative\ndry_run: true\non:\n  tags: true\n  branch: main\n  tags: false\ndry_run: false\n",
        )
        .commit("config");
    repo.shipcrate()
        .registry_target()
        .run()
        .code(2)
        .stderr_eq(str![[r#"
[ERROR] `on.tags` is given twice in [ROOT]/repo/.shipcrate.yml, on lines 4 and 6: keep one (shipcrate does not guess which one you meant)

"#]]);
    // .travis.yml keeps Travis's own reading: the last value wins.
    let travis = Repo::new("travis-repo")
        .file("Cargo.toml", &manifest("travisdup", "0.1.0"))
        .file("src/lib.rs", "pub fn answer() -> u32 { 42 }\n")
        .file(
            ".travis.yml",
            "language: rust\ndeploy:\n  provider: cargo\n  on:\n    tags: true\n    tags: false\n  skip_cleanup: true\n",
        )
        .commit("travis");
    let out = travis
        .shipcrate()
        .arg("explain")
        .env("SHIPCRATE_TRAVIS", "true")
        .run()
        .success();
    let row = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("on.tags "))
        .unwrap_or_default();
    assert!(row.contains("false"), "{}", out.both());
}

#[cargo_test]
fn an_oversized_or_odd_config_file_is_refused_saying_what_it_is() {
    let repo = Repo::with_crate("odd", "0.1.0");
    let big = repo.root.join("big.yml");
    let line = "# padding padding padding padding padding padding padding padding padding\n";
    std::fs::write(&big, line.repeat(50 * 1024 * 1024 / line.len())).unwrap();
    repo.shipcrate()
        .arg("--config")
        .arg("big.yml")
        .run()
        .code(2)
        .stderr_eq(str![[r#"
[ERROR] config file `[ROOT]/repo/big.yml` is 52428778 bytes; a shipcrate config file may be at most 1 MiB

"#]]);
    std::fs::create_dir(repo.root.join("conf.d")).unwrap();
    let fifo = repo.root.join("pipe.yml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for (config, what) in [
        ("conf.d", "is a directory, not a file"),
        ("pipe.yml", "is a FIFO (named pipe), not a file"),
        ("/dev/zero", "is a character device, not a file"),
        ("missing.yml", "does not exist"),
    ] {
        repo.shipcrate()
            .arg("--config")
            .arg(config)
            .run()
            .code(2)
            .stderr_has(what);
    }
    // A default name that is a directory is not silently passed over.
    std::fs::create_dir(repo.root.join(".shipcrate.yml")).unwrap();
    repo.shipcrate().run().code(2).stderr_eq(str![[r#"
[ERROR] `[ROOT]/repo/.shipcrate.yml` is a directory, not a config file: remove it, or name the config file with `--config`

"#]]);
}

/// Processes still running that a shipcrate run of this test started (they carry the test's
/// TMPDIR), waited for up to `within`; zombies don't count.
fn survivors(within: Duration) -> Vec<String> {
    let marker = format!("TMPDIR={}", tmp_dir().display());
    let deadline = Instant::now() + within;
    loop {
        let found: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
            .filter_map(|e| {
                let environ = std::fs::read(e.path().join("environ")).ok()?;
                let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
                let state = stat[stat.rfind(')')? + 1..].split_whitespace().next()?;
                let ours = environ
                    .split(|&b| b == 0)
                    .any(|var| var == marker.as_bytes());
                (ours && state != "Z" && state != "X").then(|| {
                    let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                    format!(
                        "{} {}",
                        e.file_name().to_string_lossy(),
                        String::from_utf8_lossy(&cmdline).replace('\0', " ")
                    )
                })
            })
            .collect();
        if found.is_empty() || Instant::now() >= deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Wait until `file` exists (a child wrote it), for up to a minute.
#[track_caller]
fn wait_for(file: &Path) {
    let deadline = Instant::now() + Duration::from_mins(1);
    while !file.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cargo_test]
fn sigterm_stops_a_hook_that_ignores_it() {
    let _registry = registry();
    let repo = Repo::with_crate("stubborn", "0.1.0");
    let started = paths::root().join("hook-started");
    let hook = format!(
        "trap '' TERM; touch {}; sleep 60; echo still $((40 + 2))",
        started.display()
    );
    let child = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_BEFORE_DEPLOY", &hook)
        .spawn();
    wait_for(&started);
    let sent = Instant::now();
    signal("-TERM", child.id());
    let out = Outcome::from_child(child)
        .code(143)
        .stderr_has("stopped by signal 15")
        .lacks("still 42");
    let took = sent.elapsed();
    // Bounds wide enough for a loaded machine: the hook ignores TERM, so it is the kill after
    // the 5 s grace that stops it, not the TERM.
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(30),
        "{took:?}\n{}",
        out.both()
    );
    let left = survivors(Duration::from_secs(5));
    assert!(left.is_empty(), "still running: {left:?}");
    assert!(index_entries("stubborn").is_empty());
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

/// A crate whose build script writes its pid to the returned file, then sleeps two minutes.
fn slow_build_script(name: &str) -> (Repo, PathBuf) {
    let pid_file = paths::root().join("build-script.pid");
    let repo = Repo::with_crate(name, "0.1.0")
        .file(
            "build.rs",
            &format!(
                "fn main() {{\n    std::fs::write({:?}, std::process::id().to_string()).unwrap();\n    \
                 std::thread::sleep(std::time::Duration::from_secs(120));\n}}\n",
                pid_file.display().to_string()
            ),
        )
        .commit("a slow build script");
    (repo, pid_file)
}

#[cargo_test]
fn sigkill_leaves_no_process_and_the_next_run_removes_the_temp_dir() {
    let _registry = registry();
    let (repo, pid_file) = slow_build_script("killed");
    let child = repo.shipcrate().registry_target().spawn();
    wait_for(&pid_file);
    signal("-KILL", child.id());
    let out = Outcome::from_child(child);
    assert_eq!(out.code, None, "killed by a signal\n{}", out.both());
    // cargo goes with shipcrate (parent-death signal); the build script, cargo's child, is
    // stopped by the watchdog (SIGTERM, SIGKILL after the grace).
    let left = survivors(Duration::from_secs(20));
    assert!(left.is_empty(), "still running: {left:?}");
    let stale: Vec<PathBuf> = leftovers().into_iter().filter(|p| p.is_dir()).collect();
    // Its copy, and the gate its upload cargo (started while the build runs) waits at.
    let names: Vec<String> = stale
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "the killed run's dirs are left: {names:?}");
    assert!(names.iter().any(|n| n.starts_with("shipcrate-gate-")));

    // What the next run must leave alone: a dir without a lock file, a live run's dir, and a
    // lock that is a symlink next to a symlinked dir.
    let tmp = tmp_dir();
    std::fs::create_dir(tmp.join("shipcrate-decoy")).unwrap();
    std::fs::create_dir(tmp.join("shipcrate-alive")).unwrap();
    let alive = std::fs::File::create(tmp.join("shipcrate-alive.lock")).unwrap();
    alive.lock().unwrap();
    let outside = paths::root().join("precious");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("file"), "keep me").unwrap();
    std::os::unix::fs::symlink(&outside, tmp.join("shipcrate-link")).unwrap();
    std::fs::write(paths::root().join("lockfile"), "").unwrap();
    std::os::unix::fs::symlink(
        paths::root().join("lockfile"),
        tmp.join("shipcrate-link.lock"),
    )
    .unwrap();

    repo.shipcrate()
        .registry_target()
        .arg("explain")
        .run()
        .success();
    for dir in &stale {
        assert!(
            !dir.exists(),
            "the killed run's {} is still there",
            dir.display()
        );
    }
    for kept in ["shipcrate-decoy", "shipcrate-alive", "shipcrate-alive.lock"] {
        assert!(tmp.join(kept).exists(), "{kept} was removed");
    }
    assert!(outside.join("file").exists());
    assert!(index_entries("killed").is_empty());
    drop(alive);
}

#[cargo_test]
#[ignore = "needs /dev/shm as a tmpfs that lets programs run (Linux's default; a container mounts it noexec)"]
fn a_killed_runs_copy_in_memory_is_removed_by_the_next_run() {
    let (tmpfs, noexec) = crate::checkout::dev_shm();
    assert!(
        tmpfs && !noexec,
        "this test needs /dev/shm to be a tmpfs that lets programs run"
    );
    let _registry = registry();
    let (repo, pid_file) = slow_build_script("killedshm");
    let child = repo
        .shipcrate()
        .registry_target()
        .env_remove("TMPDIR")
        .spawn();
    wait_for(&pid_file);
    let copies: Vec<PathBuf> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("shipcrate-"))
                && std::fs::read_to_string(p.join("Cargo.toml"))
                    .is_ok_and(|t| t.contains("\"killedshm\""))
        })
        .collect();
    assert_eq!(copies.len(), 1, "the run's copy is in /dev/shm: {copies:?}");
    signal("-KILL", child.id());
    let out = Outcome::from_child(child);
    assert_eq!(out.code, None, "killed by a signal\n{}", out.both());
    let left = survivors(Duration::from_secs(20));
    assert!(left.is_empty(), "still running: {left:?}");
    assert!(copies[0].exists(), "a SIGKILL leaves the copy behind");
    repo.shipcrate()
        .registry_target()
        .env_remove("TMPDIR")
        .arg("explain")
        .run()
        .success();
    assert!(
        !copies[0].exists(),
        "the next run removes the killed run's copy"
    );
}

/// The dry run of the whole workspace starts while the plan is made; when the plan is not what
/// it verifies (here `one` is published already), it is stopped with everything it started.
#[cargo_test]
fn an_early_dry_run_the_plan_does_not_take_is_stopped_with_what_it_started() {
    let _registry = registry();
    let repo = Repo::workspace(&["one", "two"])
        .file("one/Cargo.toml", &manifest("one", "0.1.0"))
        .file("one/src/lib.rs", "pub fn one() -> u32 { 1 }\n")
        .file("two/Cargo.toml", &manifest("two", "0.1.0"))
        .file("two/src/lib.rs", "pub fn two() -> u32 { 2 }\n")
        .commit("two crates");
    repo.shipcrate().registry_target().run().success();
    let repo = repo
        .file("two/Cargo.toml", &manifest("two", "0.2.0"))
        .commit("two 0.2.0");
    // The early dry run (`--workspace`) starts a child; every later cargo records whether
    // that child is still running when it starts (a zombie waiting to be reaped is gone).
    let started = paths::root().join("early-child.pid");
    let seen = paths::root().join("early-child-seen");
    let shims = cargo_wrapper(
        "slow-cargo",
        &format!(
            "case \"$*\" in\n\
             *--workspace*) sleep 120 & echo $! > {pid}; sleep 1 ;;\n\
             publish*) state=$(sed 's/.*) //' /proc/$(cat {pid})/stat 2>/dev/null | cut -c1)\n\
               if [ -n \"$state\" ] && [ \"$state\" != Z ]; then echo running; else echo gone; fi >> {seen} ;;\n\
             esac",
            pid = started.display(),
            seen = seen.display(),
        ),
    );
    let out = repo
        .shipcrate()
        .path_prefix(&shims)
        .registry_target()
        .run()
        .success();
    assert_eq!(uploads(&out.stderr), ["two"], "{}", out.both());
    assert!(started.exists(), "the early dry run started");
    let seen = std::fs::read_to_string(&seen).unwrap();
    assert!(
        !seen.is_empty() && seen.lines().all(|l| l == "gone"),
        "the early dry run's child was running beside the next cargo: {seen}"
    );
    let left = survivors(Duration::from_secs(10));
    assert!(left.is_empty(), "still running: {left:?}");
}

#[cargo_test]
fn a_hooks_background_job_is_stopped_when_the_run_ends() {
    let _registry = registry();
    let repo = Repo::with_crate("daemon", "0.1.0");
    let started = paths::root().join("background-started");
    repo.shipcrate()
        .registry_target()
        .env(
            "SHIPCRATE_AFTER_DEPLOY",
            &format!("(touch {}; exec sleep 120) &", started.display()),
        )
        .run()
        .success();
    assert_eq!(index_entries("daemon").len(), 1);
    wait_for(&started);
    let left = survivors(Duration::from_secs(10));
    assert!(left.is_empty(), "still running: {left:?}");
}

#[cargo_test]
fn a_process_of_the_same_user_cannot_read_shipcrates_environment() {
    // Root reads every process: run shipcrate as `nobody`, whose `on.condition` (a child, like
    // a build script) tries to read shipcrate's environment, which holds the token.
    const NOBODY: u32 = 65534;
    let repo = Repo::with_crate("undumpable", "0.1.0");
    // cargo isn't reached before the decision; the toolchain under /root is closed to nobody.
    let tools = paths::root().join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::write(tools.join("cargo"), "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(
        tools.join("cargo"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let seen = paths::root().join("seen");
    let chown = std::process::Command::new("chown")
        .args(["-R", &format!("{NOBODY}:{NOBODY}")])
        .arg(paths::root())
        .status()
        .unwrap();
    assert!(chown.success());
    let condition = format!(
        "cat /proc/$PPID/environ > {seen}/parent 2>&1; cat /proc/$$/environ > {seen}/own; false",
        seen = seen.display()
    );
    std::fs::create_dir(&seen).unwrap();
    std::os::unix::fs::chown(&seen, Some(NOBODY), Some(NOBODY)).unwrap();
    repo.shipcrate()
        .run_as(NOBODY)
        .path_prefix(&tools)
        .registry_target()
        .env("SHIPCRATE_ON__CONDITION", &condition)
        .run()
        .success()
        .stderr_has("not publishing");
    // The control: a process of the same user reads a dumpable one (its own shell).
    let own = std::fs::read(seen.join("own")).unwrap();
    assert!(
        own.windows(5).any(|w| w == b"PATH="),
        "{}",
        String::from_utf8_lossy(&own)
    );
    let parent = std::fs::read_to_string(seen.join("parent")).unwrap();
    assert!(
        !parent.contains(TOKEN),
        "read shipcrate's environment: {parent}"
    );
    assert!(parent.contains("Permission denied"), "{parent}");
}

#[cargo_test]
fn a_travis_yml_alias_bomb_is_refused_not_expanded() {
    // Each anchor aliases the one before nine times: 9^9 scalars once expanded.
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for (name, before) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip("abcdefgh".chars())
    {
        let aliases = vec![format!("*{before}"); 9].join(", ");
        bomb.push_str(&format!("{name}: &{name} [{aliases}]\n"));
    }
    let repo = Repo::with_crate("bomb", "0.1.0")
        .file(".travis.yml", &bomb)
        .commit("an alias bomb");
    for args in [&["migrate"][..], &["explain", "--travis"][..]] {
        let started = std::time::Instant::now();
        let mut run = repo.shipcrate();
        for arg in args {
            run = run.arg(arg);
        }
        run.run()
            .code(2)
            .stderr_has("its aliases expand it to more than 100000 YAML nodes (an alias bomb?)");
        assert!(started.elapsed() < Duration::from_secs(20), "{args:?}");
    }
}

//! What a `docker run` must pass for each CI, held to the README's table and to detection
//! itself: passing only the listed variables changes nothing shipcrate sees.

use super::services::{Refs, SERVICES, Service, Unmerged};
use super::{Provider, detect};
use crate::Env;
use crate::git::GitFacts;

/// The README's table, as `Service::docker_env` makes it.
fn table() -> String {
    let mut text = String::from("| CI | pass to `docker run` |\n|---|---|\n");
    for service in SERVICES {
        let flags: Vec<String> = service
            .docker_env()
            .iter()
            .map(|name| format!("-e {name}"))
            .collect();
        text.push_str(&format!(
            "| {} | `{}` |\n",
            service.provider,
            flags.join(" ")
        ));
    }
    text
}

#[test]
fn the_readme_lists_what_each_ci_must_pass() {
    let readme = include_str!("../../README.md");
    let start = "<!-- ci-env: generated from src/ci/services.rs (Service::docker_env); src/ci/docker_env.rs checks it -->\n";
    let shown = readme
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once("<!-- /ci-env -->"))
        .map_or_else(
            || {
                panic!(
                    "README lacks the ci-env table's markers; put this between them:\n{}",
                    table()
                )
            },
            |(table, _)| table,
        );
    assert_eq!(
        shown,
        table(),
        "README's per-CI table differs from ci.rs's; put this between its markers:\n{}",
        table()
    );
}

/// A tag, a branch and a pull-request build on GitHub Actions, as its variables say them.
const GITHUB_BUILDS: [(&str, &[(&str, &str)]); 3] = [
    (
        "tag",
        &[
            ("GITHUB_REF", "refs/tags/v1.0.0"),
            ("GITHUB_SHA", "f00"),
            ("GITHUB_REPOSITORY", "o/r"),
        ],
    ),
    (
        "branch",
        &[
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_SHA", "f00"),
            ("GITHUB_EVENT_NAME", "push"),
        ],
    ),
    (
        "pr",
        &[
            ("GITHUB_REF", "refs/pull/7/merge"),
            ("GITHUB_HEAD_REF", "topic"),
            ("GITHUB_EVENT_NAME", "pull_request"),
        ],
    ),
];

/// The same on GitLab CI.
const GITLAB_BUILDS: [(&str, &[(&str, &str)]); 3] = [
    (
        "tag",
        &[
            ("CI_COMMIT_TAG", "v1.0.0"),
            ("CI_COMMIT_SHA", "f00"),
            ("CI_PROJECT_PATH", "g/p"),
        ],
    ),
    (
        "branch",
        &[("CI_COMMIT_BRANCH", "main"), ("CI_DEFAULT_BRANCH", "main")],
    ),
    (
        "pr",
        &[
            ("CI_MERGE_REQUEST_IID", "3"),
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ],
    ),
];

/// The same on Travis CI.
const TRAVIS_BUILDS: [(&str, &[(&str, &str)]); 3] = [
    (
        "tag",
        &[
            ("TRAVIS_TAG", "v1.0.0"),
            ("TRAVIS_BRANCH", "v1.0.0"),
            ("TRAVIS_COMMIT", "f00"),
        ],
    ),
    (
        "branch",
        &[
            ("TRAVIS_BRANCH", "master"),
            ("TRAVIS_PULL_REQUEST", "false"),
            ("TRAVIS_REPO_SLUG", "o/r"),
        ],
    ),
    (
        "pr",
        &[("TRAVIS_BRANCH", "master"), ("TRAVIS_PULL_REQUEST", "7")],
    ),
];

/// A build of each kind on `service`, as its variables say it (plus some it doesn't read).
fn builds(service: &Service) -> Vec<(&'static str, Env)> {
    let (name, value) = match service.detect {
        (name, "") => (name, "1"),
        pair => pair,
    };
    // Noise first: Woodpecker is named by `CI=woodpecker`.
    let base = [
        ("CI", "true"),
        ("HOME", "/root"),
        ("RANDOM_VAR", "x"),
        (name, value),
    ];
    let with = |pairs: &[(&str, &str)]| -> Env {
        base.iter()
            .chain(pairs)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let sign = service.pre_merge.first().map(|sign| match *sign {
        Unmerged::Set(name) => (name, "7"),
        Unmerged::Is(name, value) | Unmerged::Prefix(name, value) => (name, value),
        Unmerged::Ref(name) => (name, "refs/pull/7/merge"),
    });
    let sign = sign.expect("every CI has a pre-merge sign");
    let fixed = |kinds: &[(&'static str, &[(&str, &str)])]| -> Vec<(&'static str, Env)> {
        kinds
            .iter()
            .map(|(kind, pairs)| (*kind, with(pairs)))
            .collect()
    };
    match service.refs {
        Refs::Github => fixed(&GITHUB_BUILDS),
        Refs::Gitlab => fixed(&GITLAB_BUILDS),
        Refs::Travis => fixed(&TRAVIS_BUILDS),
        Refs::Vars {
            commit,
            branch,
            tag,
            slug,
        } => {
            let slug = slug.unwrap_or("RANDOM_SLUG");
            let tagged = match tag {
                Some(tag) => with(&[(commit, "f00"), (tag, "v1.0.0"), (slug, "o/r")]),
                None => with(&[(commit, "f00"), (branch, "refs/tags/v1.0.0"), (slug, "o/r")]),
            };
            vec![
                ("tag", tagged),
                (
                    "branch",
                    with(&[(commit, "f00"), (branch, "main"), (slug, "o/r")]),
                ),
                ("pr", with(&[(commit, "f00"), (branch, "topic"), sign])),
            ]
        }
    }
}

#[test]
fn the_listed_variables_are_all_detection_reads() {
    let git = GitFacts {
        head: Some("abc".into()),
        branch: Some("local".into()),
        tags_at_head: vec!["v9.9.9".into()],
        default_branch: Some("main".into()),
        shallow: false,
    };
    for service in SERVICES {
        let passed = service.docker_env();
        for (kind, env) in builds(service) {
            let inside: Env = env
                .iter()
                .filter(|(k, _)| passed.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let seen = detect(&env, &git);
            assert_ne!(seen.provider, Provider::Git, "{} {kind}", service.provider);
            assert_eq!(
                seen.pull_request,
                kind == "pr",
                "{} {kind}",
                service.provider
            );
            assert_eq!(
                detect(&inside, &git),
                seen,
                "{} {kind}: the container, passed only {passed:?}, sees another build",
                service.provider
            );
        }
    }
}

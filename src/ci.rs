//! Works out where we run and what is being built, from the environment and git's facts.
//!
//! A pure function of its inputs (plus reading GitHub's event file): no process env, no git.

use std::fmt;

use crate::Env;
use crate::git::GitFacts;

/// The CI service running us, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    GithubActions,
    GitlabCi,
    Travis,
    CircleCi,
    Buildkite,
    Jenkins,
    AzurePipelines,
    BitbucketPipelines,
    Woodpecker,
    Drone,
    /// No CI recognised: git alone says what is built.
    Git,
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::GithubActions => "GitHub Actions",
            Provider::GitlabCi => "GitLab CI",
            Provider::Travis => "Travis CI",
            Provider::CircleCi => "CircleCI",
            Provider::Buildkite => "Buildkite",
            Provider::Jenkins => "Jenkins",
            Provider::AzurePipelines => "Azure Pipelines",
            Provider::BitbucketPipelines => "Bitbucket Pipelines",
            Provider::Woodpecker => "Woodpecker CI",
            Provider::Drone => "Drone",
            Provider::Git => "plain git",
        })
    }
}

/// What is being built, and by whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BuildContext {
    pub provider: Provider,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub tags: Vec<String>,
    pub pull_request: bool,
    pub slug: Option<String>,
    pub default_branch: Option<String>,
    /// Things the user should know, e.g. that PR builds can't be told apart here.
    pub warnings: Vec<String>,
}

impl BuildContext {
    pub(crate) fn is_tag_build(&self) -> bool {
        !self.tags.is_empty()
    }
}

/// Detect the provider and build from `env`, falling back to `git` for what the CI doesn't say.
pub(crate) fn detect(env: &Env, git: &GitFacts) -> BuildContext {
    let var = |name: &str| env.get(name).filter(|v| !v.is_empty()).cloned();
    let is = |name: &str, value: &str| env.get(name).is_some_and(|v| v.eq_ignore_ascii_case(value));

    let mut ctx = BuildContext {
        provider: Provider::Git,
        commit: None,
        branch: None,
        tags: Vec::new(),
        pull_request: false,
        slug: None,
        default_branch: None,
        warnings: Vec::new(),
    };

    if is("GITHUB_ACTIONS", "true") {
        ctx.provider = Provider::GithubActions;
        ctx.commit = var("GITHUB_SHA");
        ctx.slug = var("GITHUB_REPOSITORY");
        let event = var("GITHUB_EVENT_NAME").unwrap_or_default();
        let reference = var("GITHUB_REF").unwrap_or_default();
        // `pull_request`, `pull_request_target`, `pull_request_review`,
        // `pull_request_review_comment`: all run a PR's code or on its behalf.
        ctx.pull_request = event.starts_with("pull_request") || is_pr_ref(&reference);
        if let Some(tag) = reference.strip_prefix("refs/tags/") {
            ctx.tags.push(tag.to_owned());
        } else if let Some(branch) = reference.strip_prefix("refs/heads/") {
            ctx.branch = Some(branch.to_owned());
        } else if ctx.pull_request {
            ctx.branch = var("GITHUB_HEAD_REF");
        }
        ctx.default_branch = var("GITHUB_EVENT_PATH").and_then(|p| github_default_branch(&p));
    } else if is("GITLAB_CI", "true") {
        ctx.provider = Provider::GitlabCi;
        ctx.commit = var("CI_COMMIT_SHA");
        ctx.branch = var("CI_COMMIT_BRANCH");
        ctx.tags.extend(var("CI_COMMIT_TAG"));
        let source = var("CI_PIPELINE_SOURCE").unwrap_or_default();
        ctx.pull_request = pr_number(var("CI_MERGE_REQUEST_IID"))
            || pr_number(var("CI_EXTERNAL_PULL_REQUEST_IID"))
            || source == "merge_request_event"
            || source == "external_pull_request_event";
        ctx.slug = var("CI_PROJECT_PATH");
        ctx.default_branch = var("CI_DEFAULT_BRANCH");
    } else if is("TRAVIS", "true") {
        ctx.provider = Provider::Travis;
        ctx.commit = var("TRAVIS_COMMIT");
        ctx.tags.extend(var("TRAVIS_TAG"));
        // On tag builds Travis sets TRAVIS_BRANCH to the tag's name.
        if ctx.tags.is_empty() {
            ctx.branch = var("TRAVIS_BRANCH");
        }
        ctx.pull_request = pr_number(var("TRAVIS_PULL_REQUEST"))
            || var("TRAVIS_EVENT_TYPE").is_some_and(|e| e == "pull_request");
        ctx.slug = var("TRAVIS_REPO_SLUG");
        // Travis's deploy rule: with no branch given, only `master` deploys.
        ctx.default_branch = Some("master".to_owned());
    } else if let Some(other) = OTHERS.iter().find(|o| {
        is(o.marker.0, o.marker.1) || (o.marker.1.is_empty() && var(o.marker.0).is_some())
    }) {
        ctx.provider = other.provider;
        ctx.commit = other.commit.and_then(var);
        let pr_ref = other.branch.and_then(var).is_some_and(|b| is_pr_ref(&b));
        ctx.branch = other
            .branch
            .and_then(var)
            .filter(|b| !is_pr_ref(b))
            .map(|b| strip_ref(&b, "refs/heads/"));
        ctx.tags
            .extend(other.tag.and_then(var).map(|t| strip_ref(&t, "refs/tags/")));
        if ctx
            .branch
            .as_deref()
            .is_some_and(|b| b.starts_with("refs/tags/"))
        {
            ctx.tags.push(strip_ref(
                &ctx.branch.take().unwrap_or_default(),
                "refs/tags/",
            ));
        }
        if !ctx.tags.is_empty() {
            ctx.branch = None;
        }
        ctx.pull_request = pr_ref || (other.pull_request)(&var);
        ctx.slug = other.slug.and_then(var);
    } else if env.get("CI").is_some_and(|v| v == "true" || v == "1") {
        ctx.warnings.push(
            "CI=true but no CI service was recognised: shipcrate cannot tell a pull-request \
             build from any other here. Guard publishing with `on.condition` (for example a \
             check of your CI's pull-request variable)"
                .to_owned(),
        );
    }

    // What the CI did not say, git does: the commit, the branch, the tags at HEAD.
    if ctx.commit.is_none() {
        ctx.commit.clone_from(&git.head);
    }
    let ci_named_ref = ctx.branch.is_some() || !ctx.tags.is_empty() || ctx.pull_request;
    if !ci_named_ref {
        ctx.branch.clone_from(&git.branch);
        ctx.tags.clone_from(&git.tags_at_head);
    }
    if ctx.default_branch.is_none() {
        ctx.default_branch.clone_from(&git.default_branch);
    }
    ctx
}

/// A ref only pull/merge requests have: GitHub's, Azure's and Gitea's `refs/pull/…`,
/// GitLab's `refs/merge-requests/…`, Bitbucket's `refs/pull-requests/…`.
fn is_pr_ref(reference: &str) -> bool {
    ["refs/pull/", "refs/merge-requests/", "refs/pull-requests/"]
        .iter()
        .any(|p| reference.starts_with(p))
}

/// A pull-request number as CI services give it: set, non-empty and not `false`.
fn pr_number(value: Option<String>) -> bool {
    value.is_some_and(|v| {
        let v = v.trim();
        !v.is_empty() && !v.eq_ignore_ascii_case("false")
    })
}

fn strip_ref(value: &str, prefix: &str) -> String {
    value.strip_prefix(prefix).unwrap_or(value).to_owned()
}

/// The repository's default branch from GitHub's event payload.
fn github_default_branch(path: &str) -> Option<String> {
    let text = fs_err::read_to_string(path).ok()?;
    let event: serde_json::Value = serde_json::from_str(&text).ok()?;
    event["repository"]["default_branch"]
        .as_str()
        .map(str::to_owned)
}

type Var<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// CI services we know well enough to tell a pull-request build and read the ref.
struct Other {
    provider: Provider,
    /// `(VAR, value)`; an empty value means "set at all".
    marker: (&'static str, &'static str),
    commit: Option<&'static str>,
    branch: Option<&'static str>,
    tag: Option<&'static str>,
    slug: Option<&'static str>,
    pull_request: fn(&Var) -> bool,
}

const OTHERS: &[Other] = &[
    Other {
        provider: Provider::CircleCi,
        marker: ("CIRCLECI", "true"),
        commit: Some("CIRCLE_SHA1"),
        branch: Some("CIRCLE_BRANCH"),
        tag: Some("CIRCLE_TAG"),
        slug: None,
        pull_request: |v| pr_number(v("CIRCLE_PULL_REQUEST")) || pr_number(v("CIRCLE_PR_NUMBER")),
    },
    Other {
        provider: Provider::Buildkite,
        marker: ("BUILDKITE", "true"),
        commit: Some("BUILDKITE_COMMIT"),
        branch: Some("BUILDKITE_BRANCH"),
        tag: Some("BUILDKITE_TAG"),
        slug: None,
        pull_request: |v| pr_number(v("BUILDKITE_PULL_REQUEST")),
    },
    Other {
        provider: Provider::Jenkins,
        marker: ("JENKINS_URL", ""),
        commit: Some("GIT_COMMIT"),
        branch: Some("BRANCH_NAME"),
        tag: Some("TAG_NAME"),
        slug: None,
        pull_request: |v| pr_number(v("CHANGE_ID")),
    },
    Other {
        provider: Provider::AzurePipelines,
        marker: ("TF_BUILD", "true"),
        commit: Some("BUILD_SOURCEVERSION"),
        branch: Some("BUILD_SOURCEBRANCH"),
        tag: None,
        slug: Some("BUILD_REPOSITORY_NAME"),
        pull_request: |v| {
            v("BUILD_REASON").is_some_and(|r| r == "PullRequest")
                || pr_number(v("SYSTEM_PULLREQUEST_PULLREQUESTID"))
                || pr_number(v("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER"))
        },
    },
    Other {
        provider: Provider::BitbucketPipelines,
        marker: ("BITBUCKET_BUILD_NUMBER", ""),
        commit: Some("BITBUCKET_COMMIT"),
        branch: Some("BITBUCKET_BRANCH"),
        tag: Some("BITBUCKET_TAG"),
        slug: Some("BITBUCKET_REPO_FULL_NAME"),
        pull_request: |v| pr_number(v("BITBUCKET_PR_ID")),
    },
    Other {
        provider: Provider::Woodpecker,
        marker: ("CI", "woodpecker"),
        commit: Some("CI_COMMIT_SHA"),
        branch: Some("CI_COMMIT_BRANCH"),
        tag: Some("CI_COMMIT_TAG"),
        slug: Some("CI_REPO"),
        pull_request: |v| {
            v("CI_PIPELINE_EVENT").is_some_and(|e| e.starts_with("pull_request"))
                || pr_number(v("CI_COMMIT_PULL_REQUEST"))
                || v("CI_COMMIT_REF").is_some_and(|r| is_pr_ref(&r))
        },
    },
    Other {
        provider: Provider::Drone,
        marker: ("DRONE", "true"),
        commit: Some("DRONE_COMMIT_SHA"),
        branch: Some("DRONE_BRANCH"),
        tag: Some("DRONE_TAG"),
        slug: Some("DRONE_REPO"),
        pull_request: |v| {
            pr_number(v("DRONE_PULL_REQUEST"))
                || v("DRONE_BUILD_EVENT").is_some_and(|e| e.starts_with("pull_request"))
                || v("DRONE_COMMIT_REF").is_some_and(|r| is_pr_ref(&r))
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_env as env;

    fn git() -> GitFacts {
        GitFacts {
            head: Some("abc123".into()),
            branch: Some("feature".into()),
            tags_at_head: vec![],
            default_branch: Some("main".into()),
            shallow: false,
        }
    }

    #[test]
    fn github_tag_push() {
        let ctx = detect(
            &env(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_REF", "refs/tags/v1.2.3"),
                ("GITHUB_EVENT_NAME", "push"),
                ("GITHUB_SHA", "f00"),
                ("GITHUB_REPOSITORY", "o/r"),
            ]),
            &git(),
        );
        assert_eq!(ctx.provider, Provider::GithubActions);
        assert_eq!(ctx.tags, ["v1.2.3"]);
        assert_eq!(ctx.branch, None);
        assert_eq!(ctx.commit.as_deref(), Some("f00"));
        assert_eq!(ctx.slug.as_deref(), Some("o/r"));
        assert!(!ctx.pull_request);
    }

    #[test]
    fn github_pull_request_events_are_prs() {
        for event in ["pull_request", "pull_request_target"] {
            let ctx = detect(
                &env(&[
                    ("GITHUB_ACTIONS", "true"),
                    ("GITHUB_REF", "refs/pull/7/merge"),
                    ("GITHUB_EVENT_NAME", event),
                    ("GITHUB_HEAD_REF", "topic"),
                ]),
                &git(),
            );
            assert!(ctx.pull_request, "{event}");
            assert_eq!(ctx.branch.as_deref(), Some("topic"));
        }
    }

    #[test]
    fn every_pull_request_event_and_ref_is_a_pr() {
        for (event, reference) in [
            ("pull_request_review", "refs/pull/1/merge"),
            ("pull_request_review_comment", "refs/pull/1/merge"),
            ("pull_request_target", "refs/heads/main"),
            ("workflow_dispatch", "refs/pull/3/head"),
        ] {
            let ctx = detect(
                &env(&[
                    ("GITHUB_ACTIONS", "true"),
                    ("GITHUB_REF", reference),
                    ("GITHUB_EVENT_NAME", event),
                ]),
                &git(),
            );
            assert!(ctx.pull_request, "{event} {reference}");
        }
        let pr = |pairs: &[(&str, &str)]| detect(&env(pairs), &git()).pull_request;
        assert!(pr(&[
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_SOURCE", "external_pull_request_event"),
        ]));
        assert!(pr(&[
            ("TRAVIS", "true"),
            ("TRAVIS_EVENT_TYPE", "pull_request")
        ]));
        assert!(pr(&[
            ("TF_BUILD", "True"),
            ("BUILD_SOURCEBRANCH", "refs/pull/4/merge"),
        ]));
        assert!(pr(&[
            ("DRONE", "true"),
            ("DRONE_COMMIT_REF", "refs/pull/5/head")
        ]));
        assert!(!pr(&[("CIRCLECI", "true"), ("CIRCLE_PR_NUMBER", "false")]));
        assert!(!pr(&[("JENKINS_URL", "http://j/"), ("CHANGE_ID", "")]));
    }

    #[test]
    fn github_default_branch_comes_from_the_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("event.json");
        std::fs::write(&path, r#"{"repository":{"default_branch":"trunk"}}"#).unwrap();
        let ctx = detect(
            &env(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_REF", "refs/heads/trunk"),
                ("GITHUB_EVENT_PATH", path.to_str().unwrap()),
            ]),
            &git(),
        );
        assert_eq!(ctx.default_branch.as_deref(), Some("trunk"));
        assert_eq!(ctx.branch.as_deref(), Some("trunk"));
    }

    #[test]
    fn gitlab_merge_request_and_tag() {
        let mr = detect(
            &env(&[
                ("GITLAB_CI", "true"),
                ("CI_PIPELINE_SOURCE", "merge_request_event"),
                ("CI_MERGE_REQUEST_IID", "3"),
            ]),
            &git(),
        );
        assert!(mr.pull_request);
        let tag = detect(
            &env(&[
                ("GITLAB_CI", "true"),
                ("CI_COMMIT_TAG", "v2.0.0"),
                ("CI_DEFAULT_BRANCH", "develop"),
                ("CI_PROJECT_PATH", "g/p"),
            ]),
            &git(),
        );
        assert_eq!(tag.tags, ["v2.0.0"]);
        assert_eq!(tag.branch, None);
        assert_eq!(tag.default_branch.as_deref(), Some("develop"));
        assert_eq!(tag.slug.as_deref(), Some("g/p"));
    }

    #[test]
    fn travis_tag_build_has_no_branch_and_master_is_default() {
        let ctx = detect(
            &env(&[
                ("TRAVIS", "true"),
                ("TRAVIS_BRANCH", "v1.0.0"),
                ("TRAVIS_TAG", "v1.0.0"),
                ("TRAVIS_PULL_REQUEST", "false"),
            ]),
            &git(),
        );
        assert_eq!(ctx.tags, ["v1.0.0"]);
        assert_eq!(ctx.branch, None);
        assert_eq!(ctx.default_branch.as_deref(), Some("master"));
        assert!(!ctx.pull_request);
        let pr = detect(
            &env(&[
                ("TRAVIS", "true"),
                ("TRAVIS_BRANCH", "master"),
                ("TRAVIS_PULL_REQUEST", "12"),
            ]),
            &git(),
        );
        assert!(pr.pull_request);
    }

    #[test]
    fn other_ci_pull_request_markers() {
        let cases: &[&[(&str, &str)]] = &[
            &[
                ("CIRCLECI", "true"),
                ("CIRCLE_PULL_REQUEST", "https://github.com/o/r/pull/1"),
            ],
            &[("BUILDKITE", "true"), ("BUILDKITE_PULL_REQUEST", "5")],
            &[("JENKINS_URL", "http://j/"), ("CHANGE_ID", "9")],
            &[("TF_BUILD", "True"), ("BUILD_REASON", "PullRequest")],
            &[("BITBUCKET_BUILD_NUMBER", "4"), ("BITBUCKET_PR_ID", "2")],
            &[("CI", "woodpecker"), ("CI_PIPELINE_EVENT", "pull_request")],
            &[("DRONE", "true"), ("DRONE_BUILD_EVENT", "pull_request")],
        ];
        for case in cases {
            let ctx = detect(&env(case), &git());
            assert_ne!(ctx.provider, Provider::Git, "{case:?}");
            assert!(ctx.pull_request, "{case:?}");
        }
        let not_pr = detect(
            &env(&[
                ("BUILDKITE", "true"),
                ("BUILDKITE_PULL_REQUEST", "false"),
                ("BUILDKITE_BRANCH", "main"),
            ]),
            &git(),
        );
        assert!(!not_pr.pull_request);
        assert_eq!(not_pr.branch.as_deref(), Some("main"));
        let azure = detect(
            &env(&[
                ("TF_BUILD", "True"),
                ("BUILD_SOURCEBRANCH", "refs/tags/v1.0.0"),
            ]),
            &git(),
        );
        assert_eq!(azure.tags, ["v1.0.0"]);
        assert_eq!(azure.branch, None);
    }

    #[test]
    fn plain_git_and_unknown_ci_warning() {
        let mut facts = git();
        facts.tags_at_head = vec!["v0.1.0".into()];
        let ctx = detect(&env(&[]), &facts);
        assert_eq!(ctx.provider, Provider::Git);
        assert_eq!(ctx.branch.as_deref(), Some("feature"));
        assert_eq!(ctx.tags, ["v0.1.0"]);
        assert!(ctx.warnings.is_empty());
        let ci = detect(&env(&[("CI", "true")]), &facts);
        assert!(ci.warnings[0].contains("on.condition"));
    }
}

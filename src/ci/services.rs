//! The CI services shipcrate recognises, as one table: one row per CI, one column per fact
//! (how we know we run there, where it names the refs, every sign that the code built is not
//! merged yet), each row citing the CI's documentation. Data only; `ci::detect` reads it.

use super::Provider;

/// One CI service as shipcrate reads it. A new fact about every CI is a new column here.
pub(crate) struct Service {
    pub(crate) provider: Provider,
    /// `(VAR, value)` that says we run there (value compared ignoring ASCII case); an empty
    /// value means "set and non-empty".
    pub(crate) detect: (&'static str, &'static str),
    /// Where the commit, branch, tag and repository are read.
    pub(super) refs: Refs,
    /// Every sign that the commit built is not merged yet; any one makes it a pull-request
    /// build, which never publishes.
    pub(crate) pre_merge: &'static [Unmerged],
    /// A variable the CI sets on every build, a pull request's or not, that says which it is
    /// (`false`, `push`, …), under each name it has had (any one will do): none of them set
    /// means the pre-merge signs were not passed in (a `docker run` that left them out), so
    /// a pull request can't be told from a push. Empty where the CI sets its pull-request
    /// variables only on pull requests.
    pub(crate) always: &'static [&'static str],
}

/// A sign, in one variable, that the code built is not merged yet.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Unmerged {
    /// Set to a number, URL or name: non-empty and not `false` (the "no PR" value of Travis,
    /// Buildkite and `CircleCI`).
    Set(&'static str),
    /// Equal to the value, ignoring ASCII case.
    Is(&'static str, &'static str),
    /// Starts with the prefix: a family of events (`pull_request_target`, `…_closed`).
    Prefix(&'static str, &'static str),
    /// A ref or branch in a namespace only unmerged code has ([`UNMERGED_REFS`]).
    Ref(&'static str),
}

/// Refs and branch names only code that is not merged yet has, on any CI: GitHub's, Azure
/// Repos' and Gitea's `refs/pull/…`, GitLab's `refs/merge-requests/…` (merge requests,
/// merged results, merge trains), Bitbucket's `refs/pull-requests/…`, and GitHub's merge
/// queue branches `gh-readonly-queue/<base>/pr-<n>-<sha>`, which any CI building branches
/// sees pushed (<https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/configuring-pull-request-merges/managing-a-merge-queue>,
/// <https://buildkite.com/docs/tutorials/github-merge-queue>).
const UNMERGED_REFS: &[&str] = &[
    "refs/pull/",
    "refs/merge-requests/",
    "refs/pull-requests/",
    "refs/heads/gh-readonly-queue/",
    "gh-readonly-queue/",
];

/// Of [`UNMERGED_REFS`], those that name no branch of the repository.
const REVIEW_REFS: &[&str] = &["refs/pull/", "refs/merge-requests/", "refs/pull-requests/"];

/// Where a CI names the commit, the branch, the tag and the repository.
pub(super) enum Refs {
    /// `GITHUB_REF` is `refs/heads/…` or `refs/tags/…`; a PR's branch is `GITHUB_HEAD_REF`.
    Github,
    /// `CI_COMMIT_BRANCH`, `CI_COMMIT_TAG`; the default branch is `CI_DEFAULT_BRANCH`.
    Gitlab,
    /// On tag builds `TRAVIS_BRANCH` is the tag; with no branch rule only `master` deploys.
    Travis,
    /// Plain variables; the branch variable may hold `refs/heads/…` or `refs/tags/…`.
    Vars {
        commit: &'static str,
        branch: &'static str,
        tag: Option<&'static str>,
        slug: Option<&'static str>,
    },
}

/// Every CI shipcrate recognises, checked in this order (Woodpecker's `CI=woodpecker` before
/// Drone, whose variables older Woodpecker versions also set).
pub(crate) const SERVICES: &[Service] = &[
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows (`merge_group`: GITHUB_REF "Ref of the merge group")
    Service {
        provider: Provider::GithubActions,
        detect: ("GITHUB_ACTIONS", "true"),
        refs: Refs::Github,
        // `pull_request`, `pull_request_target`, `pull_request_review(_comment)` run a PR's
        // code or on its behalf; `merge_group` runs a merge queue's unmerged group, on
        // `refs/heads/gh-readonly-queue/…`.
        pre_merge: &[
            Unmerged::Prefix("GITHUB_EVENT_NAME", "pull_request"),
            Unmerged::Is("GITHUB_EVENT_NAME", "merge_group"),
            Unmerged::Ref("GITHUB_REF"),
        ],
        always: &["GITHUB_EVENT_NAME"],
    },
    // https://docs.gitlab.com/ci/variables/predefined_variables/#predefined-variables-for-merge-request-pipelines (CI_MERGE_REQUEST_EVENT_TYPE: `detached`, `merged_result` or `merge_train`)
    Service {
        provider: Provider::GitlabCi,
        detect: ("GITLAB_CI", "true"),
        refs: Refs::Gitlab,
        // Merge request pipelines of every kind (`detached`, `merged_result`, `merge_train`)
        // set the MR's IID and `CI_PIPELINE_SOURCE=merge_request_event`; external PRs
        // (GitHub repositories mirrored to GitLab) their own pair.
        pre_merge: &[
            Unmerged::Set("CI_MERGE_REQUEST_IID"),
            Unmerged::Is("CI_PIPELINE_SOURCE", "merge_request_event"),
            Unmerged::Is("CI_MERGE_REQUEST_EVENT_TYPE", "merge_train"),
            Unmerged::Is("CI_MERGE_REQUEST_EVENT_TYPE", "merged_result"),
            Unmerged::Is("CI_MERGE_REQUEST_EVENT_TYPE", "detached"),
            Unmerged::Ref("CI_MERGE_REQUEST_REF_PATH"),
            Unmerged::Set("CI_EXTERNAL_PULL_REQUEST_IID"),
            Unmerged::Is("CI_PIPELINE_SOURCE", "external_pull_request_event"),
        ],
        always: &["CI_PIPELINE_SOURCE"],
    },
    // https://docs.travis-ci.com/user/environment-variables/#default-environment-variables
    Service {
        provider: Provider::Travis,
        detect: ("TRAVIS", "true"),
        refs: Refs::Travis,
        pre_merge: &[
            Unmerged::Set("TRAVIS_PULL_REQUEST"),
            Unmerged::Is("TRAVIS_EVENT_TYPE", "pull_request"),
            Unmerged::Ref("TRAVIS_BRANCH"),
        ],
        always: &["TRAVIS_PULL_REQUEST"],
    },
    // https://circleci.com/docs/reference/variables/#built-in-environment-variables
    Service {
        provider: Provider::CircleCi,
        detect: ("CIRCLECI", "true"),
        refs: Refs::Vars {
            commit: "CIRCLE_SHA1",
            branch: "CIRCLE_BRANCH",
            tag: Some("CIRCLE_TAG"),
            slug: None,
        },
        // `CIRCLE_PR_NUMBER` only on PRs from forks; `CIRCLE_PULL_REQUEST` whenever the
        // branch has an open PR.
        pre_merge: &[
            Unmerged::Set("CIRCLE_PULL_REQUEST"),
            Unmerged::Set("CIRCLE_PR_NUMBER"),
            Unmerged::Ref("CIRCLE_BRANCH"),
        ],
        always: &[],
    },
    // https://buildkite.com/docs/pipelines/configure/environment-variables, https://buildkite.com/docs/tutorials/github-merge-queue
    Service {
        provider: Provider::Buildkite,
        detect: ("BUILDKITE", "true"),
        refs: Refs::Vars {
            commit: "BUILDKITE_COMMIT",
            branch: "BUILDKITE_BRANCH",
            tag: Some("BUILDKITE_TAG"),
            slug: None,
        },
        // Merge queue builds (from GitHub's `merge_group`) set the queue's base branch.
        pre_merge: &[
            Unmerged::Set("BUILDKITE_PULL_REQUEST"),
            Unmerged::Set("BUILDKITE_MERGE_QUEUE_BASE_BRANCH"),
            Unmerged::Ref("BUILDKITE_BRANCH"),
        ],
        always: &["BUILDKITE_PULL_REQUEST"],
    },
    // https://www.jenkins.io/doc/book/pipeline/multibranch/#additional-environment-variables (CHANGE_ID: "for a multibranch project corresponding to some kind of change request")
    Service {
        provider: Provider::Jenkins,
        detect: ("JENKINS_URL", ""),
        refs: Refs::Vars {
            commit: "GIT_COMMIT",
            branch: "BRANCH_NAME",
            tag: Some("TAG_NAME"),
            slug: None,
        },
        // Multibranch change requests set `CHANGE_ID`; the GitHub Pull Request Builder
        // plugin `ghprbPullId` (github.com/jenkinsci/ghprb-plugin, README "Environment
        // Variables"); the GitLab plugin `gitlabMergeRequestIid` (github.com/jenkinsci/gitlab-plugin,
        // README "Parameter configuration").
        pre_merge: &[
            Unmerged::Set("CHANGE_ID"),
            Unmerged::Set("ghprbPullId"),
            Unmerged::Set("gitlabMergeRequestIid"),
            Unmerged::Ref("BRANCH_NAME"),
        ],
        always: &[],
    },
    // https://learn.microsoft.com/en-us/azure/devops/pipelines/build/variables#system-variables
    Service {
        provider: Provider::AzurePipelines,
        detect: ("TF_BUILD", "true"),
        refs: Refs::Vars {
            commit: "BUILD_SOURCEVERSION",
            branch: "BUILD_SOURCEBRANCH",
            tag: None,
            slug: Some("BUILD_REPOSITORY_NAME"),
        },
        pre_merge: &[
            Unmerged::Is("BUILD_REASON", "PullRequest"),
            Unmerged::Set("SYSTEM_PULLREQUEST_PULLREQUESTID"),
            Unmerged::Set("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER"),
            Unmerged::Ref("BUILD_SOURCEBRANCH"),
        ],
        always: &["BUILD_REASON"],
    },
    // https://support.atlassian.com/bitbucket-cloud/docs/variables-and-secrets/#Default-variables
    Service {
        provider: Provider::BitbucketPipelines,
        detect: ("BITBUCKET_BUILD_NUMBER", ""),
        refs: Refs::Vars {
            commit: "BITBUCKET_COMMIT",
            branch: "BITBUCKET_BRANCH",
            tag: Some("BITBUCKET_TAG"),
            slug: Some("BITBUCKET_REPO_FULL_NAME"),
        },
        pre_merge: &[
            Unmerged::Set("BITBUCKET_PR_ID"),
            Unmerged::Set("BITBUCKET_PR_DESTINATION_BRANCH"),
        ],
        always: &[],
    },
    // https://woodpecker-ci.org/docs/usage/environment#built-in-environment-variables
    Service {
        provider: Provider::Woodpecker,
        detect: ("CI", "woodpecker"),
        refs: Refs::Vars {
            commit: "CI_COMMIT_SHA",
            branch: "CI_COMMIT_BRANCH",
            tag: Some("CI_COMMIT_TAG"),
            slug: Some("CI_REPO"),
        },
        // Events `pull_request`, `pull_request_closed`, `pull_request_metadata`.
        pre_merge: &[
            Unmerged::Prefix("CI_PIPELINE_EVENT", "pull_request"),
            Unmerged::Set("CI_COMMIT_PULL_REQUEST"),
            Unmerged::Ref("CI_COMMIT_REF"),
            Unmerged::Ref("CI_COMMIT_BRANCH"),
        ],
        // Before Woodpecker 1.0: `CI_BUILD_EVENT`.
        always: &["CI_PIPELINE_EVENT", "CI_BUILD_EVENT"],
    },
    // https://docs.drone.io/pipeline/environment/reference/ (DRONE_BUILD_EVENT, DRONE_PULL_REQUEST)
    Service {
        provider: Provider::Drone,
        detect: ("DRONE", "true"),
        refs: Refs::Vars {
            commit: "DRONE_COMMIT_SHA",
            branch: "DRONE_BRANCH",
            tag: Some("DRONE_TAG"),
            slug: Some("DRONE_REPO"),
        },
        pre_merge: &[
            Unmerged::Set("DRONE_PULL_REQUEST"),
            Unmerged::Prefix("DRONE_BUILD_EVENT", "pull_request"),
            Unmerged::Ref("DRONE_COMMIT_REF"),
            Unmerged::Ref("DRONE_BRANCH"),
        ],
        always: &["DRONE_BUILD_EVENT"],
    },
];

impl Service {
    /// What a `docker run` must pass (`-e NAME`) for shipcrate in the container to see what
    /// the CI sees: the variable that names the CI, those its refs are read from, and every
    /// pre-merge sign — each once, in that order. Derived from the columns above, so it can't
    /// fall behind them.
    pub(crate) fn docker_env(&self) -> Vec<&'static str> {
        let mut names = vec![self.detect.0];
        names.extend(self.refs.vars());
        names.extend(self.pre_merge.iter().map(|sign| sign.var()));
        names.extend(self.always);
        let mut seen = std::collections::BTreeSet::new();
        names.retain(|name| seen.insert(*name));
        names
    }
}

impl Refs {
    /// Every variable `ci::read_refs` reads for this CI.
    fn vars(&self) -> Vec<&'static str> {
        match *self {
            Refs::Github => vec![
                "GITHUB_SHA",
                "GITHUB_REPOSITORY",
                "GITHUB_REF",
                "GITHUB_HEAD_REF",
                "GITHUB_EVENT_PATH",
            ],
            Refs::Gitlab => vec![
                "CI_COMMIT_SHA",
                "CI_COMMIT_BRANCH",
                "CI_COMMIT_TAG",
                "CI_PROJECT_PATH",
                "CI_DEFAULT_BRANCH",
            ],
            Refs::Travis => vec![
                "TRAVIS_COMMIT",
                "TRAVIS_BRANCH",
                "TRAVIS_TAG",
                "TRAVIS_REPO_SLUG",
            ],
            Refs::Vars {
                commit,
                branch,
                tag,
                slug,
            } => [Some(commit), Some(branch), tag, slug]
                .into_iter()
                .flatten()
                .collect(),
        }
    }
}

impl Unmerged {
    /// The variable this sign is read from.
    fn var(self) -> &'static str {
        match self {
            Unmerged::Set(name)
            | Unmerged::Is(name, _)
            | Unmerged::Prefix(name, _)
            | Unmerged::Ref(name) => name,
        }
    }

    /// `VAR=value` when the build's environment shows this sign.
    pub(super) fn seen(self, var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        let name = self.var();
        let value = var(name)?;
        let holds = match self {
            Unmerged::Set(_) => !value.eq_ignore_ascii_case("false"),
            Unmerged::Is(_, want) => value.eq_ignore_ascii_case(want),
            Unmerged::Prefix(_, prefix) => value.starts_with(prefix),
            Unmerged::Ref(_) => is_unmerged_ref(&value),
        };
        holds.then(|| format!("{name}={value}"))
    }
}

/// A ref or branch name only unmerged code has (see [`UNMERGED_REFS`]).
pub(super) fn is_unmerged_ref(reference: &str) -> bool {
    UNMERGED_REFS.iter().any(|p| reference.starts_with(p))
}

/// A pull/merge request's own ref, which names no branch.
pub(super) fn is_review_ref(reference: &str) -> bool {
    REVIEW_REFS.iter().any(|p| reference.starts_with(p))
}

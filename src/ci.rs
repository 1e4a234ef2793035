//! Works out where we run and what is being built, from the environment and git's facts.
//!
//! A pure function of its inputs (plus reading GitHub's event file): no process env, no git.
//! What each CI service says about the build is one table, `services::SERVICES`: one row per
//! CI, one column per fact (how we know we run there, where the refs are, every sign of code
//! that is not merged yet), each row citing the CI's documentation.

mod services;

use std::fmt;

use crate::Env;
use crate::git::GitFacts;
use services::{Refs, SERVICES, is_review_ref, is_unmerged_ref};

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
    /// Code not merged yet: a pull/merge request, a merge queue, a merge train. Never publishes.
    pub pull_request: bool,
    /// What said so, as `VAR=value` (for the skip reason); `None` when `pull_request` is false.
    pub pre_merge_sign: Option<String>,
    pub slug: Option<String>,
    pub default_branch: Option<String>,
    /// Things the user should know, e.g. that PR builds can't be told apart here.
    pub warnings: Vec<String>,
    /// In a container that shows no CI's variables, or a CI whose variables saying whether
    /// this is a pull request's build were not all passed in (and not `ci: none`): a pull
    /// request can't be told from a push, so only a version tag with `on.tags` publishes. Set
    /// by the caller, which knows the container and the setting ([`hidden`], [`partial`]).
    pub ci_hidden: bool,
    /// Of the recognised CI's variables set on every build that say whether it is a pull
    /// request's ([`Service::always`]), those not set here.
    pub unseen: Vec<&'static str>,
}

impl BuildContext {
    pub(crate) fn is_tag_build(&self) -> bool {
        !self.tags.is_empty()
    }
}

/// Detect the provider and build from `env`, falling back to `git` for what the CI doesn't say.
pub(crate) fn detect(env: &Env, git: &GitFacts) -> BuildContext {
    let var = |name: &str| {
        env.get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mut ctx = BuildContext {
        provider: Provider::Git,
        commit: None,
        branch: None,
        tags: Vec::new(),
        pull_request: false,
        pre_merge_sign: None,
        slug: None,
        default_branch: None,
        warnings: Vec::new(),
        ci_hidden: false,
        unseen: Vec::new(),
    };
    let service = SERVICES.iter().find(|s| {
        let (name, value) = s.detect;
        var(name).is_some_and(|v| value.is_empty() || v.eq_ignore_ascii_case(value))
    });
    if let Some(service) = service {
        ctx.provider = service.provider;
        ctx.pre_merge_sign = service.pre_merge.iter().find_map(|sign| sign.seen(&var));
        ctx.pull_request = ctx.pre_merge_sign.is_some();
        if !ctx.pull_request && service.always.iter().all(|name| var(name).is_none()) {
            ctx.unseen = service.always.to_vec();
        }
        read_refs(&service.refs, &var, &mut ctx);
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
    // A merge queue's branch is unmerged code whoever builds it, plain git included.
    if let Some(branch) = ctx.branch.as_deref().filter(|b| is_unmerged_ref(b))
        && !ctx.pull_request
    {
        ctx.pre_merge_sign = Some(format!("branch {branch}"));
        ctx.pull_request = true;
    }
    ctx
}

/// In a container (`mark` says how we know) where no CI was recognised: a build that may be
/// a pull request's, said once with what each CI's `docker run` must pass. `uploads`: a real
/// publish, which the decision then holds back to a version tag with `on.tags` (a dry run
/// uploads nothing and goes on).
pub(crate) fn hidden(ctx: &mut BuildContext, mark: &str, uploads: bool) {
    let passes: Vec<String> = SERVICES
        .iter()
        .map(|s| format!("{}: -e {}", s.provider, s.docker_env().join(" -e ")))
        .collect();
    ctx.warnings.push(format!(
        "shipcrate runs in a container ({mark}) and sees no CI's variables, so it cannot tell \
         a pull-request build from any other: a branch rule does not publish here, a version \
         tag at the commit with `on.tags: true` still does. Pass your CI's variables into the \
         container ({}), or, for a run by hand, set `ci: none` (`SHIPCRATE_CI=none`)",
        passes.join("; ")
    ));
    ctx.ci_hidden = uploads;
}

/// A CI recognised without the variables it sets on every build to say whether it is a pull
/// request's (`ctx.unseen`; a `docker run` that passed too little): said once, with what to
/// pass. `uploads`: a real publish, which the decision then holds back to a version tag with
/// `on.tags`, as in a container that shows no CI's variables ([`hidden`]).
pub(crate) fn partial(ctx: &mut BuildContext, uploads: bool) {
    let Some(service) = SERVICES.iter().find(|s| s.provider == ctx.provider) else {
        return;
    };
    ctx.warnings.push(format!(
        "shipcrate sees {provider} (`{}`) but not `{}`, which {provider} sets on every build \
         to say whether it is a pull request's: the variables passed in leave that out, so a \
         pull-request build can't be told from any other — a branch rule does not publish \
         here, a version tag at the commit with `on.tags: true` still does. Pass them all: \
         -e {}",
        service.detect.0,
        ctx.unseen.join("` or `"),
        service.docker_env().join(" -e "),
        provider = service.provider,
    ));
    ctx.ci_hidden = uploads;
}

/// The commit the CI says it built, when the checkout is at another (`resolve` gives a
/// revision's full id, `None` when the clone doesn't have it): what to say. shipcrate copies
/// the commit the CI built, but reads its settings and runs its hooks from the checkout — a
/// workflow that checks out another ref (a pull request's head in `workflow_run`, a tag in
/// `workflow_dispatch`) would publish one commit under another's rules.
pub(crate) fn moved(
    ctx: &BuildContext,
    git: &GitFacts,
    resolve: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let head = git.head.as_deref()?;
    let built = resolve(
        ctx.commit
            .as_deref()
            .filter(|_| ctx.provider != Provider::Git)?,
    )?;
    (built != head).then(|| {
        format!(
            "{} built commit {}, but the checkout is at {}: shipcrate publishes the commit the \
             CI built, and reads its settings and runs its hooks from the checkout, so the two \
             must be the same for a real publish. Check out the commit the CI built (on GitHub, \
             `actions/checkout` without `ref:`); to publish another commit, run the job on it \
             (push its tag, or start the workflow on that ref)",
            ctx.provider,
            crate::git::short(&built),
            crate::git::short(head)
        )
    })
}

/// The commit, branch, tags, repository (and GitHub's and GitLab's default branch).
fn read_refs(refs: &Refs, var: &dyn Fn(&str) -> Option<String>, ctx: &mut BuildContext) {
    match *refs {
        Refs::Github => {
            ctx.commit = var("GITHUB_SHA");
            ctx.slug = var("GITHUB_REPOSITORY");
            let reference = var("GITHUB_REF").unwrap_or_default();
            if let Some(tag) = reference.strip_prefix("refs/tags/") {
                ctx.tags.push(tag.to_owned());
            } else if let Some(branch) = reference.strip_prefix("refs/heads/") {
                ctx.branch = Some(branch.to_owned());
            } else if ctx.pull_request {
                ctx.branch = var("GITHUB_HEAD_REF");
            }
            ctx.default_branch = var("GITHUB_EVENT_PATH").and_then(|p| github_default_branch(&p));
        }
        Refs::Gitlab => {
            ctx.commit = var("CI_COMMIT_SHA");
            ctx.branch = var("CI_COMMIT_BRANCH");
            ctx.tags.extend(var("CI_COMMIT_TAG"));
            ctx.slug = var("CI_PROJECT_PATH");
            ctx.default_branch = var("CI_DEFAULT_BRANCH");
        }
        Refs::Travis => {
            ctx.commit = var("TRAVIS_COMMIT");
            ctx.tags.extend(var("TRAVIS_TAG"));
            // On tag builds Travis sets TRAVIS_BRANCH to the tag's name.
            if ctx.tags.is_empty() {
                ctx.branch = var("TRAVIS_BRANCH");
            }
            ctx.slug = var("TRAVIS_REPO_SLUG");
            // Travis's deploy rule: with no branch given, only `master` deploys.
            ctx.default_branch = Some("master".to_owned());
        }
        Refs::Vars {
            commit,
            branch,
            tag,
            slug,
        } => {
            ctx.commit = var(commit);
            ctx.slug = slug.and_then(var);
            ctx.tags
                .extend(tag.and_then(var).map(|t| strip_ref(&t, "refs/tags/")));
            let named = var(branch);
            // A PR's ref is no branch of the repository, but says what is built.
            if let Some(review) = named.as_deref().filter(|b| is_review_ref(b)) {
                ctx.pull_request = true;
                ctx.pre_merge_sign
                    .get_or_insert_with(|| format!("{branch}={review}"));
            }
            match named.filter(|b| !is_review_ref(b)) {
                Some(b) if b.starts_with("refs/tags/") => {
                    ctx.tags.push(strip_ref(&b, "refs/tags/"));
                }
                Some(b) if ctx.tags.is_empty() => ctx.branch = Some(strip_ref(&b, "refs/heads/")),
                _ => {}
            }
        }
    }
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

#[cfg(test)]
mod docker_env;

#[cfg(test)]
mod tests {
    use super::services::{Service, Unmerged};
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

    fn ctx(pairs: &[(&str, &str)]) -> BuildContext {
        detect(&env(pairs), &git())
    }

    /// Each case is a build of unmerged code on `ci` (plus its detection variable); `push`
    /// is a build of a branch that is merged, which must stay publishable.
    fn assert_pre_merge(ci: (&str, &str), cases: &[&[(&str, &str)]], push: &[(&str, &str)]) {
        for case in cases {
            let mut pairs = vec![ci];
            pairs.extend_from_slice(case);
            let built = ctx(&pairs);
            assert_ne!(built.provider, Provider::Git, "{pairs:?}");
            assert!(built.pull_request, "{pairs:?} is not merged yet");
            let sign = built.pre_merge_sign.unwrap();
            assert!(
                case.iter().any(|(k, v)| sign == format!("{k}={v}")),
                "{sign} names none of {case:?}"
            );
        }
        let mut pairs = vec![ci];
        pairs.extend_from_slice(push);
        let built = ctx(&pairs);
        assert!(!built.pull_request, "{pairs:?}");
        assert_eq!(built.pre_merge_sign, None);
    }

    #[test]
    fn github_actions_pull_requests_and_merge_queue() {
        assert_pre_merge(
            ("GITHUB_ACTIONS", "true"),
            &[
                &[("GITHUB_EVENT_NAME", "pull_request")],
                &[("GITHUB_EVENT_NAME", "pull_request_target")],
                &[("GITHUB_EVENT_NAME", "pull_request_review")],
                &[("GITHUB_EVENT_NAME", "pull_request_review_comment")],
                &[
                    ("GITHUB_EVENT_NAME", "merge_group"),
                    ("GITHUB_REF", "refs/heads/gh-readonly-queue/main/pr-7-f00"),
                ],
                // The queue's branch, pushed: GitHub still sends a `push` event for it.
                &[
                    ("GITHUB_EVENT_NAME", "push"),
                    ("GITHUB_REF", "refs/heads/gh-readonly-queue/main/pr-7-f00"),
                ],
                &[
                    ("GITHUB_EVENT_NAME", "workflow_dispatch"),
                    ("GITHUB_REF", "refs/pull/3/head"),
                ],
            ],
            &[
                ("GITHUB_EVENT_NAME", "push"),
                ("GITHUB_REF", "refs/heads/main"),
            ],
        );
        let pr = ctx(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF", "refs/pull/7/merge"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_HEAD_REF", "topic"),
        ]);
        assert_eq!(pr.branch.as_deref(), Some("topic"));
    }

    #[test]
    fn gitlab_merge_requests_trains_and_merged_results() {
        assert_pre_merge(
            ("GITLAB_CI", "true"),
            &[
                &[
                    ("CI_PIPELINE_SOURCE", "merge_request_event"),
                    ("CI_MERGE_REQUEST_IID", "3"),
                    ("CI_MERGE_REQUEST_EVENT_TYPE", "merge_train"),
                ],
                &[("CI_MERGE_REQUEST_EVENT_TYPE", "merge_train")],
                &[("CI_MERGE_REQUEST_EVENT_TYPE", "merged_result")],
                &[("CI_MERGE_REQUEST_EVENT_TYPE", "detached")],
                &[("CI_PIPELINE_SOURCE", "merge_request_event")],
                &[("CI_MERGE_REQUEST_REF_PATH", "refs/merge-requests/3/head")],
                &[("CI_EXTERNAL_PULL_REQUEST_IID", "12")],
                &[
                    ("CI_PIPELINE_SOURCE", "external_pull_request_event"),
                    ("CI_COMMIT_BRANCH", "topic"),
                ],
            ],
            &[("CI_PIPELINE_SOURCE", "push"), ("CI_COMMIT_BRANCH", "main")],
        );
    }

    #[test]
    fn travis_pull_requests() {
        assert_pre_merge(
            ("TRAVIS", "true"),
            &[
                &[("TRAVIS_BRANCH", "master"), ("TRAVIS_PULL_REQUEST", "12")],
                &[("TRAVIS_EVENT_TYPE", "pull_request")],
                &[("TRAVIS_BRANCH", "gh-readonly-queue/master/pr-1-abc")],
            ],
            &[
                ("TRAVIS_BRANCH", "master"),
                ("TRAVIS_PULL_REQUEST", "false"),
                ("TRAVIS_EVENT_TYPE", "push"),
            ],
        );
    }

    #[test]
    fn circleci_pull_requests() {
        assert_pre_merge(
            ("CIRCLECI", "true"),
            &[
                &[("CIRCLE_PULL_REQUEST", "https://github.com/o/r/pull/1")],
                &[("CIRCLE_PR_NUMBER", "1")],
                &[("CIRCLE_BRANCH", "gh-readonly-queue/main/pr-1-abc")],
            ],
            &[("CIRCLE_BRANCH", "main"), ("CIRCLE_PR_NUMBER", "false")],
        );
    }

    #[test]
    fn buildkite_pull_requests_and_merge_queue() {
        assert_pre_merge(
            ("BUILDKITE", "true"),
            &[
                &[("BUILDKITE_PULL_REQUEST", "5")],
                &[
                    ("BUILDKITE_MERGE_QUEUE_BASE_BRANCH", "main"),
                    ("BUILDKITE_BRANCH", "gh-readonly-queue/main/pr-5-abc"),
                ],
                &[("BUILDKITE_BRANCH", "gh-readonly-queue/main/pr-5-abc")],
            ],
            &[
                ("BUILDKITE_PULL_REQUEST", "false"),
                ("BUILDKITE_BRANCH", "main"),
            ],
        );
    }

    #[test]
    fn jenkins_change_requests() {
        assert_pre_merge(
            ("JENKINS_URL", "http://j/"),
            &[
                &[("CHANGE_ID", "9"), ("BRANCH_NAME", "PR-9")],
                &[("ghprbPullId", "9")],
                &[("gitlabMergeRequestIid", "9")],
                &[("BRANCH_NAME", "gh-readonly-queue/main/pr-9-abc")],
            ],
            &[("BRANCH_NAME", "main"), ("CHANGE_ID", "")],
        );
    }

    #[test]
    fn azure_pipelines_pull_requests() {
        assert_pre_merge(
            ("TF_BUILD", "True"),
            &[
                &[("BUILD_REASON", "PullRequest")],
                &[("SYSTEM_PULLREQUEST_PULLREQUESTID", "17")],
                &[("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "24")],
                &[("BUILD_SOURCEBRANCH", "refs/pull/4/merge")],
                &[(
                    "BUILD_SOURCEBRANCH",
                    "refs/heads/gh-readonly-queue/main/pr-4-abc",
                )],
            ],
            &[
                ("BUILD_REASON", "IndividualCI"),
                ("BUILD_SOURCEBRANCH", "refs/heads/main"),
            ],
        );
        let tag = ctx(&[
            ("TF_BUILD", "True"),
            ("BUILD_SOURCEBRANCH", "refs/tags/v1.0.0"),
        ]);
        assert_eq!(tag.tags, ["v1.0.0"]);
        assert_eq!(tag.branch, None);
    }

    #[test]
    fn bitbucket_pull_requests() {
        assert_pre_merge(
            ("BITBUCKET_BUILD_NUMBER", "4"),
            &[
                &[("BITBUCKET_PR_ID", "2")],
                &[("BITBUCKET_PR_DESTINATION_BRANCH", "main")],
            ],
            &[("BITBUCKET_BRANCH", "main")],
        );
    }

    #[test]
    fn woodpecker_pull_requests() {
        assert_pre_merge(
            ("CI", "woodpecker"),
            &[
                &[("CI_PIPELINE_EVENT", "pull_request")],
                &[("CI_PIPELINE_EVENT", "pull_request_closed")],
                &[("CI_COMMIT_PULL_REQUEST", "8")],
                &[("CI_COMMIT_REF", "refs/pull/8/head")],
                &[("CI_COMMIT_REF", "refs/merge-requests/8/head")],
                &[("CI_COMMIT_BRANCH", "gh-readonly-queue/main/pr-8-abc")],
            ],
            &[
                ("CI_PIPELINE_EVENT", "push"),
                ("CI_COMMIT_BRANCH", "main"),
                ("CI_COMMIT_REF", "refs/heads/main"),
            ],
        );
    }

    #[test]
    fn drone_pull_requests() {
        assert_pre_merge(
            ("DRONE", "true"),
            &[
                &[("DRONE_PULL_REQUEST", "42")],
                &[("DRONE_BUILD_EVENT", "pull_request")],
                &[("DRONE_COMMIT_REF", "refs/pull/5/head")],
                &[("DRONE_BRANCH", "gh-readonly-queue/main/pr-5-abc")],
            ],
            &[
                ("DRONE_BUILD_EVENT", "push"),
                ("DRONE_BRANCH", "main"),
                ("DRONE_COMMIT_REF", "refs/heads/main"),
            ],
        );
    }

    #[test]
    fn every_sign_in_the_table_stops_a_build_on_its_own() {
        for service in SERVICES {
            for sign in service.pre_merge {
                let (name, value) = match *sign {
                    Unmerged::Set(name) => (name, "7"),
                    Unmerged::Is(name, value) | Unmerged::Prefix(name, value) => (name, value),
                    Unmerged::Ref(name) => (name, "refs/pull/7/head"),
                };
                let built = ctx(&[service.detect_pair(), (name, value)]);
                assert_eq!(built.provider, service.provider, "{sign:?}");
                assert!(built.pull_request, "{} {sign:?}", service.provider);
            }
        }
    }

    #[test]
    fn a_merge_queue_branch_is_unmerged_on_plain_git_too() {
        let mut facts = git();
        facts.branch = Some("gh-readonly-queue/main/pr-1-abc".into());
        let built = detect(&env(&[]), &facts);
        assert!(built.pull_request);
        assert_eq!(
            built.pre_merge_sign.as_deref(),
            Some("branch gh-readonly-queue/main/pr-1-abc")
        );
    }

    #[test]
    fn github_tag_push() {
        let built = ctx(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF", "refs/tags/v1.2.3"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_SHA", "f00"),
            ("GITHUB_REPOSITORY", "o/r"),
        ]);
        assert_eq!(built.provider, Provider::GithubActions);
        assert_eq!(built.tags, ["v1.2.3"]);
        assert_eq!(built.branch, None);
        assert_eq!(built.commit.as_deref(), Some("f00"));
        assert_eq!(built.slug.as_deref(), Some("o/r"));
        assert!(!built.pull_request);
    }

    #[test]
    fn github_default_branch_comes_from_the_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("event.json");
        std::fs::write(&path, r#"{"repository":{"default_branch":"trunk"}}"#).unwrap();
        let built = ctx(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF", "refs/heads/trunk"),
            ("GITHUB_EVENT_PATH", path.to_str().unwrap()),
        ]);
        assert_eq!(built.default_branch.as_deref(), Some("trunk"));
        assert_eq!(built.branch.as_deref(), Some("trunk"));
    }

    #[test]
    fn a_ci_without_the_variable_it_always_sets_says_which_is_unseen() {
        let push = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF", "refs/heads/main"),
        ];
        assert_eq!(ctx(&push).unseen, ["GITHUB_EVENT_NAME"]);
        let mut seen = push.to_vec();
        seen.push(("GITHUB_EVENT_NAME", "push"));
        assert!(ctx(&seen).unseen.is_empty());
        // A pull request known as one needs nothing more; a CI that sets its PR variables
        // only on PRs can't be caught.
        let pr = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF", "refs/pull/1/merge"),
        ];
        assert!(ctx(&pr).pull_request && ctx(&pr).unseen.is_empty());
        assert!(ctx(&[("CIRCLECI", "true")]).unseen.is_empty());
        assert_eq!(
            ctx(&[("BUILDKITE", "true")]).unseen,
            ["BUILDKITE_PULL_REQUEST"]
        );
    }

    #[test]
    fn gitlab_tag() {
        let tag = ctx(&[
            ("GITLAB_CI", "true"),
            ("CI_COMMIT_TAG", "v2.0.0"),
            ("CI_DEFAULT_BRANCH", "develop"),
            ("CI_PROJECT_PATH", "g/p"),
        ]);
        assert_eq!(tag.tags, ["v2.0.0"]);
        assert_eq!(tag.branch, None);
        assert_eq!(tag.default_branch.as_deref(), Some("develop"));
        assert_eq!(tag.slug.as_deref(), Some("g/p"));
    }

    #[test]
    fn travis_tag_build_has_no_branch_and_master_is_default() {
        let built = ctx(&[
            ("TRAVIS", "true"),
            ("TRAVIS_BRANCH", "v1.0.0"),
            ("TRAVIS_TAG", "v1.0.0"),
            ("TRAVIS_PULL_REQUEST", "false"),
        ]);
        assert_eq!(built.tags, ["v1.0.0"]);
        assert_eq!(built.branch, None);
        assert_eq!(built.default_branch.as_deref(), Some("master"));
        assert!(!built.pull_request);
    }

    #[test]
    fn plain_git_and_unknown_ci_warning() {
        let mut facts = git();
        facts.tags_at_head = vec!["v0.1.0".into()];
        let built = detect(&env(&[]), &facts);
        assert_eq!(built.provider, Provider::Git);
        assert_eq!(built.branch.as_deref(), Some("feature"));
        assert_eq!(built.tags, ["v0.1.0"]);
        assert!(built.warnings.is_empty());
        let ci = detect(&env(&[("CI", "true")]), &facts);
        assert!(ci.warnings[0].contains("on.condition"));
    }

    impl Service {
        /// The detection variable with a value that matches it.
        fn detect_pair(&self) -> (&'static str, &'static str) {
            match self.detect {
                (name, "") => (name, "1"),
                pair => pair,
            }
        }
    }
}

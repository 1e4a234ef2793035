//! Decides whether this build may publish, with Travis's deploy rules.
//!
//! Pure but for `on.condition`, whose commands the caller runs: this module never spawns.

use anyhow::Result;

use crate::ci::BuildContext;
use crate::config::On;

/// Publish, or skip with the rule that said no.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Publish,
    Skip(String),
}

/// Apply the rules in order: pull request, `on.repo`, `on.tags`, the branch rule, `on.condition`.
/// `condition` runs one shell command and gives its exit code.
pub fn decide(
    on: &On,
    ctx: &BuildContext,
    mut condition: impl FnMut(&str) -> Result<i32>,
) -> Result<Decision> {
    let skip = |why: String| Ok(Decision::Skip(why));

    if ctx.pull_request {
        return skip("this is a pull-request build, and pull requests never publish".to_owned());
    }
    if let Some(repo) = &on.repo {
        match &ctx.slug {
            None => {
                return skip(format!(
                    "`on.repo` is `{repo}`, but {} does not say which repository this is",
                    ctx.provider
                ));
            }
            Some(slug) if slug != repo => {
                return skip(format!(
                    "this repository is `{slug}`, not `{repo}` (`on.repo`)"
                ));
            }
            Some(_) => {}
        }
    }
    match on.tags {
        Some(true) if !ctx.is_tag_build() => {
            return skip("this is not a tagged commit (`on.tags: true`)".to_owned());
        }
        Some(false) if ctx.is_tag_build() => {
            return skip(format!(
                "this is a tag build (`{}`) and `on.tags` is false",
                ctx.tags.join("`, `")
            ));
        }
        _ => {}
    }
    // `tags: true` lifts the branch rule: a tag build has no branch.
    if on.tags != Some(true) && !on.all_branches {
        let allowed: Vec<&str> = if on.branch.is_empty() {
            match &ctx.default_branch {
                Some(default) => vec![default.as_str()],
                None => {
                    return skip(
                        "the default branch is unknown here; name the branches that publish \
                         with `on.branch`, or set `on.all_branches: true`"
                            .to_owned(),
                    );
                }
            }
        } else {
            on.branch.iter().map(String::as_str).collect()
        };
        let rule = if on.branch.is_empty() {
            "the default branch"
        } else {
            "`on.branch`"
        };
        match &ctx.branch {
            None if ctx.is_tag_build() => {
                return skip(format!(
                    "this is a tag build, not a build of `{}` ({rule}); set `on.tags: true` to publish tags",
                    allowed.join("`, `")
                ));
            }
            None => {
                return skip(format!(
                    "this build is on no branch (detached HEAD), and only `{}` may publish ({rule})",
                    allowed.join("`, `")
                ));
            }
            Some(branch) if !allowed.contains(&branch.as_str()) => {
                return skip(format!(
                    "branch `{branch}` is not permitted to publish; only `{}` ({rule})",
                    allowed.join("`, `")
                ));
            }
            Some(_) => {}
        }
    }
    for command in &on.condition {
        let code = condition(command)?;
        if code != 0 {
            return skip(format!(
                "`on.condition` `{command}` did not hold (exit status {code})"
            ));
        }
    }
    Ok(Decision::Publish)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ci::Provider;

    fn ctx(branch: Option<&str>, tags: &[&str]) -> BuildContext {
        BuildContext {
            provider: Provider::GithubActions,
            commit: Some("abc".into()),
            branch: branch.map(Into::into),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            pull_request: false,
            slug: Some("owner/repo".into()),
            default_branch: Some("main".into()),
            warnings: vec![],
        }
    }

    fn run(on: &On, ctx: &BuildContext) -> Decision {
        decide(on, ctx, |c| Ok(if c == "true" { 0 } else { 1 })).unwrap()
    }

    fn skipped(d: Decision, needle: &str) {
        match d {
            Decision::Skip(why) => assert!(why.contains(needle), "{why:?} lacks {needle:?}"),
            Decision::Publish => panic!("expected a skip mentioning {needle:?}"),
        }
    }

    #[test]
    fn default_publishes_only_the_default_branch() {
        assert_eq!(
            run(&On::default(), &ctx(Some("main"), &[])),
            Decision::Publish
        );
        skipped(
            run(&On::default(), &ctx(Some("dev"), &[])),
            "branch `dev` is not permitted",
        );
        skipped(run(&On::default(), &ctx(None, &["v1.0.0"])), "tag build");
    }

    #[test]
    fn tags_true_requires_a_tag_and_lifts_the_branch_rule() {
        let on = On {
            tags: Some(true),
            branch: vec!["release".into()],
            ..On::default()
        };
        assert_eq!(run(&on, &ctx(None, &["v1.0.0"])), Decision::Publish);
        skipped(run(&on, &ctx(Some("release"), &[])), "not a tagged commit");
    }

    #[test]
    fn tags_false_refuses_tag_builds() {
        let on = On {
            tags: Some(false),
            all_branches: true,
            ..On::default()
        };
        skipped(run(&on, &ctx(Some("main"), &["v1"])), "tag build");
        assert_eq!(run(&on, &ctx(Some("main"), &[])), Decision::Publish);
    }

    #[test]
    fn branch_list_and_all_branches() {
        let on = On {
            branch: vec!["production".into(), "staging".into()],
            ..On::default()
        };
        assert_eq!(run(&on, &ctx(Some("staging"), &[])), Decision::Publish);
        skipped(run(&on, &ctx(Some("main"), &[])), "`on.branch`");
        let all = On {
            all_branches: true,
            ..On::default()
        };
        assert_eq!(run(&all, &ctx(Some("anything"), &[])), Decision::Publish);
    }

    #[test]
    fn pull_requests_never_publish_whatever_the_config() {
        let mut c = ctx(Some("main"), &["v1"]);
        c.pull_request = true;
        let on = On {
            all_branches: true,
            ..On::default()
        };
        skipped(run(&on, &c), "pull-request");
    }

    #[test]
    fn repo_rule_and_unknown_slug() {
        let on = On {
            repo: Some("owner/repo".into()),
            ..On::default()
        };
        assert_eq!(run(&on, &ctx(Some("main"), &[])), Decision::Publish);
        let mut fork = ctx(Some("main"), &[]);
        fork.slug = Some("fork/repo".into());
        skipped(run(&on, &fork), "not `owner/repo`");
        fork.slug = None;
        skipped(run(&on, &fork), "does not say which repository");
    }

    #[test]
    fn conditions_must_all_hold() {
        let on = On {
            condition: vec!["true".into(), "false".into()],
            ..On::default()
        };
        skipped(run(&on, &ctx(Some("main"), &[])), "`false` did not hold");
        let ok = On {
            condition: vec!["true".into()],
            ..On::default()
        };
        assert_eq!(run(&ok, &ctx(Some("main"), &[])), Decision::Publish);
    }

    #[test]
    fn unknown_default_branch_is_a_skip_that_says_what_to_set() {
        let mut c = ctx(Some("main"), &[]);
        c.default_branch = None;
        skipped(run(&On::default(), &c), "on.branch");
    }
}

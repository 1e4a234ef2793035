//! Decides whether this build may publish, with Travis's deploy rules.
//!
//! Pure but for `on.condition`, whose commands the caller runs: this module never spawns.

use anyhow::Result;

use crate::Env;
use crate::ci::{BuildContext, Provider};
use crate::config::On;
use crate::travis::expr;

/// Publish, or skip with the rule that said no.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Publish,
    Skip(String),
}

/// Apply the rules in order: pull request, a Travis job's `if:`, `on.repo`, `on.tags`, a CI
/// hidden by a container, the branch rule, runtimes, `on.condition`. `env` is the build's environment (runtimes and
/// `env(…)` read it); `condition` runs one shell command and gives its exit code.
pub(crate) fn decide(
    on: &On,
    ctx: &BuildContext,
    env: &Env,
    mut condition: impl FnMut(&str) -> Result<i32>,
) -> Result<Decision> {
    let build = Build {
        on,
        ctx,
        env,
        // On a tag build Travis's branch is the tag's name (`TRAVIS_BRANCH`).
        travis_branch: ctx.branch.clone().or_else(|| ctx.tags.first().cloned()),
    };
    for rule in RULES {
        if let Some(why) = rule(&build)? {
            return Ok(Decision::Skip(why));
        }
    }
    // Last, as the only rule that runs anything: nothing runs for a build another rule skips.
    for command in &on.condition {
        let code = condition(command)?;
        if code != 0 {
            return Ok(Decision::Skip(format!(
                "`on.condition` `{command}` did not hold (exit status {code})"
            )));
        }
    }
    Ok(Decision::Publish)
}

/// What the rules read: the deploy's `on`, the build, its environment.
struct Build<'a> {
    on: &'a On,
    ctx: &'a BuildContext,
    env: &'a Env,
    /// Travis's `TRAVIS_BRANCH`: the branch, or on a tag build the tag's name.
    travis_branch: Option<String>,
}

/// One rule: why it skips this build, or `None` when it holds (an error: it can't be read).
type Rule = fn(&Build) -> Result<Option<String>>;

/// The pure rules, in the order Travis applied them; the first that says no decides.
const RULES: &[Rule] = &[
    |build| Ok(pull_request(build)),
    |build| Ok(travis_job(build)),
    job_if,
    |build| Ok(repo(build)),
    |build| Ok(tags(build)),
    |build| Ok(hidden_ci(build)),
    |build| Ok(branch(build)),
    |build| Ok(runtimes(build)),
];

/// Code not yet merged never publishes.
fn pull_request(build: &Build) -> Option<String> {
    let ctx = build.ctx;
    if !ctx.pull_request {
        return None;
    }
    let sign = ctx
        .pre_merge_sign
        .as_ref()
        .map_or_else(String::new, |s| format!(" ({s})"));
    Some(format!(
        "this is a pull-request build{sign}, and code not yet merged never publishes"
    ))
}

/// `.travis.yml`'s word on whether this build runs the deploy at all: Travis built only the
/// branches and tags `branches.only` / `except` let through, and a deploy held by a
/// `jobs.include` entry ran only in that job. A Travis build tells the job by
/// `TRAVIS_BUILD_STAGE_NAME` (capitalized by Travis, so compared without case),
/// `TRAVIS_RUST_VERSION`, `TRAVIS_OS_NAME` and the job's env (travis-build
/// `lib/travis/build/env/builtin.rb:55`); elsewhere nothing says which job this is.
fn travis_job(build: &Build) -> Option<String> {
    let (on, ctx) = (build.on, build.ctx);
    if let (Some(built), Some(name)) = (&on.built, build.travis_branch.as_deref())
        && !built.builds(name)
    {
        let what = if ctx.tags.iter().any(|t| t == name) {
            "tag"
        } else {
            "branch"
        };
        return Some(format!(
            "Travis would not have built {what} `{name}`: .travis.yml's {}",
            built.describe()
        ));
    }
    if ctx.provider != Provider::Travis {
        return None;
    }
    for rule in &on.job {
        let have = build.env.get(&rule.var).map_or("", String::as_str);
        let same = match rule.key.as_str() {
            // The job's env sets its variables; a job without them is another.
            "env" => have == rule.value,
            // Unset: nothing to tell by (a build without stages leaves the stage empty).
            _ if have.is_empty() => true,
            "stage" => have.eq_ignore_ascii_case(&rule.value),
            _ => have == rule.value,
        };
        if !same {
            let what = if rule.key == "env" {
                format!("`{}={}` in its env", rule.var, rule.value)
            } else {
                format!("`{}: {}`", rule.key, rule.value)
            };
            let have = if have.is_empty() {
                "not set".to_owned()
            } else {
                format!("`{have}`")
            };
            return Some(format!(
                "this is another job than the one that deploys: that job has {what}, and `{}` \
                 is {have}",
                rule.var
            ));
        }
    }
    None
}

/// A Travis job's `if:` on the deploy, in Travis's condition language.
fn job_if(build: &Build) -> Result<Option<String>> {
    let Build { on, ctx, env, .. } = build;
    let Some(text) = &on.job_if else {
        return Ok(None);
    };
    let parsed = expr::parse(text).map_err(|why| anyhow::anyhow!("`if: {text}`: {why}"))?;
    let facts = expr::Facts {
        kind: env
            .get("TRAVIS_EVENT_TYPE")
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| {
                if ctx.pull_request {
                    "pull_request"
                } else {
                    "push"
                }
                .into()
            }),
        repo: ctx.slug.clone(),
        branch: build.travis_branch.clone(),
        tag: ctx.tags.first().cloned(),
        env,
    };
    Ok((!expr::eval(&parsed, &facts)).then(|| {
        format!("`if: {text}` (.travis.yml's condition on the deploy) does not hold for this build")
    }))
}

/// `on.repo`: only this repository publishes (a fork's build does not).
fn repo(build: &Build) -> Option<String> {
    let Some(repo) = &build.on.repo else {
        return None;
    };
    match &build.ctx.slug {
        None => Some(format!(
            "`on.repo` is `{repo}`, but {} does not say which repository this is",
            build.ctx.provider
        )),
        Some(slug) if slug != repo => Some(format!(
            "this repository is `{slug}`, not `{repo}` (`on.repo`)"
        )),
        Some(_) => None,
    }
}

/// `on.tags`: only tag builds (`true`), or never them (`false`).
fn tags(build: &Build) -> Option<String> {
    let ctx = build.ctx;
    match build.on.tags {
        Some(true) if !ctx.is_tag_build() => {
            Some("this is not a tagged commit (`on.tags: true`)".to_owned())
        }
        Some(false) if ctx.is_tag_build() => Some(format!(
            "this is a tag build (`{}`) and `on.tags` is false",
            ctx.tags.join("`, `")
        )),
        _ => None,
    }
}

/// In a container that shows no CI's variables, or where the CI's variables saying whether
/// this is a pull request's build were not passed in, a pull request looks like any branch:
/// only a version tag with `on.tags: true` (which git sees at the commit) publishes.
fn hidden_ci(build: &Build) -> Option<String> {
    let ctx = build.ctx;
    (ctx.ci_hidden && build.on.tags != Some(true)).then(|| match ctx.unseen.as_slice() {
        [] => "shipcrate runs in a container that shows no CI's variables, so this may be a \
               pull-request build: only a version tag with `on.tags: true` publishes here \
               (pass the CI's variables into the container, or set `ci: none` for a run by \
               hand)"
            .to_owned(),
        unseen => format!(
            "{} does not show `{}` here, so this may be a pull-request build: only a version \
             tag with `on.tags: true` publishes here (pass the CI's variables into the \
             container: see the warning above)",
            ctx.provider,
            unseen.join("` or `")
        ),
    })
}

/// `on.branch` (patterns), else the default branch; `on.all_branches` and `tags: true` lift
/// it (a tag build has no branch).
fn branch(build: &Build) -> Option<String> {
    let Build { on, ctx, .. } = build;
    if on.tags == Some(true) || on.all_branches {
        return None;
    }
    let allowed: Vec<&str> = if on.branch.is_empty() {
        match &ctx.default_branch {
            Some(default) => vec![default.as_str()],
            None => {
                return Some(
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
    let matches = |name: &str| {
        if on.branch.is_empty() {
            allowed.contains(&name)
        } else {
            allowed.iter().any(|pattern| branch_matches(pattern, name))
        }
    };
    let tag_as_branch = !on.branch.is_empty()
        && ctx.branch.is_none()
        && build.travis_branch.as_deref().is_some_and(matches);
    let allowed = allowed.join("`, `");
    match &ctx.branch {
        None if tag_as_branch => None,
        None if ctx.is_tag_build() => Some(format!(
            "this is a tag build, not a build of `{allowed}` ({rule}); set `on.tags: true` to publish tags"
        )),
        None => Some(format!(
            "this build is on no branch (detached HEAD), and only `{allowed}` may publish ({rule})"
        )),
        Some(branch) if !matches(branch) => Some(format!(
            "branch `{branch}` is not permitted to publish; only `{allowed}` ({rule})"
        )),
        Some(_) => None,
    }
}

/// Travis's runtime keys (`on.rust: stable`): the variable Travis set for the job's runtime
/// must hold the value, as text.
fn runtimes(build: &Build) -> Option<String> {
    let Build { on, ctx, env, .. } = build;
    for rule in &on.runtimes {
        let (key, var, want) = (&rule.key, &rule.var, &rule.value);
        match env.get(var).filter(|v| !v.is_empty()) {
            // `[[ $TRAVIS_RUST_VERSION = stable ]]`, the value escaped: text equality.
            Some(have) if have == want => {}
            Some(have) => {
                return Some(format!(
                    "this is not on the required runtime: `on.{key}` is `{want}`, and `{var}` is `{have}`"
                ));
            }
            None if ctx.provider == Provider::Travis => {
                return Some(format!(
                    "this is not on the required runtime: `on.{key}` is `{want}`, and `{var}` is not set"
                ));
            }
            None => {
                return Some(format!(
                    "the runtime rule `on.{key}: {want}` needs `{var}`, which only Travis sets; \
                     on {} set `{var}` in the job's environment, or drop the rule \
                     (`shipcrate migrate` carries it over)",
                    ctx.provider
                ));
            }
        }
    }
    None
}

/// Which of several deploy entries publishes, and why.
#[derive(Debug)]
pub(crate) struct Choice {
    /// The first entry whose rules hold, if any.
    pub index: Option<usize>,
    pub decision: Decision,
    /// Later entries whose rules hold too.
    pub notes: Vec<String>,
}

/// Travis ran every deploy entry with its own rules: the first whose rules hold publishes with
/// its settings; a later one that holds too would find everything published.
pub(crate) fn choose(
    entries: &[(&str, &On)],
    ctx: &BuildContext,
    env: &Env,
    mut condition: impl FnMut(&str) -> Result<i32>,
) -> Result<Choice> {
    let mut choice = Choice {
        index: None,
        decision: Decision::Skip(String::new()),
        notes: Vec::new(),
    };
    if let [(_, on)] = entries {
        choice.decision = decide(on, ctx, env, condition)?;
        choice.index = (choice.decision == Decision::Publish).then_some(0);
        return Ok(choice);
    }
    let mut skips = Vec::new();
    for (i, (label, on)) in entries.iter().enumerate() {
        match (decide(on, ctx, env, &mut condition)?, choice.index) {
            (Decision::Publish, None) => choice.index = Some(i),
            (Decision::Publish, Some(first)) => choice.notes.push(format!(
                "the rules of {label} hold too: Travis ran it after {}, and it would only have \
                 found everything published",
                entries[first].0
            )),
            (Decision::Skip(why), None) => {
                // A pull request is the same answer for every entry.
                if ctx.pull_request {
                    choice.decision = Decision::Skip(why);
                    return Ok(choice);
                }
                skips.push(format!("{label}: {why}"));
            }
            (Decision::Skip(_), Some(_)) => {}
        }
    }
    choice.decision = match choice.index {
        Some(_) => Decision::Publish,
        None => Decision::Skip(format!(
            "no cargo deploy entry's rules hold ({})",
            skips.join("; ")
        )),
    };
    Ok(choice)
}

/// `[[ $TRAVIS_BRANCH == <pattern> ]]` with the pattern unquoted, as Travis's deploy script
/// wrote it: bash's `*`, `?`, `[…]` (with `!` / `^`) and `\` escapes.
pub(crate) fn branch_matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some('?') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some('[') => {
                let Some(c) = s.first() else { return false };
                let mut i = 1;
                let negate = matches!(p.get(1), Some('!' | '^'));
                if negate {
                    i += 1;
                }
                let start = i;
                let mut hit = false;
                while i < p.len() && (p[i] != ']' || i == start) {
                    if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|e| *e != ']') {
                        hit |= p[i] <= *c && *c <= p[i + 2];
                        i += 3;
                    } else {
                        hit |= p[i] == *c;
                        i += 1;
                    }
                }
                if i >= p.len() {
                    // No closing `]`: bash matches the `[` as itself.
                    return *c == '[' && go(&p[1..], &s[1..]);
                }
                hit != negate && go(&p[i + 1..], &s[1..])
            }
            Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && go(&p[2..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    go(&p, &s)
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
            pre_merge_sign: None,
            slug: Some("owner/repo".into()),
            default_branch: Some("main".into()),
            warnings: vec![],
            ci_hidden: false,
            unseen: vec![],
        }
    }

    #[test]
    fn a_ci_hidden_by_a_container_publishes_only_a_version_tag_with_on_tags() {
        let hidden = |branch: Option<&str>, tags: &[&str]| BuildContext {
            provider: Provider::Git,
            ci_hidden: true,
            ..ctx(branch, tags)
        };
        let all_branches = On {
            all_branches: true,
            ..On::default()
        };
        for on in [&all_branches, &On::default()] {
            match run(on, &hidden(Some("main"), &[])) {
                Decision::Skip(why) => assert!(why.contains("set `ci: none`"), "{why}"),
                Decision::Publish => panic!("a branch rule published a build that may be a PR"),
            }
        }
        let tags = On {
            tags: Some(true),
            ..On::default()
        };
        assert_eq!(run(&tags, &hidden(None, &["v1.0.0"])), Decision::Publish);
        assert!(matches!(
            run(&tags, &hidden(Some("main"), &[])),
            Decision::Skip(_)
        ));
        // Seen (no container, or `ci: none`): the branch rule holds as ever.
        assert_eq!(
            run(&all_branches, &ctx(Some("main"), &[])),
            Decision::Publish
        );
    }

    fn run(on: &On, ctx: &BuildContext) -> Decision {
        decide(on, ctx, &Env::new(), |c| Ok(i32::from(c != "true"))).unwrap()
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
    fn branch_patterns_match_as_bash_matched_them() {
        for (pattern, name, want) in [
            ("release-*", "release-1.2", true),
            ("release-*", "release", false),
            ("v?.x", "v1.x", true),
            ("[mp]aster", "master", true),
            ("[!m]aster", "master", false),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("master", "master2", false),
        ] {
            assert_eq!(branch_matches(pattern, name), want, "{pattern} {name}");
        }
    }

    #[test]
    fn a_tag_build_matches_a_branch_pattern_by_its_name() {
        let on = On {
            branch: vec!["v1.*".into()],
            ..On::default()
        };
        assert_eq!(run(&on, &ctx(None, &["v1.2.0"])), Decision::Publish);
        skipped(run(&on, &ctx(None, &["v2.0.0"])), "tag build");
    }

    #[test]
    fn runtimes_compare_the_travis_variable_as_text() {
        let on = On {
            all_branches: true,
            runtimes: vec![crate::travis::Runtime {
                key: "rust".into(),
                var: "TRAVIS_RUST_VERSION".into(),
                value: "1.70".into(),
            }],
            ..On::default()
        };
        let decide_with = |c: &BuildContext, version: Option<&str>| {
            let env: Env = version
                .map(|v| ("TRAVIS_RUST_VERSION".to_owned(), v.to_owned()))
                .into_iter()
                .collect();
            decide(&on, c, &env, |_| Ok(0)).unwrap()
        };
        let mut travis = ctx(Some("dev"), &[]);
        travis.provider = Provider::Travis;
        assert_eq!(decide_with(&travis, Some("1.70")), Decision::Publish);
        skipped(decide_with(&travis, Some("1.70.0")), "is `1.70.0`");
        skipped(decide_with(&travis, None), "is not set");
        skipped(
            decide_with(&ctx(Some("dev"), &[]), None),
            "needs `TRAVIS_RUST_VERSION`, which only Travis sets",
        );
    }

    #[test]
    fn the_first_entry_that_holds_publishes_and_a_later_one_is_noted() {
        let master = On {
            branch: vec!["master".into()],
            ..On::default()
        };
        let all = On {
            all_branches: true,
            ..On::default()
        };
        let tags = On {
            tags: Some(true),
            ..On::default()
        };
        let entries = [("#1", &master), ("#2", &tags), ("#3", &all)];
        let choose_for = |c: &BuildContext| choose(&entries, c, &Env::new(), |_| Ok(0)).unwrap();
        let on_master = choose_for(&ctx(Some("master"), &[]));
        assert_eq!(on_master.index, Some(0));
        assert!(
            on_master.notes[0].contains("#3 hold too"),
            "{:?}",
            on_master.notes
        );
        assert_eq!(choose_for(&ctx(None, &["v1"])).index, Some(1));
        let mut pr = ctx(Some("master"), &[]);
        pr.pull_request = true;
        let none = choose_for(&pr);
        assert_eq!(none.index, None);
        skipped(none.decision, "pull-request");
    }

    #[test]
    fn unknown_default_branch_is_a_skip_that_says_what_to_set() {
        let mut c = ctx(Some("main"), &[]);
        c.default_branch = None;
        skipped(run(&On::default(), &c), "on.branch");
    }
}

//! The migrated job's environment: the variables Travis's jobs set that the deploy's
//! conditions and hooks read, carried over into the new job's `env:` / `variables:`, or named
//! beside the condition where `.travis.yml` does not say their value.

use super::Target;
use super::rules::on_of;
use crate::travis::Travis;

/// What the new job's environment holds, and what could not be carried over.
#[derive(Default)]
pub(super) struct JobEnv {
    /// `NAME`, value as the new CI's job environment takes it.
    pub vars: Vec<(String, String)>,
    /// Written beside the condition: variables it reads that nothing sets here.
    pub condition_notes: Vec<String>,
}

/// Variables no job of `.travis.yml` sets: the shell's, the token's, the new CI's own.
fn ignored(name: &str) -> bool {
    matches!(
        name,
        "HOME" | "PATH" | "PWD" | "USER" | "SHELL" | "CARGO_TOKEN" | "CARGO_REGISTRY_TOKEN"
    ) || name.starts_with("GITHUB_")
        || name.starts_with("CI_")
        || name.starts_with("SHIPCRATE_")
}

/// Travis's own variables as the new CI sets them in a job's environment, for the hooks.
fn travis_var(to: Target, name: &str) -> Option<&'static str> {
    let github = match name {
        "TRAVIS_TAG" => "${{ github.ref_type == 'tag' && github.ref_name || '' }}",
        "TRAVIS_BRANCH" => "${{ github.ref_name }}",
        "TRAVIS_REPO_SLUG" => "${{ github.repository }}",
        "TRAVIS_COMMIT" => "${{ github.sha }}",
        _ => "",
    };
    let gitlab = match name {
        "TRAVIS_TAG" => "$CI_COMMIT_TAG",
        "TRAVIS_BRANCH" => "$CI_COMMIT_REF_NAME",
        "TRAVIS_REPO_SLUG" => "$CI_PROJECT_PATH",
        "TRAVIS_COMMIT" => "$CI_COMMIT_SHA",
        _ => "",
    };
    // The job runs on pushes, in the shipcrate image: Linux, a stable toolchain.
    let both = match name {
        "TRAVIS_OS_NAME" => "linux",
        "TRAVIS_RUST_VERSION" => "stable",
        "TRAVIS_PULL_REQUEST" => "false",
        "TRAVIS_EVENT_TYPE" => "push",
        _ => "",
    };
    let value = match to {
        _ if !both.is_empty() => both,
        Target::Github => github,
        Target::Gitlab => gitlab,
        Target::Shipcrate => "",
    };
    (!value.is_empty()).then_some(value)
}

/// The names a shell text reads: `$NAME`, `${NAME…}`.
pub(super) fn names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        let inner = after.strip_prefix('{').unwrap_or(after);
        let name: String = inner
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && !out.contains(&name) {
            out.push(name);
        }
        rest = after;
    }
    out
}

/// The new job's environment for `travis`'s deploy, whose hooks (after migration) are
/// `hooks`: env.global, the deploying job's env when a `jobs.include` entry holds the deploy,
/// the value of a variable that one job of the matrix set and the conditions compare, and
/// Travis's own variables the hooks read. `.shipcrate.yml` runs on Travis: nothing to carry.
pub(super) fn job_env(
    travis: &Travis,
    hooks: &[String],
    to: Target,
    notes: &mut Vec<String>,
) -> JobEnv {
    let mut env = JobEnv::default();
    if to == Target::Shipcrate {
        return env;
    }
    let ci = super::vars::vars(to).ci;
    let first = &travis.entries[0];
    let mut vars: Vec<(String, String)> = travis.global_env.clone();
    vars.extend(
        first
            .job
            .iter()
            .filter(|r| r.key == "env")
            .map(|r| (r.var.clone(), r.value.clone())),
    );
    let conditions: String = travis
        .entries
        .iter()
        .flat_map(|e| on_of(e).condition.into_iter().chain(e.job_if.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    let in_conditions = names(&conditions);
    let mut read = in_conditions.clone();
    let in_hooks: Vec<String> = hooks.iter().flat_map(|h| names(h)).collect();
    read.extend(in_hooks.iter().cloned());
    let mut seen = Vec::new();
    for name in read {
        if seen.contains(&name) || ignored(&name) || vars.iter().any(|(k, _)| *k == name) {
            continue;
        }
        seen.push(name.clone());
        let hook = in_hooks.contains(&name);
        if name.starts_with("TRAVIS_") {
            // The conditions' were translated with them (`vars::translate`).
            match travis_var(to, &name) {
                Some(value) if hook => vars.push((name, value.to_owned())),
                None if hook => notes.push(format!(
                    "the hooks read `${name}`, which {ci} does not set: set it in this job's \
                     environment, or the hooks will see it empty"
                )),
                _ => {}
            }
            continue;
        }
        match value_of(travis, &name, &conditions) {
            Some(value) => {
                notes.push(format!(
                    "`{name}={value}` was the env of the Travis job that deployed: carried into \
                     this job's environment"
                ));
                vars.push((name, value));
            }
            None if in_conditions.contains(&name) => env.condition_notes.push(format!(
                "the condition reads `${name}`, which {}: it will not hold until `{name}` is \
                 set in this job's environment (a secret if it is one)",
                said(travis, &name)
            )),
            None => notes.push(format!(
                "the hooks read `${name}`, which {}: set it in this job's environment",
                said(travis, &name)
            )),
        }
    }
    env.vars = vars;
    env
}

/// The value of `name` in the Travis job that deployed, when `.travis.yml` says it: the one
/// value the jobs' envs gave it, or of several the one the conditions compare with.
fn value_of(travis: &Travis, name: &str, conditions: &str) -> Option<String> {
    let mut values: Vec<&String> = travis
        .job_envs
        .iter()
        .flatten()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v)
        .collect();
    values.sort();
    values.dedup();
    let compared = |v: &&&String| {
        conditions
            .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '[' | ']' | '(' | ')'))
            .any(|word| word == v.as_str())
    };
    match values.as_slice() {
        [one] => Some((*one).clone()),
        several => {
            let mut matching = several.iter().filter(compared);
            match (matching.next(), matching.next()) {
                (Some(one), None) => Some((*one).clone()),
                _ => None,
            }
        }
    }
}

/// Where Travis got `name` from, as far as `.travis.yml` says.
fn said(travis: &Travis, name: &str) -> String {
    let values: Vec<String> = travis
        .job_envs
        .iter()
        .flatten()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| format!("`{v}`"))
        .collect();
    if values.is_empty() {
        ".travis.yml does not set (Travis's repository settings or an encrypted env did)".to_owned()
    } else {
        format!(
            "Travis's jobs set to {} (one value per job)",
            values.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn names_are_the_variables_a_shell_text_reads() {
        assert_eq!(
            names(r#"[[ "$PUBLISH" = true && ${TARGET-} != x && $(date) ]] ${{ x }} $$"#),
            ["PUBLISH", "TARGET"]
        );
    }
}

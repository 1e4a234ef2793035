//! Travis's variables as each CI spells them: in bash conditions, runtime rules and a job's
//! `if:` (Travis's condition language), written as `[[ … ]]` bodies for the new CI.

use super::Target;
use crate::travis::expr::{self, Expr, Operand};

/// How one CI spells what Travis's variables said, as bash expressions.
pub(super) struct Vars {
    pub ci: &'static str,
    pub branch: &'static str,
    pub tag: &'static str,
    pub repo: &'static str,
    pub pull_request: &'static str,
    pub event: &'static str,
}

pub(super) fn vars(to: Target) -> Vars {
    match to {
        Target::Shipcrate => Vars {
            ci: "Travis CI",
            branch: "$TRAVIS_BRANCH",
            tag: "$TRAVIS_TAG",
            repo: "$TRAVIS_REPO_SLUG",
            pull_request: "$TRAVIS_PULL_REQUEST",
            event: "$TRAVIS_EVENT_TYPE",
        },
        // On a tag push GITHUB_REF_NAME is the tag, as TRAVIS_BRANCH was.
        Target::Github => Vars {
            ci: "GitHub Actions",
            branch: "$GITHUB_REF_NAME",
            tag: r#"$([ "$GITHUB_REF_TYPE" = tag ] && echo "$GITHUB_REF_NAME")"#,
            repo: "$GITHUB_REPOSITORY",
            pull_request: r#"$(case "$GITHUB_EVENT_NAME" in pull_request*) echo "${GITHUB_REF_NAME%%/*}";; *) echo false;; esac)"#,
            event: "$GITHUB_EVENT_NAME",
        },
        Target::Gitlab => Vars {
            ci: "GitLab CI",
            branch: "$CI_COMMIT_REF_NAME",
            tag: "$CI_COMMIT_TAG",
            repo: "$CI_PROJECT_PATH",
            pull_request: "${CI_MERGE_REQUEST_IID:-false}",
            event: "$CI_PIPELINE_SOURCE",
        },
    }
}

/// Travis's event types (`push`, `pull_request`, `api`, `cron`) as the new CI names them.
#[allow(clippy::match_same_arms, reason = "a table: one row per CI and event")]
pub(super) fn event_names(to: Target, travis: &str) -> Vec<&'static str> {
    match (to, travis) {
        (Target::Shipcrate, "push") => vec!["push"],
        (Target::Shipcrate, "pull_request") => vec!["pull_request"],
        (Target::Shipcrate, "api") => vec!["api"],
        (Target::Shipcrate, "cron") => vec!["cron"],
        (Target::Github, "push") => vec!["push"],
        (Target::Github, "pull_request") => vec!["pull_request", "pull_request_target"],
        (Target::Github, "api") => vec!["workflow_dispatch", "repository_dispatch"],
        (Target::Github, "cron") => vec!["schedule"],
        (Target::Gitlab, "push") => vec!["push"],
        (Target::Gitlab, "pull_request") => vec!["merge_request_event"],
        (Target::Gitlab, "api") => vec!["api", "trigger", "web"],
        (Target::Gitlab, "cron") => vec!["schedule"],
        _ => vec![],
    }
}

/// A bash word that is exactly `text`.
pub(super) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Travis's variables in a condition, as the new CI's; what has no counterpart is named.
pub(super) fn translate(condition: &str, to: Target, notes: &mut Vec<String>) -> String {
    if to == Target::Shipcrate {
        return condition.to_owned();
    }
    let v = vars(to);
    let table: [(&str, &str); 6] = [
        ("TRAVIS_TAG", v.tag),
        ("TRAVIS_BRANCH", v.branch),
        ("TRAVIS_PULL_REQUEST", v.pull_request),
        ("TRAVIS_REPO_SLUG", v.repo),
        // The shipcrate image is Linux, with the stable release it ships.
        ("TRAVIS_OS_NAME", "linux"),
        ("TRAVIS_RUST_VERSION", "stable"),
    ];
    let mut out = String::new();
    let mut rest = condition;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(inner) => {
                let name: String = inner
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let closed = inner[name.len()..].starts_with('}');
                (name.clone(), if closed { name.len() + 2 } else { 0 })
            }
            None => {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let len = name.len();
                (name, len)
            }
        };
        match table.iter().find(|(travis, _)| *travis == name) {
            Some((_, replacement)) if len > 0 => {
                out.push_str(replacement);
                rest = &after[len..];
            }
            _ => {
                if name.starts_with("TRAVIS_") && len > 0 {
                    notes.push(format!(
                        "the condition `{condition}` reads `${name}`, which {} does not set: \
                         it will not hold there as it did on Travis",
                        v.ci
                    ));
                }
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A runtime rule (`on.rust: stable`) as a `[[ … ]]` body for `to`, or `None` when it is
/// dropped; notes say why.
pub(super) fn runtime(
    rule: &crate::travis::Runtime,
    to: Target,
    notes: &mut Vec<String>,
) -> Option<String> {
    let (key, var, value) = (&rule.key, &rule.var, &rule.value);
    if to == Target::Shipcrate {
        return Some(format!("\"${{{var}-}}\" == {}", literal(value)));
    }
    let ci = vars(to).ci;
    if key != "rust" {
        notes.push(format!(
            "`on.{key}: {value}` compared `${var}`, which {ci} does not set: the rule is kept \
             and will not hold there; drop it if it only picked one job of a build matrix"
        ));
        return Some(format!("\"${{{var}-}}\" == {}", literal(value)));
    }
    match value.as_str() {
        "stable" => {
            notes.push(
                "`on.rust: stable` only picked the stable job of Travis's build matrix: dropped, \
                 as the shipcrate image's toolchain is a stable release"
                    .to_owned(),
            );
            None
        }
        channel @ ("beta" | "nightly") => {
            notes.push(format!(
                "`on.rust: {channel}` becomes a check of the image's `rustc --version`; the \
                 shipcrate image ships a stable release, so it will not hold there"
            ));
            Some(format!("\"$(rustc --version)\" == *-{channel}*"))
        }
        version => {
            notes.push(format!(
                "`on.rust: {version}` becomes a check of the image's `rustc --version`: it holds \
                 where the image's toolchain is {version}"
            ));
            Some(format!(
                "\"$(rustc --version)\" == {}[.\\ ]*",
                literal(&format!("rustc {version}"))
            ))
        }
    }
}

/// A job's `if:` as a `[[ … ]]` body for `to`.
pub(super) fn job_condition(text: &str, to: Target) -> String {
    let v = vars(to);
    let word = |operand: &Operand| match operand {
        Operand::Var("type") => format!("\"{}\"", v.event),
        Operand::Var("repo") => format!("\"{}\"", v.repo),
        Operand::Var("branch") => format!("\"{}\"", v.branch),
        Operand::Var("tag") => format!("\"{}\"", v.tag),
        Operand::Var("os") if to == Target::Shipcrate => "\"$TRAVIS_OS_NAME\"".to_owned(),
        Operand::Var(_) => literal("linux"),
        Operand::Env(name) => format!("\"${{{name}-}}\""),
        Operand::Value(value) => literal(value),
    };
    // `type = cron` compares with what the new CI calls a scheduled run.
    let equal = |a: &Operand, b: &Operand| -> String {
        let names = |o: &Operand, other: &Operand| match (o, other) {
            (Operand::Var("type"), Operand::Value(value)) => Some(event_names(to, value)),
            _ => None,
        };
        match names(a, b)
            .map(|n| (a, n))
            .or_else(|| names(b, a).map(|n| (b, n)))
        {
            Some((var, names)) if !names.is_empty() => {
                let alternatives: Vec<String> = names
                    .iter()
                    .map(|n| format!("{} == {}", word(var), literal(n)))
                    .collect();
                format!("( {} )", alternatives.join(" || "))
            }
            _ => format!("{} == {}", word(a), word(b)),
        }
    };
    fn go(
        e: &Expr,
        word: &dyn Fn(&Operand) -> String,
        equal: &dyn Fn(&Operand, &Operand) -> String,
    ) -> String {
        match e {
            Expr::Not(inner) => format!("! ( {} )", go(inner, word, equal)),
            Expr::And(a, b) => format!("( {} && {} )", go(a, word, equal), go(b, word, equal)),
            Expr::Or(a, b) => format!("( {} || {} )", go(a, word, equal), go(b, word, equal)),
            Expr::Eq(a, b, true) => equal(a, b),
            Expr::Eq(a, b, false) => format!("! {}", equal(a, b)),
            Expr::Present(a, true) => format!("-n {}", word(a)),
            Expr::Present(a, false) => format!("-z {}", word(a)),
            Expr::In(a, list, inside) => {
                let any: Vec<String> = list.iter().map(|item| equal(a, item)).collect();
                let any = format!("( {} )", any.join(" || "));
                if *inside {
                    format!("( -n {} && {any} )", word(a))
                } else {
                    format!("( -n {} && ! {any} )", word(a))
                }
            }
            Expr::Truthy(a) => format!("( -n {w} && {w} != [Ff][Aa][Ll][Ss][Ee] )", w = word(a)),
        }
    }
    match expr::parse(text) {
        Ok(parsed) => go(&parsed, &word, &equal),
        // Refused when the file was read; nothing reaches here.
        Err(_) => "1 == 0".to_owned(),
    }
}

/// Travis built only the branches and tags `branches.only` / `except` let through
/// (`travis::Built`): the same as a condition on the new CI's branch-or-tag name, a Ruby
/// regular expression (`/…/`) as bash's extended one.
pub(super) fn built(
    built: &crate::travis::Built,
    to: Target,
    notes: &mut Vec<String>,
) -> Option<String> {
    let name = vars(to).branch;
    let any = |list: &[String], notes: &mut Vec<String>| -> Vec<String> {
        let mut terms = Vec::new();
        for item in list {
            match item.strip_prefix('/').and_then(|i| i.strip_suffix('/')) {
                Some(re) if !re.contains(char::is_whitespace) => {
                    let ere = re
                        .replace("\\d", "[0-9]")
                        .replace("\\w", "[[:alnum:]_]")
                        .replace("\\S", "[^[:space:]]")
                        .replace("\\s", "[[:space:]]")
                        .replace("\\/", "/");
                    terms.push(format!("\"{name}\" =~ {ere}"));
                }
                Some(_) => notes.push(format!(
                    "`branches`: `{item}` has a space, which a bash test can't hold: left out"
                )),
                None => terms.push(format!("\"{name}\" == {}", literal(item))),
            }
        }
        terms
    };
    notes.push(
        "Travis built only the branches and tags `branches` let through: that is a condition \
         here"
            .to_owned(),
    );
    if built.only.is_empty() {
        let terms = any(&built.except, notes);
        let mut all = vec![format!("\"{name}\" != gh-pages")];
        all.extend(terms.iter().map(|t| format!("! {t}")));
        Some(format!("[[ {} ]]", all.join(" && ")))
    } else {
        let terms = any(&built.only, notes);
        (!terms.is_empty()).then(|| format!("[[ {} ]]", terms.join(" || ")))
    }
}

/// `.shipcrate.yml` runs in every job of Travis's matrix: the job that deploys, as a bash
/// test of what Travis exported to it (`conditions::travis_job` decides the same for the
/// drop-in: the stage without case, an unset stage, rust or os telling nothing).
pub(super) fn job_rule(rule: &crate::travis::JobRule) -> String {
    let (var, value) = (&rule.var, literal(&rule.value));
    match rule.key.as_str() {
        "env" => format!("[[ \"${{{var}-}}\" == {value} ]]"),
        "stage" => format!(
            "[[ -z \"${{{var}-}}\" || \"${{{var},,}}\" == {} ]]",
            literal(&rule.value.to_lowercase())
        ),
        _ => format!("[[ -z \"${{{var}-}}\" || \"${{{var}}}\" == {value} ]]"),
    }
}

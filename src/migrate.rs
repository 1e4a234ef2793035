//! `shipcrate migrate`: the cargo deploy of a `.travis.yml` as a `.shipcrate.yml` (which
//! decides as Travis did, on Travis), a GitHub workflow or a GitLab job (which decide the same
//! there: Travis's variables in rules become the new CI's own).
//!
//! Writes text only; what it can't carry over it says in comments. Never runs anything.

use std::path::Path;

use anyhow::Result;
use figment::value::Value;

use crate::config::input_name;
use crate::travis::expr::{self, Expr, Operand};
use crate::travis::{Entry, TokenRule, Travis};

/// Where `shipcrate migrate` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Shipcrate,
    Github,
    Gitlab,
}

/// How one CI spells what Travis's variables said, as bash expressions.
struct Vars {
    ci: &'static str,
    branch: &'static str,
    tag: &'static str,
    repo: &'static str,
    pull_request: &'static str,
    event: &'static str,
}

fn vars(to: Target) -> Vars {
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
fn event_names(to: Target, travis: &str) -> Vec<&'static str> {
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
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Travis's variables in a condition, as the new CI's; what has no counterpart is named.
fn translate(condition: &str, to: Target, notes: &mut Vec<String>) -> String {
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
fn runtime(rule: &crate::travis::Runtime, to: Target, notes: &mut Vec<String>) -> Option<String> {
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
fn job_condition(text: &str, to: Target) -> String {
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

/// The `on:` rules of the migrated config.
#[derive(Default)]
struct Rules {
    tags: Option<bool>,
    all_branches: bool,
    branch: Vec<String>,
    repo: Option<String>,
    condition: Vec<String>,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(_, items)) => items
            .iter()
            .filter_map(|v| v.clone().into_string())
            .collect(),
        Some(other) => other.clone().into_string().into_iter().collect(),
        None => Vec::new(),
    }
}

/// An entry's `on:` rules as it was read (conditions in Travis's variables).
fn on_of(entry: &Entry) -> Rules {
    let on = entry
        .settings
        .get("on")
        .and_then(Value::as_dict)
        .cloned()
        .unwrap_or_default();
    Rules {
        tags: on.get("tags").and_then(Value::to_bool),
        all_branches: on.get("all_branches").and_then(Value::to_bool) == Some(true),
        branch: strings(on.get("branch")),
        repo: on.get("repo").and_then(|v| v.as_str()).map(str::to_owned),
        condition: strings(on.get("condition")),
    }
}

/// One entry's rules as shipcrate keys (translated for `to`).
fn native(entry: &Entry, to: Target, notes: &mut Vec<String>) -> Rules {
    let mut rules = on_of(entry);
    let mut condition: Vec<String> = rules
        .condition
        .iter()
        .map(|c| translate(c, to, notes))
        .collect();
    if let Some(text) = &entry.job_if {
        condition.insert(0, format!("[[ {} ]]", job_condition(text, to)));
    }
    condition.extend(
        entry
            .runtimes
            .iter()
            .filter_map(|r| runtime(r, to, notes))
            .map(|c| format!("[[ {c} ]]")),
    );
    rules.condition = condition;
    rules
}

/// Several entries: Travis ran each with its own rules, so the build publishes when any
/// entry's rules hold. One `[[ … ]]` says that, in `to`'s variables.
fn compiled(entries: &[Entry], to: Target, notes: &mut Vec<String>) -> Rules {
    let v = vars(to);
    let mut alternatives = Vec::new();
    for entry in entries {
        let Rules {
            tags,
            all_branches,
            branch,
            repo,
            condition: conditions,
        } = on_of(entry);
        let mut terms = Vec::new();
        if let Some(text) = &entry.job_if {
            terms.push(job_condition(text, to));
        }
        if let Some(repo) = repo {
            terms.push(format!("\"{}\" == {}", v.repo, literal(&repo)));
        }
        match tags {
            Some(true) => terms.push(format!("-n \"{}\"", v.tag)),
            Some(false) => terms.push(format!("-z \"{}\"", v.tag)),
            None => {}
        }
        if tags != Some(true) && !all_branches && !branch.is_empty() {
            // Unquoted: a pattern, as Travis wrote it.
            let any: Vec<String> = branch
                .iter()
                .map(|b| format!("\"{}\" == {b}", v.branch))
                .collect();
            terms.push(format!("( {} )", any.join(" || ")));
        }
        terms.extend(entry.runtimes.iter().filter_map(|r| runtime(r, to, notes)));
        for condition in &conditions {
            let body = condition
                .strip_prefix("[[ ")
                .and_then(|c| c.strip_suffix(" ]]"))
                .unwrap_or(condition);
            terms.push(format!("( {} )", translate(body, to, notes)));
        }
        if terms.is_empty() {
            terms.push("1 == 1".to_owned());
        }
        alternatives.push(format!("( {} )", terms.join(" && ")));
    }
    notes.push(format!(
        "the {} cargo deploy entries become one condition: the build publishes when the rules \
         of any of them hold, as Travis ran each",
        entries.len()
    ));
    Rules {
        all_branches: true,
        condition: vec![format!("[[ {} ]]", alternatives.join(" || "))],
        ..Rules::default()
    }
}

/// `shipcrate migrate`: the `.travis.yml` at `file` as `to`, printed on stdout (the command's
/// result, not a log line).
#[allow(clippy::print_stdout)]
pub(crate) fn print(file: &Path, to: Target) -> Result<()> {
    print!("{}", migrate(&crate::travis::read(file)?, to));
    Ok(())
}

/// The equivalent config (or workflow, or job) as YAML text, with what could not be carried
/// over as comments.
pub(crate) fn migrate(travis: &Travis, to: Target) -> String {
    let quote = |text: &str| serde_json::to_string(text).unwrap_or_default();
    // The drop-in's word on encrypted tokens is said below, for the new CI.
    let mut notes: Vec<String> = travis
        .notes
        .iter()
        .filter(|n| !n.contains("is Travis's to decrypt"))
        .cloned()
        .collect();
    let entries = &travis.entries;
    let first = &entries[0];
    let rules = if entries.len() == 1 {
        native(first, to, &mut notes)
    } else {
        compiled(entries, to, &mut notes)
    };

    // The token: a `$VAR` carries over to .shipcrate.yml; everything else becomes the CI's
    // secret, created by hand.
    let mut token_ref = None;
    for entry in entries {
        match (
            &entry.token,
            entry.settings.get("token").and_then(|v| v.as_str()),
        ) {
            (TokenRule::Given, Some(t)) if t.trim_start().starts_with('$') => {
                token_ref.get_or_insert_with(|| t.to_owned());
            }
            (TokenRule::Encrypted, _) => notes.push(format!(
                "{}'s token was encrypted for Travis (`secure:`): it can't be carried over; \
                 store the crates.io token as the CI secret named below",
                entry.label
            )),
            (TokenRule::PerBranch(map), _) => notes.push(format!(
                "{} had a token per branch ({}): the migrated job uses one secret",
                entry.label,
                map.iter()
                    .map(|(b, _)| b.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => {}
        }
    }
    if entries.iter().any(|e| {
        e.settings.get("allow_dirty").and_then(Value::to_bool)
            != first.settings.get("allow_dirty").and_then(Value::to_bool)
    }) {
        notes.push("the deploy entries differ in `allow_dirty`: the first entry's is used".into());
    }
    let allow_dirty = first.settings.get("allow_dirty").and_then(Value::to_bool) == Some(true);

    // Travis ran `before_deploy` in one shell, stopping at the first failure; `after_deploy`
    // ran every command. One hook each keeps `cd` and `export` carrying over.
    // Settings given through the environment or action inputs hold one hook per line, so a
    // joined hook is one line: `{ a; } && { b; }`.
    let mut hooks = |key: &str, joiner: &str| -> Vec<String> {
        let commands: Vec<String> = strings(first.settings.get(key))
            .iter()
            .map(|c| c.trim().trim_end_matches(';').trim_end().to_owned())
            .collect();
        if commands.len() < 2 {
            return commands;
        }
        if commands
            .iter()
            .any(|c| c.contains('\n') || c.contains('#') || c.ends_with('&'))
        {
            notes.push(format!(
                "`{key}`'s commands stay separate hooks (one spans lines, has a comment or \
                 runs in the background): `cd` and `export` no longer carry over from one to \
                 the next as they did in Travis's shell"
            ));
            return commands;
        }
        notes.push(format!(
            "`{key}`'s commands are joined into one hook, so `cd` and `export` carry over as \
             they did in Travis's shell"
        ));
        let joined: Vec<String> = commands.iter().map(|c| format!("{{ {c}; }}")).collect();
        vec![joined.join(joiner)]
    };
    let before = hooks("before_deploy", " && ");
    let after = hooks("after_deploy", "; ");

    // The settings as shipcrate keys with string values, for the env and input forms.
    let flat: Vec<(&str, String)> = [
        ("on.tags", rules.tags.map(|t| t.to_string())),
        (
            "on.all_branches",
            rules.all_branches.then(|| "true".to_owned()),
        ),
        (
            "on.branch",
            (!rules.branch.is_empty()).then(|| rules.branch.join("\n")),
        ),
        ("on.repo", rules.repo.clone()),
        (
            "on.condition",
            (!rules.condition.is_empty()).then(|| rules.condition.join("\n")),
        ),
        ("allow_dirty", allow_dirty.then(|| "true".to_owned())),
        (
            "before_deploy",
            (!before.is_empty()).then(|| before.join("\n")),
        ),
        (
            "after_deploy",
            (!after.is_empty()).then(|| after.join("\n")),
        ),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key, value?)))
    .collect();

    if to == Target::Shipcrate && rules.condition.iter().any(|c| c.contains("TRAVIS_")) {
        notes.push(
            "the rules read Travis's variables, so this file decides as .travis.yml did where \
             they are set (on Travis); for GitHub Actions or GitLab CI, `shipcrate migrate \
             --to github` / `--to gitlab` translates them"
                .to_owned(),
        );
    }
    let mut out = String::from("# Migrated from .travis.yml by `shipcrate migrate`.\n");
    notes.sort();
    notes.dedup();
    for note in &notes {
        out += &format!("# note: {note}\n");
    }
    match to {
        Target::Shipcrate => {
            match &token_ref {
                Some(t) => out += &format!("token: {}\n", quote(t)),
                None => {
                    out += "# The token: set CARGO_REGISTRY_TOKEN as a secret of the CI that runs this.\n";
                }
            }
            if allow_dirty {
                out += "allow_dirty: true\n";
            }
            out += "on:\n";
            if let Some(t) = rules.tags {
                out += &format!("  tags: {t}\n");
            }
            if rules.all_branches {
                out += "  all_branches: true\n";
            }
            if !rules.branch.is_empty() {
                let list: Vec<String> = rules.branch.iter().map(|b| quote(b)).collect();
                out += &format!("  branch: [{}]\n", list.join(", "));
            }
            if let Some(r) = &rules.repo {
                out += &format!("  repo: {}\n", quote(r));
            }
            if !rules.condition.is_empty() {
                out += "  condition:\n";
                for c in &rules.condition {
                    out += &format!("    - {}\n", quote(c));
                }
            }
            for (key, hooks) in [("before_deploy", &before), ("after_deploy", &after)] {
                if !hooks.is_empty() {
                    out += &format!("{key}:\n");
                    for hook in hooks {
                        out += &format!("  - {}\n", quote(hook));
                    }
                }
            }
        }
        Target::Github => {
            out += "# The token: a crates.io API token in the repository secret CARGO_REGISTRY_TOKEN\n\
                    # (create it under Settings > Secrets and variables > Actions).\n";
            out += "name: Publish\non:\n  push:\n";
            // Tag builds only: only tag pushes start the job. Otherwise every push does, and
            // shipcrate's rules decide (GitHub's branch filters are not Travis's patterns).
            if rules.tags == Some(true) {
                out += "    tags: ['**']\n";
            }
            out += "jobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n";
            out += "      - uses: actions/checkout@v4\n        with:\n          submodules: recursive\n";
            out += "      - uses: shipcrate/shipcrate@v0.1.0\n        with:\n";
            out += "          token: ${{ secrets.CARGO_REGISTRY_TOKEN }}\n";
            for (key, value) in &flat {
                out += &format!("          {}: {}\n", input_name(key), quote(value));
            }
        }
        Target::Gitlab => {
            out += "# The token: a crates.io API token in the masked CI/CD variable CARGO_REGISTRY_TOKEN\n\
                    # (create it under Settings > CI/CD > Variables).\n";
            out += "publish:\n  image: ghcr.io/shipcrate/shipcrate:v0.1.0\n";
            if rules.tags == Some(true) {
                out += "  rules:\n    - if: $CI_COMMIT_TAG\n";
            }
            out += "  variables:\n    GIT_SUBMODULE_STRATEGY: recursive\n";
            for (key, value) in &flat {
                let var = format!("SHIPCRATE_{}", key.to_ascii_uppercase().replace('.', "__"));
                out += &format!("    {var}: {}\n", quote(value));
            }
            out += "  script:\n    - shipcrate\n";
        }
    }
    out
}

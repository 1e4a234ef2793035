//! `shipcrate migrate`: the cargo deploy of a `.travis.yml` as a `.shipcrate.yml` (which
//! decides as Travis did, on Travis), a GitHub workflow or a GitLab job (which decide the same
//! there: Travis's variables in rules become the new CI's own). Its parts:
//!
//! - `vars`: Travis's variables as each CI spells them (conditions, runtimes, a job's `if:`);
//! - `rules`: the entries' rules as the migrated `on:` keys;
//! - `write`: the three outputs, with what could not be carried over as comments.
//!
//! Writes text only; what it can't carry over it says in comments. Never runs anything.

mod env;
mod rules;
mod trigger;
mod vars;
mod write;

use std::path::Path;

use anyhow::Result;
use figment::value::Value;

use crate::travis::{TokenRule, Travis};
use rules::{Rules, compiled, native, strings};

/// Where `shipcrate migrate` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Shipcrate,
    Github,
    Gitlab,
}

/// What the migrated file says, before it is written for its target.
struct Migrated {
    /// Comments: what was ignored or could not be carried over.
    notes: Vec<String>,
    rules: Rules,
    /// A `$VAR` token reference that carries over to `.shipcrate.yml`.
    token_ref: Option<String>,
    allow_dirty: bool,
    before: Vec<String>,
    after: Vec<String>,
    /// The new job's environment (`env:` / `variables:`).
    env: env::JobEnv,
}

impl Migrated {
    /// The settings as shipcrate keys with string values, for the env and input forms.
    fn flat(&self) -> Vec<(&'static str, String)> {
        let rules = &self.rules;
        [
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
            ("allow_dirty", self.allow_dirty.then(|| "true".to_owned())),
            (
                "before_deploy",
                (!self.before.is_empty()).then(|| self.before.join("\n")),
            ),
            (
                "after_deploy",
                (!self.after.is_empty()).then(|| self.after.join("\n")),
            ),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .collect()
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
    // The drop-in's word on encrypted tokens is said below, for the new CI.
    let mut notes: Vec<String> = travis
        .notes
        .iter()
        .filter(|n| !n.contains("is Travis's to decrypt"))
        .cloned()
        .collect();
    let entries = &travis.entries;
    let first = &entries[0];
    let mut rules = if entries.len() == 1 {
        native(first, to, &mut notes)
    } else {
        compiled(entries, to, &mut notes)
    };
    if let Some(built) = &travis.built {
        rules.condition.extend(vars::built(built, to, &mut notes));
    }
    let token_ref = token_ref(travis, &mut notes);
    if entries.iter().any(|e| {
        e.settings.get("allow_dirty").and_then(Value::to_bool)
            != first.settings.get("allow_dirty").and_then(Value::to_bool)
    }) {
        notes.push("the deploy entries differ in `allow_dirty`: the first entry's is used".into());
    }
    let allow_dirty = first.settings.get("allow_dirty").and_then(Value::to_bool) == Some(true);
    let before = hooks(
        &strings(first.settings.get("before_deploy")),
        "before_deploy",
        " && ",
        &mut notes,
    );
    let after = hooks(
        &strings(first.settings.get("after_deploy")),
        "after_deploy",
        "; ",
        &mut notes,
    );
    if to == Target::Shipcrate && rules.condition.iter().any(|c| c.contains("TRAVIS_")) {
        notes.push(
            "the rules read Travis's variables, so this file decides as .travis.yml did where \
             they are set (on Travis); for GitHub Actions or GitLab CI, `shipcrate migrate \
             --to github` / `--to gitlab` translates them"
                .to_owned(),
        );
    }
    let hooks: Vec<String> = before.iter().chain(&after).cloned().collect();
    let env = env::job_env(travis, &hooks, to, &mut notes);
    notes.sort();
    notes.dedup();
    let migrated = Migrated {
        notes,
        rules,
        token_ref,
        allow_dirty,
        before,
        after,
        env,
    };
    write::write(&migrated, to)
}

/// The token: a `$VAR` carries over to .shipcrate.yml; everything else becomes the CI's
/// secret, created by hand (the notes say so).
fn token_ref(travis: &Travis, notes: &mut Vec<String>) -> Option<String> {
    let mut token_ref = None;
    for entry in &travis.entries {
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
    token_ref
}

/// Travis ran `before_deploy` in one shell, stopping at the first failure; `after_deploy`
/// ran every command. One hook each keeps `cd` and `export` carrying over.
/// Settings given through the environment or action inputs hold one hook per line, so a
/// joined hook is one line: `{ a; } && { b; }`.
fn hooks(written: &[String], key: &str, joiner: &str, notes: &mut Vec<String>) -> Vec<String> {
    let commands: Vec<String> = written
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
    let grouped: Vec<String> = commands.iter().map(|c| format!("{{ {c}; }}")).collect();
    vec![grouped.join(joiner)]
}

//! The file: where its cargo deploys are (the top level's `deploy`, or the one
//! `jobs.include` / `matrix.include` job that has one), and the hooks around them.

use std::path::Path;

use anyhow::Result;
use figment::value::Value;

use super::jobs::{self, JobRule};
use super::yaml::{self, Node};
use super::{Travis, entry, expr};
use crate::error::UsageError;

/// Read the cargo deploy entries of the `.travis.yml` at `path`.
pub(crate) fn read(path: &Path) -> Result<Travis> {
    let bad =
        |msg: String| -> anyhow::Error { UsageError(format!("{}: {msg}", path.display())).into() };
    if !path.is_file() {
        return Err(bad(
            "not found; `travis` asks shipcrate to read its deploy block".to_owned(),
        ));
    }
    let text = fs_err::read_to_string(path)?;
    let top = yaml::parse(&text).map_err(|e| bad(format!("cannot read it: {e}")))?;
    if top.entries().is_none() {
        return Err(bad("is not a map of settings".to_owned()));
    }
    let mut notes = Vec::new();

    // The top level's cargo entries, and each `jobs.include` / `matrix.include` job's.
    let top_level = cargo_entries(top.get("deploy"), "", &mut notes).map_err(bad)?;
    let mut jobs: Vec<(String, &Node, Found, Vec<JobRule>)> = Vec::new();
    for section in ["jobs", "matrix"] {
        let Some(include) = top.get(section).and_then(|s| s.get("include")) else {
            continue;
        };
        let Node::Seq(items) = include else { continue };
        for (i, job) in items.iter().enumerate() {
            let name = format!("{section}.include #{}", i + 1);
            let found =
                cargo_entries(job.get("deploy"), &format!("{name}, "), &mut notes).map_err(bad)?;
            if !found.is_empty() {
                jobs.push((name, job, found, jobs::job_rules(&top, items, i)));
            }
        }
    }
    let (scope, found, job_if, prefix, job_rules) = match (top_level.is_empty(), jobs.len()) {
        (false, 0) => (&top, top_level, None, String::new(), Vec::new()),
        (true, 1) => {
            let (name, job, found, rules) = jobs.pop().expect("one job");
            let job_if = job_if(&name, job, &top, &rules).map_err(bad)?;
            (job, found, job_if, format!("{name}, "), rules)
        }
        (true, 0) => {
            return Err(bad(
                "has no deploy entry with `provider: cargo` (looked at `deploy` and at the jobs \
                 under `jobs.include` / `matrix.include`)"
                    .to_owned(),
            ));
        }
        _ => {
            let mut places: Vec<String> = jobs.iter().map(|(name, ..)| name.clone()).collect();
            if !top_level.is_empty() {
                places.insert(0, "the top-level `deploy`".to_owned());
            }
            return Err(bad(format!(
                "has cargo deploys in {}: shipcrate can't tell which job this is; keep one",
                places.join(", ")
            )));
        }
    };

    let mut entries = Vec::new();
    for (n, entry) in found {
        let label = format!("{prefix}deploy entry #{n}");
        let mut translated = entry::translate(entry, &label, &mut notes).map_err(bad)?;
        with_hooks(&mut translated, scope, &top);
        translated.job.clone_from(&job_rules);
        if !job_rules.is_empty() {
            notes.push(ran_only_in(&label, &job_rules));
        }
        // A job's `if:` and the entry's own both have to hold.
        translated.job_if = match (&job_if, translated.job_if.take()) {
            (Some(job), Some(own)) => Some(format!("({job}) AND ({own})")),
            (job, own) => job.clone().or(own),
        };
        entries.push(translated);
    }
    let built = jobs::built(&top, &mut notes);
    let global_env = match top.get("env") {
        Some(env @ Node::Map(_)) => env.get("global").map(jobs::assignments),
        _ => None,
    };
    notes.sort();
    notes.dedup();
    Ok(Travis {
        entries,
        notes,
        built,
        global_env: global_env.unwrap_or_default(),
        job_envs: jobs::job_envs(&top),
    })
}

/// The hooks around `entry`: its job's own `before_deploy` / `after_deploy` replace the top
/// level's, as Travis merged a job over the root; dpl's `run` commands (`entry::Key::Run`)
/// ran first, inside the deploy.
fn with_hooks(entry: &mut super::Entry, scope: &Node, top: &Node) {
    for hook in ["before_deploy", "after_deploy"] {
        let Some(value) = scope.get(hook).or_else(|| top.get(hook)) else {
            continue;
        };
        let mut commands = value.texts();
        if let Some(Value::Array(_, run)) = entry.settings.get(hook) {
            let run = run.iter().filter_map(|v| v.as_str().map(str::to_owned));
            commands = run.chain(commands).collect();
        }
        if !commands.is_empty() {
            entry
                .settings
                .insert(hook.to_owned(), Value::from(commands));
        }
    }
}

/// The note on a deploy held by a `jobs.include` entry: which job ran it.
fn ran_only_in(label: &str, rules: &[JobRule]) -> String {
    let said: Vec<String> = rules
        .iter()
        .map(|r| match r.key.as_str() {
            "env" => format!("{}={}", r.var, r.value),
            key => format!("{key} {}", r.value),
        })
        .collect();
    format!(
        "{label} ran only in its job ({}): on Travis another job skips; elsewhere nothing \
         says which job this is, so run shipcrate in that one",
        said.join(", ")
    )
}

/// The `if:` of the `jobs.include` entry `name`, in Travis's condition language, and of its
/// stage in the top level's `stages:` (a stage whose `if:` does not hold is not in the build,
/// travis-yml `lib/travis/yml/configs/stages.rb:46-51`, `70-71` at 8d6f36f7, names compared
/// without case): both have to hold.
fn job_if(
    name: &str,
    job: &Node,
    top: &Node,
    rules: &[JobRule],
) -> std::result::Result<Option<String>, String> {
    let stage = rules.iter().find(|r| r.key == "stage").map(|r| &r.value);
    let stage_if = stage.and_then(|stage| match top.get("stages") {
        Some(Node::Seq(stages)) => stages.iter().find_map(|s| {
            let named = s.get("name").and_then(Node::text).or_else(|| s.text());
            named
                .is_some_and(|n| n.eq_ignore_ascii_case(stage))
                .then(|| s.get("if"))
                .flatten()
        }),
        _ => None,
    });
    let mut conditions = Vec::new();
    for (place, node) in [
        (name.to_owned(), job.get("if")),
        (
            format!("stage `{}`", stage.map_or("", |s| s.as_str())),
            stage_if,
        ),
    ] {
        let Some(node) = node else { continue };
        let text = node
            .text()
            .ok_or_else(|| format!("{place}: `if` must be a condition"))?;
        expr::parse(text).map_err(|why| {
            format!(
                "{place}: `if: {text}` uses {why}, which shipcrate does not evaluate; run \
                 shipcrate only in the job that deploys and drop `travis` in favour of a \
                 .shipcrate.yml (`shipcrate migrate`)"
            )
        })?;
        conditions.push(text.to_owned());
    }
    Ok(match conditions.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [job, stage, ..] => Some(format!("({job}) AND ({stage})")),
    })
}

/// Cargo deploy entries with their number in their `deploy` list.
type Found<'a> = Vec<(usize, &'a Node)>;

/// The `provider: cargo` entries of one `deploy` value, numbered as in the file.
fn cargo_entries<'a>(
    deploy: Option<&'a Node>,
    place: &str,
    notes: &mut Vec<String>,
) -> std::result::Result<Found<'a>, String> {
    let entries: Vec<&Node> = match deploy {
        None => return Ok(Vec::new()),
        Some(node @ Node::Map(_)) => vec![node],
        Some(Node::Seq(items)) => items.iter().collect(),
        Some(node) if node.is_null() => return Ok(Vec::new()),
        Some(_) => return Err(format!("{place}`deploy` must be a map or a list of maps")),
    };
    let mut found = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let n = i + 1;
        if entry.entries().is_none() {
            return Err(format!("{place}deploy entry #{n} is not a map"));
        }
        // Travis kept only letters and digits of the provider's name (`script.rb`).
        let provider: String = entry
            .get("provider")
            .and_then(Node::text)
            .unwrap_or("(none)")
            .chars()
            .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            .collect();
        if provider == "cargo" {
            found.push((n, entry));
        } else {
            notes.push(format!(
                "{place}deploy entry #{n} (provider `{provider}`) is not cargo: ignored"
            ));
        }
    }
    Ok(found)
}

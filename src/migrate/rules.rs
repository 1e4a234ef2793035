//! The deploy entries' rules as the migrated config's `on:` keys: one entry's as they are,
//! several entries' as one condition that holds when any entry's rules hold.

use figment::value::Value;

use super::Target;
use super::vars::{job_condition, job_rule, literal, runtime, translate, vars};
use crate::travis::Entry;

/// The `on:` rules of the migrated config.
#[derive(Default)]
pub(super) struct Rules {
    pub tags: Option<bool>,
    pub all_branches: bool,
    pub branch: Vec<String>,
    pub repo: Option<String>,
    pub condition: Vec<String>,
}

pub(super) fn strings(value: Option<&Value>) -> Vec<String> {
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
pub(super) fn on_of(entry: &Entry) -> Rules {
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
pub(super) fn native(entry: &Entry, to: Target, notes: &mut Vec<String>) -> Rules {
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
    if to == Target::Shipcrate {
        condition.extend(entry.job.iter().map(job_rule));
    }
    rules.condition = condition;
    rules
}

/// Several entries: Travis ran each with its own rules, so the build publishes when any
/// entry's rules hold. One `[[ … ]]` says that, in `to`'s variables.
pub(super) fn compiled(entries: &[Entry], to: Target, notes: &mut Vec<String>) -> Rules {
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

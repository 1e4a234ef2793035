//! `.travis.yml` as a settings source: the `provider: cargo` deploy entry and the top-level
//! `before_deploy` / `after_deploy`, read with Travis's rules, and written back out as a
//! `.shipcrate.yml`, a GitHub workflow or a GitLab job (`shipcrate migrate`).
//!
//! Translates only: what it can't carry over it says, and it never runs anything.

use std::path::{Path, PathBuf};

use anyhow::Result;
use figment::providers::{Format, Yaml};
use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider, Source};

use crate::error::UsageError;

/// Runtime keys Travis allows in `on:`; only `rust` means something to a Rust publisher.
const RUNTIMES: &[&str] = &[
    "rust",
    "jdk",
    "node_js",
    "node",
    "python",
    "ruby",
    "rvm",
    "go",
    "php",
    "perl",
    "dart",
    "elixir",
    "otp_release",
    "crystal",
    "julia",
    "ghc",
    "haxe",
    "d",
    "dotnet",
    "mono",
    "r",
    "scala",
    "smalltalk",
    "osx_image",
    "xcode_sdk",
    "xcode_scheme",
];

const CARGO_KEYS: &[&str] = &[
    "provider",
    "token",
    "allow_dirty",
    "skip_cleanup",
    "cleanup",
    "edge",
    "on",
];

/// The cargo deploy settings of a `.travis.yml`, in shipcrate's keys.
#[derive(Debug, Clone)]
pub struct Travis {
    pub path: PathBuf,
    /// shipcrate keys (`token`, `allow_dirty`, `on.*`, `before_deploy`, `after_deploy`).
    pub settings: Dict,
    /// What was ignored or could not be carried over, for the log and for `migrate`.
    pub notes: Vec<String>,
}

/// Read the cargo deploy entry of the `.travis.yml` at `path`.
pub fn read(path: &Path) -> Result<Travis> {
    let bad =
        |msg: String| -> anyhow::Error { UsageError(format!("{}: {msg}", path.display())).into() };
    if !path.is_file() {
        return Err(bad(
            "not found; `travis` asks shipcrate to read its deploy block".to_owned(),
        ));
    }
    let data = Yaml::file(path)
        .data()
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    let top = data.into_values().next().unwrap_or_default();
    let entries: Vec<Dict> = match top.get("deploy") {
        None => return Err(bad("has no `deploy` block".to_owned())),
        Some(Value::Dict(_, d)) => vec![d.clone()],
        Some(Value::Array(_, items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_dict()
                    .cloned()
                    .ok_or_else(|| bad(format!("deploy entry #{} is not a map", i + 1)))
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(bad("`deploy` must be a map or a list of maps".to_owned())),
    };

    let mut notes = Vec::new();
    let mut chosen: Option<(usize, Dict)> = None;
    for (i, entry) in entries.iter().enumerate() {
        let n = i + 1;
        let provider = entry
            .get("provider")
            .and_then(Value::as_str)
            .unwrap_or("(none)");
        if provider != "cargo" {
            notes.push(format!(
                "deploy entry #{n} (provider `{provider}`) is not cargo: ignored"
            ));
            continue;
        }
        let settings = translate(entry, n, &mut notes).map_err(bad)?;
        match &chosen {
            Some((first, earlier)) if *earlier != settings => {
                return Err(bad(format!(
                    "deploy entries #{first} and #{n} are both `provider: cargo` with different settings; keep one"
                )));
            }
            Some(_) => notes.push(format!(
                "deploy entry #{n} repeats entry #{}: used once",
                chosen.as_ref().unwrap().0
            )),
            None => chosen = Some((n, settings)),
        }
    }
    let (_, mut settings) =
        chosen.ok_or_else(|| bad("has no deploy entry with `provider: cargo`".to_owned()))?;
    for hook in ["before_deploy", "after_deploy"] {
        if let Some(value) = top.get(hook) {
            settings.insert(hook.to_owned(), value.clone());
        }
    }
    notes.sort();
    notes.dedup();
    Ok(Travis {
        path: path.to_path_buf(),
        settings,
        notes,
    })
}

/// One cargo deploy entry in shipcrate's keys.
fn translate(entry: &Dict, n: usize, notes: &mut Vec<String>) -> std::result::Result<Dict, String> {
    let mut out = Dict::new();
    if let Some(key) = entry.keys().find(|k| !CARGO_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "deploy entry #{n} has `{key}`, which the cargo provider does not take (it takes {})",
            CARGO_KEYS.join(", ")
        ));
    }
    match entry.get("token") {
        None => {}
        Some(Value::Dict(_, d)) if d.contains_key("secure") => {
            return Err(format!(
                "deploy entry #{n} has an encrypted (`secure:`) token, which only Travis can decrypt: \
                 remove it and set `CARGO_REGISTRY_TOKEN` as a secret of your CI instead"
            ));
        }
        Some(v @ Value::String(..)) => {
            out.insert("token".into(), v.clone());
        }
        Some(_) => {
            return Err(format!(
                "deploy entry #{n}: `token` must be a string like `$CARGO_TOKEN`"
            ));
        }
    }
    if let Some(v) = entry.get("allow_dirty") {
        out.insert("allow_dirty".into(), v.clone());
    }
    if entry.contains_key("skip_cleanup") || entry.contains_key("cleanup") {
        notes.push("`skip_cleanup` / `cleanup` are moot: shipcrate always publishes from a pristine copy of the commit".into());
    }
    if entry.contains_key("edge") {
        notes.push("`edge` (Travis's dpl version) is ignored".into());
    }

    let mut on = Dict::new();
    let mut conditions: Vec<String> = Vec::new();
    if let Some(rules) = entry.get("on") {
        let rules = rules
            .as_dict()
            .ok_or_else(|| format!("deploy entry #{n}: `on` must be a map"))?;
        for (key, value) in rules {
            match key.as_str() {
                "tags" | "all_branches" | "repo" => {
                    on.insert(key.clone(), value.clone());
                }
                "branch" => {
                    on.insert("branch".into(), value.clone());
                }
                "condition" => {
                    conditions.extend(strings(value).into_iter().map(|c| format!("[[ {c} ]]")))
                }
                "rust" => {
                    for version in strings(value) {
                        conditions.push(format!(
                            "[[ \"${{TRAVIS_RUST_VERSION:-$(rustup show active-toolchain 2>/dev/null)}}\" == {version}* ]]"
                        ));
                    }
                }
                other if RUNTIMES.contains(&other) => {
                    return Err(format!(
                        "deploy entry #{n}: `on.{other}` is a runtime shipcrate can't check (it knows `rust`)"
                    ));
                }
                other => return Err(format!("deploy entry #{n}: unknown rule `on.{other}`")),
            }
        }
    }
    if !conditions.is_empty() {
        on.insert("condition".into(), Value::from(conditions));
    }
    // Travis's rule: with no branch given and tags not asked for, only master deploys.
    let tags = truthy(on.get("tags"));
    let all = truthy(on.get("all_branches"));
    if !on.contains_key("branch") && tags != Some(true) && all != Some(true) {
        on.insert("branch".into(), Value::from(vec!["master".to_owned()]));
    }
    out.insert("on".into(), Value::from(on));
    Ok(out)
}

/// A YAML boolean, or the string `"true"` / `"false"` as Travis configs sometimes quote it.
fn truthy(value: Option<&Value>) -> Option<bool> {
    value.and_then(|v| v.to_bool().or_else(|| v.as_str().map(|s| s == "true")))
}

/// A string or a list of strings, as strings.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(_, items) => items
            .iter()
            .filter_map(|v| v.clone().into_string())
            .collect(),
        other => other.clone().into_string().into_iter().collect(),
    }
}

/// The `.travis.yml` as a figment layer, its values attributed to the file.
pub struct Layer(pub Travis);

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::from(
            ".travis.yml (cargo deploy)",
            Source::File(self.0.path.clone()),
        )
    }

    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        Ok(Profile::Default.collect(self.0.settings.clone()))
    }
}

/// Where `shipcrate migrate` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Shipcrate,
    Github,
    Gitlab,
}

/// The equivalent config (or workflow, or job) as YAML text, with what could not be carried
/// over as comments.
pub fn migrate(travis: &Travis, to: Target) -> String {
    let s = &travis.settings;
    let on = s
        .get("on")
        .and_then(Value::as_dict)
        .cloned()
        .unwrap_or_default();
    let list = |v: Option<&Value>| v.map(strings).unwrap_or_default();
    let quote = |text: &str| serde_json::to_string(text).unwrap_or_default();
    let token = s.get("token").and_then(|v| v.as_str()).map(str::to_owned);
    let mut notes = travis.notes.clone();
    let token_ref = match &token {
        Some(t) if t.starts_with('$') => Some(t.clone()),
        Some(_) => {
            notes.push("the token in .travis.yml was written in the clear: revoke it, and keep the new one in a CI secret".into());
            None
        }
        None => None,
    };
    let mut out = String::from("# Migrated from .travis.yml by `shipcrate migrate`.\n");
    for note in &notes {
        out += &format!("# note: {note}\n");
    }
    let tags = truthy(on.get("tags"));
    let all_branches = truthy(on.get("all_branches")) == Some(true);
    let branches = list(on.get("branch"));
    let branch_list = branches
        .iter()
        .map(|b| quote(b))
        .collect::<Vec<_>>()
        .join(", ");
    let repo = on.get("repo").and_then(|v| v.as_str()).map(str::to_owned);
    let conditions = list(on.get("condition"));
    let before = list(s.get("before_deploy"));
    let after = list(s.get("after_deploy"));
    let allow_dirty = truthy(s.get("allow_dirty")) == Some(true);

    // The settings as shipcrate keys with string values, for the env and input forms.
    let flat: Vec<(&str, String)> = [
        ("on.tags", tags.map(|t| t.to_string())),
        ("on.all_branches", all_branches.then(|| "true".to_owned())),
        (
            "on.branch",
            (!branches.is_empty()).then(|| branches.join("\n")),
        ),
        ("on.repo", repo.clone()),
        (
            "on.condition",
            (!conditions.is_empty()).then(|| conditions.join("\n")),
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
    match to {
        Target::Shipcrate => {
            if let Some(t) = &token_ref {
                out += &format!("token: {}\n", quote(t));
            }
            if allow_dirty {
                out += "allow_dirty: true\n";
            }
            out += "on:\n";
            if let Some(t) = tags {
                out += &format!("  tags: {t}\n");
            }
            if all_branches {
                out += "  all_branches: true\n";
            }
            if !branches.is_empty() {
                out += &format!("  branch: [{branch_list}]\n");
            }
            if let Some(r) = &repo {
                out += &format!("  repo: {}\n", quote(r));
            }
            if !conditions.is_empty() {
                out += "  condition:\n";
                for c in &conditions {
                    out += &format!("    - {}\n", quote(c));
                }
            }
            for (key, items) in [("before_deploy", &before), ("after_deploy", &after)] {
                if !items.is_empty() {
                    out += &format!("{key}:\n");
                    for item in items {
                        out += &format!("  - {}\n", quote(item));
                    }
                }
            }
        }
        Target::Github => {
            out += "# The token moves to the repository secret CARGO_REGISTRY_TOKEN.\n";
            out += "name: Publish\non:\n  push:\n";
            if tags == Some(true) {
                out += "    tags: ['**']\n";
            } else if !all_branches && !branches.is_empty() {
                out += &format!("    branches: [{branch_list}]\n");
            }
            out += "jobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n";
            out += "      - uses: actions/checkout@v4\n        with:\n          submodules: recursive\n";
            out += "      - uses: shipcrate/shipcrate@v0.1.0\n        with:\n";
            out += "          token: ${{ secrets.CARGO_REGISTRY_TOKEN }}\n";
            for (key, value) in &flat {
                out += &format!(
                    "          {}: {}\n",
                    crate::config::input_name(key),
                    quote(value)
                );
            }
        }
        Target::Gitlab => {
            out += "# Set CARGO_REGISTRY_TOKEN as a masked CI/CD variable.\n";
            out += "publish:\n  image: ghcr.io/shipcrate/shipcrate:v0.1.0\n";
            if tags == Some(true) {
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

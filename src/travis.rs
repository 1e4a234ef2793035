//! `.travis.yml` as a settings source: its `provider: cargo` deploy entries (top level, or the
//! one `jobs.include` job that deploys) and the `before_deploy` / `after_deploy` around them,
//! read with the rules Travis's deploy script ran (travis-ci/travis-build,
//! `lib/travis/build/addons/deploy/script.rb`), into plain data: `config` layers it,
//! `migrate` writes it back out.
//!
//! Reads only: what it can't carry over it says, it never runs anything, and it knows nothing
//! of shipcrate's own config (which depends on it, not the other way round).

pub(crate) mod expr;
mod yaml;

use std::path::Path;

use anyhow::Result;
use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider, Source};

use crate::error::UsageError;
use yaml::Node;

/// The runtimes Travis's deploy script checks in `on:`, each against `TRAVIS_<NAME>_VERSION`
/// (`script.rb`, `VERSIONED_RUNTIMES`); `rvm` and `node_js` are read as `ruby` and `node`.
const VERSIONED_RUNTIMES: &[&str] = &[
    "d",
    "dart",
    "elm",
    "elixir",
    "ghc",
    "go",
    "haxe",
    "jdk",
    "julia",
    "mono",
    "node",
    "otp_release",
    "perl",
    "php",
    "python",
    "r",
    "ruby",
    "rust",
    "scala",
    "smalltalk",
];

/// Language keys Travis knows but its deploy script never checked in `on:`.
const UNCHECKED_RUNTIMES: &[&str] = &[
    "crystal",
    "dotnet",
    "osx_image",
    "xcode_sdk",
    "xcode_scheme",
    "xcode_project",
    "xcode_workspace",
];

const CARGO_KEYS: &[&str] = &[
    "provider",
    "token",
    "allow_dirty",
    "skip_cleanup",
    "cleanup",
    "edge",
    "on",
    "if",
    "allow_failure",
    "dpl_version",
];

const ON_KEYS: &[&str] = &["tags", "branch", "all_branches", "repo", "condition"];

/// The cargo deploy entries of a `.travis.yml`, in shipcrate's keys.
#[derive(Debug, Clone)]
pub(crate) struct Travis {
    /// In file order; Travis ran each with its own rules.
    pub entries: Vec<Entry>,
    /// What was ignored or could not be carried over, for the log and for `migrate`.
    pub notes: Vec<String>,
}

/// One `provider: cargo` entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// `deploy entry #2`, or `jobs.include #3, deploy entry #1`.
    pub label: String,
    /// shipcrate keys (`token`, `allow_dirty`, `on.*`, `before_deploy`, `after_deploy`).
    pub settings: Dict,
    /// Where the token comes from.
    pub token: TokenRule,
    /// `on.<runtime>` rules: `TRAVIS_<NAME>_VERSION` must equal the value, as written.
    pub runtimes: Vec<Runtime>,
    /// The `if:` of the `jobs.include` job that holds this entry.
    pub job_if: Option<String>,
}

/// A runtime rule: `on.rust: stable` holds when `TRAVIS_RUST_VERSION` is `stable`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Runtime {
    /// As written in `on:` (`rust`, `node_js`).
    pub key: String,
    /// `TRAVIS_RUST_VERSION`.
    pub var: String,
    pub value: String,
}

/// The `token` of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenRule {
    /// None given: the environment's (dpl read `CARGO_TOKEN`).
    Environment,
    /// `secure:`: only Travis could decrypt it, so the environment's.
    Encrypted,
    /// A `$VAR` reference or a literal, in `settings`.
    Given,
    /// The deprecated per-branch map: the current branch's value (`None`: encrypted).
    PerBranch(Vec<(String, Option<String>)>),
}

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
    let mut jobs: Vec<(String, &Node, Found)> = Vec::new();
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
                jobs.push((name, job, found));
            }
        }
    }
    let (scope, found, job_if, prefix) = match (top_level.is_empty(), jobs.len()) {
        (false, 0) => (&top, top_level, None, String::new()),
        (true, 1) => {
            let (name, job, found) = jobs.pop().expect("one job");
            let job_if = match job.get("if") {
                None => None,
                Some(node) => {
                    let text = node
                        .text()
                        .ok_or_else(|| bad(format!("{name}: `if` must be a condition")))?;
                    expr::parse(text).map_err(|why| {
                        bad(format!(
                            "{name}: `if: {text}` uses {why}, which shipcrate does not evaluate; \
                             run shipcrate only in the job that deploys and drop `travis` in favour \
                             of a .shipcrate.yml (`shipcrate migrate`)"
                        ))
                    })?;
                    Some(text.to_owned())
                }
            };
            (job, found, job_if, format!("{name}, "))
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
        let mut translated = translate(entry, &label, &mut notes).map_err(bad)?;
        for hook in ["before_deploy", "after_deploy"] {
            // A job's own hooks replace the top level's, as Travis merged a job over the root.
            if let Some(value) = scope.get(hook).or_else(|| top.get(hook)) {
                let commands = value.texts();
                if !commands.is_empty() {
                    translated
                        .settings
                        .insert(hook.to_owned(), Value::from(commands));
                }
            }
        }
        // A job's `if:` and the entry's own both have to hold.
        translated.job_if = match (&job_if, translated.job_if.take()) {
            (Some(job), Some(own)) => Some(format!("({job}) AND ({own})")),
            (job, own) => job.clone().or(own),
        };
        entries.push(translated);
    }
    notes.sort();
    notes.dedup();
    Ok(Travis { entries, notes })
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

/// Is this key one Travis read as `on:`? `if`, `on`, and whatever YAML 1.1 read as `true`
/// (`script.rb`: `config.delete(:if) || config.delete(:on) || config.delete(true)`).
fn rules_key(key: &Node) -> Option<u8> {
    match key.text() {
        Some("if") => Some(0),
        Some("on") => Some(1),
        _ if key.boolean() == Some(true) => Some(2),
        _ => None,
    }
}

/// One cargo deploy entry in shipcrate's keys.
fn translate(
    entry: &Node,
    label: &str,
    notes: &mut Vec<String>,
) -> std::result::Result<Entry, String> {
    let fields = entry.entries().unwrap_or_default();
    let mut settings = Dict::new();
    for (key, _) in fields {
        let name = key.text().unwrap_or("");
        if rules_key(key).is_none() && !CARGO_KEYS.contains(&name) {
            return Err(format!(
                "{label} has `{name}`, which the cargo provider does not take (it takes {})",
                CARGO_KEYS.join(", ")
            ));
        }
    }

    // The token: encrypted, a reference, a (leaked) literal, or a per-branch map.
    let literal = |what: &str| {
        format!(
            "{label}: `token`{what} is a literal token in a file git tracks: anyone who can read \
             the repository can read it, so treat it as leaked and revoke it. Store it as a CI \
             secret and write `token: $CARGO_REGISTRY_TOKEN` (or leave `token` out)"
        )
    };
    let encrypted =
        |node: &Node| node.get("secure").is_some() && node.entries().is_some_and(|e| e.len() == 1);
    let token = match entry.get("token") {
        None => TokenRule::Environment,
        Some(node) if node.is_null() => TokenRule::Environment,
        Some(node) if encrypted(node) => {
            notes.push(format!(
                "{label}: the encrypted (`secure:`) token is Travis's to decrypt; shipcrate uses \
                 the token in `CARGO_REGISTRY_TOKEN` (else `CARGO_TOKEN`, which dpl reads)"
            ));
            TokenRule::Encrypted
        }
        Some(Node::Map(branches)) => {
            let mut map = Vec::new();
            for (branch, value) in branches {
                let branch = branch.text().unwrap_or_default().to_owned();
                let value = if encrypted(value) {
                    None
                } else {
                    match value.text() {
                        Some(v) if v.trim_start().starts_with('$') => Some(v.to_owned()),
                        Some(_) => return Err(literal(&format!(" for branch `{branch}`"))),
                        None => {
                            return Err(format!(
                                "{label}: `token.{branch}` must be `$VAR` or `secure:`"
                            ));
                        }
                    }
                };
                map.push((branch, value));
            }
            notes.push(format!(
                "{label}: `token` is a per-branch map (deprecated by Travis): the branch's own \
                 token is used, and only its branches deploy unless `on.branch` says otherwise"
            ));
            TokenRule::PerBranch(map)
        }
        Some(node) => match node.text() {
            Some(text) => {
                settings.insert("token".into(), Value::from(text.to_owned()));
                TokenRule::Given
            }
            None => {
                return Err(format!(
                    "{label}: `token` must be `$CARGO_TOKEN`, a `secure:` value, or a map of branches"
                ));
            }
        },
    };
    if let Some(node) = entry.get("allow_dirty") {
        let value = node
            .boolean()
            .ok_or_else(|| format!("{label}: `allow_dirty` must be true or false"))?;
        settings.insert("allow_dirty".into(), Value::from(value));
    }
    if entry.get("skip_cleanup").is_some() || entry.get("cleanup").is_some() {
        notes.push("`skip_cleanup` / `cleanup` are moot: shipcrate always publishes from a pristine copy of the commit".into());
    }
    if entry.get("edge").is_some() {
        notes.push("`edge` (Travis's dpl version) is ignored".into());
    }
    if entry.get("dpl_version").is_some() {
        notes.push(format!(
            "{label}: `dpl_version` is moot: shipcrate runs cargo itself"
        ));
    }
    if entry.get("allow_failure").and_then(Node::boolean) == Some(true) {
        notes.push(format!(
            "{label}: `allow_failure` let a failed deploy leave Travis's build green; a failed \
             publish still fails shipcrate's step, so that it is seen"
        ));
    }

    // The rules: the first of `if`, `on`, `true` Travis found (`script.rb` line 95).
    // `if: tag IS present`: no branch has a space in its name, so this is Travis's condition
    // language (travis-yml's `deploy.if`), evaluated like a job's `if:`, beside `on:`.
    let condition_if = |k: &Node, v: &Node| {
        k.text() == Some("if") && v.text().is_some_and(|t| t.contains(char::is_whitespace))
    };
    let mut entry_if = None;
    for (key, value) in fields {
        if condition_if(key, value) {
            let text = value.text().unwrap_or_default();
            expr::parse(text).map_err(|why| {
                format!(
                    "{label}: `if: {text}` uses {why}, which shipcrate does not evaluate; \
                     write the rule with `on:` keys"
                )
            })?;
            entry_if = Some(text.to_owned());
        }
    }
    let mut rules_keys: Vec<(u8, &Node, &Node)> = fields
        .iter()
        .filter(|(k, v)| !condition_if(k, v))
        .filter_map(|(k, v)| rules_key(k).map(|rank| (rank, k, v)))
        .collect();
    rules_keys.sort_by_key(|(rank, ..)| *rank);
    if let [(_, used, _), rest @ ..] = rules_keys.as_slice() {
        for (_, other, _) in rest {
            notes.push(format!(
                "{label}: `{}` is ignored, as Travis ignored it: `{}` came first",
                other.text().unwrap_or("true"),
                used.text().unwrap_or("true")
            ));
        }
    }
    let rules = rules_keys.first().map(|(_, _, v)| *v);
    let mut on = Dict::new();
    let mut runtimes = Vec::new();
    let mut conditions: Vec<String> = Vec::new();
    let mut branch_given = false;
    match rules {
        None => {}
        Some(node) if node.is_null() => {}
        // `on: production` is `on: {branch: production}` (`script.rb` line 96).
        Some(Node::Scalar { text, .. }) => {
            on.insert("branch".into(), Value::from(vec![text.clone()]));
            branch_given = true;
        }
        Some(Node::Seq(_)) => {
            return Err(format!(
                "{label}: `on` is a list; Travis refused that too (give a map of rules, or a branch name)"
            ));
        }
        Some(Node::Map(rules)) => {
            for (key, value) in rules {
                let name = key.text().unwrap_or("");
                let runtime = match name {
                    "rvm" => "ruby",
                    "node_js" => "node",
                    other => other,
                };
                match name {
                    "tags" | "all_branches" => {
                        if value.is_null() {
                            continue;
                        }
                        let flag = value
                            .boolean()
                            .ok_or_else(|| format!("{label}: `on.{name}` must be true or false"))?;
                        on.insert(name.into(), Value::from(flag));
                    }
                    "repo" => {
                        if let Some(repo) = value.text() {
                            on.insert("repo".into(), Value::from(repo.to_owned()));
                        }
                    }
                    "branch" => {
                        // A map's keys are the branches (`script.rb` line 124).
                        let branches: Vec<String> = match value {
                            Node::Map(items) => {
                                if items.iter().any(|(_, v)| {
                                    !v.is_null() && v.entries().is_none_or(|e| !e.is_empty())
                                }) {
                                    notes.push(format!("{label}: options under `on.branch.<name>` are ignored, as Travis's deploy script ignored them"));
                                }
                                items
                                    .iter()
                                    .filter_map(|(k, _)| k.text().map(str::to_owned))
                                    .collect()
                            }
                            other => other.texts(),
                        };
                        if !branches.is_empty() {
                            on.insert("branch".into(), Value::from(branches));
                            branch_given = true;
                        }
                    }
                    "condition" => {
                        conditions.extend(value.texts().into_iter().map(|c| format!("[[ {c} ]]")));
                    }
                    _ if VERSIONED_RUNTIMES.contains(&runtime) => {
                        let version = match value {
                            Node::Scalar { text, .. } if !value.is_null() => text.clone(),
                            _ => {
                                return Err(format!(
                                    "{label}: `on.{name}` must be one version, as written in `{name}:`; \
                                     Travis compared `TRAVIS_{}_VERSION` with it as text, so a list never held",
                                    runtime.to_ascii_uppercase()
                                ));
                            }
                        };
                        // `on.rvm` counts only when `on.ruby` is not given (`script.rb` line 97).
                        if runtime != name && rules.iter().any(|(k, _)| k.text() == Some(runtime)) {
                            continue;
                        }
                        runtimes.push(Runtime {
                            key: name.to_owned(),
                            var: format!("TRAVIS_{}_VERSION", runtime.to_ascii_uppercase()),
                            value: version,
                        });
                    }
                    _ if UNCHECKED_RUNTIMES.contains(&name) => notes.push(format!(
                        "{label}: `on.{name}` is ignored, as Travis's deploy script ignored it \
                         (it checked only {})",
                        VERSIONED_RUNTIMES.join(", ")
                    )),
                    other => {
                        let near = ON_KEYS
                            .iter()
                            .chain(VERSIONED_RUNTIMES)
                            .find(|k| strsim::jaro_winkler(k, other) > 0.8)
                            .map(|k| format!("; did you mean `{k}`?"))
                            .unwrap_or_default();
                        return Err(format!("{label}: unknown rule `on.{other}`{near}"));
                    }
                }
            }
        }
    }
    if !conditions.is_empty() {
        on.insert("condition".into(), Value::from(conditions));
    }
    // Travis's rule: no branch given and neither tags nor all branches asked for: the keys of
    // a per-branch option map, else `master` (`script.rb` lines 122-127 and 213-216).
    let lifted = [on.get("tags"), on.get("all_branches")]
        .into_iter()
        .any(|v| v.and_then(Value::to_bool) == Some(true));
    if !branch_given && !lifted {
        let defaults: Vec<String> = match &token {
            TokenRule::PerBranch(map) => map.iter().map(|(b, _)| b.clone()).collect(),
            _ => vec!["master".to_owned()],
        };
        on.insert("branch".into(), Value::from(defaults));
    }
    settings.insert("on".into(), Value::from(on));
    Ok(Entry {
        label: label.to_owned(),
        settings,
        token,
        runtimes,
        job_if: entry_if,
    })
}

/// One deploy entry of the `.travis.yml` as a figment layer, its values attributed to the file.
pub(crate) struct Layer<'a> {
    pub path: &'a Path,
    pub entry: &'a Entry,
}

impl Provider for Layer<'_> {
    fn metadata(&self) -> Metadata {
        Metadata::from(
            format!(".travis.yml ({})", self.entry.label),
            Source::File(self.path.to_path_buf()),
        )
    }

    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        Ok(Profile::Default.collect(self.entry.settings.clone()))
    }
}

//! A deploy entry's rules (`on:`, or `if:` / `true:` as Travis read them): branches, tags,
//! repo, runtimes and conditions, as travis-build's deploy script checked them
//! (`lib/travis/build/addons/deploy/script.rb`, lines cited beside each rule).

use figment::value::{Dict, Value};

use super::yaml::Node;
use super::{Runtime, TokenRule, expr};

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

/// Keys travis-yml accepted under `on:` (`lib/travis/yml/schema/def/deploy.rb:70-88` at
/// 8d6f36f7: `os`, and through `includes :support` every language's matrix key, the
/// `matrix :…` lines of `schema/def/lang/*.rb`) that travis-build's deploy script never
/// checked (`script.rb:103-110`, `141-143`): Travis deployed whatever their value.
const UNCHECKED: &[&str] = &[
    "os",
    "crystal",
    "dart_task",
    "dotnet",
    "gemfile",
    "hhvm",
    "matlab",
    "nix",
    "osx_image",
    "smalltalk_config",
    "smalltalk_vm",
    "solution",
    "xcode_project",
    "xcode_scheme",
    "xcode_sdk",
    "xcode_workspace",
];

/// What a rule under `on:` is (`script.rb` lines 117-143).
#[derive(Clone, Copy)]
enum OnKey {
    /// `tags`, `all_branches`: true or false.
    Flag,
    /// `repo`: `TRAVIS_REPO_SLUG`.
    Repo,
    /// `branch`: one, a list, or a map whose keys are the branches.
    Branch,
    /// `condition`: bash tests.
    Condition,
}

const ON_KEYS: &[(&str, OnKey)] = &[
    ("tags", OnKey::Flag),
    ("branch", OnKey::Branch),
    ("all_branches", OnKey::Flag),
    ("repo", OnKey::Repo),
    ("condition", OnKey::Condition),
];

/// An entry's rules, read.
pub(super) struct Rules {
    /// shipcrate's `on.*` keys.
    pub on: Dict,
    pub runtimes: Vec<Runtime>,
    /// A deploy-level `if:` in Travis's condition language.
    pub entry_if: Option<String>,
}

/// Is this key one Travis read as `on:`? `if`, `on`, and whatever YAML 1.1 read as `true`
/// (`script.rb`: `config.delete(:if) || config.delete(:on) || config.delete(true)`).
pub(super) fn rules_key(key: &Node) -> Option<u8> {
    match key.text() {
        Some("if") => Some(0),
        Some("on") => Some(1),
        _ if key.boolean() == Some(true) => Some(2),
        _ => None,
    }
}

/// The rules of the entry whose keys are `fields`; `token` gives the default branches of a
/// per-branch token map.
pub(super) fn read(
    fields: &[(Node, Node)],
    token: &TokenRule,
    label: &str,
    notes: &mut Vec<String>,
) -> Result<Rules, String> {
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
    let mut read = Read::default();
    match rules_keys.first().map(|(_, _, v)| *v) {
        None => {}
        Some(node) if node.is_null() => {}
        // `on: production` is `on: {branch: production}` (`script.rb` line 96).
        Some(Node::Scalar { text, .. }) => {
            read.on
                .insert("branch".into(), Value::from(vec![text.clone()]));
            read.branch_given = true;
        }
        Some(Node::Seq(_)) => {
            return Err(format!(
                "{label}: `on` is a list; Travis refused that too (give a map of rules, or a branch name)"
            ));
        }
        Some(Node::Map(rules)) => {
            for (key, value) in rules {
                read.rule(rules, key.text().unwrap_or(""), value, label, notes)?;
            }
        }
    }
    let Read {
        mut on,
        runtimes,
        conditions,
        branch_given,
    } = read;
    if !conditions.is_empty() {
        on.insert("condition".into(), Value::from(conditions));
    }
    // Travis's rule: no branch given and neither tags nor all branches asked for: the keys of
    // a per-branch option map, else `master` (`script.rb` lines 122-127 and 213-216).
    let lifted = [on.get("tags"), on.get("all_branches")]
        .into_iter()
        .any(|v| v.and_then(Value::to_bool) == Some(true));
    if !branch_given && !lifted {
        let defaults: Vec<String> = match token {
            TokenRule::PerBranch(map) => map.iter().map(|(b, _)| b.clone()).collect(),
            _ => vec!["master".to_owned()],
        };
        on.insert("branch".into(), Value::from(defaults));
    }
    Ok(Rules {
        on,
        runtimes,
        entry_if,
    })
}

/// The rules of an `on:` map as they are read.
#[derive(Default)]
struct Read {
    on: Dict,
    runtimes: Vec<Runtime>,
    conditions: Vec<String>,
    branch_given: bool,
}

impl Read {
    /// One rule `name: value` of the map `rules`.
    fn rule(
        &mut self,
        rules: &[(Node, Node)],
        name: &str,
        value: &Node,
        label: &str,
        notes: &mut Vec<String>,
    ) -> Result<(), String> {
        // travis-yml renamed `ruby` and `rbenv` to `rvm` (`schema/def/lang/ruby.rb:15`), which
        // the deploy script read as `ruby`.
        let runtime = match name {
            "rvm" | "rbenv" => "ruby",
            "node_js" => "node",
            other => other,
        };
        match ON_KEYS
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, kind)| *kind)
        {
            Some(OnKey::Flag) => {
                if !value.is_null() {
                    let flag = value
                        .boolean()
                        .ok_or_else(|| format!("{label}: `on.{name}` must be true or false"))?;
                    self.on.insert(name.into(), Value::from(flag));
                }
            }
            Some(OnKey::Repo) => {
                if let Some(repo) = value.text() {
                    self.on.insert("repo".into(), Value::from(repo.to_owned()));
                }
            }
            Some(OnKey::Branch) => {
                let branches = branches(value, label, notes);
                if !branches.is_empty() {
                    self.on.insert("branch".into(), Value::from(branches));
                    self.branch_given = true;
                }
            }
            Some(OnKey::Condition) => self
                .conditions
                .extend(value.texts().into_iter().map(|c| format!("[[ {c} ]]"))),
            None if VERSIONED_RUNTIMES.contains(&runtime) => {
                let Node::Scalar { text: version, .. } = value else {
                    return Err(one_version(label, name, runtime));
                };
                if value.is_null() {
                    return Err(one_version(label, name, runtime));
                }
                // `on.rvm` counts only when `on.ruby` is not given (`script.rb` line 97).
                if runtime != name && rules.iter().any(|(k, _)| k.text() == Some(runtime)) {
                    return Ok(());
                }
                self.runtimes.push(Runtime {
                    key: name.to_owned(),
                    var: format!("TRAVIS_{}_VERSION", runtime.to_ascii_uppercase()),
                    value: version.clone(),
                });
            }
            None if UNCHECKED.contains(&name) => notes.push(format!(
                "{label}: `on.{name}` is ignored, as Travis's deploy script ignored it: it \
                 checked only repo, branch, tags, condition and the runtimes ({}), so Travis \
                 deployed whatever `{name}` the job ran on",
                VERSIONED_RUNTIMES.join(", ")
            )),
            None => {
                let near = ON_KEYS
                    .iter()
                    .map(|(k, _)| k)
                    .chain(VERSIONED_RUNTIMES)
                    .find(|k| strsim::jaro_winkler(k, name) > 0.8)
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_default();
                // travis-yml warned of it (`unknown_key`, spec/travis/yml/accept/deploy_spec.rb
                // 310-319) and the deploy script ignored it: refused here rather than guessed.
                return Err(format!(
                    "{label}: unknown rule `on.{name}`{near} (Travis warned of it as an unknown \
                     key and deployed as if it were not there)"
                ));
            }
        }
        Ok(())
    }
}

fn one_version(label: &str, name: &str, runtime: &str) -> String {
    format!(
        "{label}: `on.{name}` must be one version, as written in `{name}:`; \
         Travis compared `TRAVIS_{}_VERSION` with it as text, so a list never held",
        runtime.to_ascii_uppercase()
    )
}

/// `on.branch`: one, a list, or a map whose keys are the branches (`script.rb` line 124).
fn branches(value: &Node, label: &str, notes: &mut Vec<String>) -> Vec<String> {
    match value {
        Node::Map(items) => {
            if items
                .iter()
                .any(|(_, v)| !v.is_null() && v.entries().is_none_or(|e| !e.is_empty()))
            {
                notes.push(format!(
                    "{label}: options under `on.branch.<name>` are ignored, as Travis's deploy \
                     script ignored them"
                ));
            }
            items
                .iter()
                .filter_map(|(k, _)| k.text().map(str::to_owned))
                .collect()
        }
        other => other.texts(),
    }
}

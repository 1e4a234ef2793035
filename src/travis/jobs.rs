//! The file's jobs: which job runs a deploy held by a `jobs.include` entry (its stage, rust,
//! os and env, as Travis handed them to the job), the variables each job's `env:` set, and
//! whether Travis built a branch or tag at all (the top level's `branches.only` /
//! `branches.except`).

use super::yaml::Node;

/// One thing Travis set for the job that deploys: the build of another job differs in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JobRule {
    /// `stage`, `rust`, `os`, or the variable of the job's `env:`.
    pub key: String,
    /// The variable Travis exported it in (`TRAVIS_BUILD_STAGE_NAME`, …, or the env's own).
    pub var: String,
    pub value: String,
}

/// The top level's `branches`: the branches and tags Travis built (docs-travis-ci-com
/// `user/customizing-the-build.md:270-317` at 224f072e: a safelist wins over a blocklist, it
/// holds for tags too, `/…/` is a regular expression, `gh-pages` only when safelisted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Built {
    pub only: Vec<String>,
    pub except: Vec<String>,
}

impl Built {
    fn matches(list: &[String], name: &str) -> bool {
        list.iter().any(
            |item| match item.strip_prefix('/').and_then(|i| i.strip_suffix('/')) {
                Some(pattern) => regex::Regex::new(pattern).is_ok_and(|re| re.is_match(name)),
                None => item == name,
            },
        )
    }

    /// Did Travis build the branch or tag `name`?
    pub(crate) fn builds(&self, name: &str) -> bool {
        if !self.only.is_empty() {
            return Self::matches(&self.only, name);
        }
        name != "gh-pages" && !Self::matches(&self.except, name)
    }

    /// The rule in words, for a skip.
    pub(crate) fn describe(&self) -> String {
        if self.only.is_empty() {
            format!("`branches.except` lists {}", self.except.join(", "))
        } else {
            format!("`branches.only` lists {}", self.only.join(", "))
        }
    }
}

/// `branches.only` / `branches.except` of the top level (a list alone is `only`).
pub(super) fn built(top: &Node, notes: &mut Vec<String>) -> Option<Built> {
    let branches = top.get("branches")?;
    let built = match branches {
        Node::Seq(_) => Built {
            only: branches.texts(),
            except: Vec::new(),
        },
        _ => Built {
            only: branches.get("only").map(Node::texts).unwrap_or_default(),
            except: branches.get("except").map(Node::texts).unwrap_or_default(),
        },
    };
    for item in built.only.iter().chain(&built.except) {
        if let Some(pattern) = item.strip_prefix('/').and_then(|i| i.strip_suffix('/'))
            && regex::Regex::new(pattern).is_err()
        {
            notes.push(format!(
                "`branches`: `{item}` is a Ruby regular expression shipcrate can't read; it \
                 matches nothing here"
            ));
        }
    }
    (!built.only.is_empty() || !built.except.is_empty()).then_some(built)
}

/// `NAME=value` assignments of an `env:` value (one string, a list, or `global` / `jobs` /
/// `matrix` lists); `secure:` items are skipped (only Travis could decrypt them).
pub(crate) fn assignments(env: &Node) -> Vec<(String, String)> {
    let words: Vec<String> = match env {
        Node::Map(_) => ["global", "jobs", "matrix"]
            .iter()
            .filter_map(|k| env.get(k))
            .flat_map(Node::texts)
            .collect(),
        other => other.texts(),
    };
    words.iter().flat_map(|w| split_assignments(w)).collect()
}

/// `A=1 B="two words"` as `[(A, 1), (B, two words)]`.
fn split_assignments(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().to_owned();
        let after = &rest[eq + 1..];
        let (value, tail) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                Some(end) => (after[1..=end].to_owned(), &after[end + 2..]),
                None => (after[1..].to_owned(), ""),
            },
            _ => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (after[..end].to_owned(), &after[end..])
            }
        };
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push((name, value));
        }
        rest = tail.trim_start();
    }
    out
}

/// The first value of a root matrix key (`rust: [stable, beta]` → `stable`), as a
/// `jobs.include` entry inherited it (travis-yml `lib/travis/yml/matrix.rb:29`, `82-84`).
fn first(node: Option<&Node>) -> Option<String> {
    match node? {
        Node::Seq(items) => items.first().and_then(Node::text).map(str::to_owned),
        other => other.text().map(str::to_owned),
    }
}

/// What Travis set for the job `items[index]` of `jobs.include`: its stage (inherited from
/// the entry before it, `matrix.rb:105-111`), rust and os (the root's first when the entry
/// has none; Travis's defaults are `stable` for Rust and `linux`), and its env's variables.
pub(super) fn job_rules(top: &Node, items: &[Node], index: usize) -> Vec<JobRule> {
    let job = &items[index];
    let rule = |key: &str, var: &str, value: String| JobRule {
        key: key.to_owned(),
        var: var.to_owned(),
        value,
    };
    let mut rules = Vec::new();
    if let Some(stage) = items[..=index]
        .iter()
        .rev()
        .find_map(|j| j.get("stage").and_then(Node::text))
    {
        rules.push(rule("stage", "TRAVIS_BUILD_STAGE_NAME", stage.to_owned()));
    }
    let language = first(job.get("language").or_else(|| top.get("language")));
    let rust = first(job.get("rust")).or_else(|| first(top.get("rust")));
    let rust = rust.or_else(|| (language.as_deref() == Some("rust")).then(|| "stable".into()));
    if let Some(rust) = rust {
        rules.push(rule("rust", "TRAVIS_RUST_VERSION", rust));
    }
    let os = first(job.get("os")).or_else(|| first(top.get("os")));
    rules.push(rule(
        "os",
        "TRAVIS_OS_NAME",
        os.unwrap_or_else(|| "linux".into()),
    ));
    for (name, value) in job.get("env").map(assignments).unwrap_or_default() {
        rules.push(rule("env", &name, value));
    }
    rules
}

/// Every job's `env:` assignments: the root's `env.jobs` / `env.matrix` list (one job each)
/// and each `jobs.include` / `matrix.include` entry's.
pub(super) fn job_envs(top: &Node) -> Vec<Vec<(String, String)>> {
    let mut envs = Vec::new();
    if let Some(env) = top.get("env") {
        let per_job = match env {
            Node::Seq(items) => items.clone(),
            Node::Map(_) => ["jobs", "matrix"]
                .iter()
                .filter_map(|k| env.get(k))
                .flat_map(|n| match n {
                    Node::Seq(items) => items.clone(),
                    other => vec![other.clone()],
                })
                .collect(),
            other @ Node::Scalar { .. } => vec![other.clone()],
        };
        envs.extend(per_job.iter().map(assignments));
    }
    for section in ["jobs", "matrix"] {
        if let Some(Node::Seq(items)) = top.get(section).and_then(|s| s.get("include")) {
            envs.extend(items.iter().filter_map(|j| j.get("env")).map(assignments));
        }
    }
    envs.retain(|e| !e.is_empty());
    envs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_are_read_as_travis_exported_them() {
        assert_eq!(
            split_assignments(r#"TARGET=x86_64-apple-darwin LINT=true MSG="two words" X='a b'"#),
            [
                ("TARGET", "x86_64-apple-darwin"),
                ("LINT", "true"),
                ("MSG", "two words"),
                ("X", "a b")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }

    #[test]
    fn a_safelist_holds_for_tags_and_takes_regular_expressions() {
        let built = Built {
            only: vec!["master".into(), r"/^\d+\.\d+\.\d+$/".into()],
            except: vec!["master".into()],
        };
        assert!(built.builds("master"));
        assert!(built.builds("0.4.3"));
        assert!(!built.builds("v0.4.3"));
        let blocked = Built {
            only: vec![],
            except: vec!["/^wip-/".into()],
        };
        assert!(!blocked.builds("wip-x"));
        assert!(blocked.builds("master"));
        assert!(!blocked.builds("gh-pages"));
    }
}

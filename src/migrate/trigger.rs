//! Which pushes start the migrated job: the deploy's branches and tags as GitHub's
//! `on: push` filters and GitLab's `rules:`, so a push the rules skip starts no job at all
//! (shipcrate's own settings still decide, the same way, inside the job).
//!
//! Travis compared `$TRAVIS_BRANCH` with each `on.branch` as a bash pattern (`script.rb:127`),
//! and on a tag build `TRAVIS_BRANCH` is the tag's name: unless `on.tags: false`, a branch
//! pattern starts tag pushes of that name too.

use super::rules::Rules;

/// The branch patterns that limit the job, `None` when every push may publish.
fn patterns(rules: &Rules) -> Option<&[String]> {
    (rules.tags != Some(true) && !rules.all_branches && !rules.branch.is_empty())
        .then_some(rules.branch.as_slice())
}

/// A bash pattern as a GitHub filter: bash's `*` matches `/`, GitHub's `**` does.
fn github_glob(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '*' {
            while chars.peek() == Some(&'*') {
                chars.next();
            }
            out += "**";
        } else {
            out.push(c);
        }
    }
    out
}

/// A bash pattern as an anchored RE2 regular expression, for GitLab's `=~`.
fn regex(pattern: &str) -> String {
    let mut out = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => out += ".*",
            '?' => out.push('.'),
            '[' | ']' => out.push(c),
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' => out.push(c),
            '/' => out += "\\/",
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out + "$"
}

/// The lines under `on: push:` of the GitHub workflow.
pub(super) fn github(rules: &Rules, quote: impl Fn(&str) -> String) -> String {
    let list = |items: &[String]| {
        let items: Vec<String> = items.iter().map(|p| quote(&github_glob(p))).collect();
        format!("[{}]", items.join(", "))
    };
    match (rules.tags, patterns(rules)) {
        (Some(true), _) => "    tags: ['**']\n".to_owned(),
        (tags, Some(branches)) => {
            let mut out = format!("    branches: {}\n", list(branches));
            if tags.is_none() {
                out += &format!("    tags: {}\n", list(branches));
            }
            out
        }
        // Branches only: a filter on branches alone starts no tag push.
        (Some(false), None) => "    branches: ['**']\n".to_owned(),
        (None, None) => String::new(),
    }
}

/// GitLab's `rules:` for the job, empty when every branch and tag pipeline runs it.
pub(super) fn gitlab(rules: &Rules) -> String {
    // A merge-request pipeline never publishes: no job there.
    let push = "$CI_PIPELINE_SOURCE != \"merge_request_event\"";
    let ifs: Vec<String> = match (rules.tags, patterns(rules)) {
        (Some(true), _) => vec!["$CI_COMMIT_TAG".to_owned()],
        (tags, Some(branches)) => branches
            .iter()
            .map(|b| {
                let not_tag = if tags == Some(false) {
                    " && $CI_COMMIT_TAG == null"
                } else {
                    ""
                };
                format!("{push}{not_tag} && $CI_COMMIT_REF_NAME =~ /{}/", regex(b))
            })
            .collect(),
        (Some(false), None) => vec![format!("{push} && $CI_COMMIT_TAG == null")],
        (None, None) => Vec::new(),
    };
    if ifs.is_empty() {
        return String::new();
    }
    let mut out = String::from("  rules:\n");
    for condition in ifs {
        out += &format!("    - if: '{}'\n", condition.replace('\'', "''"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn travis_patterns_become_the_ci_filters() {
        assert_eq!(github_glob("release-*"), "release-**");
        assert_eq!(regex("release-*"), "^release-.*$");
        assert_eq!(regex("v1.0"), "^v1\\.0$");
        assert_eq!(regex("feature/x"), "^feature\\/x$");
    }
}

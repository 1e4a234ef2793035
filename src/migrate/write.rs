//! The migrated file as text: a `.shipcrate.yml`, a GitHub workflow or a GitLab job, its
//! notes as comments at the top.

use super::{Migrated, Target, trigger};
use crate::config::input_name;

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// `migrated` written for `to`.
pub(super) fn write(migrated: &Migrated, to: Target) -> String {
    let mut out = String::from("# Migrated from .travis.yml by `shipcrate migrate`.\n");
    for note in &migrated.notes {
        out += &format!("# note: {note}\n");
    }
    match to {
        Target::Shipcrate => shipcrate(migrated, &mut out),
        Target::Github => github(migrated, &mut out),
        Target::Gitlab => gitlab(migrated, &mut out),
    }
    out
}

fn shipcrate(m: &Migrated, out: &mut String) {
    let rules = &m.rules;
    match &m.token_ref {
        Some(t) => *out += &format!("token: {}\n", quote(t)),
        None => {
            *out += "# The token: set CARGO_REGISTRY_TOKEN as a secret of the CI that runs this.\n";
        }
    }
    if m.allow_dirty {
        *out += "allow_dirty: true\n";
    }
    *out += "on:\n";
    if let Some(t) = rules.tags {
        *out += &format!("  tags: {t}\n");
    }
    if rules.all_branches {
        *out += "  all_branches: true\n";
    }
    if !rules.branch.is_empty() {
        let list: Vec<String> = rules.branch.iter().map(|b| quote(b)).collect();
        *out += &format!("  branch: [{}]\n", list.join(", "));
    }
    if let Some(r) = &rules.repo {
        *out += &format!("  repo: {}\n", quote(r));
    }
    if !rules.condition.is_empty() {
        *out += "  condition:\n";
        for c in &rules.condition {
            *out += &format!("    - {}\n", quote(c));
        }
    }
    for (key, hooks) in [("before_deploy", &m.before), ("after_deploy", &m.after)] {
        if !hooks.is_empty() {
            *out += &format!("{key}:\n");
            for hook in hooks {
                *out += &format!("  - {}\n", quote(hook));
            }
        }
    }
}

fn github(m: &Migrated, out: &mut String) {
    *out += "# The token: a crates.io API token in the repository secret CARGO_REGISTRY_TOKEN\n\
             # (create it under Settings > Secrets and variables > Actions).\n";
    *out += "name: Publish\non:\n  push:\n";
    *out += &trigger::github(&m.rules, quote);
    *out += "jobs:\n  publish:\n";
    *out += "    # On Travis the deploy ran only after the job's `script:` had passed; this job\n\
             \x20   # does not wait for your tests. To make it wait, run them in a job of this\n\
             \x20   # workflow (say `test`) and add here:  needs: test\n";
    *out += "    runs-on: ubuntu-latest\n";
    if !m.env.vars.is_empty() {
        *out += "    env:\n";
        for (name, value) in &m.env.vars {
            *out += &format!("      {name}: {}\n", quote(value));
        }
    }
    *out += "    steps:\n";
    *out += "      - uses: actions/checkout@v4\n        with:\n          submodules: recursive\n";
    *out += "      - uses: shipcrate/shipcrate@v0.1.0\n        with:\n";
    *out += "          token: ${{ secrets.CARGO_REGISTRY_TOKEN }}\n";
    for (key, value) in &m.flat() {
        if key == &"on.condition" {
            for note in &m.env.condition_notes {
                *out += &format!("          # note: {note}\n");
            }
        }
        *out += &format!("          {}: {}\n", input_name(key), quote(value));
    }
}

fn gitlab(m: &Migrated, out: &mut String) {
    *out += "# The token: a crates.io API token in the masked CI/CD variable CARGO_REGISTRY_TOKEN\n\
             # (create it under Settings > CI/CD > Variables).\n";
    *out += "publish:\n  image: ghcr.io/shipcrate/shipcrate:v0.1.0\n";
    *out += "  # On Travis the deploy ran only after the job's `script:` had passed. In the deploy\n\
             \x20 # stage this job runs once the test stage's jobs of the pipeline passed; or name\n\
             \x20 # your test job:  needs: [test]\n";
    *out += "  stage: deploy\n";
    *out += &trigger::gitlab(&m.rules);
    *out += "  variables:\n    GIT_SUBMODULE_STRATEGY: recursive\n";
    for (name, value) in &m.env.vars {
        *out += &format!("    {name}: {}\n", quote(value));
    }
    for (key, value) in &m.flat() {
        if key == &"on.condition" {
            for note in &m.env.condition_notes {
                *out += &format!("    # note: {note}\n");
            }
        }
        let var = format!("SHIPCRATE_{}", key.to_ascii_uppercase().replace('.', "__"));
        *out += &format!("    {var}: {}\n", quote(value));
    }
    *out += "  script:\n    - shipcrate\n";
}

//! Drop-in for `.travis.yml`: its cargo deploy block read with Travis's rules, and migrated.

use std::path::PathBuf;

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use figment::Provider;
use figment::providers::{Format, Yaml};

use crate::support::*;

fn travis_env(branch: &str, tag: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TRAVIS", "true".into()),
        (
            "TRAVIS_BRANCH",
            if tag.is_empty() {
                branch.into()
            } else {
                tag.into()
            },
        ),
        ("TRAVIS_TAG", tag.into()),
        ("TRAVIS_PULL_REQUEST", "false".into()),
        ("TRAVIS_REPO_SLUG", "acme/widget".into()),
        ("SHIPCRATE_TRAVIS", "true".into()),
    ]
}

/// `shipcrate explain` for a `.travis.yml` in a given Travis build; the decision line.
fn decide(repo: &Repo, env: &[(&str, String)]) -> String {
    let mut run = repo.shipcrate().arg("explain");
    for (k, v) in env {
        run = run.env(k, v);
    }
    let out = run.run().success();
    out.stdout
        .lines()
        .find(|l| l.starts_with("Decision:"))
        .unwrap()
        .to_owned()
}

fn with_travis(yaml: &str) -> Repo {
    Repo::with_crate("widget", "1.0.0")
        .file(".travis.yml", yaml)
        .commit("travis")
}

/// (what, .travis.yml, branch, tag, extra env, expected decision)
type Case<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a str,
);

#[cargo_test]
fn real_world_shapes_decide_as_travis_did() {
    // (what, .travis.yml, branch, tag, extra env, expected decision)
    let cases: &[Case] = &[
        (
            "single map, tags",
            "deploy:\n  provider: cargo\n  token: $CARGO_TOKEN\n  on:\n    tags: true\n",
            "",
            "v1.0.0",
            &[],
            "publish",
        ),
        (
            "single map, tags, branch build",
            "deploy:\n  provider: cargo\n  on:\n    tags: true\n",
            "master",
            "",
            &[],
            "skip: this is not a tagged commit",
        ),
        (
            "no rule: master only",
            "deploy:\n  provider: cargo\n",
            "master",
            "",
            &[],
            "publish",
        ),
        (
            "no rule, other branch",
            "deploy:\n  provider: cargo\n",
            "main",
            "",
            &[],
            "skip: branch `main` is not permitted",
        ),
        (
            "list with other providers, branch list",
            "deploy:\n  - provider: pages\n    github_token: $GH\n  - provider: cargo\n    on:\n      branch: [main, release]\n",
            "release",
            "",
            &[],
            "publish",
        ),
        (
            "condition list",
            "deploy:\n  provider: cargo\n  on:\n    all_branches: true\n    condition:\n      - $TRAVIS_OS_NAME = linux\n      - -n \"$RELEASE\"\n",
            "dev",
            "",
            &[("TRAVIS_OS_NAME", "linux")],
            "skip: `on.condition` `[[ -n \"$RELEASE\" ]]` did not hold",
        ),
        (
            "condition list holding",
            "deploy:\n  provider: cargo\n  on:\n    all_branches: true\n    condition:\n      - $TRAVIS_OS_NAME = linux\n      - -n \"$RELEASE\"\n",
            "dev",
            "",
            &[("TRAVIS_OS_NAME", "linux"), ("RELEASE", "1")],
            "publish",
        ),
        (
            "rust: stable matrix entry",
            "deploy:\n  provider: cargo\n  on:\n    rust: stable\n    tags: true\n",
            "",
            "v1.0.0",
            &[("TRAVIS_RUST_VERSION", "stable")],
            "publish",
        ),
        (
            "rust: stable, nightly job",
            "deploy:\n  provider: cargo\n  on:\n    rust: stable\n    tags: true\n",
            "",
            "v1.0.0",
            &[("TRAVIS_RUST_VERSION", "nightly")],
            "skip: `on.condition`",
        ),
        (
            "repo rule, fork",
            "deploy:\n  provider: cargo\n  on:\n    repo: other/widget\n",
            "master",
            "",
            &[],
            "skip: this repository is `acme/widget`",
        ),
    ];
    for (what, yaml, branch, tag, extra, want) in cases {
        let repo = with_travis(yaml);
        let mut env = travis_env(branch, tag);
        env.push(("CARGO_TOKEN", "t0ken".into()));
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        let decision = decide(&repo, &env);
        assert!(decision.contains(want), "{what}: {decision}");
        std::fs::remove_dir_all(&repo.root).unwrap();
    }
}

#[cargo_test]
fn what_cannot_be_carried_over_is_a_clear_error() {
    let cases: &[(&str, &str)] = &[
        (
            "deploy:\n  provider: cargo\n  token:\n    secure: AbC==\n",
            "set `CARGO_REGISTRY_TOKEN`",
        ),
        (
            "deploy:\n  provider: cargo\n  api_key: x\n",
            "deploy entry #1 has `api_key`",
        ),
        (
            "deploy:\n  provider: cargo\n  on:\n    node_js: 18\n",
            "`on.node_js` is a runtime",
        ),
        (
            "deploy:\n  - provider: cargo\n    on:\n      tags: true\n  - provider: cargo\n    on:\n      branch: main\n",
            "deploy entries #1 and #2",
        ),
        (
            "deploy:\n  provider: pages\n",
            "no deploy entry with `provider: cargo`",
        ),
        (
            "deploy:\n  provider: cargo\n  token: cio-leaked-literal\n",
            "literal token in a file git tracks",
        ),
    ];
    for (yaml, want) in cases {
        let repo = with_travis(yaml);
        let mut run = repo.shipcrate();
        for (k, v) in travis_env("master", "") {
            run = run.env(k, &v);
        }
        run.run()
            .code(2)
            .stderr_has(want)
            .lacks("cio-leaked-literal");
        std::fs::remove_dir_all(&repo.root).unwrap();
    }
    let repo =
        with_travis("deploy:\n  provider: cargo\n").file(".shipcrate.yml", "dry_run: true\n");
    repo.shipcrate()
        .arg("--travis")
        .run()
        .code(2)
        .stderr_has(".travis.yml")
        .stderr_has(".shipcrate.yml");
}

fn yaml_of(text: &str) -> figment::value::Dict {
    Yaml::string(text)
        .data()
        .expect("valid YAML")
        .into_values()
        .next()
        .unwrap()
}

#[cargo_test]
fn migrate_writes_equivalent_config_and_jobs() {
    let yaml = "before_deploy: echo ready\nafter_deploy:\n  - ./notify.sh\ndeploy:\n  - provider: pages\n  - provider: cargo\n    token: $CARGO_TOKEN\n    skip_cleanup: true\n    on:\n      branch: [main, release]\n      condition: $TRAVIS_OS_NAME = linux\n";
    let repo = with_travis(yaml);
    let out = repo.shipcrate().arg("migrate").run().success();
    let config = yaml_of(&out.stdout);
    assert_eq!(config["token"].as_str(), Some("$CARGO_TOKEN"));
    assert!(
        out.stdout
            .contains("# note: deploy entry #1 (provider `pages`) is not cargo: ignored"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("# note: `skip_cleanup`"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(r#"- "[[ $TRAVIS_OS_NAME = linux ]]""#),
        "{}",
        out.stdout
    );

    // The migrated file decides as the .travis.yml did.
    let migrated = repo
        .file(".shipcrate.yml", &out.stdout)
        .file(".travis.yml", "")
        .commit("migrated");
    let env = vec![
        ("TRAVIS", "true".to_owned()),
        ("TRAVIS_BRANCH", "release".into()),
        ("TRAVIS_PULL_REQUEST", "false".into()),
        ("TRAVIS_OS_NAME", "linux".into()),
        ("CARGO_TOKEN", "t".into()),
    ];
    // A publishing build: the decision goes on to say what it would upload.
    let decision = decide(&migrated, &env);
    assert!(decision.starts_with("Decision: publish"), "{decision}");

    let repo = Repo {
        root: migrated.root.clone(),
    }
    .file(".travis.yml", yaml)
    .file(".shipcrate.yml", "")
    .commit("back");
    std::fs::remove_file(repo.root.join(".shipcrate.yml")).unwrap();
    let github = repo
        .shipcrate()
        .arg("migrate")
        .arg("--to")
        .arg("github")
        .run()
        .success()
        .stdout;
    let workflow = yaml_of(&github);
    assert!(workflow.contains_key("jobs"), "{github}");
    assert!(
        github.contains("${{ secrets.CARGO_REGISTRY_TOKEN }}"),
        "{github}"
    );
    let gitlab = repo
        .shipcrate()
        .arg("migrate")
        .arg("--to")
        .arg("gitlab")
        .run()
        .success()
        .stdout;
    assert!(yaml_of(&gitlab).contains_key("publish"), "{gitlab}");

    // GitHub's own workflow schema, where the linter is installed (.ci/run installs it).
    let linter = PathBuf::from(std::env::var("HOME").unwrap())
        .join(".cache/shipcrate-lint/bin/check-jsonschema");
    if linter.is_file() {
        let file = paths::root().join("publish.yml");
        std::fs::write(&file, &github).unwrap();
        let status = std::process::Command::new(&linter)
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(&file)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "the migrated workflow fails GitHub's schema:\n{github}"
        );
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "check-jsonschema missing; .ci/run installs it"
        );
        eprintln!("note: check-jsonschema not installed; schema check skipped");
    }
}

#[cargo_test]
fn a_travis_yml_alone_drives_a_publish() {
    let registry = registry();
    let log = paths::root().join("hooks.log");
    let yaml = format!(
        "before_deploy: echo before >> {log}\nafter_deploy: echo after >> {log}\ndeploy:\n  provider: cargo\n  token: $CARGO_TOKEN\n  on:\n    tags: true\n",
        log = log.display()
    );
    let repo = Repo::with_crate("fromtravis", "2.0.0")
        .file(".travis.yml", &yaml)
        .commit("travis")
        .tag("v2.0.0");
    let mut run = repo.shipcrate();
    for (k, v) in travis_env("", "v2.0.0") {
        run = run.env(k, &v);
    }
    // The registry is the one thing .travis.yml can't name: cargo's provider only knew crates.io.
    run.env("CARGO_TOKEN", TOKEN)
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", "")
        .run()
        .success()
        .lacks(TOKEN);
    consume(&registry, "fromtravis", "2.0.0");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "before\nafter\n");
}

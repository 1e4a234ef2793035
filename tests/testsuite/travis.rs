//! Drop-in for `.travis.yml`: its cargo deploy block read with Travis's rules, and migrated.

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

fn with_travis(yaml: &str) -> Repo {
    Repo::with_crate("widget", "1.0.0")
        .file(".travis.yml", yaml)
        .commit("travis")
}

const DS: &str = "travis-build spec/build/addons/deploy_spec.rb";
const CS: &str = "travis-build spec/build/addons/deploy/config_spec.rb";
const COS: &str = "travis-build spec/build/addons/deploy/conditions_spec.rb";
const SCRIPT: &str = "travis-build lib/travis/build/addons/deploy/script.rb";
const ADDON: &str = "travis-build lib/travis/build/addons/deploy.rb";
const TC: &str = "travis-conditions spec/v1/eval_spec.rb";
const DPL_YML: &str = "dpl .travis/providers/cargo/travis.yml";
const DPL_SPEC: &str = "dpl spec/dpl/providers/cargo_spec.rb";
const DPL_PROVIDER: &str = "dpl lib/dpl/provider.rb";
const TY_DEPLOY: &str = "travis-yml lib/travis/yml/schema/def/deploy.rb";
const TY_SPEC: &str = "travis-yml spec/travis/yml/accept/deploy_spec.rb";
const TY_MATRIX: &str = "travis-yml lib/travis/yml/matrix.rb";
const BUILTIN: &str = "travis-build lib/travis/build/env/builtin.rb";
const BRANCHES: &str = "docs-travis-ci-com user/customizing-the-build.md";

/// One row: where Travis's behaviour comes from (file, lines), the `.travis.yml`, the build
/// (`branch X`, `tag X`, `pr X`, or `github X` for a GitHub Actions push), extra environment,
/// and Travis's outcome: `publish`, `skip: <why>` or `error: <message>`; after ` | `, text
/// `explain` must also print.
pub type Row = (
    (&'static str, &'static str),
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// Travis's deploy rules, row by row. travis-build at 2812e526c99d, dpl at 8c6eabc69917,
/// travis-conditions at c5e8ab12b48b, travis-yml at 8d6f36f765b0, docs-travis-ci-com at
/// 224f072eb7fc.
pub const ROWS: &[Row] = &[
    (
        (DS, "35-37"),
        "deploy:\n  provider: cargo\n  token: $CARGO_TOKEN\n",
        "branch master",
        &[],
        "publish",
    ),
    (
        (SCRIPT, "126, 213-216"),
        "deploy:\n  provider: cargo\n",
        "branch dev",
        &[],
        "skip: branch `dev` is not permitted",
    ),
    (
        (COS, "10"),
        "deploy:\n  provider: cargo\n",
        "pr master",
        &[],
        "skip: pull-request",
    ),
    (
        (SCRIPT, "53-56"),
        "deploy:\n  provider: cargo\n  on:\n    all_branches: true\n",
        "pr feature",
        &[],
        "skip: pull-request",
    ),
    (
        (DS, "236-239"),
        "deploy:\n  provider: cargo\n  on:\n    tags: true\n",
        "tag v1.0.0",
        &[],
        "publish",
    ),
    (
        (DS, "330-336"),
        "deploy:\n  provider: cargo\n  on:\n    tags: true\n",
        "branch master",
        &[],
        "skip: this is not a tagged commit",
    ),
    (
        (COS, "52-54"),
        "deploy:\n  provider: cargo\n  on:\n    tags: false\n    all_branches: true\n",
        "tag v1.0.0",
        &[],
        "skip: this is a tag build",
    ),
    (
        (COS, "52-54"),
        "deploy:\n  provider: cargo\n  on:\n    tags: false\n    all_branches: true\n",
        "branch feature",
        &[],
        "publish",
    ),
    (
        (COS, "30-32"),
        "deploy:\n  provider: cargo\n  on:\n    all_branches: true\n",
        "branch feature",
        &[],
        "publish",
    ),
    (
        (COS, "35-37"),
        "deploy:\n  provider: cargo\n  on:\n    branch: production\n",
        "branch production",
        &[],
        "publish",
    ),
    (
        (COS, "35-37"),
        "deploy:\n  provider: cargo\n  on:\n    branch: production\n",
        "branch master",
        &[],
        "skip: branch `master` is not permitted",
    ),
    (
        (COS, "40-42"),
        "deploy:\n  provider: cargo\n  on:\n    branch: [staging, production]\n",
        "branch staging",
        &[],
        "publish",
    ),
    (
        (COS, "22-25"),
        "deploy:\n  provider: cargo\n  on:\n    repo: acme/widget\n",
        "branch master",
        &[],
        "publish",
    ),
    (
        (COS, "22-25"),
        "deploy:\n  provider: cargo\n  on:\n    repo: someone/travis-ci\n",
        "branch master",
        &[],
        "skip: this repository is `acme/widget`, not `someone/travis-ci`",
    ),
    (
        (CS, "11-13"),
        "deploy:\n  provider: cargo\n  on: production\n",
        "branch production",
        &[],
        "publish",
    ),
    (
        (CS, "11-13"),
        "deploy:\n  provider: cargo\n  on: production\n",
        "branch master",
        &[],
        "skip: branch `master` is not permitted",
    ),
    (
        (CS, "46-48"),
        "deploy:\n  provider: cargo\n  if: production\n",
        "branch production",
        &[],
        "publish",
    ),
    (
        (DS, "170-174"),
        "deploy:\n  provider: cargo\n  if:\n    branch:\n      staging: foo\n      production: bar\n",
        "branch staging",
        &[],
        "publish",
    ),
    (
        (DS, "177-181"),
        "deploy:\n  provider: cargo\n  on:\n    branch:\n      staging: foo\n      production: bar\n",
        "branch production",
        &[],
        "publish",
    ),
    (
        (CS, "53-55"),
        "deploy:\n  provider: cargo\n  on:\n    branch:\n      staging: {}\n      production: {}\n",
        "branch master",
        &[],
        "skip: branch `master` is not permitted",
    ),
    (
        (CS, "31-33"),
        "deploy:\n  provider: cargo\n  true:\n    branch: production\n",
        "branch production",
        &[],
        "publish",
    ),
    (
        (CS, "36-38"),
        "deploy:\n  provider: cargo\n  \"true\":\n    branch: production\n",
        "branch master",
        &[],
        "skip: branch `master` is not permitted",
    ),
    (
        (SCRIPT, "131-132"),
        "deploy:\n  provider: cargo\n  on:\n    tags: yes\n",
        "tag v1.0.0",
        &[],
        "publish",
    ),
    (
        (SCRIPT, "131-132"),
        "deploy:\n  provider: cargo\n  on:\n    tags: yes\n",
        "branch master",
        &[],
        "skip: this is not a tagged commit",
    ),
    (
        (SCRIPT, "122"),
        "deploy:\n  provider: cargo\n  on:\n    all_branches: on\n",
        "branch feature",
        &[],
        "publish",
    ),
    (
        (DS, "211-215"),
        "deploy:\n  provider: cargo\n  on:\n    rust: stable\n    branch: bar\n",
        "branch bar",
        &[("TRAVIS_RUST_VERSION", "stable")],
        "publish",
    ),
    (
        (DS, "211-215"),
        "deploy:\n  provider: cargo\n  on:\n    rust: stable\n    branch: bar\n",
        "branch bar",
        &[("TRAVIS_RUST_VERSION", "nightly")],
        "skip: this is not on the required runtime: `on.rust` is `stable`, and `TRAVIS_RUST_VERSION` is `nightly`",
    ),
    (
        (SCRIPT, "142"),
        "deploy:\n  provider: cargo\n  on:\n    rust: nightly\n",
        "branch master",
        &[("TRAVIS_RUST_VERSION", "nightly-2024-01-01")],
        "skip: this is not on the required runtime",
    ),
    (
        (SCRIPT, "142"),
        "deploy:\n  provider: cargo\n  on:\n    rust: 1.6\n",
        "branch master",
        &[("TRAVIS_RUST_VERSION", "1.60.0")],
        "skip: this is not on the required runtime",
    ),
    (
        (SCRIPT, "142"),
        "deploy:\n  provider: cargo\n  on:\n    rust: 1.70\n",
        "branch master",
        &[("TRAVIS_RUST_VERSION", "1.70")],
        "publish",
    ),
    (
        (SCRIPT, "142"),
        "deploy:\n  provider: cargo\n  on:\n    rust: stable\n",
        "branch master",
        &[],
        "skip: this is not on the required runtime: `on.rust` is `stable`, and `TRAVIS_RUST_VERSION` is not set",
    ),
    (
        (SCRIPT, "142"),
        "deploy:\n  provider: cargo\n  on:\n    rust: stable\n",
        "github master",
        &[],
        "skip: the runtime rule `on.rust: stable` needs `TRAVIS_RUST_VERSION`, which only Travis sets",
    ),
    (
        (COS, "58-61"),
        "deploy:\n  provider: cargo\n  on:\n    ruby: 2.1.1\n",
        "branch master",
        &[("TRAVIS_RUBY_VERSION", "2.1.1")],
        "publish",
    ),
    (
        (CS, "21-23"),
        "deploy:\n  provider: cargo\n  on:\n    rvm: 2.1.1\n",
        "branch master",
        &[("TRAVIS_RUBY_VERSION", "2.2.0")],
        "skip: `on.rvm` is `2.1.1`, and `TRAVIS_RUBY_VERSION` is `2.2.0`",
    ),
    (
        (CS, "26-28"),
        "deploy:\n  provider: cargo\n  on:\n    node_js: 0.11\n",
        "branch master",
        &[("TRAVIS_NODE_VERSION", "0.11")],
        "publish",
    ),
    (
        (SCRIPT, "9-30, 142"),
        "deploy:\n  provider: cargo\n  on:\n    python: \"3.8\"\n",
        "branch master",
        &[("TRAVIS_PYTHON_VERSION", "3.8")],
        "publish",
    ),
    (
        (SCRIPT, "9-30, 142"),
        "deploy:\n  provider: cargo\n  on:\n    go: 1.21\n",
        "branch master",
        &[("TRAVIS_GO_VERSION", "1.22")],
        "skip: `on.go` is `1.21`",
    ),
    (
        (DS, "298-301"),
        "deploy:\n  provider: cargo\n  on:\n    condition: [$FOO = foo, $BAR = bar]\n",
        "branch master",
        &[("FOO", "foo"), ("BAR", "bar")],
        "publish",
    ),
    (
        (DS, "298-301"),
        "deploy:\n  provider: cargo\n  on:\n    condition: [$FOO = foo, $BAR = bar]\n",
        "branch master",
        &[("FOO", "foo"), ("BAR", "baz")],
        "skip: `on.condition` `[[ $BAR = bar ]]` did not hold",
    ),
    (
        (DS, "321-327"),
        "deploy:\n  provider: cargo\n  on:\n    condition: $FOO = foo && $BAR = bar\n",
        "branch master",
        &[("FOO", "foo"), ("BAR", "bar")],
        "publish",
    ),
    (
        (COS, "66-68"),
        "deploy:\n  provider: cargo\n  on:\n    condition: $FOO = foo\n",
        "branch master",
        &[],
        "skip: `on.condition`",
    ),
    (
        (DS, "339-343"),
        "deploy:\n  provider: cargo\n  on: [master, dev]\n",
        "branch master",
        &[],
        "error: `on` is a list",
    ),
    (
        (DS, "242-252"),
        "deploy:\n  - provider: cargo\n    on:\n      condition: $FOO = foo\n  - provider: cargo\n    on:\n      tags: true\n",
        "tag v1.0.0",
        &[],
        "publish | Deploy entry:    deploy entry #2",
    ),
    (
        (ADDON, "23-27"),
        "deploy:\n  - provider: cargo\n    on:\n      branch: master\n  - provider: cargo\n    on:\n      tags: true\n",
        "branch master",
        &[],
        "publish | Deploy entry:    deploy entry #1",
    ),
    (
        (ADDON, "23-27"),
        "deploy:\n  - provider: cargo\n    on:\n      branch: master\n  - provider: cargo\n    on:\n      tags: true\n",
        "tag v1.0.0",
        &[],
        "publish | Deploy entry:    deploy entry #2",
    ),
    (
        (ADDON, "23-27"),
        "deploy:\n  - provider: cargo\n    on:\n      branch: master\n  - provider: cargo\n    on:\n      tags: true\n",
        "branch dev",
        &[],
        "skip: no cargo deploy entry's rules hold",
    ),
    (
        (SCRIPT, "213-216, 221"),
        "deploy:\n  provider: cargo\n  token:\n    production: $PROD_TOKEN\n    staging: $STAGING_TOKEN\n",
        "branch staging",
        &[("PROD_TOKEN", "p"), ("STAGING_TOKEN", "s")],
        "publish | `$STAGING_TOKEN`",
    ),
    (
        (DS, "184-188"),
        "deploy:\n  provider: cargo\n  token:\n    production: $PROD_TOKEN\n    staging: $STAGING_TOKEN\n",
        "branch master",
        &[],
        "skip: branch `master` is not permitted",
    ),
    (
        (DS, "191-196"),
        "deploy:\n  provider: cargo\n  token:\n    foo: $FOO_TOKEN\n",
        "branch foo",
        &[("FOO_TOKEN", "f")],
        "publish | `$FOO_TOKEN`",
    ),
    (
        (DPL_YML, "11-15"),
        "deploy:\n  - provider: cargo\n    allow_dirty: true\n    token:\n      secure: \"nlMiqpZRZdJ7Q66jpsIaHst/qNQ=\"\n",
        "branch master",
        &[],
        "publish | from `CARGO_REGISTRY_TOKEN`",
    ),
    (
        (DPL_SPEC, "18-20"),
        "deploy:\n  provider: cargo\n  token:\n    secure: \"nlMiqpZRZdJ7Q66jpsIaHst/qNQ=\"\n",
        "branch master",
        &[("CARGO_REGISTRY_TOKEN", ""), ("CARGO_TOKEN", "1234")],
        "publish | `$CARGO_TOKEN`",
    ),
    (
        (DS, "292-295"),
        "deploy:\n  provider: cargo\n  allow_failure: true\n",
        "branch master",
        &[],
        "publish",
    ),
    (
        (DS, "105-108"),
        "deploy:\n  provider: cargo\n  dpl_version: 1.10.16\n",
        "branch master",
        &[],
        "publish",
    ),
    (
        (DS, "218-222"),
        "deploy:\n  provider: cargo\n  edge:\n    source: svenvfuchs/dpl\n    branch: foo\n",
        "branch staging",
        &[],
        "skip: branch `staging` is not permitted",
    ),
    (
        (SCRIPT, "127"),
        "deploy:\n  provider: cargo\n  on:\n    branch: release-*\n",
        "branch release-1.2",
        &[],
        "publish",
    ),
    (
        (SCRIPT, "127"),
        "deploy:\n  provider: cargo\n  on:\n    branch: release-*\n",
        "branch releases",
        &[],
        "skip: branch `releases` is not permitted",
    ),
    (
        (SCRIPT, "127"),
        "deploy:\n  provider: cargo\n  on:\n    branch: v1.0.0\n",
        "tag v1.0.0",
        &[],
        "publish",
    ),
    (
        (TC, "327-329"),
        "jobs:\n  include:\n    - stage: test\n    - stage: deploy\n      if: tag IS present\n      deploy:\n        provider: cargo\n        on:\n          tags: true\n",
        "tag v1.0.0",
        &[],
        "publish | jobs.include #2, deploy entry #1",
    ),
    (
        (TC, "327-329"),
        "jobs:\n  include:\n    - stage: deploy\n      if: tag IS present\n      deploy:\n        provider: cargo\n        on:\n          all_branches: true\n",
        "branch master",
        &[],
        "skip: `if: tag IS present` (.travis.yml's condition on the deploy) does not hold",
    ),
    (
        (TC, "283-285"),
        "matrix:\n  include:\n    - if: branch NOT IN (foo, master, bar)\n      deploy:\n        provider: cargo\n        on:\n          all_branches: true\n",
        "branch master",
        &[],
        "skip: `if: branch NOT IN (foo, master, bar)`",
    ),
    // travis-yml accepted `os` under `on:` (deploy.rb:78); the deploy script never read it
    // (script.rb:103-110), so the deploy ran on every OS.
    (
        (TY_DEPLOY, "78"),
        "deploy:\n  provider: cargo\n  on:\n    os: linux\n    tags: true\n",
        "tag v1.0.0",
        &[("TRAVIS_OS_NAME", "osx")],
        "publish | `on.os` is ignored, as Travis's deploy script ignored it",
    ),
    (
        (TY_DEPLOY, "85"),
        "deploy:\n  provider: cargo\n  on:\n    gemfile: Gemfile\n    xcode_sdk: iphonesimulator\n",
        "branch master",
        &[],
        "publish",
    ),
    (
        (TY_SPEC, "287-295"),
        "deploy:\n  provider: cargo\n  on:\n    rbenv: 2.1.1\n",
        "branch master",
        &[("TRAVIS_RUBY_VERSION", "2.2.0")],
        "skip: `on.rbenv` is `2.1.1`, and `TRAVIS_RUBY_VERSION` is `2.2.0`",
    ),
    // dpl v2 ran `run` after a successful deploy (provider.rb:149, 204-205).
    (
        (DPL_PROVIDER, "149"),
        "deploy:\n  provider: cargo\n  run: ./announce.sh\nafter_deploy: ./notify.sh\n",
        "branch master",
        &[],
        "publish | `run` ran its commands after a successful deploy",
    ),
    // A `secure:` value starting with `$` is no ciphertext: the variable it names.
    (
        (DPL_SPEC, "18-20"),
        "deploy:\n  provider: cargo\n  token:\n    secure: ${PUBLISH_TOKEN}\n",
        "branch master",
        &[
            ("CARGO_REGISTRY_TOKEN", ""),
            ("PUBLISH_TOKEN", "t0ken-of-the-table"),
        ],
        "publish | names a variable, not an encrypted value",
    ),
    // A deploy in a `jobs.include` entry ran in that job only: its stage (inherited from the
    // entry before, matrix.rb:105-111), its rust and os (the root's first, matrix.rb:82-84)
    // and its env are the job's, as Travis exported them (builtin.rb:55).
    (
        (TY_MATRIX, "105-111"),
        "language: rust\nrust: [stable, nightly]\njobs:\n  include:\n    - stage: deploy\n      deploy:\n        provider: cargo\n        on:\n          tags: true\n",
        "tag v1.0.0",
        &[
            ("TRAVIS_BUILD_STAGE_NAME", "Deploy"),
            ("TRAVIS_RUST_VERSION", "stable"),
            ("TRAVIS_OS_NAME", "linux"),
        ],
        "publish",
    ),
    (
        (TY_MATRIX, "105-111"),
        "language: rust\nrust: [stable, nightly]\njobs:\n  include:\n    - stage: deploy\n      deploy:\n        provider: cargo\n        on:\n          tags: true\n",
        "tag v1.0.0",
        &[
            ("TRAVIS_BUILD_STAGE_NAME", "Test"),
            ("TRAVIS_RUST_VERSION", "stable"),
            ("TRAVIS_OS_NAME", "linux"),
        ],
        "skip: this is another job than the one that deploys: that job has `stage: deploy`, and `TRAVIS_BUILD_STAGE_NAME` is `Test`",
    ),
    (
        (TY_MATRIX, "82-84"),
        "language: rust\nrust: [stable, nightly]\njobs:\n  include:\n    - stage: deploy\n      deploy:\n        provider: cargo\n        on:\n          tags: true\n",
        "tag v1.0.0",
        &[
            ("TRAVIS_BUILD_STAGE_NAME", "Deploy"),
            ("TRAVIS_RUST_VERSION", "nightly"),
            ("TRAVIS_OS_NAME", "linux"),
        ],
        "skip: this is another job than the one that deploys: that job has `rust: stable`, and `TRAVIS_RUST_VERSION` is `nightly`",
    ),
    (
        (BUILTIN, "55"),
        "jobs:\n  include:\n    - os: osx\n      env: PUBLISH=yes TARGET=x86_64-apple-darwin\n      deploy:\n        provider: cargo\n        on:\n          tags: true\n",
        "tag v1.0.0",
        &[
            ("TRAVIS_OS_NAME", "osx"),
            ("PUBLISH", "yes"),
            ("TARGET", "x86_64-unknown-linux-gnu"),
        ],
        "skip: this is another job than the one that deploys: that job has `TARGET=x86_64-apple-darwin` in its env, and `TARGET` is `x86_64-unknown-linux-gnu`",
    ),
    (
        (BUILTIN, "55"),
        "jobs:\n  include:\n    - os: osx\n      env: PUBLISH=yes TARGET=x86_64-apple-darwin\n      deploy:\n        provider: cargo\n        on:\n          tags: true\n",
        "tag v1.0.0",
        &[
            ("TRAVIS_OS_NAME", "osx"),
            ("PUBLISH", "yes"),
            ("TARGET", "x86_64-apple-darwin"),
        ],
        "publish",
    ),
    // A safelist holds for tags too; `/…/` is a regular expression (customizing-the-build.md
    // 289, 317).
    (
        (BRANCHES, "289"),
        "branches:\n  only: [master]\ndeploy:\n  provider: cargo\n  on:\n    tags: true\n",
        "tag v1.0.0",
        &[],
        "skip: Travis would not have built tag `v1.0.0`: .travis.yml's `branches.only` lists master",
    ),
    (
        (BRANCHES, "317"),
        "branches:\n  only:\n    - master\n    - /^v\\d+\\.\\d+\\.\\d+$/\ndeploy:\n  provider: cargo\n  on:\n    tags: true\n",
        "tag v1.0.0",
        &[],
        "publish",
    ),
    (
        (BRANCHES, "275-279"),
        "branches:\n  except: [master]\ndeploy:\n  provider: cargo\n",
        "branch master",
        &[],
        "skip: Travis would not have built branch `master`: .travis.yml's `branches.except` lists master",
    ),
];

/// The environment of `build` (see [`Row`]).
pub fn build_env(build: &str) -> Vec<(&'static str, String)> {
    let (kind, name) = build.split_once(' ').expect("`kind name`");
    let mut env: Vec<(&'static str, String)> = vec![
        ("CARGO_REGISTRY_TOKEN", "t0ken-of-the-table".into()),
        // dpl's variable, which rows name as `token: $CARGO_TOKEN`: a publishing build has
        // its token (explain exits 2 where the run would stop for want of one).
        ("CARGO_TOKEN", "t0ken-of-the-table".into()),
        ("SHIPCRATE_TRAVIS", "true".into()),
    ];
    if kind == "github" {
        env.extend([
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_REF", format!("refs/heads/{name}")),
            ("GITHUB_EVENT_NAME", "push".into()),
            ("GITHUB_REPOSITORY", "acme/widget".into()),
        ]);
        return env;
    }
    let tag = if kind == "tag" { name } else { "" };
    let pr = if kind == "pr" { "7" } else { "false" };
    let event = if kind == "pr" { "pull_request" } else { "push" };
    env.extend([
        ("TRAVIS", "true".into()),
        ("TRAVIS_BRANCH", name.into()),
        ("TRAVIS_TAG", tag.into()),
        ("TRAVIS_PULL_REQUEST", pr.into()),
        ("TRAVIS_EVENT_TYPE", event.into()),
        ("TRAVIS_REPO_SLUG", "acme/widget".into()),
        ("TRAVIS_OS_NAME", "linux".into()),
    ]);
    env
}

/// Checks `out` against a row's expected outcome; gives the decision for the migrate checks.
#[track_caller]
pub fn check(what: &str, out: &Outcome, want: &str) {
    let (outcome, also) = want.split_once(" | ").unwrap_or((want, ""));
    if let Some(message) = outcome.strip_prefix("error: ") {
        assert_eq!(out.code, Some(2), "{what}: expected exit 2\n{}", out.both());
        assert!(out.stderr.contains(message), "{what}: {}", out.both());
        return;
    }
    assert_eq!(out.code, Some(0), "{what}\n{}", out.both());
    let decision = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Decision:"))
        .unwrap_or_default();
    match outcome.strip_prefix("skip: ") {
        Some(why) => assert!(
            decision.starts_with("Decision: skip:") && decision.contains(why),
            "{what}: {decision}\n{}",
            out.both()
        ),
        // A publishing build goes on to say what it would upload.
        None => assert!(
            decision.starts_with("Decision: publish 1 crate(s): widget@1.0.0"),
            "{what}: {decision}\n{}",
            out.both()
        ),
    }
    // A note is a status line (stderr); the decision and plan are stdout.
    assert!(
        out.both().contains(also),
        "{what}: lacks {also:?}\n{}",
        out.both()
    );
}

#[cargo_test]
fn travis_rules_table_decides_as_travis_did() {
    assert!(ROWS.len() >= 40, "the table has {} rows", ROWS.len());
    // crates.io, as .travis.yml knew it, is this loopback registry here (cargo's source
    // replacement), so `explain` reads its index rather than crates.io's.
    let _registry = crates_io_stand_in();
    let repo = with_travis("");
    for ((file, lines), yaml, build, extra, want) in ROWS {
        let what = format!("{file}:{lines} ({build})");
        std::fs::write(repo.root.join(".travis.yml"), yaml).unwrap();
        let mut run = repo.shipcrate().arg("explain");
        for (k, v) in build_env(build) {
            run = run.env(k, &v);
        }
        for (k, v) in *extra {
            run = run.env(k, v);
        }
        let out = run.run();
        check(&what, &out, want);
        // GitHub's `::add-mask::` line is how a secret gets masked; nothing else may show it.
        let shown: String = out
            .both()
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect();
        assert!(
            !shown.contains("t0ken-of-the-table") && !shown.contains("cio-leaked-literal"),
            "{what}: a token was printed\n{}",
            out.both()
        );
    }
}

#[cargo_test]
fn several_jobs_with_a_cargo_deploy_are_named() {
    let yaml = "deploy:\n  provider: cargo\njobs:\n  include:\n    - stage: deploy\n      deploy:\n        provider: cargo\n";
    let repo = with_travis(yaml);
    let mut run = repo.shipcrate().arg("explain");
    for (k, v) in build_env("branch master") {
        run = run.env(k, &v);
    }
    run.run()
        .code(2)
        .stderr_has("has cargo deploys in the top-level `deploy`, jobs.include #1");
    std::fs::remove_dir_all(&repo.root).unwrap();
    let repo =
        with_travis("deploy:\n  provider: cargo\n").file(".shipcrate.yml", "dry_run: true\n");
    repo.shipcrate()
        .arg("--travis")
        .run()
        .code(2)
        .stderr_has(".travis.yml")
        .stderr_has(".shipcrate.yml");
}

/// Where shipcrate stops with exit 2 although Travis went on, because going on would publish
/// by accident, never publish, or publish a leaked token: each names what Travis did.
#[cargo_test]
fn where_shipcrate_refuses_what_travis_let_through() {
    let cases: &[(&str, &str)] = &[
        // dpl's cargo provider takes `token` and `allow_dirty` only (dpl
        // lib/dpl/providers/cargo.rb:16-17): anything else is a typo or another provider's.
        (
            "deploy:\n  provider: cargo\n  api_key: x\n",
            "deploy entry #1 has `api_key`, which the cargo provider does not take; did you mean `token`?",
        ),
        // Travis passed a literal token to dpl; in a tracked file it has leaked.
        (
            "deploy:\n  provider: cargo\n  token: cio-leaked-literal\n",
            "literal token in a file git tracks",
        ),
        // Travis ignored a rule it didn't know (script.rb:117-143 read only repo, branch,
        // all_branches, tags, condition and the runtimes), so `tag: true` deployed master.
        (
            "deploy:\n  provider: cargo\n  on:\n    tag: true\n",
            "unknown rule `on.tag`; did you mean `tags`?",
        ),
        // script.rb:142 compared the list's text (`["stable", "beta"]`): it never held.
        (
            "deploy:\n  provider: cargo\n  on:\n    rust: [stable, beta]\n",
            "`on.rust` must be one version",
        ),
        // travis-conditions evaluates `=~` (lib/travis/conditions/v1/parser.rb:25); shipcrate
        // does not, and says so rather than guess.
        (
            "jobs:\n  include:\n    - if: commit_message =~ /release/\n      deploy:\n        provider: cargo\n",
            "uses the regular-expression match `=~`, which shipcrate does not evaluate",
        ),
    ];
    let repo = with_travis("");
    for (yaml, want) in cases {
        std::fs::write(repo.root.join(".travis.yml"), yaml).unwrap();
        let mut run = repo.shipcrate().arg("explain");
        for (k, v) in build_env("branch master") {
            run = run.env(k, &v);
        }
        run.run()
            .code(2)
            .stderr_has(want)
            .lacks("cio-leaked-literal");
    }
}

/// A deploy's own `if:` in Travis's condition language (a branch name has no spaces) holds
/// beside its `on:` rules; one shipcrate can't evaluate is exit 2 naming it.
#[cargo_test]
fn a_deploy_level_if_is_a_condition_beside_on() {
    let _registry = crates_io_stand_in();
    let repo = with_travis(
        "deploy:\n  provider: cargo\n  if: tag IS present AND repo = acme/widget\n  on:\n    tags: true\n",
    );
    for (build, want) in [
        ("tag v1.0.0", "Decision: publish"),
        (
            "branch master",
            "Decision: skip: `if: tag IS present AND repo = acme/widget`",
        ),
    ] {
        let mut run = repo.shipcrate().arg("explain");
        for (k, v) in build_env(build) {
            run = run.env(k, &v);
        }
        run.run().success().stdout_has(want);
    }
    std::fs::write(
        repo.root.join(".travis.yml"),
        "deploy:\n  provider: cargo\n  if: sender = me\n",
    )
    .unwrap();
    let mut run = repo.shipcrate().arg("explain");
    for (k, v) in build_env("branch master") {
        run = run.env(k, &v);
    }
    run.run().code(2).stderr_has(
        "`if: sender = me` uses the variable `sender`, which shipcrate does not evaluate",
    );
}

/// An encrypted token with no token in the environment: exit 2, naming what to set.
#[cargo_test]
fn an_encrypted_token_needs_the_environments() {
    let repo = with_travis(
        "deploy:\n  provider: cargo\n  token:\n    secure: \"nlMiqpZRZdJ7Q66jpsIaHst/qNQ=\"\n",
    );
    let mut run = repo.shipcrate();
    for (k, v) in build_env("branch master") {
        run = run.env(k, &v);
    }
    run.env("CARGO_REGISTRY_TOKEN", "")
        .env_remove("CARGO_TOKEN")
        .run()
        .code(2)
        .stderr_has("encrypted (`secure:`) token")
        .stderr_has("set `CARGO_REGISTRY_TOKEN`")
        .stderr_has("takes `CARGO_TOKEN` as well");
}

/// The end-to-end case: a `.travis.yml` as Rust projects wrote it, encrypted token and all,
/// unmodified, drives a real publish into the loopback registry on a Travis tag build. The
/// `before_deploy` list runs in one bash shell (its `cd` and `export` carry over).
#[cargo_test]
fn an_unmodified_travis_yml_with_a_secure_token_publishes() {
    let registry = registry();
    let log = paths::root().join("hooks.log");
    let yaml = format!(
        "language: rust\nrust:\n  - stable\n  - nightly\nmatrix:\n  allow_failures:\n    - rust: nightly\n\
         script:\n  - cargo test\nbefore_deploy:\n  - mkdir -p notes\n  - cd notes\n  \
         - export STAMP=\"release $TRAVIS_TAG\"\n  - echo \"$STAMP in $(basename $PWD)\" >> {log}\n\
         after_deploy: echo after >> {log}\ndeploy:\n  provider: cargo\n  skip_cleanup: true\n  \
         token:\n    secure: \"nlMiqpZRZdJ7Q66jpsIaHst/qNQS5sGQyIZrpjWUWw/mKe0Hdgxdu0FzLA46rmJK2hwE5hIw2oGtlMyy6zaAitRu3GI60fd0ABN/HOwntcyL+IrcftQe0ZqaEMW9dWoQo7I2UWNujVFYPDTrckRogN8AXrEwK0bnOPS1fuxmJ4U=\"\n  \
         on:\n    tags: true\n    rust: stable\n",
        log = log.display()
    );
    let repo = Repo::with_crate("fromtravis", "2.0.0")
        .file(".travis.yml", &yaml)
        .commit("travis")
        .tag("v2.0.0");
    let mut run = repo.shipcrate().arg("--travis");
    for (k, v) in build_env("tag v2.0.0") {
        run = run.env(k, &v);
    }
    // The registry is the one thing .travis.yml can't name (dpl's cargo provider knew only
    // crates.io), so its token is that registry's own variable: a crates.io token never goes
    // to another host, and no test publishes to crates.io.
    let out = run
        .env("TRAVIS_RUST_VERSION", "stable")
        .env("CARGO_REGISTRY_TOKEN", "")
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", TOKEN)
        .run()
        .success()
        .lacks(TOKEN)
        .stderr_has("encrypted (`secure:`) token")
        .stderr_has("the before_deploy hooks ended in");
    assert_eq!(
        out.stderr.matches("hooks ended in").count(),
        1,
        "{}",
        out.both()
    );
    consume(&registry, "fromtravis", "2.0.0");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "release v2.0.0 in notes\nafter\n"
    );
}

/// Travis asserted each `before_deploy` command: the first that fails stops the rest, is
/// named, and nothing is published (travis-build spec/build/addons/deploy_spec.rb:39-40).
#[cargo_test]
fn a_failing_before_deploy_command_stops_the_rest_and_is_named() {
    let registry = registry();
    let log = paths::root().join("hooks.log");
    let yaml = format!(
        "before_deploy:\n  - export N=1\n  - test \"$N\" = 2\n  - echo never >> {log}\n\
         deploy:\n  provider: cargo\n",
        log = log.display()
    );
    let repo = with_travis(&yaml);
    let mut run = repo.shipcrate();
    for (k, v) in build_env("branch master") {
        run = run.env(k, &v);
    }
    run.registry_target()
        .run()
        .code(1)
        .stderr_has("before_deploy hook `test \"$N\" = 2` failed with exit status 1");
    assert!(!log.exists(), "a command after the failing one ran");
    assert!(index_entries("widget").is_empty());
    drop(registry);
}

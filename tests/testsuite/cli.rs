//! The command line: `--help` of every command, held as snapshots so a change to it is
//! reviewed (regenerate with `SNAPSHOTS=overwrite cargo test --locked -- cli::`), and the
//! arguments only `copy` and `migrate` take.

use std::process::Command;

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use cargo_test_support::snapbox::assert_data_eq;
use cargo_test_support::str;

use crate::support::*;

/// What `shipcrate <args>` prints on stdout, at clap's default width (no terminal, no
/// `COLUMNS`); it must succeed and print nothing on stderr.
#[track_caller]
fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_shipcrate"))
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "{args:?}: {stderr}"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn shipcrate_help() {
    assert_data_eq!(
        help(&["--help"]),
        str![[r#"
Publish Rust crates from CI, from a pristine copy of the built commit.

Without a command, shipcrate publishes: it decides whether this build may publish (the `on` rules;
pull-request builds never do), copies the built commit into a temp dir, verifies every crate, runs
the hooks and uploads what the registry lacks.

Usage: shipcrate [OPTIONS]
       shipcrate <COMMAND>

Commands:
  publish  Publish when the rules allow (what shipcrate does without a command)
  explain  Show each setting's value and source, the build and the decision; change nothing
  copy     Make the pristine copy of a commit in DIR and stop (no publishing)
  migrate  Print a .travis.yml's cargo deploy as .shipcrate.yml, or as a GitHub workflow or GitLab
           job
  help     Print this message or the help of the given command

Options:
  -h, --help
          Print help (see a summary with '-h')

  -V, --version
          Print version

Configuration:
      --config <PATH>
          Config file (default: .shipcrate.yml, .shipcrate.yaml or shipcrate.yml at the repository
          root)

      --travis[=<BOOL>]
          Read the `provider: cargo` deploy block of .travis.yml instead of a shipcrate config file

Selection:
      --path <DIR>
          Crate directory inside the repository (default: its root)

  -p, --packages <CRATE>
          Workspace members to publish (default: every member that may)
          
          [alias: --package]

      --exclude <CRATE>
          Workspace members not to publish

      --manifest-path <PATH>
          A crate's or workspace's Cargo.toml, as cargo takes it: sets `path` to its directory

Conditions:
      --on-tags[=<BOOL>]
          True: tag builds only (lifts the branch rule); false: no tag builds

      --on-branch <BRANCH>
          Branches that publish (default: the default branch)

      --on-all-branches[=<BOOL>]
          Publish from any branch

      --on-repo <OWNER/NAME>
          Publish only from this repository slug (`owner/name`)

      --on-condition <COMMAND>
          Shell commands that must all exit 0

      --check-tag[=<BOOL>]
          On a tag build, a version tag must match a crate's version (default: true)

Publishing:
      --registry <NAME>
          Name of a registry cargo knows (default: crates.io)

      --index <URL>
          Index URL of a registry, instead of `registry`

      --dry-run[=<BOOL>]
          Package and verify, upload nothing

      --allow-dirty[=<BOOL>]
          Publish the working tree as it is, not the commit

      --no-verify[=<BOOL>]
          Skip cargo's verify build

      --locked[=<BOOL>]
          Pass `--locked` to cargo

      --features <FEATURE>
          Features to enable for the verify build

      --all-features[=<BOOL>]
          Enable all features for the verify build

      --checksum-mismatch <MODE>
          A published version whose content differs from the commit: `warn` (default) or `fail`; the
          crate a version tag names must never differ
          
          [possible values: fail, warn]

      --before-deploy <COMMAND>
          Commands run before publishing

      --after-deploy <COMMAND>
          Commands run after publishing

Retries:
      --max-retries <N>
          Retries of an upload the registry pushed back on, 429 or 5xx (default: 5)

      --max-wait <DURATION>
          Longest single wait before a retry (default: 15m)

      --index-timeout <DURATION>
          How long an upload may take to show in the index, e.g. `300`, `5m` (default: 5m)

Trusted publishing:
      --trusted-publishing <MODE>
          `auto` (default): use an OIDC token from the CI when no token is set; `always`; `never`
          
          [possible values: auto, always, never]

      --trusted-publishing-url <URL>
          API URL of a registry other than crates.io that does trusted publishing

      --oidc-audience <AUDIENCE>
          Audience of the CI's ID token (default: the registry API's URL without its scheme)

      --oidc-token-env <VAR>
          GitLab: the `id_tokens:` variable(s) to read; each one after the first is a spare JWT for
          one renewal (default: CRATES_IO_ID_TOKEN)

      --trusted-publishing-ttl <DURATION>
          How long a minted token lives, at most 30m (crates.io's); a fresh one is minted before it
          runs out (default: 30m)

Output:
      --report <PATH>
          Write a JSON report to this path

      --dotenv <PATH>
          Write the outcome as a dotenv file (GitLab `artifacts: reports: dotenv`)

Examples:
  shipcrate explain
      what a run would do here, and why
  shipcrate --dry-run --on-all-branches
      package and verify every crate, upload nothing
  CARGO_REGISTRY_TOKEN=... shipcrate --on-tags
      publish when this is a tag build

Every option can also come from .shipcrate.yml, SHIPCRATE_<KEY> (nested keys joined by __) or
GitHub's INPUT_<KEY>. The token is never an option: give it through the environment
(CARGO_REGISTRY_TOKEN, or CARGO_REGISTRIES_<NAME>_TOKEN for a named registry).
DURATION is seconds or a number with s, m or h (90, 5m, 1h). A bool option alone means true;
--dry-run=false sets it false.

Exit codes: 0 published, or skipped by a rule; 1 a failure; 2 bad configuration or usage;
128+N stopped by signal N.

"#]]
    );
}

#[test]
fn shipcrate_short_help() {
    assert_data_eq!(
        help(&["-h"]),
        str![[r#"
Publish Rust crates from CI, from a pristine copy of the built commit

Usage: shipcrate [OPTIONS]
       shipcrate <COMMAND>

Commands:
  publish  Publish when the rules allow (what shipcrate does without a command)
  explain  Show each setting's value and source, the build and the decision; change nothing
  copy     Make the pristine copy of a commit in DIR and stop (no publishing)
  migrate  Print a .travis.yml's cargo deploy as .shipcrate.yml, or as a GitHub workflow or GitLab
           job
  help     Print this message or the help of the given command

Options:
  -h, --help     Print help (see more with '--help')
  -V, --version  Print version

Configuration:
      --config <PATH>    Config file (default: .shipcrate.yml, .shipcrate.yaml or shipcrate.yml at
                         the repository root)
      --travis[=<BOOL>]  Read the `provider: cargo` deploy block of .travis.yml instead of a
                         shipcrate config file

Selection:
      --path <DIR>            Crate directory inside the repository (default: its root)
  -p, --packages <CRATE>      Workspace members to publish (default: every member that may) [alias:
                              --package]
      --exclude <CRATE>       Workspace members not to publish
      --manifest-path <PATH>  A crate's or workspace's Cargo.toml, as cargo takes it: sets `path` to
                              its directory

Conditions:
      --on-tags[=<BOOL>]          True: tag builds only (lifts the branch rule); false: no tag
                                  builds
      --on-branch <BRANCH>        Branches that publish (default: the default branch)
      --on-all-branches[=<BOOL>]  Publish from any branch
      --on-repo <OWNER/NAME>      Publish only from this repository slug (`owner/name`)
      --on-condition <COMMAND>    Shell commands that must all exit 0
      --check-tag[=<BOOL>]        On a tag build, a version tag must match a crate's version
                                  (default: true)

Publishing:
      --registry <NAME>           Name of a registry cargo knows (default: crates.io)
      --index <URL>               Index URL of a registry, instead of `registry`
      --dry-run[=<BOOL>]          Package and verify, upload nothing
      --allow-dirty[=<BOOL>]      Publish the working tree as it is, not the commit
      --no-verify[=<BOOL>]        Skip cargo's verify build
      --locked[=<BOOL>]           Pass `--locked` to cargo
      --features <FEATURE>        Features to enable for the verify build
      --all-features[=<BOOL>]     Enable all features for the verify build
      --checksum-mismatch <MODE>  A published version whose content differs from the commit: `warn`
                                  (default) or `fail`; the crate a version tag names must never
                                  differ [possible values: fail, warn]
      --before-deploy <COMMAND>   Commands run before publishing
      --after-deploy <COMMAND>    Commands run after publishing

Retries:
      --max-retries <N>           Retries of an upload the registry pushed back on, 429 or 5xx
                                  (default: 5)
      --max-wait <DURATION>       Longest single wait before a retry (default: 15m)
      --index-timeout <DURATION>  How long an upload may take to show in the index, e.g. `300`, `5m`
                                  (default: 5m)

Trusted publishing:
      --trusted-publishing <MODE>
          `auto` (default): use an OIDC token from the CI when no token is set; `always`; `never`
          [possible values: auto, always, never]
      --trusted-publishing-url <URL>
          API URL of a registry other than crates.io that does trusted publishing
      --oidc-audience <AUDIENCE>
          Audience of the CI's ID token (default: the registry API's URL without its scheme)
      --oidc-token-env <VAR>
          GitLab: the `id_tokens:` variable(s) to read; each one after the first is a spare JWT for
          one renewal (default: CRATES_IO_ID_TOKEN)
      --trusted-publishing-ttl <DURATION>
          How long a minted token lives, at most 30m (crates.io's); a fresh one is minted before it
          runs out (default: 30m)

Output:
      --report <PATH>  Write a JSON report to this path
      --dotenv <PATH>  Write the outcome as a dotenv file (GitLab `artifacts: reports: dotenv`)

Examples:
  shipcrate explain
      what a run would do here, and why
  shipcrate --dry-run --on-all-branches
      package and verify every crate, upload nothing
  CARGO_REGISTRY_TOKEN=... shipcrate --on-tags
      publish when this is a tag build

"#]]
    );
}

#[test]
fn publish_help() {
    assert_data_eq!(
        help(&["publish", "--help"]),
        str![[r#"
Publish when the rules allow (what shipcrate does without a command)

Usage: shipcrate publish [OPTIONS]

Options:
  -h, --help
          Print help (see a summary with '-h')

Configuration:
      --config <PATH>
          Config file (default: .shipcrate.yml, .shipcrate.yaml or shipcrate.yml at the repository
          root)

      --travis[=<BOOL>]
          Read the `provider: cargo` deploy block of .travis.yml instead of a shipcrate config file

Selection:
      --path <DIR>
          Crate directory inside the repository (default: its root)

  -p, --packages <CRATE>
          Workspace members to publish (default: every member that may)
          
          [alias: --package]

      --exclude <CRATE>
          Workspace members not to publish

      --manifest-path <PATH>
          A crate's or workspace's Cargo.toml, as cargo takes it: sets `path` to its directory

Conditions:
      --on-tags[=<BOOL>]
          True: tag builds only (lifts the branch rule); false: no tag builds

      --on-branch <BRANCH>
          Branches that publish (default: the default branch)

      --on-all-branches[=<BOOL>]
          Publish from any branch

      --on-repo <OWNER/NAME>
          Publish only from this repository slug (`owner/name`)

      --on-condition <COMMAND>
          Shell commands that must all exit 0

      --check-tag[=<BOOL>]
          On a tag build, a version tag must match a crate's version (default: true)

Publishing:
      --registry <NAME>
          Name of a registry cargo knows (default: crates.io)

      --index <URL>
          Index URL of a registry, instead of `registry`

      --dry-run[=<BOOL>]
          Package and verify, upload nothing

      --allow-dirty[=<BOOL>]
          Publish the working tree as it is, not the commit

      --no-verify[=<BOOL>]
          Skip cargo's verify build

      --locked[=<BOOL>]
          Pass `--locked` to cargo

      --features <FEATURE>
          Features to enable for the verify build

      --all-features[=<BOOL>]
          Enable all features for the verify build

      --checksum-mismatch <MODE>
          A published version whose content differs from the commit: `warn` (default) or `fail`; the
          crate a version tag names must never differ
          
          [possible values: fail, warn]

      --before-deploy <COMMAND>
          Commands run before publishing

      --after-deploy <COMMAND>
          Commands run after publishing

Retries:
      --max-retries <N>
          Retries of an upload the registry pushed back on, 429 or 5xx (default: 5)

      --max-wait <DURATION>
          Longest single wait before a retry (default: 15m)

      --index-timeout <DURATION>
          How long an upload may take to show in the index, e.g. `300`, `5m` (default: 5m)

Trusted publishing:
      --trusted-publishing <MODE>
          `auto` (default): use an OIDC token from the CI when no token is set; `always`; `never`
          
          [possible values: auto, always, never]

      --trusted-publishing-url <URL>
          API URL of a registry other than crates.io that does trusted publishing

      --oidc-audience <AUDIENCE>
          Audience of the CI's ID token (default: the registry API's URL without its scheme)

      --oidc-token-env <VAR>
          GitLab: the `id_tokens:` variable(s) to read; each one after the first is a spare JWT for
          one renewal (default: CRATES_IO_ID_TOKEN)

      --trusted-publishing-ttl <DURATION>
          How long a minted token lives, at most 30m (crates.io's); a fresh one is minted before it
          runs out (default: 30m)

Output:
      --report <PATH>
          Write a JSON report to this path

      --dotenv <PATH>
          Write the outcome as a dotenv file (GitLab `artifacts: reports: dotenv`)

Examples:
  shipcrate publish --on-tags
      publish tag builds only
  shipcrate publish --registry my-registry --packages foo --packages bar
      two crates of a workspace, to a registry cargo knows

Every option can also come from .shipcrate.yml, SHIPCRATE_<KEY> (nested keys joined by __) or
GitHub's INPUT_<KEY>. The token is never an option: give it through the environment
(CARGO_REGISTRY_TOKEN, or CARGO_REGISTRIES_<NAME>_TOKEN for a named registry).
DURATION is seconds or a number with s, m or h (90, 5m, 1h). A bool option alone means true;
--dry-run=false sets it false.

Exit codes: 0 published, or skipped by a rule; 1 a failure; 2 bad configuration or usage;
128+N stopped by signal N.

"#]]
    );
}

#[test]
fn explain_help() {
    assert_data_eq!(
        help(&["explain", "--help"]),
        str![[r#"
Show the value in force of every setting and where it came from, what shipcrate sees of the build
(CI, commit, branch, tags), the crates it would publish and the decision with its reason. Runs the
`on.condition` commands, since they are part of the decision, and changes nothing. Takes every
option a run takes.

Usage: shipcrate explain [OPTIONS]

Options:
  -h, --help
          Print help (see a summary with '-h')

Configuration:
      --config <PATH>
          Config file (default: .shipcrate.yml, .shipcrate.yaml or shipcrate.yml at the repository
          root)

      --travis[=<BOOL>]
          Read the `provider: cargo` deploy block of .travis.yml instead of a shipcrate config file

Selection:
      --path <DIR>
          Crate directory inside the repository (default: its root)

  -p, --packages <CRATE>
          Workspace members to publish (default: every member that may)
          
          [alias: --package]

      --exclude <CRATE>
          Workspace members not to publish

      --manifest-path <PATH>
          A crate's or workspace's Cargo.toml, as cargo takes it: sets `path` to its directory

Conditions:
      --on-tags[=<BOOL>]
          True: tag builds only (lifts the branch rule); false: no tag builds

      --on-branch <BRANCH>
          Branches that publish (default: the default branch)

      --on-all-branches[=<BOOL>]
          Publish from any branch

      --on-repo <OWNER/NAME>
          Publish only from this repository slug (`owner/name`)

      --on-condition <COMMAND>
          Shell commands that must all exit 0

      --check-tag[=<BOOL>]
          On a tag build, a version tag must match a crate's version (default: true)

Publishing:
      --registry <NAME>
          Name of a registry cargo knows (default: crates.io)

      --index <URL>
          Index URL of a registry, instead of `registry`

      --dry-run[=<BOOL>]
          Package and verify, upload nothing

      --allow-dirty[=<BOOL>]
          Publish the working tree as it is, not the commit

      --no-verify[=<BOOL>]
          Skip cargo's verify build

      --locked[=<BOOL>]
          Pass `--locked` to cargo

      --features <FEATURE>
          Features to enable for the verify build

      --all-features[=<BOOL>]
          Enable all features for the verify build

      --checksum-mismatch <MODE>
          A published version whose content differs from the commit: `warn` (default) or `fail`; the
          crate a version tag names must never differ
          
          [possible values: fail, warn]

      --before-deploy <COMMAND>
          Commands run before publishing

      --after-deploy <COMMAND>
          Commands run after publishing

Retries:
      --max-retries <N>
          Retries of an upload the registry pushed back on, 429 or 5xx (default: 5)

      --max-wait <DURATION>
          Longest single wait before a retry (default: 15m)

      --index-timeout <DURATION>
          How long an upload may take to show in the index, e.g. `300`, `5m` (default: 5m)

Trusted publishing:
      --trusted-publishing <MODE>
          `auto` (default): use an OIDC token from the CI when no token is set; `always`; `never`
          
          [possible values: auto, always, never]

      --trusted-publishing-url <URL>
          API URL of a registry other than crates.io that does trusted publishing

      --oidc-audience <AUDIENCE>
          Audience of the CI's ID token (default: the registry API's URL without its scheme)

      --oidc-token-env <VAR>
          GitLab: the `id_tokens:` variable(s) to read; each one after the first is a spare JWT for
          one renewal (default: CRATES_IO_ID_TOKEN)

      --trusted-publishing-ttl <DURATION>
          How long a minted token lives, at most 30m (crates.io's); a fresh one is minted before it
          runs out (default: 30m)

Output:
      --report <PATH>
          Write a JSON report to this path

      --dotenv <PATH>
          Write the outcome as a dotenv file (GitLab `artifacts: reports: dotenv`)

Examples:
  shipcrate explain
      this checkout, as a run here would see it
  SHIPCRATE_ON__TAGS=true shipcrate explain --config ci/shipcrate.yml
      with another config file and an env override

Every option can also come from .shipcrate.yml, SHIPCRATE_<KEY> (nested keys joined by __) or
GitHub's INPUT_<KEY>. The token is never an option: give it through the environment
(CARGO_REGISTRY_TOKEN, or CARGO_REGISTRIES_<NAME>_TOKEN for a named registry).
DURATION is seconds or a number with s, m or h (90, 5m, 1h). A bool option alone means true;
--dry-run=false sets it false.

Exit codes: 0 published, or skipped by a rule; 1 a failure; 2 bad configuration or usage;
128+N stopped by signal N.

"#]]
    );
}

#[test]
fn copy_help() {
    assert_data_eq!(
        help(&["copy", "--help"]),
        str![[r#"
Make the pristine copy a run would publish from, in DIR, and stop: the commit's tree as a git
repository at that commit, submodules included, for a workspace only what cargo reads. Nothing is
published, no hook runs.

Usage: shipcrate copy <DIR> [COMMIT]

Arguments:
  <DIR>
          A new or empty directory to copy into

  [COMMIT]
          The commit, tag or branch to copy (default: the one being built)

Options:
  -h, --help
          Print help (see a summary with '-h')

Examples:
  shipcrate copy /tmp/pristine
      the built commit
  shipcrate copy /tmp/v1 v1.0.0
      the commit a tag points at

"#]]
    );
}

#[test]
fn migrate_help() {
    assert_data_eq!(
        help(&["migrate", "--help"]),
        str![[r#"
Print a .travis.yml's cargo deploy as .shipcrate.yml, or as a GitHub workflow or GitLab job

Usage: shipcrate migrate [OPTIONS] [TRAVIS_FILE]

Arguments:
  [TRAVIS_FILE]  The Travis file to read (default: .travis.yml at the repository root)

Options:
      --to <FORMAT>  What to print: shipcrate config, a GitHub Actions workflow, or a GitLab CI job
                     [default: shipcrate] [possible values: shipcrate, github, gitlab]
  -h, --help         Print help

Examples:
  shipcrate migrate > .shipcrate.yml
      keep the settings, drop Travis
  shipcrate migrate --to github > .github/workflows/publish.yml
      a workflow using the action
  shipcrate migrate --to gitlab old/.travis.yml
      a GitLab job, from another file

"#]]
    );
}

#[test]
fn help_help() {
    assert_data_eq!(
        help(&["help", "--help"]),
        str![[r#"
Print this message or the help of the given command

Usage: shipcrate help [COMMAND]

Arguments:
  [COMMAND]  The command to explain [possible values: publish, explain, copy, migrate, help]

Options:
  -h, --help  Print help

Examples:
  shipcrate help explain
      the same as `shipcrate explain --help`

"#]]
    );
}

#[test]
fn help_command_prints_what_help_flags_print() {
    assert_eq!(help(&["help"]), help(&["--help"]));
    for command in ["publish", "explain", "copy", "migrate", "help"] {
        assert_eq!(
            help(&["help", command]),
            help(&[command, "--help"]),
            "`shipcrate help {command}`"
        );
        assert!(help(&[command, "-h"]).contains(&format!("Usage: shipcrate {command}")));
    }
}

#[cargo_test]
fn copy_takes_the_commit_to_copy() {
    let repo = Repo::with_crate("copied", "0.1.0").tag("v0.1.0");
    let tagged = repo.head();
    let repo = repo
        .file("src/lib.rs", "pub fn answer() -> u32 { 43 }\n")
        .commit("later");
    let dest = paths::root().join("copy");
    repo.shipcrate()
        .arg("copy")
        .arg(dest.to_str().unwrap())
        .arg("v0.1.0")
        .run()
        .success()
        .stderr_has("Copied commit");
    assert_eq!(git(&dest, &["rev-parse", "HEAD"]), tagged);
    assert_eq!(
        std::fs::read_to_string(dest.join("src/lib.rs")).unwrap(),
        "pub fn answer() -> u32 { 42 }\n"
    );
    repo.shipcrate()
        .arg("copy")
        .arg(paths::root().join("other").to_str().unwrap())
        .arg("no-such-rev")
        .run()
        .code(1)
        .stderr_has("no-such-rev is not in the checkout");
}

#[cargo_test]
fn migrate_reads_the_travis_file_it_is_given() {
    let repo = Repo::with_crate("migrated", "0.1.0")
        .file(
            ".travis.yml",
            "deploy:\n  provider: cargo\n  on:\n    branch: release\n",
        )
        .file(
            "ci/old.travis.yml",
            "deploy:\n  provider: cargo\n  on:\n    tags: true\n",
        )
        .commit("travis files");
    repo.shipcrate()
        .arg("migrate")
        .run()
        .success()
        .stdout_has("release");
    repo.shipcrate()
        .arg("migrate")
        .arg("ci/old.travis.yml")
        .run()
        .success()
        .stdout_has("tags: true")
        .lacks("release");
}

#[cargo_test]
fn explain_shows_the_value_in_force_of_every_key() {
    let repo = Repo::with_crate("explained", "0.1.0");
    let out = repo
        .shipcrate()
        .arg("explain")
        .arg("--index-timeout")
        .arg("2m")
        .env("CARGO_REGISTRY_TOKEN", TOKEN)
        .run()
        .success();
    let row = |key: &str| -> Vec<String> {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no row for `{key}`\n{}", out.both()))
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for (key, _, _) in shipcrate::config::KEYS {
        let cells = row(key);
        assert!(
            !cells[1].contains("unset"),
            "`{key}` shows no value: {cells:?}"
        );
        if *key != "index_timeout" {
            assert_eq!(cells[2], "(default)", "{cells:?}");
        }
    }
    for (key, value) in [
        ("check_tag", "true"),
        ("max_retries", "5"),
        ("max_wait", "15m"),
        ("trusted_publishing_ttl", "30m"),
        ("trusted_publishing", "auto"),
        ("oidc_token_env", "CRATES_IO_ID_TOKEN"),
        ("registry", "crates.io"),
        ("path", "."),
    ] {
        assert_eq!(row(key)[1], value, "`{key}`");
    }
    assert_eq!(
        row("index_timeout")[1..],
        ["2m", "(flag `--index-timeout`)"]
    );
}

//! `shipcrate migrate`: every case of the Travis table, migrated to each target, decides there
//! as Travis did. The oracle is the Travis drop-in (`--travis`), which the table checks against
//! Travis's own specs; the migrated file runs through `explain` in the target CI's environment,
//! for the row's build and for a build Travis decided the other way. GitHub's output must pass
//! GitHub's workflow schema and GitLab's output GitLab's CI schema.

use std::path::{Path, PathBuf};

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use figment::Provider;
use figment::providers::{Format, Yaml};
use figment::value::{Dict, Value};

use crate::support::*;
use crate::travis::{ROWS, build_env};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum To {
    Shipcrate,
    Github,
    Gitlab,
}

impl To {
    fn arg(self) -> &'static str {
        match self {
            To::Shipcrate => "shipcrate",
            To::Github => "github",
            To::Gitlab => "gitlab",
        }
    }
}

fn yaml_of(text: &str) -> Dict {
    Yaml::string(text)
        .data()
        .expect("valid YAML")
        .into_values()
        .next()
        .unwrap()
}

fn decision_of(out: &Outcome) -> &str {
    out.stdout
        .lines()
        .find(|l| l.starts_with("Decision:"))
        .unwrap_or("")
}

/// Whether `shipcrate explain` with `env` publishes (`None`: it failed).
fn publishes(repo: &Repo, env: &[(String, String)]) -> (bool, String) {
    let mut run = repo.shipcrate().arg("explain");
    for (k, v) in env {
        run = run.env(k, v);
    }
    let out = run.run();
    let decision = decision_of(&out).to_owned();
    // A build Travis publishes whose entry names a token variable this one lacks (another
    // branch's `$PROD_TOKEN`) stops with exit 2, as the run would: still Travis's decision.
    let stops = decision.starts_with("Decision: publish, but the run would stop");
    assert!(
        out.code == Some(0) || (stops && out.code == Some(2)),
        "{}",
        out.both()
    );
    (decision.starts_with("Decision: publish"), out.both())
}

/// The Travis build as Travis's drop-in sees it.
fn travis_env(build: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    build_env(build)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .collect()
}

/// The same build on `to`'s CI, with the migrated settings as that CI hands them over; `None`
/// when the CI would not start the job at all (a skip). `extra` comes last (it may override).
fn target_env(
    to: To,
    migrated: &str,
    build: &str,
    extra: &[(&str, &str)],
) -> Option<Vec<(String, String)>> {
    let (kind, name) = build.split_once(' ').unwrap();
    // Only pushes start the job: a pull request never runs it.
    if kind == "pr" && to != To::Shipcrate {
        return None;
    }
    let mut env: Vec<(String, String)> = match to {
        To::Shipcrate => build_env(build)
            .into_iter()
            .filter(|(k, _)| *k != "SHIPCRATE_TRAVIS")
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        To::Github => github_env(migrated, kind, name)?,
        To::Gitlab => gitlab_env(migrated, kind, name)?,
    };
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Some(env)
}

/// A GitHub filter glob as a regular expression: `**` any text, `*` any but `/`.
fn glob(pattern: &str) -> regex::Regex {
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                re += ".*";
            }
            '*' => re += "[^/]*",
            '?' => re.push('.'),
            c => re += &regex::escape(&c.to_string()),
        }
    }
    regex::Regex::new(&(re + "$")).unwrap()
}

/// The GitHub push of `kind` `name` through the migrated workflow: `None` when its `on: push`
/// filters start no job (a filter on one kind of ref alone starts none of the other).
fn github_env(migrated: &str, kind: &str, name: &str) -> Option<Vec<(String, String)>> {
    let workflow = yaml_of(migrated);
    let push = workflow["on"].as_dict().unwrap()["push"].clone();
    let filters = push.as_dict().cloned().unwrap_or_default();
    let list = |key: &str| {
        filters.get(key).map(|v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
    };
    let (mine, other) = if kind == "tag" {
        (list("tags"), list("branches"))
    } else {
        (list("branches"), list("tags"))
    };
    let starts = match (mine, other) {
        (Some(patterns), _) => patterns.iter().any(|p| glob(p).is_match(name)),
        (None, Some(_)) => false,
        (None, None) => true,
    };
    if !starts {
        return None;
    }
    let job = workflow["jobs"].as_dict().unwrap()["publish"]
        .as_dict()
        .unwrap()
        .clone();
    let mut env = Vec::new();
    // The job's `env:`, with the expressions `migrate` writes evaluated for this push.
    for (var, value) in job
        .get("env")
        .and_then(Value::as_dict)
        .cloned()
        .unwrap_or_default()
    {
        let value = value.into_string().unwrap();
        let value = match value.as_str() {
            "${{ github.ref_type == 'tag' && github.ref_name || '' }}" => {
                if kind == "tag" {
                    name.to_owned()
                } else {
                    String::new()
                }
            }
            "${{ github.ref_name }}" => name.to_owned(),
            "${{ github.repository }}" => "acme/widget".to_owned(),
            "${{ github.sha }}" => "0123456789abcdef0123456789abcdef01234567".to_owned(),
            other => {
                assert!(
                    !other.contains("${{"),
                    "an expression the test can't read: {other}"
                );
                other.to_owned()
            }
        };
        env.push((var, value));
    }
    let step = job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s.as_dict().unwrap()["uses"]
                .as_str()
                .unwrap()
                .starts_with("shipcrate/")
        })
        .unwrap()
        .as_dict()
        .unwrap()
        .clone();
    for (input, value) in step["with"].as_dict().unwrap() {
        let value = match value {
            Value::String(_, s) if s.contains("secrets.CARGO_REGISTRY_TOKEN") => {
                "t0ken-migrated".to_owned()
            }
            other => other.clone().into_string().unwrap(),
        };
        env.push((format!("INPUT_{}", input.to_ascii_uppercase()), value));
    }
    let (reference, ref_type) = if kind == "tag" {
        (format!("refs/tags/{name}"), "tag")
    } else {
        (format!("refs/heads/{name}"), "branch")
    };
    for (k, v) in [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REF", reference.as_str()),
        ("GITHUB_REF_NAME", name),
        ("GITHUB_REF_TYPE", ref_type),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_REPOSITORY", "acme/widget"),
    ] {
        env.push((k.to_owned(), v.to_owned()));
    }
    Some(env)
}

/// One term of a GitLab `rules: if:` as `migrate` writes them, against the pipeline's `ci`.
fn gitlab_term(term: &str, ci: &[(&str, String)]) -> bool {
    let get = |var: &str| {
        ci.iter()
            .find(|(k, _)| *k == var.trim_start_matches('$'))
            .map(|(_, v)| v.clone())
    };
    let term = term.trim();
    if let Some((var, re)) = term.split_once(" =~ ") {
        let re = re.trim_matches('/').replace("\\/", "/");
        return get(var).is_some_and(|v| regex::Regex::new(&re).unwrap().is_match(&v));
    }
    if let Some((var, value)) = term.split_once(" != ") {
        return get(var).as_deref() != Some(value.trim_matches('"'));
    }
    if let Some(var) = term.strip_suffix(" == null") {
        return get(var).is_none();
    }
    assert!(!term.contains(' '), "a rule the test can't read: {term}");
    get(term).is_some_and(|v| !v.is_empty())
}

/// The GitLab pipeline of `kind` `name` through the migrated job: `None` when its `rules:`
/// leave the job out (a job without rules runs in branch and tag pipelines).
fn gitlab_env(migrated: &str, kind: &str, name: &str) -> Option<Vec<(String, String)>> {
    let job = yaml_of(migrated)["publish"].as_dict().unwrap().clone();
    let mut ci: Vec<(&str, String)> = vec![
        ("GITLAB_CI", "true".into()),
        ("CI_COMMIT_REF_NAME", name.into()),
        ("CI_PIPELINE_SOURCE", "push".into()),
        ("CI_PROJECT_PATH", "acme/widget".into()),
        ("CI_DEFAULT_BRANCH", "master".into()),
        ("CARGO_REGISTRY_TOKEN", "t0ken-migrated".into()),
    ];
    ci.push(if kind == "tag" {
        ("CI_COMMIT_TAG", name.into())
    } else {
        ("CI_COMMIT_BRANCH", name.into())
    });
    if let Some(rules) = job.get("rules").and_then(Value::as_array) {
        let runs = rules.iter().any(|rule| {
            let condition = rule.as_dict().unwrap()["if"].as_str().unwrap().to_owned();
            condition.split(" && ").all(|t| gitlab_term(t, &ci))
        });
        if !runs {
            return None;
        }
    }
    let mut env: Vec<(String, String)> = ci
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    // GitLab expands `$VAR` in a job's variables; an unset one is empty.
    for (var, value) in job["variables"].as_dict().unwrap() {
        let value = value.clone().into_string().unwrap();
        let expanded = match value.strip_prefix('$') {
            Some(other) if other.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => ci
                .iter()
                .find(|(k, _)| *k == other)
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            _ => value,
        };
        env.push((var.clone(), expanded));
    }
    Some(env)
}

/// `check-jsonschema` on `PATH`, or in `.ci/run`'s linter venv; a test that needs it is
/// `#[ignore]`d by a plain `cargo test` and fails naming the install when it is missing.
fn check_jsonschema() -> PathBuf {
    let venv = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/shipcrate-lint/bin"));
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain(venv)
        .map(|dir| dir.join("check-jsonschema"))
        .find(|p| p.is_file())
        .expect(
            "check-jsonschema is not installed: `pip install check-jsonschema` puts it on PATH \
             (or `bash .ci/run`, which installs it in ~/.cache/shipcrate-lint)",
        )
}

#[track_caller]
pub(crate) fn validate(schema: &str, files: &[PathBuf]) {
    if files.is_empty() {
        return;
    }
    let out = std::process::Command::new(check_jsonschema())
        .args(["--builtin-schema", schema])
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{files:?} fail {schema}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every row of the table that Travis decided (not an error, not a build elsewhere), migrated
/// to `to`: the migrated file decides as Travis did for the row's build and for one that
/// Travis decided the other way.
fn migrated_rows_decide_as_travis_did(to: To) {
    let _registry = crates_io_stand_in();
    let repo = Repo::with_crate("widget", "1.0.0")
        .file(".travis.yml", "")
        .commit("travis");
    let out_dir = paths::root().join("migrated");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut files = Vec::new();
    let (mut checked, mut publishing, mut skipping) = (0, 0, 0);
    for (i, ((file, lines), yaml, build, extra, want)) in ROWS.iter().enumerate() {
        // Errors have nothing to migrate; a runtime row's build is one job of a matrix,
        // checked on its own below.
        // So is a row about which job of Travis's matrix deploys.
        let runtime_row = extra.iter().any(|(k, _)| k.ends_with("_VERSION"))
            || want.contains("runtime")
            || want.contains("another job");
        if want.starts_with("error:") || build.starts_with("github") || runtime_row {
            continue;
        }
        let what = format!("{file}:{lines}");
        std::fs::write(repo.root.join(".travis.yml"), yaml).unwrap();
        let _ = std::fs::remove_file(repo.root.join(".shipcrate.yml"));
        let migrated = repo
            .shipcrate()
            .arg("migrate")
            .arg("--to")
            .arg(to.arg())
            .run();
        assert_eq!(migrated.code, Some(0), "{what}: {}", migrated.both());
        let text = migrated.stdout.clone();
        if let Some(ext) = match to {
            To::Github => Some("github.yml"),
            To::Gitlab => Some("gitlab-ci.yml"),
            To::Shipcrate => None,
        } {
            let path = out_dir.join(format!("row{i}.{ext}"));
            std::fs::write(&path, &text).unwrap();
            files.push(path);
        }

        // The row's own build, and the first of these Travis decided the other way.
        let own = want.starts_with("publish");
        let mut builds = vec![(build.to_string(), own)];
        for other in [
            "branch master",
            "tag v1.0.0",
            "branch dev",
            "branch production",
        ] {
            let (travis, _) = publishes(&repo, &travis_env(other, extra));
            if travis != own {
                builds.push((other.to_owned(), travis));
                break;
            }
        }

        if to == To::Shipcrate {
            std::fs::write(repo.root.join(".shipcrate.yml"), &text).unwrap();
        }
        for (build, travis) in builds {
            let decided = match target_env(to, &text, &build, extra) {
                None => (false, "the CI does not start the job".to_owned()),
                Some(env) => publishes(&repo, &env),
            };
            assert_eq!(
                decided.0,
                travis,
                "{what}, migrated --to {} ({build}): Travis {}\n{text}\n{}",
                to.arg(),
                if travis { "published" } else { "skipped" },
                decided.1
            );
            checked += 1;
            if travis {
                publishing += 1;
            } else {
                skipping += 1;
            }
        }
    }
    match to {
        To::Github => validate("vendor.github-workflows", &files),
        To::Gitlab => validate("vendor.gitlab-ci", &files),
        To::Shipcrate => {}
    }
    assert!(
        checked >= 60 && publishing >= 20 && skipping >= 20,
        "{checked} builds checked ({publishing} publishing, {skipping} skipping)"
    );
    eprintln!(
        "--to {}: {checked} builds ({publishing} publishing, {skipping} skipping)",
        to.arg()
    );
}

#[cargo_test]
fn migrated_to_shipcrate_decides_as_travis_did() {
    migrated_rows_decide_as_travis_did(To::Shipcrate);
}

#[cargo_test]
#[ignore = "needs check-jsonschema (GitHub's and GitLab's schemas): `pip install check-jsonschema`"]
fn migrated_to_github_decides_as_travis_did() {
    migrated_rows_decide_as_travis_did(To::Github);
}

#[cargo_test]
#[ignore = "needs check-jsonschema (GitHub's and GitLab's schemas): `pip install check-jsonschema`"]
fn migrated_to_gitlab_decides_as_travis_did() {
    migrated_rows_decide_as_travis_did(To::Gitlab);
}

/// A `.travis.yml` as `migrate` meets it: `secure:` token, YAML 1.1 booleans, Travis's
/// variables in conditions, `rust: stable` picking the matrix's stable job, an untranslatable
/// `$TRAVIS_*`.
const REAL: &str = "language: rust\nrust: [stable, nightly]\nos: [linux, osx]\n\
before_deploy:\n  - cd target\n  - export NOTES=1\nafter_deploy: ./notify.sh\n\
deploy:\n  provider: cargo\n  skip_cleanup: yes\n  token:\n    secure: \"AbC/dEf=\"\n  on:\n    \
tags: yes\n    rust: stable\n    condition: $TRAVIS_OS_NAME = linux && $TRAVIS_REPO_SLUG = acme/widget\n";

#[cargo_test]
fn migrate_carries_a_real_file_over_and_says_what_changed() {
    let _registry = crates_io_stand_in();
    let repo = Repo::with_crate("widget", "1.0.0")
        .file(".travis.yml", REAL)
        .commit("travis")
        .tag("v1.0.0");
    for (to, secret) in [
        (To::Github, "Settings > Secrets and variables > Actions"),
        (To::Gitlab, "Settings > CI/CD > Variables"),
    ] {
        let text = repo
            .shipcrate()
            .arg("migrate")
            .arg("--to")
            .arg(to.arg())
            .run()
            .success()
            .stdout_has(secret)
            .stdout_has("encrypted for Travis (`secure:`)")
            .stdout_has("`on.rust: stable` only picked the stable job")
            .stdout_has("`before_deploy`'s commands are joined into one hook")
            .lacks("AbC/dEf=")
            .lacks("$TRAVIS_")
            .stdout;
        // `tags: yes` is YAML 1.1's true: a tag build publishes, a branch build does not.
        for (build, want) in [("tag v1.0.0", true), ("branch master", false)] {
            let decided = match target_env(to, &text, build, &[]) {
                None => false,
                Some(env) => publishes(&repo, &env).0,
            };
            assert_eq!(decided, want, "--to {} {build}\n{text}", to.arg());
        }
    }
    // A `$TRAVIS_*` without a counterpart is named, and the condition said not to hold.
    let odd = REAL.replace("$TRAVIS_REPO_SLUG = acme/widget", "-n $TRAVIS_JOB_ID");
    std::fs::write(repo.root.join(".travis.yml"), odd).unwrap();
    repo.shipcrate()
        .arg("migrate")
        .arg("--to")
        .arg("gitlab")
        .run()
        .success()
        .stdout_has("reads `$TRAVIS_JOB_ID`, which GitLab CI does not set: it will not hold there");
}

/// A runtime row's build is one job of a build matrix: the migrated job publishes where the
/// matrix's stable job did, and a `rust: <version>` rule checks the image's rustc.
#[cargo_test]
fn runtime_rules_carry_over_to_the_image() {
    let _registry = crates_io_stand_in();
    let repo = Repo::with_crate("widget", "1.0.0")
        .file(".travis.yml", "")
        .commit("travis");
    let rustc = std::process::Command::new(
        Path::new(&std::env::var("CARGO").unwrap()).with_file_name("rustc"),
    )
    .arg("--version")
    .output()
    .unwrap();
    let here = String::from_utf8(rustc.stdout).unwrap();
    let version = here.split_whitespace().nth(1).unwrap().to_owned();
    for (rule, publishes_there) in [
        ("stable".to_owned(), true),
        ("nightly".to_owned(), false),
        (version.clone(), true),
        ("1.0.0".to_owned(), false),
    ] {
        let yaml = format!("deploy:\n  provider: cargo\n  on:\n    rust: \"{rule}\"\n");
        std::fs::write(repo.root.join(".travis.yml"), &yaml).unwrap();
        for to in [To::Github, To::Gitlab] {
            let text = repo
                .shipcrate()
                .arg("migrate")
                .arg("--to")
                .arg(to.arg())
                .run()
                .success()
                .stdout;
            let env = target_env(to, &text, "branch master", &[]).unwrap();
            assert_eq!(
                publishes(&repo, &env).0,
                publishes_there,
                "rust: {rule} --to {} (this toolchain: {version})\n{text}",
                to.arg()
            );
        }
        // On Travis itself, via .shipcrate.yml, the job's TRAVIS_RUST_VERSION still decides.
        let text = repo.shipcrate().arg("migrate").run().success().stdout;
        std::fs::write(repo.root.join(".shipcrate.yml"), &text).unwrap();
        for (job, want) in [(rule.as_str(), true), ("beta", false)] {
            let env = target_env(
                To::Shipcrate,
                &text,
                "branch master",
                &[("TRAVIS_RUST_VERSION", job)],
            )
            .unwrap();
            assert_eq!(
                publishes(&repo, &env).0,
                want,
                "rust: {rule} on a {job} job\n{text}"
            );
        }
        std::fs::remove_file(repo.root.join(".shipcrate.yml")).unwrap();
    }
}

/// The migrated GitHub job, as the action hands it its inputs, really publishes on a tag push,
/// and its hook carries `cd` and `export` over as Travis's shell did.
#[cargo_test]
fn a_migrated_github_job_publishes_with_travis_hooks() {
    let registry = registry();
    let log = paths::root().join("hooks.log");
    let yaml = format!(
        "before_deploy:\n  - mkdir -p notes\n  - cd notes\n  - export STAMP=\"release $GITHUB_REF_NAME\"\n  \
         - echo \"$STAMP in $(basename $PWD)\" >> {log}\ndeploy:\n  provider: cargo\n  token:\n    \
         secure: \"AbC/dEf=\"\n  on:\n    tags: yes\n",
        log = log.display()
    );
    let repo = Repo::with_crate("migrated", "3.1.0")
        .file(".travis.yml", &yaml)
        .commit("travis")
        .tag("v3.1.0");
    let text = repo
        .shipcrate()
        .arg("migrate")
        .arg("--to")
        .arg("github")
        .run()
        .success()
        .stdout;
    let env = target_env(To::Github, &text, "tag v3.1.0", &[]).expect("a tag push runs the job");
    let mut run = repo.shipcrate();
    for (k, v) in env {
        // The repository secret holds the loopback registry's token here.
        let v = if k == "INPUT_TOKEN" {
            TOKEN.to_owned()
        } else {
            v
        };
        run = run.env(&k, &v);
    }
    let out = run.env("SHIPCRATE_REGISTRY", "alternative").run().success();
    // Only GitHub's `::add-mask::` lines may carry it (that is how it gets masked).
    let shown: Vec<&str> = out
        .stdout
        .lines()
        .chain(out.stderr.lines())
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect();
    assert!(!shown.join("\n").contains(TOKEN), "{}", out.both());
    consume(&registry, "migrated", "3.1.0");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "release v3.1.0 in notes\n"
    );
}

/// Every real file (`travis_real::REAL`) migrated to `to`, then run through `explain` in the
/// target's environment. `.shipcrate.yml` runs in each job of Travis's matrix: the four builds,
/// job by job, decide as Travis did. A GitHub or GitLab job is one job: for the tag build,
/// the push to master and the pull request it publishes exactly when some job of Travis's
/// build did (the deploying job's env carried over, the trigger and conditions translated).
type Env = Vec<(String, String)>;

fn real_files_migrated_decide_as_travis_did(to: To) {
    use crate::travis_real::{REAL, travis_env};
    let _registry = crates_io_stand_in();
    let repo = Repo::with_crate("widget", "1.0.0")
        .file(".travis.yml", "")
        .commit("travis");
    let out_dir = paths::root().join("migrated-real");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut files = Vec::new();
    let (mut published, mut skipped) = (0, 0);
    for (i, real) in REAL.iter().enumerate() {
        let what = format!("{}@{}", real.repo, &real.commit[..12]);
        std::fs::write(repo.root.join(".travis.yml"), real.text()).unwrap();
        let _ = std::fs::remove_file(repo.root.join(".shipcrate.yml"));
        let migrated = repo
            .shipcrate()
            .arg("migrate")
            .arg("--to")
            .arg(to.arg())
            .run();
        assert_eq!(migrated.code, Some(0), "{what}: {}", migrated.both());
        let text = migrated.stdout.clone();
        let builds = real.builds();
        // (build, its environment on the target, did Travis publish)
        let mut cases: Vec<(String, Env, bool)> = Vec::new();
        if to == To::Shipcrate {
            std::fs::write(repo.root.join(".shipcrate.yml"), &text).unwrap();
            for ((build, job), want) in builds.iter().zip(real.want) {
                let env: Vec<(String, String)> = travis_env(real, build, job)
                    .into_iter()
                    .filter(|(k, _)| k != "SHIPCRATE_TRAVIS")
                    .collect();
                cases.push((build.clone(), env, want.starts_with("publish")));
            }
        } else {
            let path = out_dir.join(format!(
                "real{i}.{}",
                if to == To::Github {
                    "github.yml"
                } else {
                    "gitlab-ci.yml"
                }
            ));
            std::fs::write(&path, &text).unwrap();
            files.push(path);
            // Some job of the tag build published: the deploying one or the other.
            let tag = [0, 3].iter().any(|&b| real.want[b].starts_with("publish"));
            let slug = [
                ("GITHUB_REPOSITORY", real.repo),
                ("CI_PROJECT_PATH", real.repo),
                ("SHIPCRATE_CHECK_TAG", "false"),
            ];
            for (b, travis) in [
                (0, tag),
                (1, real.want[1].starts_with("publish")),
                (2, false),
            ] {
                let build = &builds[b].0;
                // `None`: the CI starts no job, a skip checked without running explain.
                let env = target_env(to, &text, build, &slug)
                    .unwrap_or_else(|| vec![("NO_JOB".into(), "1".into())]);
                cases.push((build.clone(), env, travis));
            }
        }
        for (build, env, travis) in cases {
            let decided = if env.iter().any(|(k, _)| k == "NO_JOB") {
                (false, "the CI does not start the job".to_owned())
            } else {
                publishes(&repo, &env)
            };
            assert_eq!(
                decided.0,
                travis,
                "{what}, migrated --to {} ({build}): Travis {}\n{text}\n{}",
                to.arg(),
                if travis { "published" } else { "skipped" },
                decided.1
            );
            if travis {
                published += 1;
            } else {
                skipped += 1;
            }
        }
    }
    match to {
        To::Github => validate("vendor.github-workflows", &files),
        To::Gitlab => validate("vendor.gitlab-ci", &files),
        To::Shipcrate => {}
    }
    eprintln!(
        "--to {}: {} real files, {published} builds publishing, {skipped} skipping",
        to.arg(),
        REAL.len()
    );
}

#[cargo_test]
fn real_files_migrated_to_shipcrate_decide_as_travis_did() {
    real_files_migrated_decide_as_travis_did(To::Shipcrate);
}

#[cargo_test]
#[ignore = "needs check-jsonschema (GitHub's and GitLab's schemas): `pip install check-jsonschema`"]
fn real_files_migrated_to_github_decide_as_travis_did() {
    real_files_migrated_decide_as_travis_did(To::Github);
}

#[cargo_test]
#[ignore = "needs check-jsonschema (GitHub's and GitLab's schemas): `pip install check-jsonschema`"]
fn real_files_migrated_to_gitlab_decide_as_travis_did() {
    real_files_migrated_decide_as_travis_did(To::Gitlab);
}

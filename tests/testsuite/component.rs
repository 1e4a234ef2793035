//! The GitLab CI/CD component (`templates/publish.yml`) read as GitLab reads it, and its job
//! run against the built image beside the plain job (`examples/gitlab-ci.yml`) for the same
//! pipelines: they must decide alike.
//!
//! What GitLab does, taken from its source (gitlabhq/gitlabhq, `lib/gitlab/ci/config/
//! interpolation/`, commit 6add0642): the header and the job are separate YAML documents;
//! `inputs.rb` and `inputs/base_input.rb` check the arguments against `spec:inputs` (an
//! input without `default` is required; a value must have the input's type and be one of
//! its `options`); `template.rb` walks every string, keys included, and a string that is
//! one `$[[ inputs.x ]]` block and nothing else becomes the input's typed value, while blocks
//! inside a longer string are replaced by the value's text. Rules are GitLab's expressions
//! (`lib/gitlab/ci/pipeline/expression/lexeme/`): `$VAR` (true when set and not empty),
//! `"string"`, `null`, `==`, `!=`, `&&` (binding tighter than `||`); the first rule that
//! matches decides, `when: never` leaves the job out, no match leaves it out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

use crate::image::{chown_repo, docker, gitlab_job, image};
use crate::migrate::validate;
use crate::support::*;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn load(text: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(text).expect("valid YAML")
}

/// The component's header (`spec:`) and its job, the two documents GitLab reads.
fn component() -> (Yaml, Yaml) {
    let mut docs = load(&repo_file("templates/publish.yml"));
    assert_eq!(
        docs.len(),
        2,
        "templates/publish.yml: a spec header, `---`, the job"
    );
    let job = docs.pop().unwrap();
    (docs.pop().unwrap(), job)
}

/// The inputs in force: `args` checked against the header's `spec:inputs` as GitLab does.
fn inputs(header: &Yaml, args: &[(&str, Yaml)]) -> BTreeMap<String, Yaml> {
    let spec = header["spec"]["inputs"].as_hash().expect("spec:inputs");
    for (name, _) in args {
        assert!(
            spec.contains_key(&Yaml::from_str(name)),
            "unknown input arguments: {name}"
        );
    }
    let mut values = BTreeMap::new();
    for (name, input) in spec {
        let name = name.as_str().unwrap();
        let given = args.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
        let default = input
            .as_hash()
            .and_then(|h| h.get(&Yaml::from_str("default")));
        let value = given
            .or(default)
            .unwrap_or_else(|| panic!("`{name}` input: required value has not been provided"))
            .clone();
        let kind = input["type"].as_str().unwrap_or("string");
        let typed = match kind {
            "string" => value.as_str().is_some(),
            "boolean" => value.as_bool().is_some(),
            "number" => value.as_i64().is_some() || value.as_f64().is_some(),
            other => panic!("`{name}` input: type {other} is not read by this test"),
        };
        assert!(typed, "`{name}` input: provided value is not a {kind}");
        if let Some(options) = input["options"].as_vec() {
            assert!(
                options.contains(&value),
                "`{name}` input: `{value:?}` cannot be used because it is not in the list of allowed options"
            );
        }
        values.insert(name.to_owned(), value);
    }
    values
}

/// A value as GitLab writes it inside a longer string (Ruby's `to_s`).
fn text(value: &Yaml) -> String {
    match value {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Integer(i) => i.to_string(),
        other => panic!("{other:?} inside a string is not read by this test"),
    }
}

/// `node` with every `$[[ inputs.x ]]` replaced, keys included.
fn interpolate(node: &Yaml, inputs: &BTreeMap<String, Yaml>) -> Yaml {
    match node {
        Yaml::Hash(hash) => Yaml::Hash(
            hash.iter()
                .map(|(k, v)| (interpolate(k, inputs), interpolate(v, inputs)))
                .collect(),
        ),
        Yaml::Array(items) => Yaml::Array(items.iter().map(|v| interpolate(v, inputs)).collect()),
        Yaml::String(s) if s.contains("$[[") => {
            let mut blocks = Vec::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("$[[") {
                let end = rest[start..].find("]]").expect("an unclosed $[[ block") + start + 2;
                let block = &rest[start..end];
                let access = block[3..block.len() - 2].trim();
                let name = access
                    .strip_prefix("inputs.")
                    .unwrap_or_else(|| panic!("{block}: only inputs.<name> is read by this test"));
                let value = inputs
                    .get(name)
                    .unwrap_or_else(|| panic!("unknown interpolation key: `{name}`"));
                blocks.push((block.to_owned(), value.clone()));
                rest = &rest[end..];
            }
            if blocks.len() == 1 && blocks[0].0 == *s {
                return blocks.pop().unwrap().1;
            }
            let mut out = s.clone();
            for (block, value) in &blocks {
                out = out.replace(block, &text(value));
            }
            Yaml::String(out)
        }
        other => other.clone(),
    }
}

/// The value of one operand of a GitLab rule expression.
fn operand(token: &str, env: &BTreeMap<String, String>) -> Option<String> {
    if let Some(var) = token.strip_prefix('$') {
        return env.get(var).cloned();
    }
    if token == "null" {
        return None;
    }
    let quoted = token.len() >= 2
        && ((token.starts_with('"') && token.ends_with('"'))
            || (token.starts_with('\'') && token.ends_with('\'')));
    assert!(quoted, "`{token}`: not an operand this test reads");
    Some(token[1..token.len() - 1].to_owned())
}

/// A rule's `if:` for the pipeline's variables.
fn holds(expression: &str, env: &BTreeMap<String, String>) -> bool {
    expression.split("||").any(|any| {
        any.split("&&").all(|term| {
            let term = term.trim();
            for (op, equal) in [("==", true), ("!=", false)] {
                if let Some((left, right)) = term.split_once(op) {
                    return (operand(left.trim(), env) == operand(right.trim(), env)) == equal;
                }
            }
            operand(term, env).is_some_and(|v| !v.is_empty())
        })
    })
}

/// Whether GitLab puts `job` in a pipeline with these variables.
fn created(job: &Yaml, env: &BTreeMap<String, String>) -> bool {
    let Some(rules) = job["rules"].as_vec() else {
        return true;
    };
    rules
        .iter()
        .find(|rule| rule["if"].as_str().is_none_or(|e| holds(e, env)))
        .is_some_and(|rule| rule["when"].as_str() != Some("never"))
}

/// The job's `variables:`, each a string as GitLab requires (`validate_variables` in
/// `lib/gitlab/config/entry/legacy_validation_helpers.rb`: strings or integers only).
fn variables(job: &Yaml) -> Vec<(String, String)> {
    job["variables"]
        .as_hash()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let value = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(i) => i.to_string(),
                other => panic!("variable {k:?} is {other:?}: GitLab takes strings only"),
            };
            (k.as_str().unwrap().to_owned(), value)
        })
        .collect()
}

fn script(job: &Yaml) -> Vec<String> {
    job["script"]
        .as_vec()
        .expect("script:")
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect()
}

/// A pipeline's predefined variables, as GitLab documents them for each source
/// (<https://docs.gitlab.com/ci/variables/predefined_variables/>).
fn pipeline(kind: &str, name: &str) -> Vec<(&'static str, String)> {
    match kind {
        "tag" => vec![
            ("CI_PIPELINE_SOURCE", "push".into()),
            ("CI_COMMIT_TAG", name.into()),
            ("CI_COMMIT_REF_NAME", name.into()),
        ],
        "branch" => vec![
            ("CI_PIPELINE_SOURCE", "push".into()),
            ("CI_COMMIT_BRANCH", name.into()),
            ("CI_COMMIT_REF_NAME", name.into()),
        ],
        "merge request" => vec![
            ("CI_PIPELINE_SOURCE", "merge_request_event".into()),
            ("CI_COMMIT_REF_NAME", name.into()),
            ("CI_MERGE_REQUEST_IID", "7".into()),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", name.into()),
            ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main".into()),
            ("CI_MERGE_REQUEST_EVENT_TYPE", "detached".into()),
        ],
        other => panic!("no {other} pipeline here"),
    }
}

/// What a job did: whether GitLab created it, and if it ran, its dotenv's decision and what
/// went into the registry.
#[derive(Debug, PartialEq, Eq)]
struct Decided {
    created: bool,
    decision: Option<String>,
    uploaded: usize,
}

/// Runs `job` (already interpolated) in a `kind` pipeline for `reference` of a fresh crate
/// `name`, with the test registry at `index` in the project's CI/CD variables; `force` runs its script even when the
/// rules leave it out (what shipcrate itself decides there).
fn run_job(
    job: &Yaml,
    index: &str,
    (name, kind, reference): (&str, &str, &str),
    force: bool,
) -> Decided {
    let docker = docker();
    let repo = Repo::new(name)
        .file("Cargo.toml", &manifest(name, "1.0.0"))
        .file("src/lib.rs", "pub fn answer() -> u32 { 42 }\n")
        .file(".gitignore", "/target\n")
        .commit("initial")
        .tag("v1.0.0");
    let sha = repo.head();
    chown_repo(&repo, 1234);
    let pipeline = pipeline(kind, reference);
    let env: BTreeMap<String, String> = pipeline
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let created = created(job, &env);
    if !created && !force {
        return Decided {
            created,
            decision: None,
            uploaded: 0,
        };
    }
    assert_eq!(
        job["image"].as_str(),
        Some(image().as_str()),
        "the job's image"
    );
    let vars = variables(job);
    let mut all: Vec<(&str, &str)> = pipeline.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    // The project's CI/CD variables: the registry's token, masked, and its index.
    all.extend([
        ("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", TOKEN),
        ("CARGO_REGISTRIES_ALTERNATIVE_INDEX", index),
    ]);
    if vars.iter().all(|(k, _)| k != "SHIPCRATE_REGISTRY") {
        all.push(("SHIPCRATE_REGISTRY", "alternative"));
    }
    let lines = script(job);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let out = gitlab_job(&docker, (&repo, &sha), &all, &lines)
        .success()
        .lacks(TOKEN);
    let dotenv_path = job["artifacts"]["reports"]["dotenv"]
        .as_str()
        .expect("a dotenv report");
    let dotenv = std::fs::read_to_string(repo.root.join(dotenv_path))
        .unwrap_or_else(|e| panic!("{dotenv_path}: {e}\n{}", out.both()));
    for path in job["artifacts"]["paths"].as_vec().into_iter().flatten() {
        let path = path.as_str().unwrap();
        assert!(
            repo.root.join(path).is_file(),
            "artifact {path} missing\n{}",
            out.both()
        );
    }
    let decision = dotenv
        .lines()
        .find_map(|l| l.strip_prefix("SHIPCRATE_OUTPUT_DECISION="))
        .map(str::to_owned);
    Decided {
        created,
        decision,
        uploaded: index_entries(name).len(),
    }
}

fn plain_job() -> Yaml {
    let doc = load(&repo_file("examples/gitlab-ci.yml")).pop().unwrap();
    doc["publish"].clone()
}

fn component_job(args: &[(&str, Yaml)]) -> Yaml {
    let (header, job) = component();
    let inputs = inputs(&header, args);
    let job = interpolate(&job, &inputs);
    job["shipcrate-publish"].clone()
}

fn yaml_text(doc: &Yaml) -> String {
    let mut out = String::new();
    YamlEmitter::new(&mut out).dump(doc).unwrap();
    out
}

/// GitLab's CI schema takes the header and the job, each as a document, and the job as the
/// inputs make it; an input GitLab would refuse is refused here too.
#[cargo_test]
#[ignore = "needs check-jsonschema (GitLab's CI schema): `pip install check-jsonschema`"]
fn the_component_is_valid_gitlab_ci_as_written_and_as_expanded() {
    let (header, job) = component();
    let dir = paths::root().join("component");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files: Vec<PathBuf> = Vec::new();
    let expanded = [
        vec![],
        vec![
            ("registry", Yaml::from_str("my-registry")),
            ("on-tags", Yaml::Boolean(false)),
        ],
        vec![
            ("dry-run", Yaml::Boolean(true)),
            ("trusted-publishing", Yaml::from_str("never")),
        ],
    ]
    .map(|args| interpolate(&job, &inputs(&header, &args)));
    for (i, doc) in [&header, &job].into_iter().chain(&expanded).enumerate() {
        let path = dir.join(format!("doc{i}.yml"));
        std::fs::write(&path, yaml_text(doc)).unwrap();
        files.push(path);
    }
    validate("vendor.gitlab-ci", &files);
    for (i, doc) in expanded.iter().enumerate() {
        let job = &doc["shipcrate-publish"];
        variables(job);
        assert!(
            !yaml_text(doc).contains("$[["),
            "expansion {i} left a block"
        );
    }
    let refused = |args: &[(&str, Yaml)]| {
        std::panic::catch_unwind(|| inputs(&header, args))
            .expect_err("GitLab refuses this")
            .downcast::<String>()
            .map(|s| *s)
            .unwrap_or_default()
    };
    assert!(refused(&[("dry-run", Yaml::from_str("yes"))]).contains("is not a boolean"));
    assert!(
        refused(&[("trusted-publishing", Yaml::from_str("sometimes"))]).contains("allowed options")
    );
    assert!(refused(&[("token", Yaml::from_str("x"))]).contains("unknown input"));

    // The README's `include:` passes inputs GitLab takes, and names each input in its table.
    let readme = repo_file("README.md");
    let block = readme
        .split("```yaml\n")
        .find(|b| b.starts_with("include:\n  - component:"))
        .and_then(|b| b.split("```").next())
        .expect("README's include: component: block");
    let include = &load(block)[0]["include"][0];
    let component = include["component"].as_str().unwrap();
    let version = format!("@v{}", env!("CARGO_PKG_VERSION"));
    assert!(
        component.ends_with(&format!("/publish{version}")),
        "{component}"
    );
    let args: Vec<(&str, Yaml)> = include["inputs"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap(), v.clone()))
        .collect();
    inputs(&header, &args);
    let table = readme
        .split("| input | default | what it sets |\n")
        .nth(1)
        .and_then(|t| t.split("\n\n").next())
        .expect("README's table of the component's inputs");
    for name in header["spec"]["inputs"].as_hash().unwrap().keys() {
        let row = format!("\n| `{}` |", name.as_str().unwrap());
        assert!(
            table.contains(&row),
            "README's input table lacks {}",
            row.trim()
        );
    }
}

/// A tag pipeline publishes with both jobs; a merge-request pipeline creates neither, and
/// the component's script run there anyway publishes nothing; a branch pipeline is left to
/// the plain job's rules, and to the component's `on-tags: false` (here a dry run).
#[cargo_test]
#[ignore = "needs a Docker engine and the image: run `scripts/image.sh all`"]
fn the_component_decides_as_the_plain_job_in_tag_and_merge_request_pipelines() {
    let served = registry();
    let index = served.index_url();
    let plain = plain_job();
    let component = component_job(&[("registry", Yaml::from_str("alternative"))]);

    let tag_plain = run_job(&plain, &index, ("tagplain", "tag", "v1.0.0"), false);
    let tag_component = run_job(&component, &index, ("tagcomp", "tag", "v1.0.0"), false);
    let published = Decided {
        created: true,
        decision: Some("publish".into()),
        uploaded: 1,
    };
    assert_eq!(tag_plain, published);
    assert_eq!(tag_component, tag_plain);

    let mr_plain = run_job(&plain, &index, ("mrplain", "merge request", "topic"), false);
    assert_eq!(
        mr_plain,
        Decided {
            created: false,
            decision: None,
            uploaded: 0
        }
    );
    let mr_component = run_job(
        &component,
        &index,
        ("mrcomp", "merge request", "topic"),
        true,
    );
    assert!(
        !mr_component.created,
        "the component's job in a merge-request pipeline"
    );
    assert_eq!(mr_component.decision.as_deref(), Some("skip"));
    assert_eq!(mr_component.uploaded, 0);

    let branch_plain = run_job(&plain, &index, ("brplain", "branch", "main"), false);
    let branch_component = run_job(&component, &index, ("brcomp", "branch", "main"), false);
    assert_eq!(
        branch_plain,
        Decided {
            created: false,
            decision: None,
            uploaded: 0
        }
    );
    assert_eq!(branch_component, branch_plain);

    let branches = component_job(&[
        ("registry", Yaml::from_str("alternative")),
        ("on-tags", Yaml::Boolean(false)),
        ("dry-run", Yaml::Boolean(true)),
    ]);
    let dry = run_job(&branches, &index, ("drybranch", "branch", "main"), false);
    assert_eq!(
        dry,
        Decided {
            created: true,
            decision: Some("publish".into()),
            uploaded: 0
        }
    );
    let other = run_job(&branches, &index, ("otherbranch", "branch", "topic"), false);
    assert_eq!(other.decision.as_deref(), Some("skip"));
}

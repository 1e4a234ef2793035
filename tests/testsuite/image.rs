//! The image, built from the real Dockerfile by `scripts/image.sh`, run the way GitHub's
//! runner, a plain `docker run` and GitLab's runner run it, publishing to the loopback
//! registry (`--network host`).

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

pub(crate) fn image() -> String {
    format!("ghcr.io/shipcrate/shipcrate:v{}", env!("CARGO_PKG_VERSION"))
}

/// Why the image tests are ignored by a plain `cargo test`: they run with `--include-ignored`.
const NEEDS_DOCKER: &str = "needs a Docker engine and the image: run `scripts/image.sh all`";

/// The docker client; an engine must answer and the image be built, else the test fails
/// saying so (these tests are `#[ignore]`d unless asked for).
#[track_caller]
pub(crate) fn docker() -> PathBuf {
    let client =
        PathBuf::from(std::env::var_os("DOCKER").unwrap_or_else(|| "/usr/bin/docker".into()));
    let ready = client.is_file()
        && Command::new(&client)
            .args(["image", "inspect", &image()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ready,
        "no Docker engine with {} here: this test {NEEDS_DOCKER}",
        image()
    );
    client
}

/// `docker run --rm --network host <args> IMAGE <cmd>`, with `stdin` fed in.
fn run(docker: &Path, args: &[String], cmd: &[&str], stdin: Option<&str>) -> Outcome {
    let mut child = Command::new(docker)
        .args(["run", "--rm", "--network", "host"])
        .args(args)
        .args(if stdin.is_some() { vec!["-i"] } else { vec![] })
        .arg(image())
        .args(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    Outcome::from_child(child)
}

/// What `docker <args>` prints; it must succeed.
#[track_caller]
fn docker_stdout(docker: &Path, args: &[&str]) -> String {
    let out = Command::new(docker).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn env_args(pairs: &[(&str, &str)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(k, v)| ["-e".to_owned(), format!("{k}={v}")])
        .collect()
}

fn mount(host: &Path, container: &str) -> Vec<String> {
    vec!["-v".to_owned(), format!("{}:{container}", host.display())]
}

/// Give the checkout to another user, as a CI runner's mounted workspace is.
pub(crate) fn chown_repo(repo: &Repo, uid: u32) {
    let status = Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(&repo.root)
        .status()
        .unwrap();
    assert!(status.success());
}

#[cargo_test]
#[ignore = "needs a Docker engine and the image: run `scripts/image.sh all`"]
fn runs_as_a_github_docker_action() {
    let docker = docker();
    let registry = registry();
    let repo = Repo::with_crate("ghimage", "1.0.0").tag("v1.0.0");
    let sha = repo.head();
    chown_repo(&repo, 1234);
    let files = paths::root().join("file_commands");
    let home = paths::root().join("github-home");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let index = registry.index_url();
    let mut args = vec!["--workdir".to_owned(), "/github/workspace".to_owned()];
    args.extend(mount(&repo.root, "/github/workspace"));
    args.extend(mount(&files, "/github/file_commands"));
    args.extend(mount(&home, "/github/home"));
    args.extend(env_args(&[
        ("HOME", "/github/home"),
        ("GITHUB_ACTIONS", "true"),
        ("CI", "true"),
        ("GITHUB_WORKSPACE", "/github/workspace"),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_REF", "refs/tags/v1.0.0"),
        ("GITHUB_REF_NAME", "v1.0.0"),
        ("GITHUB_REF_TYPE", "tag"),
        ("GITHUB_SHA", &sha),
        ("GITHUB_REPOSITORY", "acme/ghimage"),
        ("GITHUB_OUTPUT", "/github/file_commands/set_output"),
        ("GITHUB_STEP_SUMMARY", "/github/file_commands/step_summary"),
        // Every declared input is set; those the workflow left out are empty.
        ("INPUT_TOKEN", TOKEN),
        ("INPUT_REGISTRY", "alternative"),
        ("INPUT_ON-TAGS", "true"),
        ("INPUT_ON-REPO", "acme/ghimage"),
        ("INPUT_DRY-RUN", ""),
        ("INPUT_ON-BRANCH", ""),
        ("INPUT_BEFORE-DEPLOY", ""),
        ("CARGO_REGISTRIES_ALTERNATIVE_INDEX", &index),
    ]));
    let out = run(&docker, &args, &[], None).success();
    assert_eq!(
        out.stdout.lines().next(),
        Some(format!("::add-mask::{TOKEN}").as_str()),
        "{}",
        out.both()
    );
    assert!(
        out.stdout.contains("::group::cargo publish"),
        "{}",
        out.both()
    );
    assert!(!out.stderr.contains(TOKEN));

    assert_eq!(index_entries("ghimage").len(), 1);
    let outputs = std::fs::read_to_string(files.join("set_output")).unwrap();
    assert!(
        outputs.contains(r#"[{"name":"ghimage","version":"1.0.0"}]"#),
        "{outputs}"
    );
    let summary = std::fs::read_to_string(files.join("step_summary")).unwrap();
    assert!(
        summary.contains("| `ghimage` | 1.0.0 | published |"),
        "{summary}"
    );

    // What cargo made in the workspace belongs to the checkout's owner again.
    let foreign: Vec<PathBuf> = walkdir::WalkDir::new(repo.root.join("target"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.metadata().unwrap().uid() != 1234)
        .map(|e| e.into_path())
        .collect();
    assert!(repo.root.join("target").is_dir());
    assert!(foreign.is_empty(), "not handed back: {foreign:?}");
    consume(&registry, "ghimage", "1.0.0");
}

/// The README's `docker run` (the checkout at `/work`, `on.tags`, the token from the
/// environment) on `repo`, with `client` (docker, or podman) and the test registry.
pub(crate) fn readme_run(
    client: &Path,
    repo: &Repo,
    registry: &cargo_test_support::registry::TestRegistry,
) -> Outcome {
    let index = registry.index_url().to_string();
    let mut args = vec!["-w".to_owned(), "/work".to_owned()];
    args.extend(mount(&repo.root, "/work"));
    args.extend(env_args(&[
        ("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", TOKEN),
        ("CARGO_REGISTRIES_ALTERNATIVE_INDEX", &index),
        ("SHIPCRATE_REGISTRY", "alternative"),
        ("SHIPCRATE_ON__TAGS", "true"),
    ]));
    run(client, &args, &[], None)
}

#[cargo_test]
#[ignore = "needs a Docker engine and the image: run `scripts/image.sh all`"]
fn runs_with_plain_docker_run() {
    let docker = docker();
    let registry = registry();
    let repo = Repo::with_crate("plainimage", "0.2.0").tag("v0.2.0");
    // No CI's variables passed: shipcrate says so, and a version tag with `on.tags` (which
    // git sees at the commit) still publishes.
    readme_run(&docker, &repo, &registry)
        .success()
        .stderr_has("shipcrate runs in a container (/.dockerenv) and sees no CI's variables")
        .stderr_has("Uploaded plainimage v0.2.0")
        .lacks(TOKEN);
    consume(&registry, "plainimage", "0.2.0");
}

/// A job as GitLab's Docker executor runs it: the checkout of `repo` (at commit `sha`) mounted
/// at `/builds/group/<name>`, GitLab's predefined variables for the project and `env` (the
/// pipeline's, the job's `variables:`, the project's CI/CD variables, in that order: a later
/// one wins), the job's `script` fed to the image's shell on stdin, as GitLab's runner starts
/// it.
pub(crate) fn gitlab_job(
    docker: &Path,
    (repo, sha): (&Repo, &str),
    env: &[(&str, &str)],
    script: &[&str],
) -> Outcome {
    let name = repo
        .root
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let dir = format!("/builds/group/{name}");
    let mut args = vec!["-w".to_owned(), dir.clone()];
    args.extend(mount(&repo.root, &dir));
    args.extend(env_args(&[
        ("GITLAB_CI", "true"),
        ("CI", "true"),
        ("CI_PROJECT_DIR", &dir),
        ("CI_COMMIT_SHA", sha),
        ("CI_PROJECT_PATH", &format!("group/{name}")),
        ("CI_DEFAULT_BRANCH", "main"),
    ]));
    args.extend(env_args(env));
    let script = format!("set -e\n{}\n", script.join("\n"));
    run(docker, &args, &["sh"], Some(&script))
}

#[cargo_test]
#[ignore = "needs a Docker engine and the image: run `scripts/image.sh all`"]
fn runs_as_a_gitlab_job_image() {
    let docker = docker();
    let served = registry();
    let repo = Repo::with_crate("glimage", "3.0.0").tag("v3.0.0");
    let sha = repo.head();
    chown_repo(&repo, 1234);
    let index = served.index_url();
    let env = [
        ("CI_COMMIT_TAG", "v3.0.0"),
        ("CI_PIPELINE_SOURCE", "push"),
        ("SHIPCRATE_ON__TAGS", "true"),
        ("SHIPCRATE_DOTENV", "publish.env"),
        ("SHIPCRATE_REGISTRY", "alternative"),
        ("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", TOKEN),
        ("CARGO_REGISTRIES_ALTERNATIVE_INDEX", &index),
    ];
    gitlab_job(&docker, (&repo, &sha), &env, &["shipcrate"])
        .success()
        .stderr_has("section_start:")
        .lacks(TOKEN);
    assert_eq!(index_entries("glimage").len(), 1);
    let dotenv = std::fs::read_to_string(repo.root.join("publish.env")).unwrap();
    assert!(
        dotenv.contains("SHIPCRATE_OUTPUT_DECISION=publish\n"),
        "{dotenv}"
    );
    assert!(
        dotenv.contains(r#"SHIPCRATE_OUTPUT_PUBLISHED=[{"name":"glimage","version":"3.0.0"}]"#),
        "{dotenv}"
    );
}

/// `image`'s layers, newest first: each one's size in bytes and the step that made it.
fn layers(docker: &Path, image: &str) -> Vec<(u64, String)> {
    let format = "{{.Size}}\t{{.CreatedBy}}";
    docker_stdout(
        docker,
        &[
            "history",
            "--no-trunc",
            "--human=false",
            "--format",
            format,
            image,
        ],
    )
    .lines()
    .map(|l| {
        let (size, by) = l.split_once('\t').unwrap();
        (size.parse().unwrap(), by.to_owned())
    })
    .collect()
}

/// The Debian packages installed in `image`, with the KiB dpkg says each takes.
fn installed(docker: &Path, image: &str) -> std::collections::BTreeMap<String, u64> {
    let format = "${Package} ${Installed-Size}\\n";
    docker_stdout(
        docker,
        &[
            "run",
            "--rm",
            "--entrypoint",
            "dpkg-query",
            image,
            "-W",
            "-f",
            format,
        ],
    )
    .lines()
    .filter_map(|l| l.split_once(' '))
    .map(|(p, kib)| (p.to_owned(), kib.parse().unwrap_or(0)))
    .collect()
}

#[cargo_test]
#[ignore = "needs a Docker engine and the image: run `scripts/image.sh all`"]
fn the_runtime_stage_adds_only_the_binary_git_certificates_and_entrypoint() {
    let docker = docker();
    let history = |image: &str| layers(&docker, image);
    let dockerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).unwrap();
    let base = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("ARG RUST_IMAGE="))
        .unwrap();
    let ours = history(&image());
    let added = &ours[..ours.len() - history(base).len()];
    let mut total = 0;
    for (size, by) in added {
        println!(
            "{:>10} bytes  {}",
            size,
            by.chars().take(100).collect::<String>()
        );
        total += size;
    }
    println!("{total:>10} bytes added over {base}");
    let non_empty: Vec<&(u64, String)> = added.iter().filter(|(s, _)| *s > 0).collect();
    assert_eq!(non_empty.len(), 3, "apt, binary, entrypoint: {added:?}");
    assert!(
        non_empty
            .iter()
            .any(|(_, by)| by.contains("/usr/local/bin/shipcrate"))
    );
    assert!(non_empty.iter().any(|(_, by)| by.contains("entrypoint.sh")));
    // The apt layer holds git and certificates with their dependencies, not their
    // recommends, and no package lists: its size is what dpkg says they take.
    let packages = |image: &str| installed(&docker, image);
    let before = packages(base);
    let new: std::collections::BTreeMap<String, u64> = packages(&image())
        .into_iter()
        .filter(|(p, _)| !before.contains_key(p))
        .collect();
    println!("packages added: {new:?}");
    assert!(new.contains_key("git") || before.contains_key("git"));
    for recommended in ["less", "openssh-client", "patch"] {
        assert!(
            !new.contains_key(recommended),
            "{recommended} came in as a recommend"
        );
    }
    let dpkg_bytes: u64 = new.values().sum::<u64>() * 1024;
    let apt_layer = non_empty
        .iter()
        .find(|(_, by)| by.contains("apt-get"))
        .unwrap()
        .0;
    assert!(
        apt_layer <= dpkg_bytes + 8 * 1024 * 1024,
        "the apt layer is {apt_layer} bytes, but its packages take {dpkg_bytes}: leftovers (lists, caches)?"
    );
    let lists = Command::new(&docker)
        .args([
            "run",
            "--rm",
            "--entrypoint",
            "ls",
            &image(),
            "/var/lib/apt/lists",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&lists.stdout).trim(),
        "",
        "apt lists left in the image"
    );
}

/// An untagged image (dangling, so `docker image prune` would take it) made by `docker
/// import` of an empty layer, with `label`; its id.
fn untagged_image(docker: &Path, label: &str) -> String {
    let mut child = Command::new(docker)
        .args(["import", "--change", &format!("LABEL {label}"), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // An empty tar archive: two zero blocks.
    child.stdin.take().unwrap().write_all(&[0; 1024]).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "docker import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[cargo_test]
#[ignore = "needs a Docker engine and the image: run `scripts/image.sh all`"]
fn image_sh_removes_only_images_it_made() {
    let docker = docker();
    let stamp = format!("{}-{}", std::process::id(), paths::root().display());
    let ours = untagged_image(
        &docker,
        &format!("org.shipcrate.made-by=scripts/image.sh org.shipcrate.test=\"{stamp}\""),
    );
    let theirs = untagged_image(&docker, &format!("org.example.someone-else=\"{stamp}\""));
    let exists = |id: &str| {
        Command::new(&docker)
            .args(["image", "inspect", id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    };
    assert!(exists(&ours) && exists(&theirs));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/image.sh");
    let out = Command::new(&script)
        .arg("prune")
        .env("DOCKER", &docker)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/image.sh prune: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = exists(&theirs);
    docker_stdout(&docker, &["image", "rm", &theirs]);
    assert!(kept, "scripts/image.sh removed an image it did not make");
    assert!(
        !exists(&ours),
        "scripts/image.sh left its own untagged image"
    );
    assert!(
        exists(&image()),
        "scripts/image.sh removed the tagged image"
    );
}

/// The README's `docker run` line of `ci` (its row of the per-CI table): the variables it
/// passes.
fn readme_passes(ci: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with(&format!("| {ci} | `-e ")))
        .unwrap_or_else(|| panic!("README's per-CI table has no row for {ci}"));
    row.split('`')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .filter(|word| *word != "-e")
        .map(str::to_owned)
        .collect()
}

/// Each CI's own variables for a tag build, a branch push and a pull request (`SHA` stands
/// for the commit), as its documentation names them (see `src/ci/services.rs`).
/// `(VAR, value)` pairs.
type Vars = &'static [(&'static str, &'static str)];

const CI_BUILDS: &[(&str, Vars, [Vars; 3])] = &[
    (
        "GitHub Actions",
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "SHA"),
            ("GITHUB_REPOSITORY", "acme/w"),
        ],
        [
            &[
                ("GITHUB_REF", "refs/tags/v0.3.0"),
                ("GITHUB_EVENT_NAME", "push"),
            ],
            &[
                ("GITHUB_REF", "refs/heads/main"),
                ("GITHUB_EVENT_NAME", "push"),
            ],
            &[
                ("GITHUB_REF", "refs/pull/7/merge"),
                ("GITHUB_EVENT_NAME", "pull_request"),
                ("GITHUB_HEAD_REF", "topic"),
            ],
        ],
    ),
    (
        "GitLab CI",
        &[
            ("GITLAB_CI", "true"),
            ("CI_COMMIT_SHA", "SHA"),
            ("CI_DEFAULT_BRANCH", "main"),
        ],
        [
            &[("CI_COMMIT_TAG", "v0.3.0"), ("CI_PIPELINE_SOURCE", "push")],
            &[("CI_COMMIT_BRANCH", "main"), ("CI_PIPELINE_SOURCE", "push")],
            &[
                ("CI_MERGE_REQUEST_IID", "3"),
                ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ],
        ],
    ),
    (
        "Travis CI",
        &[("TRAVIS", "true"), ("TRAVIS_COMMIT", "SHA")],
        [
            &[
                ("TRAVIS_TAG", "v0.3.0"),
                ("TRAVIS_BRANCH", "v0.3.0"),
                ("TRAVIS_PULL_REQUEST", "false"),
            ],
            &[("TRAVIS_BRANCH", "main"), ("TRAVIS_PULL_REQUEST", "false")],
            &[
                ("TRAVIS_BRANCH", "main"),
                ("TRAVIS_PULL_REQUEST", "7"),
                ("TRAVIS_EVENT_TYPE", "pull_request"),
            ],
        ],
    ),
    (
        "CircleCI",
        &[("CIRCLECI", "true"), ("CIRCLE_SHA1", "SHA")],
        [
            &[("CIRCLE_TAG", "v0.3.0")],
            &[("CIRCLE_BRANCH", "main")],
            &[
                ("CIRCLE_BRANCH", "topic"),
                ("CIRCLE_PULL_REQUEST", "https://github.com/acme/w/pull/7"),
            ],
        ],
    ),
    (
        "Buildkite",
        &[("BUILDKITE", "true"), ("BUILDKITE_COMMIT", "SHA")],
        [
            &[
                ("BUILDKITE_TAG", "v0.3.0"),
                ("BUILDKITE_BRANCH", "v0.3.0"),
                ("BUILDKITE_PULL_REQUEST", "false"),
            ],
            &[
                ("BUILDKITE_BRANCH", "main"),
                ("BUILDKITE_PULL_REQUEST", "false"),
            ],
            &[
                ("BUILDKITE_BRANCH", "topic"),
                ("BUILDKITE_PULL_REQUEST", "7"),
            ],
        ],
    ),
    (
        "Jenkins",
        &[
            ("JENKINS_URL", "http://jenkins.example/"),
            ("GIT_COMMIT", "SHA"),
        ],
        [
            &[("TAG_NAME", "v0.3.0"), ("BRANCH_NAME", "v0.3.0")],
            &[("BRANCH_NAME", "main")],
            &[("BRANCH_NAME", "PR-7"), ("CHANGE_ID", "7")],
        ],
    ),
    (
        "Azure Pipelines",
        &[("TF_BUILD", "True"), ("BUILD_SOURCEVERSION", "SHA")],
        [
            &[
                ("BUILD_SOURCEBRANCH", "refs/tags/v0.3.0"),
                ("BUILD_REASON", "IndividualCI"),
            ],
            &[
                ("BUILD_SOURCEBRANCH", "refs/heads/main"),
                ("BUILD_REASON", "IndividualCI"),
            ],
            &[
                ("BUILD_SOURCEBRANCH", "refs/pull/7/merge"),
                ("BUILD_REASON", "PullRequest"),
                ("SYSTEM_PULLREQUEST_PULLREQUESTID", "7"),
            ],
        ],
    ),
    (
        "Bitbucket Pipelines",
        &[("BITBUCKET_BUILD_NUMBER", "5"), ("BITBUCKET_COMMIT", "SHA")],
        [
            &[("BITBUCKET_TAG", "v0.3.0")],
            &[("BITBUCKET_BRANCH", "main")],
            &[
                ("BITBUCKET_BRANCH", "topic"),
                ("BITBUCKET_PR_ID", "7"),
                ("BITBUCKET_PR_DESTINATION_BRANCH", "main"),
            ],
        ],
    ),
    (
        "Woodpecker CI",
        &[("CI", "woodpecker"), ("CI_COMMIT_SHA", "SHA")],
        [
            &[("CI_COMMIT_TAG", "v0.3.0"), ("CI_PIPELINE_EVENT", "tag")],
            &[("CI_COMMIT_BRANCH", "main"), ("CI_PIPELINE_EVENT", "push")],
            &[
                ("CI_COMMIT_BRANCH", "main"),
                ("CI_PIPELINE_EVENT", "pull_request"),
                ("CI_COMMIT_PULL_REQUEST", "7"),
            ],
        ],
    ),
    (
        "Drone",
        &[("DRONE", "true"), ("DRONE_COMMIT_SHA", "SHA")],
        [
            &[("DRONE_TAG", "v0.3.0"), ("DRONE_BUILD_EVENT", "tag")],
            &[("DRONE_BRANCH", "main"), ("DRONE_BUILD_EVENT", "push")],
            &[
                ("DRONE_BRANCH", "main"),
                ("DRONE_BUILD_EVENT", "pull_request"),
                ("DRONE_PULL_REQUEST", "7"),
            ],
        ],
    ),
];

fn decision(out: &Outcome) -> String {
    out.stdout
        .lines()
        .find(|l| l.starts_with("Decision:"))
        .unwrap_or_else(|| panic!("no decision\n{}", out.both()))
        .to_owned()
}

/// The README's `docker run` for each CI, with that CI's environment for a tag build, a branch
/// push and a pull request: the container decides as the binary run directly does (tag and
/// branch publish with `on.all_branches`, the pull request never). Without the CI's
/// variables the container can't tell, says so, and holds the branch build back.
#[cargo_test]
#[ignore = "needs a Docker engine and the image: run `scripts/image.sh all`"]
fn the_readmes_docker_run_sees_what_each_ci_sees() {
    let docker = docker();
    let registry = registry();
    let repo = Repo::with_crate("seen", "0.3.0").tag("v0.3.0");
    let sha = repo.head();
    let index = registry.index_url();
    let settings = [
        ("SHIPCRATE_REGISTRY", "alternative"),
        ("CARGO_REGISTRIES_ALTERNATIVE_INDEX", index.as_str()),
        ("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", TOKEN),
        ("SHIPCRATE_ON__ALL_BRANCHES", "true"),
    ];
    let in_container = |env: &[(&str, String)], pass: &[String]| -> Outcome {
        let mut cmd = Command::new(&docker);
        cmd.args(["run", "--rm", "--network", "host", "-w", "/work"])
            .args(mount(&repo.root, "/work"));
        for name in settings
            .iter()
            .map(|(k, _)| *k)
            .chain(pass.iter().map(String::as_str))
        {
            cmd.args(["-e", name]);
        }
        cmd.arg(image()).arg("explain").env_clear().envs(settings);
        cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        Outcome::from(cmd.output().unwrap())
    };
    let mut compared = 0;
    for (ci, common, builds) in CI_BUILDS {
        let pass = readme_passes(ci);
        for (kind, vars) in ["tag", "branch", "pull request"].iter().zip(builds) {
            let env: Vec<(&str, String)> = common
                .iter()
                .chain(vars.iter())
                .map(|(k, v)| (*k, v.replace("SHA", &sha)))
                .collect();
            let mut direct = repo.shipcrate().arg("explain");
            for (k, v) in settings
                .iter()
                .map(|(k, v)| (*k, (*v).to_owned()))
                .chain(env.clone())
            {
                direct = direct.env(k, &v);
            }
            let direct = decision(&direct.run().success());
            let want_publish = *kind != "pull request";
            assert_eq!(
                direct.starts_with("Decision: publish"),
                want_publish,
                "{ci} {kind}, run directly: {direct}"
            );
            let inside = in_container(&env, &pass).success();
            assert_eq!(
                decision(&inside),
                direct,
                "{ci} {kind} in the container\n{}",
                inside.both()
            );
            assert!(
                !inside.stderr.contains("sees no CI's variables"),
                "{ci} {kind}\n{}",
                inside.both()
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 30);
    // The README's line without the CI's variables: a branch build held back, and why.
    let (_, common, [_, branch, _]) = CI_BUILDS[3];
    let env: Vec<(&str, String)> = common
        .iter()
        .chain(branch.iter())
        .map(|(k, v)| (*k, v.replace("SHA", &sha)))
        .collect();
    let blind = in_container(&env, &[]).success();
    assert!(
        decision(&blind).starts_with("Decision: skip: shipcrate runs in a container"),
        "{}",
        blind.both()
    );
    assert!(
        blind
            .stderr
            .contains("CircleCI: -e CIRCLECI -e CIRCLE_SHA1"),
        "{}",
        blind.both()
    );
    // A native image step (Woodpecker's, Bitbucket's…): the CI runs its own shell in the
    // image with every variable set, on a checkout another user owns; the README's command,
    // `entrypoint.sh`, marks it safe and decides as the binary does.
    let (ci, common, [_, branch, _]) = CI_BUILDS[8];
    assert_eq!(ci, "Woodpecker CI");
    let mut step = Command::new(&docker);
    step.args([
        "run",
        "--rm",
        "--network",
        "host",
        "-w",
        "/work",
        "--entrypoint",
        "/bin/sh",
    ])
    .args(mount(&repo.root, "/work"));
    for (name, value) in settings.iter().chain(common).chain(branch) {
        step.args(["-e", &format!("{name}={}", value.replace("SHA", &sha))]);
    }
    chown_repo(&repo, 1234);
    let step = Outcome::from(
        step.arg(image())
            .args(["-c", "entrypoint.sh explain"])
            .output()
            .unwrap(),
    )
    .success();
    chown_repo(&repo, 0);
    assert!(
        decision(&step).starts_with("Decision: publish"),
        "{}",
        step.both()
    );
    // A run by hand says so.
    let by_hand = in_container(
        &[("SHIPCRATE_CI", "none".to_owned())],
        &["SHIPCRATE_CI".to_owned()],
    )
    .success();
    assert!(
        decision(&by_hand).starts_with("Decision: publish"),
        "{}",
        by_hand.both()
    );
    assert!(index_entries("seen").is_empty());
}

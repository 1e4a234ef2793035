//! The image under Podman, as Fedora/RHEL runners and GitLab's Podman executor run it:
//! rootful (podman in place of the docker client, the image built by `ENGINE=podman
//! scripts/image.sh all`) and rootless (a user's own podman, the container's root being that
//! user: `scripts/image.sh rootless` hands it the image). Each publishes to the loopback
//! registry over `--network host`, as the README's `docker run` snippet says with `podman`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::image::{chown_repo, gitlab_job, image, readme_run};
use crate::support::*;

/// The user whose rootless podman the tests use (`.ci/run` makes it).
const ROOTLESS_USER: &str = "shipcrate-rootless";

/// `podman`, as root or as `user`: a client the image tests' helpers take in place of
/// docker's. Fails naming what is missing when podman can't run the image here.
#[track_caller]
fn podman(user: Option<&str>) -> PathBuf {
    let podman = which_podman();
    let client = match user {
        None => podman,
        Some(user) => {
            let uid = Command::new("id").args(["-u", user]).output().unwrap();
            assert!(
                uid.status.success(),
                "no user {user} for rootless podman here: `useradd --create-home {user}` (with \
                 /etc/subuid and /etc/subgid ranges), then `ENGINE=podman scripts/image.sh \
                 rootless {user}`"
            );
            let wrapper = paths::root().join(format!("podman-as-{user}"));
            std::fs::write(
                &wrapper,
                format!(
                    "#!/bin/sh\nexec runuser -u {user} -- {} \"$@\"\n",
                    podman.display()
                ),
            )
            .unwrap();
            let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
            std::fs::set_permissions(&wrapper, mode).unwrap();
            wrapper
        }
    };
    let out = Command::new(&client)
        .args(["image", "exists", &image()])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}'s podman has no {}: {}{}",
        user.unwrap_or("root"),
        image(),
        String::from_utf8_lossy(&out.stderr),
        match user {
            None => "run `ENGINE=podman scripts/image.sh all`".to_owned(),
            Some(user) => format!("run `ENGINE=podman scripts/image.sh rootless {user}`"),
        }
    );
    client
}

#[track_caller]
fn which_podman() -> PathBuf {
    ["/usr/bin/podman", "/usr/local/bin/podman"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("podman is not installed: `apt-get install podman` (Debian's, 4.3.1 here)")
}

/// Everything under `dir` belongs to `uid`.
fn not_owned_by(dir: &Path, uid: u32) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.metadata().unwrap().uid() != uid)
        .map(|e| e.into_path())
        .collect()
}

/// The README's `docker run`, with `podman` as root, and a GitLab job as a runner whose
/// executor talks to podman runs it: both publish, and what cargo made in the checkout is
/// handed back to the checkout's owner.
#[cargo_test]
#[ignore = "needs rootful podman and the image in it: `ENGINE=podman scripts/image.sh all`"]
fn runs_under_rootful_podman() {
    let podman = podman(None);
    let registry = registry();
    let repo = Repo::with_crate("podmanroot", "1.0.0").tag("v1.0.0");
    chown_repo(&repo, 1234);
    readme_run(&podman, &repo, &registry)
        .success()
        .stderr_has("shipcrate runs in a container (/run/.containerenv)")
        .stderr_has("Uploaded podmanroot v1.0.0")
        .lacks(TOKEN);
    assert_eq!(
        not_owned_by(&repo.root.join("target"), 1234),
        Vec::<PathBuf>::new()
    );
    consume(&registry, "podmanroot", "1.0.0");

    let job = Repo::new("podmanjob")
        .file("Cargo.toml", &manifest("podmanjob", "2.0.0"))
        .file("src/lib.rs", "pub fn answer() -> u32 { 42 }\n")
        .commit("initial")
        .tag("v2.0.0");
    let sha = job.head();
    let index = registry.index_url();
    let env = [
        ("CI_COMMIT_TAG", "v2.0.0"),
        ("CI_PIPELINE_SOURCE", "push"),
        ("SHIPCRATE_ON__TAGS", "true"),
        ("SHIPCRATE_REGISTRY", "alternative"),
        ("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", TOKEN),
        ("CARGO_REGISTRIES_ALTERNATIVE_INDEX", &index),
    ];
    gitlab_job(&podman, (&job, &sha), &env, &["shipcrate"])
        .success()
        .stderr_has("section_start:")
        .lacks(TOKEN);
    assert_eq!(index_entries("podmanjob").len(), 1);
}

/// The README's `docker run` with a user's rootless podman, on the user's own checkout: the
/// container's root is that user, so everything the run made belongs to them.
#[cargo_test]
#[ignore = "needs rootless podman for the user shipcrate-rootless with the image: `ENGINE=podman scripts/image.sh rootless`"]
fn runs_under_rootless_podman() {
    let podman = podman(Some(ROOTLESS_USER));
    let registry = registry();
    let repo = Repo::with_crate("podmanuser", "1.0.0").tag("v1.0.0");
    let uid: u32 = String::from_utf8(
        Command::new("id")
            .args(["-u", ROOTLESS_USER])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    chown_repo(&repo, uid);
    readme_run(&podman, &repo, &registry)
        .success()
        .stderr_has("Uploaded podmanuser v1.0.0")
        .lacks(TOKEN);
    assert!(repo.root.join("target").is_dir());
    assert_eq!(not_owned_by(&repo.root, uid), Vec::<PathBuf>::new());
    consume(&registry, "podmanuser", "1.0.0");
}

//! Real `.travis.yml` files with a cargo deploy, as projects wrote them, taken from public
//! Rust repositories' histories (`tests/data/travis/real/<owner>+<repo>@<commit>.yml`, each
//! byte for byte the file at that commit). Four builds each: a tag build on the job that
//! deploys (the stable one), a push to master on its stable job, a pull request, and a tag
//! build on a nightly job (or, where the matrix has none, on the other job). What Travis did
//! is worked out from the rules cited beside each file (travis-build at 2812e526 `script.rb`
//! for the deploy, travis-yml at 8d6f36f7 for the jobs, docs-travis-ci-com at 224f072e for
//! `branches`), and `shipcrate explain --travis` must decide the same.

use cargo_test_support::prelude::*;

use crate::support::*;
use crate::travis::{build_env, check};

/// What Travis exported to a job: the job's stage, rust and os, and its `env:`.
pub type Job = &'static [(&'static str, &'static str)];

/// One real file.
pub struct Real {
    /// `owner/repo` on GitHub, and the commit whose `.travis.yml` this is.
    pub repo: &'static str,
    pub commit: &'static str,
    /// A tag the project pushed (or would push) for a release.
    pub tag: &'static str,
    /// The job that deploys on a tag build; the stable job of a master push and of the pull
    /// request; the nightly (or other) job of a tag build.
    pub jobs: [Job; 3],
    /// Travis's decision for the four builds: `publish` or `skip: <what explain says>`.
    pub want: [&'static str; 4],
    /// The rules that decided it.
    pub why: &'static str,
}

impl Real {
    /// The file's text, as committed.
    pub fn text(&self) -> String {
        let name = format!("{}@{}.yml", self.repo.replace('/', "+"), &self.commit[..12]);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/travis/real")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The four builds: (build as `kind name`, the job's env).
    pub fn builds(&self) -> [(String, Job); 4] {
        [
            (format!("tag {}", self.tag), self.jobs[0]),
            ("branch master".to_owned(), self.jobs[1]),
            ("pr master".to_owned(), self.jobs[1]),
            (format!("tag {}", self.tag), self.jobs[2]),
        ]
    }
}

const STABLE: Job = &[("TRAVIS_RUST_VERSION", "stable")];
const NIGHTLY: Job = &[("TRAVIS_RUST_VERSION", "nightly")];
const DEPLOY_STAGE: Job = &[
    ("TRAVIS_BUILD_STAGE_NAME", "Deploy"),
    ("TRAVIS_RUST_VERSION", "stable"),
    ("TRAVIS_OS_NAME", "linux"),
];
const TEST_STABLE: Job = &[
    ("TRAVIS_BUILD_STAGE_NAME", "Test"),
    ("TRAVIS_RUST_VERSION", "stable"),
    ("TRAVIS_OS_NAME", "linux"),
];
const TEST_NIGHTLY: Job = &[
    ("TRAVIS_BUILD_STAGE_NAME", "Test"),
    ("TRAVIS_RUST_VERSION", "nightly"),
    ("TRAVIS_OS_NAME", "linux"),
];
const SHELDON_PUBLISH: Job = &[
    ("TRAVIS_RUST_VERSION", "stable"),
    ("TARGET", "x86_64-unknown-linux-gnu"),
    ("PUBLISH", "true"),
    ("CRATE", "sheldon"),
];
const SHELDON_NIGHTLY: Job = &[
    ("TRAVIS_RUST_VERSION", "nightly"),
    ("TARGET", "x86_64-unknown-linux-gnu"),
    ("CRATE", "sheldon"),
];
const VDOT_LINUX: Job = &[
    ("TRAVIS_RUST_VERSION", "stable"),
    ("TARGET", "x86_64-unknown-linux-musl"),
];
const VDOT_OSX: Job = &[
    ("TRAVIS_RUST_VERSION", "stable"),
    ("TRAVIS_OS_NAME", "osx"),
    ("TARGET", "x86_64-apple-darwin"),
];

const PR: &str = "skip: this is a pull-request build";
const ANOTHER: &str = "skip: this is another job than the one that deploys";
const NOT_TAGGED: &str = "skip: this is not a tagged commit";

/// The files, oldest first within a repository.
pub const REAL: &[Real] = &[
    Real {
        repo: "Nemo157/nemo157-rs",
        commit: "de1183c58e1adda8df395b915149ec35c0d4e5fa",
        tag: "v0.0.1",
        jobs: [DEPLOY_STAGE, TEST_STABLE, TEST_NIGHTLY],
        want: [
            "publish | ran only in its job (stage deploy, rust stable, os linux)",
            ANOTHER,
            PR,
            ANOTHER,
        ],
        why: "the deploy is matrix.include's `stage: deploy` job (matrix.rb:105-111), a stage \
              with `if: tag IS present` (configs/stages.rb:46-51); `all_branches` (script.rb:122)",
    },
    Real {
        repo: "Nemo157/nemo157-rs",
        commit: "2cc5312465f35db56a4cd5cf556cb1e71193556b",
        tag: "v0.0.2",
        jobs: [DEPLOY_STAGE, TEST_STABLE, TEST_NIGHTLY],
        want: [
            "skip: Travis would not have built tag `v0.0.2`: .travis.yml's `branches.only` lists staging, trying, master",
            ANOTHER,
            PR,
            "skip: Travis would not have built tag `v0.0.2`",
        ],
        why: "as before, and `branches.only: [staging, trying, master]` holds for tags too \
              (customizing-the-build.md:289): no tag was built",
    },
    Real {
        repo: "arthurkhlghatyan/gql-client-rs",
        commit: "9b9984366bebbba71f53bcfa9552b6b23c74a3bd",
        tag: "v1.0.0",
        jobs: [STABLE, STABLE, NIGHTLY],
        want: [
            "skip: Travis would not have built tag `v1.0.0`: .travis.yml's `branches.only` lists master",
            "publish",
            PR,
            "skip: Travis would not have built tag `v1.0.0`",
        ],
        why: "top-level deploy, every job of the rust matrix (script.rb:52-70), `on.branch: \
              master` (script.rb:121-127); `branches.only: [master]` (customizing-the-build.md:289)",
    },
    Real {
        repo: "arthurkhlghatyan/gql-client-rs",
        commit: "3679352e194070102ae7c728242c9d101ec6baf8",
        tag: "v1.0.1",
        jobs: [STABLE, STABLE, NIGHTLY],
        want: [
            "skip: Travis would not have built tag `v1.0.1`",
            "publish",
            PR,
            "skip: Travis would not have built tag `v1.0.1`",
        ],
        why: "as before; `skip_cleanup` changes nothing here",
    },
    Real {
        repo: "mendelt/cmdr",
        commit: "71d9ab7383ec92a7025aae2dbec5ea2c80153947",
        tag: "0.3.0",
        jobs: [STABLE, STABLE, NIGHTLY],
        want: [
            "skip: this is a tag build, not a build of `master`",
            "publish",
            PR,
            "skip: this is a tag build, not a build of `master`",
        ],
        why: "no `on:`: master only (script.rb:126, 213-216), and a tag build's TRAVIS_BRANCH is \
              the tag",
    },
    Real {
        repo: "rust-transit/gtfs-structure",
        commit: "0a46c721b6c5e4c95a0ae5b4c76f2d978312c1cb",
        tag: "v0.1.0",
        jobs: [STABLE, STABLE, NIGHTLY],
        want: [
            "skip: this is a tag build, not a build of `master`",
            "publish",
            PR,
            "skip: this is a tag build, not a build of `master`",
        ],
        why: "no `on:`: master only (script.rb:126, 213-216)",
    },
    Real {
        repo: "rust-transit/gtfs-structure",
        commit: "998768faaaed322e6e2617a1e8fdad1a8b7b3f87",
        tag: "v0.2.0",
        jobs: [STABLE, STABLE, NIGHTLY],
        want: [
            "skip: this is a tag build, not a build of `master`",
            "publish",
            PR,
            "skip: this is a tag build, not a build of `master`",
        ],
        why: "`on.repo` is this repository (script.rb:117-118), `on.branch: master` (121-127)",
    },
    Real {
        repo: "jyn514/saltwater",
        commit: "2dc2ec5b8f3435a23a237e633713186a5b6de7e9",
        tag: "0.3.0",
        jobs: [STABLE, STABLE, NIGHTLY],
        want: [
            "publish",
            NOT_TAGGED,
            PR,
            "skip: `on.condition` `[[ $TRAVIS_RUST_VERSION = stable ]]` did not hold",
        ],
        why: "deploy entry #2, every job: `tags: true` lifts the branch rule (script.rb:122, \
              130-135), `condition` on the job's TRAVIS_RUST_VERSION (137-139)",
    },
    Real {
        repo: "jyn514/saltwater",
        commit: "5d0521c7c91bee8936c9d30cf398ee3306143ab8",
        tag: "0.11.0",
        jobs: [STABLE, STABLE, NIGHTLY],
        want: [
            "publish",
            NOT_TAGGED,
            PR,
            "skip: `on.condition` `[[ $TRAVIS_RUST_VERSION = stable ]]` did not hold",
        ],
        why: "as before",
    },
    Real {
        repo: "rossmacarthur/sheldon",
        commit: "6c4d8b85a42c75640dc64570e9842884cccb0171",
        tag: "0.5.0",
        jobs: [SHELDON_PUBLISH, SHELDON_PUBLISH, SHELDON_NIGHTLY],
        want: [
            "publish",
            NOT_TAGGED,
            PR,
            "skip: `on.condition` `[[ $PUBLISH = true ]]` did not hold",
        ],
        why: "every job of matrix.include; `condition: $PUBLISH = true`, set in one job's env \
              (script.rb:137-139), `tags: true` (130-135)",
    },
    Real {
        repo: "rossmacarthur/sheldon",
        commit: "81f8caf22ea4f41adb0ecbf1179bc09592ad8655",
        tag: "0.5.3",
        jobs: [SHELDON_PUBLISH, SHELDON_PUBLISH, SHELDON_NIGHTLY],
        want: [
            "publish",
            NOT_TAGGED,
            PR,
            "skip: `on.condition` `[[ $PUBLISH = true ]]` did not hold",
        ],
        why: "as before",
    },
    Real {
        repo: "Metaswitch/floki",
        commit: "49393164d23ac8e48490279d31c242fbf88c8ba9",
        tag: "0.1.0",
        jobs: [STABLE, STABLE, NIGHTLY],
        want: [
            "publish",
            NOT_TAGGED,
            PR,
            "skip: this is not on the required runtime",
        ],
        why: "deploy entry #2, `on.rust: stable` against TRAVIS_RUST_VERSION (script.rb:141-143)",
    },
    Real {
        repo: "Metaswitch/floki",
        commit: "b05ddf055e0f87809ef23c86d560c2d4c9fcd76e",
        tag: "2.4.3",
        jobs: [DEPLOY_STAGE, TEST_STABLE, TEST_NIGHTLY],
        want: [
            "publish | `on.os` is ignored",
            "skip: Travis would not have built branch `master`",
            PR,
            ANOTHER,
        ],
        why: "jobs.include #3 (`stage: Deploy`, rust stable, the root's first os) holds the \
              deploy; `on.os` accepted by travis-yml (deploy.rb:78), never checked (script.rb:\
              103-110); `branches.only` lists no master, and `/^\\d+\\.\\d+\\.\\d+$/` lets the tag through",
    },
    Real {
        repo: "sjparkinson/vdot",
        commit: "abaca4773c109354d3def785e931a8595189570f",
        tag: "v0.1.0",
        jobs: [VDOT_LINUX, VDOT_LINUX, VDOT_OSX],
        want: [
            "publish",
            NOT_TAGGED,
            PR,
            "skip: `on.condition` `[[ $TARGET = x86_64-unknown-linux-musl ]]` did not hold",
        ],
        why: "no nightly job: the osx one; `condition` on the job's TARGET (script.rb:137-139)",
    },
    Real {
        repo: "sjparkinson/vdot",
        commit: "82ad9d127a9970dbeda574aa869eeaa1b34e1772",
        tag: "v0.4.0",
        jobs: [VDOT_LINUX, VDOT_LINUX, VDOT_OSX],
        want: [
            "publish",
            NOT_TAGGED,
            PR,
            "skip: `on.condition` `[[ $TRAVIS_OS_NAME = linux ]]` did not hold",
        ],
        why: "no nightly job: the osx one; `condition` on TRAVIS_OS_NAME (script.rb:137-139)",
    },
];

/// The Travis build `build` of `real`, in the job `job`.
pub fn travis_env(real: &Real, build: &str, job: Job) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = build_env(build)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    env.push(("TRAVIS_REPO_SLUG".into(), real.repo.into()));
    // The project's tag names its version, not the test crate's (widget 1.0.0).
    env.push(("SHIPCRATE_CHECK_TAG".into(), "false".into()));
    env.extend(job.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    env
}

#[cargo_test]
fn real_travis_files_decide_as_travis_did() {
    assert!(REAL.len() >= 15, "{} real files", REAL.len());
    let _registry = crates_io_stand_in();
    let repo = Repo::with_crate("widget", "1.0.0")
        .file(".travis.yml", "")
        .commit("travis");
    let (mut published, mut skipped) = (0, 0);
    for real in REAL {
        std::fs::write(repo.root.join(".travis.yml"), real.text()).unwrap();
        for ((build, job), want) in real.builds().iter().zip(real.want) {
            let what = format!(
                "{}@{} ({build}; {})",
                real.repo,
                &real.commit[..12],
                real.why
            );
            let mut run = repo.shipcrate().arg("explain");
            for (k, v) in travis_env(real, build, job) {
                run = run.env(&k, &v);
            }
            check(&what, &run.run(), want);
            if want.starts_with("publish") {
                published += 1;
            } else {
                skipped += 1;
            }
        }
    }
    eprintln!(
        "{} real files: {published} builds published, {skipped} skipped",
        REAL.len()
    );
}

//! Real releases, published as a CI tag build publishes them, checked against an oracle
//! nobody here wrote: the `.crate` files crates.io serves for those releases.
//!
//! The corpus (`../shared/corpus`, or `SHIPCRATE_CORPUS`) holds rayon, anyhow and regex at
//! their release tags and crates.io's files for every crate of those releases. Each case
//! clones the repository once, then as CI does (`git clone --depth 1 --branch <tag>`, a
//! detached, shallow HEAD), configures shipcrate through the environment only, and publishes
//! to a fresh loopback registry. The verify builds are real builds; the crates' own
//! dependencies come from crates.io, as cargo resolves them. The cases run one at a time,
//! sharing one target dir, so each build after the first is warm. A plain `cargo test`
//! ignores them (they take minutes and need the corpus); CI runs them with
//! `--include-ignored`, and they fail, naming the corpus, when it is missing.
//!
//! `tests/data` holds more, in this repository: clap `v4.6.6` (a release on top of members
//! released earlier, one of which cargo can't package at the tag) and crates.io's `mycrate`
//! 0.1.0 (the name `cargo new mycrate` meets; that case builds nothing, so a plain `cargo
//! test` runs it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use cargo_test_support::registry::TestRegistry;

use crate::support::*;

/// crates.io's index, as a dependency's `registry` in another registry's index names it.
const CRATES_IO_INDEX: &str = "https://github.com/rust-lang/crates.io-index";

/// One release of the corpus.
struct Release {
    /// How the corpus holds it: a bundle, or a tarball of a shallow clone (with its dir).
    source: Source,
    slug: &'static str,
    tag: &'static str,
    commit: &'static str,
    /// Every crate of the release that may go to a registry, with its version (the
    /// corpus's table; crates.io has a `.crate` for each).
    crates: &'static [(&'static str, &'static str)],
    /// Members that must be skipped, with the reason shipcrate gives.
    skipped: &'static [(&'static str, &'static str)],
    /// A consumer's `main.rs` using the top crate, and what it prints.
    consumer: (&'static str, &'static str, &'static str),
}

enum Source {
    Bundle(&'static str),
    Tarball(&'static str, &'static str),
    /// Kept in this repository, in `tests/data/<dir>`: a tarball (with its dir) and
    /// crates.io's `.crate` files beside it.
    InRepo {
        dir: &'static str,
        tarball: &'static str,
        inner: &'static str,
    },
}

const RAYON: Release = Release {
    source: Source::Bundle("rayon-v1.12.0.bundle"),
    slug: "rayon-rs/rayon",
    tag: "v1.12.0",
    commit: "c9ced185ae3508246a9eb70c8407a1199bb1b77f",
    crates: &[("rayon", "1.12.0"), ("rayon-core", "1.13.0")],
    skipped: &[("rayon-demo", "publish = false")],
    consumer: (
        "rayon",
        "use rayon::prelude::*;\nfn main() { println!(\"{}\", (1..=100u64).into_par_iter().sum::<u64>()); }\n",
        "5050",
    ),
};

const ANYHOW: Release = Release {
    source: Source::Bundle("anyhow-1.0.104.bundle"),
    slug: "dtolnay/anyhow",
    tag: "1.0.104",
    commit: "1dbe1862aae650423e3361fbd20b7d17c5109cc3",
    crates: &[("anyhow", "1.0.104")],
    skipped: &[],
    consumer: (
        "anyhow",
        "fn main() { let e: anyhow::Error = anyhow::anyhow!(\"it {}\", \"works\"); println!(\"{e}\"); }\n",
        "it works",
    ),
};

const REGEX: Release = Release {
    source: Source::Tarball("regex-1.13.1-shallow.tar.gz", "regex-shallow"),
    slug: "rust-lang/regex",
    tag: "1.13.1",
    commit: "2b527599eb9eea0dcc288c704584f242f26a5c61",
    crates: &[
        ("regex", "1.13.1"),
        ("regex-automata", "0.4.16"),
        ("regex-cli", "0.2.3"),
        ("regex-lite", "0.1.9"),
        ("regex-syntax", "0.8.11"),
        ("regex-test", "0.1.1"),
        ("rure", "0.2.5"),
    ],
    skipped: &[],
    consumer: (
        "regex",
        "fn main() { let re = regex::Regex::new(r\"(\\d+)-(\\d+)\").unwrap(); println!(\"{}\", &re.captures(\"on 2026-11\").unwrap()[2]); }\n",
        "11",
    ),
};

/// A release on top of the registry's history, kept in this repository: the tag's commit
/// released `clap`, `clap_builder` and `clap_mangen`; the other four members went to crates.io
/// from earlier commits, and cargo can't package one of them at this one.
const CLAP: Release = Release {
    source: Source::InRepo {
        dir: "clap-v4.6.6",
        tarball: "clap-v4.6.6-shallow.git.tar.gz",
        inner: "clap.git",
    },
    slug: "clap-rs/clap",
    tag: "v4.6.6",
    commit: "4a622b4340d5e1fffff60c0ecefdc6882f738159",
    crates: &[
        ("clap", "4.6.6"),
        ("clap_builder", "4.6.6"),
        ("clap_mangen", "0.3.2"),
        ("clap_derive", "4.6.4"),
        ("clap_lex", "1.1.0"),
        ("clap_complete", "4.6.9"),
        ("clap_complete_nushell", "4.6.1"),
    ],
    skipped: &[("clap_bench", "publish = false")],
    consumer: (
        "clap",
        "fn main() { let m = clap::Command::new(\"c\").arg(clap::Arg::new(\"n\")).get_matches_from([\"c\", \"42\"]); println!(\"{}\", m.get_one::<String>(\"n\").unwrap()); }\n",
        "42",
    ),
};

/// A workspace released one crate at a time, each under a tag `<crate>-<version>`, kept in
/// this repository: the tag `tower-0.5.3` released `tower` alone. The other members went to
/// crates.io from earlier commits (their files: [`TOWER_EARLIER`]), and `tower-test` is 0.4.1
/// in the tree, a version crates.io has never had.
const TOWER: Release = Release {
    source: Source::InRepo {
        dir: "tower-0.5.3",
        tarball: "tower-0.5.3-shallow.tar.gz",
        inner: "tower-shallow",
    },
    slug: "tower-rs/tower",
    tag: "tower-0.5.3",
    commit: "4b0a6b0e688bd177eb2c9c97f5268dd9703c66fc",
    crates: &[("tower", "0.5.3")],
    skipped: &[],
    consumer: (
        "tower",
        "struct Double;\nimpl<S> tower::Layer<S> for Double { type Service = (S, u32); fn layer(&self, s: S) -> (S, u32) { (s, 2) } }\nfn main() { let (_, n) = tower::ServiceBuilder::new().layer(Double).service(()); println!(\"{}\", n * 21); }\n",
        "42",
    ),
};

/// What crates.io had of tower's members when `tower-0.5.3` was released (tower's own
/// release before it included), as `tests/data/tower-0.5.3` keeps crates.io's files.
const TOWER_EARLIER: [(&str, &str); 4] = [
    ("tower", "0.5.2"),
    ("tower-layer", "0.3.3"),
    ("tower-service", "0.3.3"),
    ("tower-test", "0.4.0"),
];

/// The corpus directory; a test that needs it and can't find it fails, naming it.
fn corpus() -> PathBuf {
    let dir = std::env::var_os("SHIPCRATE_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
        PathBuf::from,
    );
    assert!(
        dir.join("crates-io").is_dir(),
        "the corpus is missing: no `{}/crates-io` (set SHIPCRATE_CORPUS to its directory)",
        dir.display()
    );
    dir
}

/// `tests/data/<dir>`, real material kept in this repository (see its README).
fn data(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir)
}

/// One case at a time: they share the target dir, and two would only fight for the cores.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The target dir all corpus cases share, outside every test's sandbox.
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-target")
}

/// `git` outside the sandbox's fixtures, for the upstream clones.
#[track_caller]
fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Release {
    /// The repository as the corpus holds it, cloned or unpacked once per test process
    /// (reused across runs when it still has the tag at the right commit).
    fn upstream(&self) -> PathBuf {
        static MADE: OnceLock<Mutex<BTreeMap<&'static str, PathBuf>>> = OnceLock::new();
        let made = MADE.get_or_init(|| Mutex::new(BTreeMap::new()));
        let mut made = made.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = made.get(self.slug) {
            return dir.clone();
        }
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-upstream");
        let name = self.slug.replace('/', "-");
        let dir = base.join(&name);
        let good = Command::new("git")
            .args(["rev-parse", &format!("{}^{{commit}}", self.tag)])
            .current_dir(&dir)
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == self.commit
            });
        if !good {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&base).unwrap();
            match self.source {
                Source::Bundle(file) => {
                    let bundle = corpus().join(file);
                    assert!(bundle.is_file(), "the corpus lacks `{}`", bundle.display());
                    run_git(
                        &base,
                        &[
                            "clone",
                            "--quiet",
                            "--no-checkout",
                            bundle.to_str().unwrap(),
                            &name,
                        ],
                    );
                }
                Source::Tarball(..) | Source::InRepo { .. } => {
                    let (tarball, inner) = match self.source {
                        Source::InRepo {
                            dir,
                            tarball,
                            inner,
                        } => (data(dir).join(tarball), inner),
                        Source::Tarball(file, inner) => (corpus().join(file), inner),
                        Source::Bundle(_) => unreachable!(),
                    };
                    assert!(
                        tarball.is_file(),
                        "the corpus lacks `{}`",
                        tarball.display()
                    );
                    let unpack = base.join(format!("{name}.unpack"));
                    let _ = std::fs::remove_dir_all(&unpack);
                    std::fs::create_dir_all(&unpack).unwrap();
                    let status = Command::new("tar")
                        .arg("-xzf")
                        .arg(&tarball)
                        .current_dir(&unpack)
                        .status()
                        .unwrap();
                    assert!(
                        status.success(),
                        "tar could not unpack `{}`",
                        tarball.display()
                    );
                    std::fs::rename(unpack.join(inner), &dir).unwrap();
                    std::fs::remove_dir_all(&unpack).unwrap();
                }
            }
            let commit = run_git(&dir, &["rev-parse", &format!("{}^{{commit}}", self.tag)]);
            assert_eq!(commit, self.commit, "the corpus's tag {} moved", self.tag);
        }
        made.insert(self.slug, dir.clone());
        dir
    }

    /// A checkout as CI makes one: a shallow clone of the tag, detached.
    fn checkout(&self) -> Repo {
        let root = paths::root().join("repo");
        let url = format!("file://{}", self.upstream().display());
        git(
            &paths::root(),
            &[
                "clone",
                "--quiet",
                "--depth",
                "1",
                "--branch",
                self.tag,
                &url,
                root.to_str().unwrap(),
            ],
        );
        let repo = Repo { root };
        assert_eq!(repo.head(), self.commit);
        assert_eq!(repo.git(&["rev-parse", "--is-shallow-repository"]), "true");
        repo
    }

    /// shipcrate in a GitHub Actions tag build, configured by the environment alone,
    /// publishing to the test registry with the shared target dir.
    fn tag_build(&self, repo: &Repo) -> Run {
        let outputs = paths::root().join("github-output");
        repo.shipcrate()
            .registry_target()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_REF", &format!("refs/tags/{}", self.tag))
            .env("GITHUB_REF_NAME", self.tag)
            .env("GITHUB_REF_TYPE", "tag")
            .env("GITHUB_SHA", self.commit)
            .env("GITHUB_REPOSITORY", self.slug)
            .env("GITHUB_OUTPUT", outputs.to_str().unwrap())
            .env("SHIPCRATE_ON__TAGS", "true")
            .env("CARGO_TARGET_DIR", shared_target().to_str().unwrap())
    }

    /// crates.io's own file for `name`.
    fn crates_io(&self, name: &str) -> Crate {
        Crate::read(&self.crates_io_bytes(name))
    }

    /// crates.io's own file for `name`, as it is.
    fn crates_io_bytes(&self, name: &str) -> Vec<u8> {
        let (_, version) = self.crates.iter().find(|(n, _)| *n == name).unwrap();
        let file = format!("{name}-{version}.crate");
        let path = match self.source {
            Source::InRepo { dir, .. } => data(dir).join(file),
            _ => corpus().join("crates-io").join(file),
        };
        assert!(path.is_file(), "the corpus lacks `{}`", path.display());
        std::fs::read(path).unwrap()
    }
}

/// A `.crate` unpacked: path below `name-version/` → bytes.
struct Crate(BTreeMap<String, Vec<u8>>);

impl Crate {
    fn read(bytes: &[u8]) -> Crate {
        Crate(shipcrate::compare::read_crate(bytes).unwrap())
    }

    /// `(sha1, path_in_vcs)` of `.cargo_vcs_info.json`.
    fn vcs_info(&self) -> (String, String) {
        let json: serde_json::Value =
            serde_json::from_slice(&self.0[".cargo_vcs_info.json"]).unwrap();
        (
            json["git"]["sha1"].as_str().unwrap().to_owned(),
            json["path_in_vcs"].as_str().unwrap().to_owned(),
        )
    }

    fn manifest(&self) -> toml::Table {
        toml::from_str(std::str::from_utf8(&self.0["Cargo.toml"]).unwrap()).unwrap()
    }
}

/// The `.crate` the test registry received for `name` `version`.
fn uploaded(name: &str, version: &str) -> Crate {
    let path = paths::root()
        .join("alternative-dl")
        .join(name)
        .join(version)
        .join("download");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("no upload of {name} {version} at `{}`: {e}", path.display()));
    Crate::read(&bytes)
}

/// Every crate went out after the crates of this upload it depends on (normal and build
/// dependencies, read from the registry's own index).
#[track_caller]
fn assert_valid_order(order: &[String]) {
    for (i, name) in order.iter().enumerate() {
        for entry in index_entries(name) {
            for dep in entry["deps"].as_array().unwrap() {
                let dep_name = dep["package"].as_str().or(dep["name"].as_str()).unwrap();
                if dep["kind"] != "dev" && order.iter().any(|o| o == dep_name) {
                    assert!(
                        order[..i].iter().any(|o| o == dep_name),
                        "{name} was uploaded before its dependency {dep_name}: {order:?}"
                    );
                }
            }
        }
    }
}

/// The uploaded file against crates.io's, when crates.io's was made from this commit: the
/// same file list, the same bytes in every file but the two cargo generates, the same
/// commit and path in `.cargo_vcs_info.json`.
#[track_caller]
fn assert_same_as_crates_io(release: &Release, name: &str, version: &str) -> bool {
    let theirs = release.crates_io(name);
    if theirs.vcs_info().0 != release.commit {
        return false;
    }
    let ours = uploaded(name, version);
    let list = |c: &Crate| c.0.keys().cloned().collect::<Vec<_>>();
    assert_eq!(list(&ours), list(&theirs), "{name}: the file lists differ");
    let differing: Vec<&String> = theirs
        .0
        .iter()
        .filter(|(path, _)| {
            !["Cargo.toml", "Cargo.lock", ".cargo_vcs_info.json"].contains(&path.as_str())
        })
        .filter(|(path, bytes)| ours.0.get(*path) != Some(bytes))
        .map(|(path, _)| path)
        .collect();
    assert!(
        differing.is_empty(),
        "{name}: these files differ from crates.io's: {differing:?}"
    );
    assert_eq!(
        ours.vcs_info(),
        theirs.vcs_info(),
        "{name}: .cargo_vcs_info.json"
    );
    true
}

/// A crate using `name` from the test registry, built with a `CARGO_HOME` that holds only
/// that registry's name (its other dependencies come from crates.io); what it prints.
fn consume_release(registry: &TestRegistry, release: &Release) {
    let (name, main, expected) = release.consumer;
    let version = release.crates.iter().find(|(n, _)| *n == name).unwrap().1;
    let printed = run_consumer(
        (registry.index_url().as_str(), "alternative"),
        (name, version),
        main,
        &shared_target(),
    );
    assert_eq!(printed.trim(), expected);
    let root = paths::root().join("consumer");
    // It really took the crate from the test registry.
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    let source = registry.index_url().to_string();
    assert!(
        lock.contains(&format!(
            "name = \"{name}\"\nversion = \"{version}\"\nsource = \"{source}\""
        )),
        "{lock}"
    );
}

/// Item 2 for one release: a tag build publishes every crate, as crates.io has them; a
/// re-run uploads nothing; a consumer builds. Returns the crates compared byte for byte.
fn release_reproduces_crates_io(release: &Release) -> Vec<&'static str> {
    let registry = registry();
    let _one = one_at_a_time();
    let repo = release.checkout();
    let before = repo.snapshot();
    let out = release.tag_build(&repo).run().success();
    let order = uploads(&out.stderr);
    let want: BTreeSet<&str> = release.crates.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        order.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        want,
        "{}",
        out.both()
    );
    assert_eq!(order.len(), want.len(), "a crate went up twice: {order:?}");
    assert_valid_order(&order);
    for (name, why) in release.skipped {
        assert!(out.stderr.contains(&format!("{name} v")), "{}", out.both());
        assert!(
            out.stderr.contains(&format!(": skip: {why}")),
            "{}",
            out.both()
        );
    }
    let mut compared = Vec::new();
    for (name, version) in release.crates {
        let entries = index_entries(name);
        assert_eq!(entries.len(), 1, "{name}: {entries:?}");
        assert_eq!(entries[0]["vers"], *version);
        if assert_same_as_crates_io(release, name, version) {
            compared.push(*name);
        }
    }
    repo.assert_unchanged(&before);

    // The same build again (a re-run, another job of a matrix): nothing goes up, exit 0.
    let again = release
        .tag_build(&repo)
        .env("SHIPCRATE_BEFORE_DEPLOY", "touch hook-ran")
        .run()
        .success()
        .stderr_has("nothing to upload");
    assert!(uploads(&again.stderr).is_empty(), "{}", again.both());
    assert!(!repo.root.join("hook-ran").exists());
    for (name, _) in release.crates {
        assert_eq!(index_entries(name).len(), 1, "{name}");
    }

    consume_release(&registry, release);
    compared
}

#[cargo_test]
#[ignore = "needs the corpus: ../shared/corpus, or SHIPCRATE_CORPUS naming it"]
fn rayon_v1_12_0_publishes_rayon_core_and_rayon_as_crates_io_has_them() {
    let compared = release_reproduces_crates_io(&RAYON);
    // rayon-core 1.13.0 went to crates.io from an earlier commit; rayon from this one.
    assert_eq!(compared, ["rayon"]);
}

#[cargo_test]
#[ignore = "needs the corpus: ../shared/corpus, or SHIPCRATE_CORPUS naming it"]
fn anyhow_1_0_104_publishes_as_crates_io_has_it() {
    assert_eq!(release_reproduces_crates_io(&ANYHOW), ["anyhow"]);
}

#[cargo_test]
#[ignore = "needs the corpus: ../shared/corpus, or SHIPCRATE_CORPUS naming it"]
fn regex_1_13_1_publishes_all_seven_crates_as_crates_io_has_them() {
    assert_eq!(release_reproduces_crates_io(&REGEX), ["regex"]);
}

/// Upload `file` (a crates.io `.crate`) to the test registry as it is, through the
/// registry's publish API, with the metadata its normalized `Cargo.toml` gives; every
/// dependency stays a crates.io dependency, as it is on crates.io.
fn upload_as_is(registry: &TestRegistry, file: &Crate, bytes: &[u8]) {
    let manifest = file.manifest();
    let package = manifest["package"].as_table().unwrap();
    let text = |key: &str| package.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let mut deps = Vec::new();
    let mut add = |table: Option<&toml::Value>, kind: &str, target: Option<&str>| {
        for (name, spec) in table.and_then(|t| t.as_table()).into_iter().flatten() {
            let (req, spec) = match spec {
                toml::Value::String(req) => (req.clone(), toml::Table::new()),
                toml::Value::Table(t) => (
                    t.get("version")
                        .and_then(|v| v.as_str())
                        .unwrap_or("*")
                        .to_owned(),
                    t.clone(),
                ),
                other => panic!("{name} = {other}"),
            };
            let real = spec.get("package").and_then(|v| v.as_str());
            deps.push(serde_json::json!({
                "name": real.unwrap_or(name),
                "version_req": req,
                "features": spec.get("features").cloned().unwrap_or(toml::Value::Array(vec![])),
                "optional": spec.get("optional").and_then(|v| v.as_bool()).unwrap_or(false),
                "default_features": spec.get("default-features").and_then(|v| v.as_bool()).unwrap_or(true),
                "target": target,
                "kind": kind,
                "registry": CRATES_IO_INDEX,
                "explicit_name_in_toml": real.map(|_| name.clone()),
            }));
        }
    };
    let kinds = [
        ("dependencies", "normal"),
        ("build-dependencies", "build"),
        ("dev-dependencies", "dev"),
    ];
    for (key, kind) in kinds {
        add(manifest.get(key), kind, None);
    }
    for (target, table) in manifest
        .get("target")
        .and_then(|t| t.as_table())
        .into_iter()
        .flatten()
    {
        for (key, kind) in kinds {
            add(table.get(key), kind, Some(target));
        }
    }
    let metadata = serde_json::json!({
        "name": text("name"),
        "vers": text("version"),
        "deps": deps,
        "features": manifest.get("features").cloned().unwrap_or(toml::Value::Table(toml::map::Map::default())),
        "authors": package.get("authors").cloned().unwrap_or(toml::Value::Array(vec![])),
        "description": text("description"),
        "documentation": text("documentation"),
        "homepage": text("homepage"),
        "readme": null,
        "readme_file": text("readme"),
        "keywords": package.get("keywords").cloned().unwrap_or(toml::Value::Array(vec![])),
        "categories": package.get("categories").cloned().unwrap_or(toml::Value::Array(vec![])),
        "license": text("license"),
        "license_file": text("license-file"),
        "repository": text("repository"),
        "badges": {},
        "links": text("links"),
        "rust_version": text("rust-version"),
    });
    let json = serde_json::to_vec(&metadata).unwrap();
    let mut body = Vec::new();
    body.extend(u32::try_from(json.len()).unwrap().to_le_bytes());
    body.extend(&json);
    body.extend(u32::try_from(bytes.len()).unwrap().to_le_bytes());
    body.extend(bytes);
    let url = format!("{}api/v1/crates/new", registry.api_url());
    let answer = ureq::put(&url)
        .header("Authorization", TOKEN)
        .send(&body[..])
        .unwrap_or_else(|e| panic!("the registry refused {}: {e}", text("name").unwrap()));
    assert_eq!(answer.status(), 200);
}

#[cargo_test]
#[ignore = "needs the corpus: ../shared/corpus, or SHIPCRATE_CORPUS naming it"]
fn regex_1_13_1_on_top_of_its_history_uploads_regex_alone_and_names_what_differs() {
    let registry = registry();
    let _one = one_at_a_time();
    let release = &REGEX;
    // The registry holds crates.io's own files for every member's version, as crates.io
    // did when regex 1.13.1 was released.
    for (name, version) in release.crates.iter().filter(|(n, _)| *n != "regex") {
        let path = corpus().join(format!("crates-io/{name}-{version}.crate"));
        let bytes = std::fs::read(&path).unwrap();
        upload_as_is(&registry, &Crate::read(&bytes), &bytes);
        assert_eq!(index_entries(name).len(), 1, "{name} was not taken");
    }
    let repo = release.checkout();
    let report = paths::root().join("report.json");
    let out = release
        .tag_build(&repo)
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success();
    assert_eq!(uploads(&out.stderr), ["regex"], "{}", out.both());
    assert!(assert_same_as_crates_io(release, "regex", "1.13.1"));

    // The members that changed since their release are named with their files, on stderr
    // and as GitHub warnings; the ones that didn't are not.
    let differ = [
        ("regex-syntax", "0.8.11", "src/hir/mod.rs"),
        ("regex-lite", "0.1.9", "src/lib.rs"),
        ("regex-test", "0.1.1", "lib.rs"),
    ];
    for (name, version, file) in differ {
        let line = out
            .stderr
            .lines()
            .find(|l| l.starts_with(&format!("warning: {name}@{version} is already published")))
            .unwrap_or_else(|| panic!("no warning for {name}\n{}", out.both()));
        assert!(line.contains(file), "{line}");
        assert!(
            out.stdout
                .contains(&format!("::warning::{name}@{version} is already published")),
            "{}",
            out.both()
        );
    }
    for same in ["regex-automata", "regex-cli", "rure"] {
        assert!(
            !out.stderr.contains(&format!("warning: {same}@")),
            "{}",
            out.both()
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let reason = |name: &str| {
        json["crates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in the report: {json}"))["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(reason("regex-syntax").contains("src/hir/mod.rs"), "{json}");
    assert_eq!(reason("regex-automata"), "the same files as this commit");

    // `checksum_mismatch: fail`: the same build refuses, naming a member and its files.
    release
        .tag_build(&repo)
        .env("SHIPCRATE_CHECKSUM_MISMATCH", "fail")
        .run()
        .code(1)
        .stderr_has("is already published, but the commit's content differs");
}

#[cargo_test]
#[ignore = "needs crates.io's index and downloads for clap's dependencies (tests/data/clap-v4.6.6 holds the rest)"]
fn clap_v4_6_6_on_top_of_its_history_uploads_the_tags_crates_and_names_the_rest() {
    let registry = registry();
    let _one = one_at_a_time();
    let release = &CLAP;
    let earlier = [
        "clap_derive",
        "clap_lex",
        "clap_complete",
        "clap_complete_nushell",
    ];
    for name in earlier {
        let bytes = release.crates_io_bytes(name);
        upload_as_is(&registry, &Crate::read(&bytes), &bytes);
        assert_eq!(index_entries(name).len(), 1, "{name} was not taken");
    }
    let repo = release.checkout();
    let report = paths::root().join("report.json");
    let out = release
        .tag_build(&repo)
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success()
        .stderr_has("clap_bench v0.0.0: skip: publish = false");

    // The tag's three crates go up, in an order their registry entries allow, each as
    // crates.io has it (crates.io's copies were packaged from this very commit).
    let order = uploads(&out.stderr);
    assert_eq!(
        order.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(["clap", "clap_builder", "clap_mangen"]),
        "{}",
        out.both()
    );
    assert_eq!(order.len(), 3, "{order:?}");
    assert_valid_order(&order);
    for (name, version) in &release.crates[..3] {
        assert!(assert_same_as_crates_io(release, name, version), "{name}");
    }
    for name in earlier {
        assert_eq!(index_entries(name).len(), 1, "{name} went up again");
    }

    // clap_complete changed without a bump (its requirement on clap); clap_complete_nushell
    // can't be packaged to compare (cargo's resolver, see the data's README): both named,
    // on stderr and as GitHub warnings; the two that are unchanged are not.
    out.stderr_has(
        "warning: clap_complete@4.6.9 is already published, but the commit's content \
         differs: Cargo.toml.orig",
    )
    .stderr_has(
        "warning: could not package clap_complete_nushell@4.6.1 to compare it with the \
         published copy: error: failed to prepare local package for uploading",
    )
    .stderr_has("failed to select a version for `clap`")
    .stderr_has("it is not being released, so this does not block the release")
    .stdout_has("::warning::clap_complete@4.6.9 is already published")
    .stdout_has("::warning::could not package clap_complete_nushell@4.6.1")
    .lacks("warning: clap_derive@")
    .lacks("warning: clap_lex@");
    let outcome = |name: &str| {
        let entry = reported_crate(&report, name);
        (
            entry["outcome"].as_str().unwrap().to_owned(),
            entry["reason"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(outcome("clap").0, "published");
    assert_eq!(
        outcome("clap_derive"),
        (
            "already-published".into(),
            "the same files as this commit".into()
        )
    );
    let (nushell, why) = outcome("clap_complete_nushell");
    assert_eq!(nushell, "already-published");
    assert!(why.starts_with("not compared: could not package"), "{why}");
    assert!(outcome("clap_complete").1.contains("Cargo.toml.orig"));
    consume_release(&registry, release);
}

#[cargo_test]
#[ignore = "needs crates.io's index and downloads for tower's dependencies (tests/data/tower-0.5.3 holds the rest)"]
fn tower_0_5_3_on_top_of_its_history_uploads_tower_alone_as_crates_io_has_it() {
    let registry = registry();
    let _one = one_at_a_time();
    let release = &TOWER;
    // The registry holds crates.io's own files of what was released before, as they are.
    for (name, version) in TOWER_EARLIER {
        let path = data("tower-0.5.3").join(format!("{name}-{version}.crate"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("no `{}`: {e}", path.display()));
        upload_as_is(&registry, &Crate::read(&bytes), &bytes);
        assert!(
            index_entries(name).iter().any(|e| e["vers"] == version),
            "{name} {version} was not taken"
        );
    }
    let repo = release.checkout();

    // `check_tag: false` turns the tag's checks off, not its choice of crate: tower-test
    // 0.4.1, a version its maintainers never released, stays out.
    release
        .tag_build(&repo)
        .arg("explain")
        .env("SHIPCRATE_CHECK_TAG", "false")
        .run()
        .success()
        .stdout_has("tower-test v0.4.1: skip: tag `tower-0.5.3` names another crate")
        .stdout_has("tower v0.5.3: publish");

    let report = paths::root().join("report.json");
    let out = release
        .tag_build(&repo)
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success();
    assert_eq!(uploads(&out.stderr), ["tower"], "{}", out.both());
    for other in [
        "tower-layer v0.3.3",
        "tower-service v0.3.3",
        "tower-test v0.4.1",
    ] {
        let skip = format!("{other}: skip: tag `tower-0.5.3` names another crate");
        assert!(out.stderr.contains(&skip), "{skip}\n{}", out.both());
    }
    assert!(!out.stderr.contains("first release"), "{}", out.both());
    assert!(assert_same_as_crates_io(release, "tower", "0.5.3"));
    let versions = |name: &str| -> Vec<String> {
        index_entries(name)
            .iter()
            .map(|e| e["vers"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(versions("tower"), ["0.5.2", "0.5.3"]);
    assert_eq!(versions("tower-test"), ["0.4.0"]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["first_releases"], serde_json::json!([]));
    consume_release(&registry, release);
}

/// The quick start tried as a new user would: `cargo new mycrate`, then the dry run, against
/// a registry holding crates.io's own `mycrate` 0.1.0 (tests/data/mycrate-0.1.0), someone
/// else's crate.
#[cargo_test]
fn cargo_new_mycrate_is_told_the_name_is_taken_not_to_bump_the_version() {
    let registry = registry();
    let file = data("mycrate-0.1.0").join("mycrate-0.1.0.crate");
    let bytes = std::fs::read(&file).unwrap();
    upload_as_is(&registry, &Crate::read(&bytes), &bytes);
    let made = Command::new("cargo")
        .args(["new", "--vcs", "git", "mycrate"])
        .current_dir(paths::root())
        .env_clear()
        .envs(base_env())
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let repo = Repo {
        root: paths::root().join("mycrate"),
    }
    .commit("cargo new mycrate");
    repo.shipcrate()
        .registry_target()
        .arg("--dry-run")
        .arg("--on-all-branches")
        .run()
        .success()
        .stderr_has("the name `mycrate` is taken by another crate")
        .stderr_has(
            "Summary mycrate v0.1.0: already published (name taken by another crate: not one \
             of its files is this commit's)",
        )
        .lacks("bump the version in Cargo.toml");
}

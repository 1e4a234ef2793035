//! Workspaces, re-runs, tags that must match versions, and a registry that pushes back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use cargo_test_support::registry::{HttpServer, Request, Response};
use cargo_test_support::str;

use crate::support::*;

fn member(name: &str, deps: &str) -> String {
    format!("{}\n{deps}\n", manifest(name, "0.1.0"))
}

fn path_dep(name: &str) -> String {
    format!("{name} = {{ path = \"../{name}\", version = \"0.1.0\", registry = \"alternative\" }}")
}

/// base ← left, right ← top (a diamond); left needs right only under `cfg(any())`, which
/// still orders it; base dev-depends on top (a versioned cycle that must not block: as with
/// serde, an earlier release of top satisfies it, see `seed_earlier_top`); internal is
/// `publish = false`.
fn diamond() -> Repo {
    Repo::workspace(&["base", "left", "right", "top", "internal"])
        .file(".gitignore", "/target\n")
        .file(
            "base/Cargo.toml",
            &member(
                "base",
                "[dev-dependencies]\ntop = { path = \"../top\", version = \">=0.0.9\", registry = \"alternative\" }",
            ),
        )
        .file("base/src/lib.rs", "pub fn base() -> u32 { 40 }\n")
        .file("right/Cargo.toml", &member("right", &format!("[dependencies]\n{}", path_dep("base"))))
        .file("right/src/lib.rs", "pub fn right() -> u32 { base::base() + 1 }\n")
        .file(
            "left/Cargo.toml",
            &member("left", &format!("[dependencies]\n{}\n[target.'cfg(any())'.dependencies]\n{}", path_dep("base"), path_dep("right"))),
        )
        .file("left/src/lib.rs", "pub fn left() -> u32 { base::base() + 1 }\n")
        .file("top/Cargo.toml", &member("top", &format!("[dependencies]\n{}\n{}", path_dep("left"), path_dep("right"))))
        .file("top/src/lib.rs", "pub fn answer() -> u32 { left::left() + right::right() - 40 }\n")
        .file(
            "internal/Cargo.toml",
            &format!("{}publish = false\n\n[dependencies]\n{}\n", manifest("internal", "0.1.0"), path_dep("top")),
        )
        .file("internal/src/lib.rs", "")
        .commit("workspace")
}

/// An earlier release of `top` in the registry, as a real workspace with a dev-dependency
/// cycle has (cargo resolves dev-dependencies when it packages a crate).
fn seed_earlier_top() {
    cargo_test_support::registry::Package::new("top", "0.0.9")
        .alternative(true)
        .publish();
}

#[cargo_test]
fn a_workspace_publishes_in_dependency_order_and_a_consumer_builds() {
    let registry = registry();
    seed_earlier_top();
    let repo = diamond();
    let report = paths::root().join("report.json");
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success()
        .stderr_has("internal v0.1.0: skip: publish = false");
    assert_eq!(
        uploads(&out.stderr),
        ["base", "right", "left", "top"],
        "{}",
        out.both()
    );
    consume(&registry, "top", "0.1.0");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let outcome = |name: &str| {
        json["crates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["outcome"]
            .clone()
    };
    assert_eq!(outcome("top"), "published");
    assert_eq!(outcome("internal"), "skipped");

    // A re-run (or the second job of a matrix) uploads nothing and succeeds, without hooks.
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_BEFORE_DEPLOY", "touch hook-ran")
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success()
        .stderr_has("nothing to upload");
    assert!(uploads(&out.stderr).is_empty());
    assert!(!repo.root.join("hook-ran").exists());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        json["crates"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["outcome"] == "already-published")
            .count(),
        4
    );
}

#[cargo_test]
fn a_dry_run_verifies_the_whole_workspace_against_its_new_versions() {
    let _registry = registry();
    seed_earlier_top();
    let repo = diamond();
    // None of these is in the registry yet: each is verified against its siblings' sources.
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .env("SHIPCRATE_EXCLUDE", "internal")
        .run()
        .success()
        .stderr_has("internal v0.1.0: skip: not selected")
        .stderr_has("top v0.1.0: verified");
    assert!(index_entries("base").is_empty() && index_entries("right").is_empty());

    // Without the cycle, one multi-package dry run does it; an excluded, unpublished
    // dependency is then missing, and the dry run says so.
    let repo = repo
        .file("base/Cargo.toml", &member("base", ""))
        .commit("no dev-dependency cycle");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .env("SHIPCRATE_PACKAGES", "left\nright\ntop")
        .run()
        .code(1)
        .stderr_has("no matching package named `base` found");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .success()
        .stderr_has("right v0.1.0: verified");
}

#[cargo_test]
fn path_to_a_member_publishes_that_member_only() {
    let _registry = registry();
    seed_earlier_top();
    let repo = diamond();
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_PATH", "base")
        .run()
        .success();
    assert_eq!(uploads(&out.stderr), ["base"], "{}", out.both());
    // Only the seeded earlier release of top is there; no other member went out.
    let top: Vec<serde_json::Value> = index_entries("top")
        .into_iter()
        .map(|e| e["vers"].clone())
        .collect();
    assert_eq!(top, ["0.0.9"]);
    assert!(index_entries("right").is_empty() && index_entries("left").is_empty());
}

#[cargo_test]
fn a_cycle_through_normal_dependencies_is_named() {
    let _registry = registry();
    let repo = Repo::workspace(&["ping", "pong"])
        .file(
            "ping/Cargo.toml",
            &member("ping", &format!("[dependencies]\n{}", path_dep("pong"))),
        )
        .file("ping/src/lib.rs", "")
        .file(
            "pong/Cargo.toml",
            &member(
                "pong",
                &format!("[build-dependencies]\n{}", path_dep("ping")),
            ),
        )
        .file("pong/src/lib.rs", "")
        .commit("cycle");
    let out = repo.shipcrate().registry_target().run();
    // cargo itself may refuse the cycle first; either way it is named and nothing goes out.
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("cycle"), "{}", out.both());
    assert!(
        out.stderr.contains("ping") && out.stderr.contains("pong"),
        "{}",
        out.both()
    );
    assert!(index_entries("ping").is_empty() && index_entries("pong").is_empty());
}

/// `one` <- `two` <- `three`, with `two`'s body as given.
fn chain(two_body: &str) -> Repo {
    Repo::workspace(&["one", "two", "three"])
        .file(".gitignore", "/target\n")
        .file("one/Cargo.toml", &member("one", ""))
        .file("one/src/lib.rs", "pub fn one() -> u32 { 1 }\n")
        .file(
            "two/Cargo.toml",
            &member("two", &format!("[dependencies]\n{}", path_dep("one"))),
        )
        .file(
            "two/src/lib.rs",
            &format!("pub fn two() -> u32 {{ {two_body} }}\n"),
        )
        .file(
            "three/Cargo.toml",
            &member("three", &format!("[dependencies]\n{}", path_dep("two"))),
        )
        .file(
            "three/src/lib.rs",
            "pub fn three() -> u32 { two::two() + 1 }\npub fn answer() -> u32 { three() + 39 }\n",
        )
        .commit("one, two, three")
}

/// `(name, outcome)` of each crate in a JSON report.
fn reported(report: &std::path::Path) -> Vec<(String, String)> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    json["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The upload cargo of a run without `before_deploy` starts while the verification builds and
/// waits at shipcrate's gate (its credential provider): a crate that doesn't build refuses it.
#[cargo_test]
fn an_upload_held_at_the_gate_uploads_nothing_when_a_crate_does_not_build() {
    let _registry = registry();
    let repo = chain("one::one() + oops");
    let shims = shims();
    repo.shipcrate()
        .path_prefix(&shims)
        .registry_target()
        .run()
        .code(1)
        .stderr_has("two@0.1.0 failed to verify: nothing was uploaded")
        .lacks("Uploaded");
    for name in ["one", "two", "three"] {
        assert!(index_entries(name).is_empty(), "{name} was uploaded");
    }
    let held: Vec<Vec<String>> = shim_records(&shims)
        .into_iter()
        .filter(|(tool, argv, _)| {
            tool == "cargo"
                && argv.first().is_some_and(|a| a == "publish")
                && argv.iter().any(|a| a == "--no-verify")
        })
        .map(|(_, argv, _)| argv)
        .collect();
    assert_eq!(held.len(), 1, "one upload cargo was started: {held:?}");
    assert!(
        held[0].iter().any(|a| a.contains("credential-provider")),
        "held at the gate: {:?}",
        held[0]
    );
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

#[cargo_test]
fn a_crate_that_does_not_build_stops_the_run_before_any_hook_or_upload() {
    let registry = registry();
    let repo = chain("one::one() + oops");
    let report = paths::root().join("report.json");
    // A dry run says which crate broke: those before it verified, those after it unchecked.
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .code(1);
    assert_eq!(
        reported(&report),
        [
            ("one".into(), "verified".into()),
            ("two".into(), "failed".into()),
            ("three".into(), "not-started".into())
        ]
    );
    let hooked = paths::root().join("before-deploy-ran");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .env(
            "SHIPCRATE_BEFORE_DEPLOY",
            &format!("touch {}", hooked.display()),
        )
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
        Plan 3 crate(s) to upload, in this order:
             one v0.1.0: publish
             two v0.1.0: publish
             three v0.1.0: publish
        Note first release of `one`: the name is taken for good once uploaded
        Note first release of `two`: the name is taken for good once uploaded
        Note first release of `three`: the name is taken for good once uploaded
[VERIFYING] one@0.1.0, two@0.1.0, three@0.1.0 before uploading any
...
[SUMMARY] one v0.1.0: not started (two@0.1.0 failed to verify)
[SUMMARY] two v0.1.0: failed (error[E0425]: cannot find value `oops` in this scope[..])
[SUMMARY] three v0.1.0: not started (two@0.1.0 failed to verify)
[ERROR] two@0.1.0 failed to verify: nothing was uploaded; published: nothing; failed: two v0.1.0; not started: one v0.1.0, three v0.1.0

"#]]);
    // `one` builds, but publishing it alone would leave a release half done.
    for name in ["one", "two", "three"] {
        assert!(index_entries(name).is_empty(), "{name} was uploaded");
    }
    assert!(
        !hooked.exists(),
        "before_deploy ran for a run that uploads nothing"
    );
    assert_eq!(
        reported(&report),
        [
            ("one".into(), "not-started".into()),
            ("two".into(), "failed".into()),
            ("three".into(), "not-started".into())
        ]
    );

    let repo = repo
        .file("two/src/lib.rs", "pub fn two() -> u32 { one::one() + 1 }\n")
        .commit("fix two");
    let out = repo.shipcrate().registry_target().run().success();
    assert_eq!(
        uploads(&out.stderr),
        ["one", "two", "three"],
        "{}",
        out.both()
    );
    consume(&registry, "three", "0.1.0");
}

#[cargo_test]
fn an_upload_refused_midway_is_listed_and_a_rerun_publishes_only_the_rest() {
    // The registry refuses `two` (as a registry refuses a name it reserves) until told not to.
    let refuse = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let refusing = Arc::clone(&refuse);
    let _registry = answering_uploads(move |req, server| {
        let body = String::from_utf8_lossy(req.body.as_deref().unwrap_or_default());
        if refusing.load(std::sync::atomic::Ordering::SeqCst) && body.contains(r#""name":"two""#) {
            Response {
                code: 400,
                headers: vec![],
                body: br#"{"errors":[{"detail":"the name `two` is reserved"}]}"#.to_vec(),
            }
        } else {
            server.check_authorized_publish(req)
        }
    });
    let repo = chain("one::one() + 1");
    let report = paths::root().join("report.json");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
        Plan 3 crate(s) to upload, in this order:
             one v0.1.0: publish
             two v0.1.0: publish
             three v0.1.0: publish
        Note first release of `one`: the name is taken for good once uploaded
        Note first release of `two`: the name is taken for good once uploaded
        Note first release of `three`: the name is taken for good once uploaded
[VERIFYING] one@0.1.0, two@0.1.0, three@0.1.0 before uploading any
...
  Publishing one v0.1.0, two v0.1.0, three v0.1.0 to registry `alternative`
...
[SUMMARY] one v0.1.0: published
[SUMMARY] two v0.1.0: failed ([..]: the remote server responded with an error (status 400 Bad Request): the name `two` is reserved)
[SUMMARY] three v0.1.0: not started (publishing two@0.1.0 failed)
[ERROR] publishing two@0.1.0 failed; published: one v0.1.0; failed: two v0.1.0; not started: three v0.1.0

"#]]);
    assert_eq!(
        reported(&report),
        [
            ("one".into(), "published".into()),
            ("two".into(), "failed".into()),
            ("three".into(), "not-started".into())
        ]
    );

    refuse.store(false, std::sync::atomic::Ordering::SeqCst);
    let out = repo.shipcrate().registry_target().run().success();
    assert_eq!(uploads(&out.stderr), ["two", "three"], "{}", out.both());
    assert_eq!(index_entries("one").len(), 1);
}

#[cargo_test]
fn a_version_tag_must_match_a_crate_and_a_crate_tag_publishes_that_crate() {
    let _registry = registry();
    seed_earlier_top();
    let repo = diamond().tag("v9.9.9");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
[ERROR] tag `v9.9.9` is version 9.9.9, but no crate in the plan has that version (found: base@0.1.0, right@0.1.0, left@0.1.0, top@0.1.0). Was Cargo.toml bumped? Set `check_tag: false` if the tag is not a version

"#]]);
    assert!(index_entries("base").is_empty());
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .env("SHIPCRATE_CHECK_TAG", "false")
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .success();

    let repo = Repo {
        root: repo.root.clone(),
    };
    repo.git(&["tag", "-d", "v9.9.9"]);
    let repo = repo.tag("base-v0.1.0");
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .success();
    assert_eq!(uploads(&out.stderr), ["base"]);
    repo.git(&["tag", "-d", "base-v0.1.0"]);
    let repo = repo.tag("top-v0.2.0");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
[ERROR] tag `top-v0.2.0` asks for top 0.2.0, but its Cargo.toml says 0.1.0: bump the version (or move the tag) before publishing

"#]]);
}

#[cargo_test]
fn changed_content_without_a_version_bump_warns_or_fails_and_never_for_the_tagged_crate() {
    let _registry = registry();
    let repo = Repo::with_crate("samever", "1.0.0");
    repo.shipcrate().registry_target().run().success();
    let repo = repo
        .file("src/lib.rs", "pub fn answer() -> u32 { 43 }\n")
        .commit("changed, not bumped");
    let report = paths::root().join("report.json");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .run()
        .success()
        .stderr_has(
            "warning: samever@1.0.0 is already published, but the commit's content differs: \
             src/lib.rs",
        )
        .stdout_has("::warning::samever@1.0.0 is already published")
        .stderr_has("bump the version");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["crates"][0]["outcome"], "already-published");
    assert_eq!(
        json["crates"][0]["reason"],
        "the commit differs in src/lib.rs"
    );
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_CHECKSUM_MISMATCH", "fail")
        .env("SHIPCRATE_BEFORE_DEPLOY", "touch hook-ran")
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
[SUMMARY] samever v1.0.0: not started (the run stopped before its uploads)
[ERROR] samever@1.0.0 is already published, but the commit's content differs: src/lib.rs. The code changed without a version bump; bump the version in Cargo.toml to release it (`checksum_mismatch: fail` is set)

"#]]);
    assert!(!repo.root.join("hook-ran").exists());

    // The tag names this version: the released commit was another one (the tag was moved).
    let repo = repo.tag("v1.0.0");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .code(1)
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
[SUMMARY] samever v1.0.0: not started (the run stopped before its uploads)
[ERROR] samever@1.0.0 is already published, but the commit's content differs: src/lib.rs. The tag names this version, so the commit is not what was released: was the tag moved after the release? Bump the version for the new content (`check_tag: false` turns this check off)

"#]]);
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_ON__TAGS", "true")
        .env("SHIPCRATE_CHECK_TAG", "false")
        .run()
        .success()
        .stderr_has("warning: samever@1.0.0 is already published");
    assert_eq!(index_entries("samever").len(), 1);
}

/// crates.io's 429 answer, as its API sends it, asking to retry `after` from now.
fn too_many(after: Duration) -> Response {
    let date = httpdate::fmt_http_date(SystemTime::now() + after);
    Response {
        code: 429,
        headers: vec![],
        body: format!(
            r#"{{"errors":[{{"detail":"You have published too many new crates in a short period of time. Please try again after {date} and see https://crates.io/docs/rate-limits for more information on rate limits."}}]}}"#
        )
        .into_bytes(),
    }
}

/// The test registry, with `respond` answering every upload.
fn answering_uploads(
    respond: impl Fn(&Request, &HttpServer) -> Response + Send + 'static,
) -> Registry {
    sturdy(registry_builder().add_responder("/api/v1/crates/new", respond))
}

fn pushing_back(first: usize, answer: fn() -> Response) -> (Registry, Arc<Mutex<Vec<Instant>>>) {
    let times = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&times);
    let registry = answering_uploads(move |req, server| {
        let mut times = seen.lock().unwrap();
        times.push(Instant::now());
        if times.len() <= first {
            answer()
        } else {
            server.check_authorized_publish(req)
        }
    });
    (registry, times)
}

#[cargo_test]
fn a_429_is_waited_out_as_the_registry_asks() {
    let (_registry, times) = pushing_back(2, || too_many(Duration::from_secs(3)));
    let repo = Repo::with_crate("limited", "0.1.0");
    repo.shipcrate()
        .registry_target()
        .run()
        .success()
        .stderr_eq(str![[r#"
       Token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN`
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
        Plan 1 crate(s) to upload, in this order:
             limited v0.1.0: publish
        Note first release of `limited`: the name is taken for good once uploaded
[VERIFYING] limited@0.1.0 before uploading any
...
  Publishing limited v0.1.0 to registry `alternative`
...
[WAITING] [..]s, until [..] GMT: the registry answered 429 Too Many Requests; retry 1 of 5 for limited@0.1.0
  Publishing limited v0.1.0 to registry `alternative`
...
[WAITING] [..]s, until [..] GMT: the registry answered 429 Too Many Requests; retry 2 of 5 for limited@0.1.0
  Publishing limited v0.1.0 to registry `alternative`
...
[SUMMARY] limited v0.1.0: published

"#]]);
    assert_eq!(index_entries("limited").len(), 1);
    let times = times.lock().unwrap();
    assert_eq!(times.len(), 3, "two refusals, then the upload");
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        // The date has one-second resolution, so the wait may start up to 1 s short of 3 s;
        // beyond the jitter bound, cargo needs a moment to package again (no rebuild).
        assert!(gap >= Duration::from_secs(2), "retried too soon: {gap:?}");
        assert!(
            gap <= Duration::from_secs(3) + Duration::from_secs(2) + Duration::from_secs(3),
            "waited too long: {gap:?}"
        );
    }
}

#[cargo_test]
fn a_503_is_retried_with_backoff_and_other_errors_are_not() {
    let (_registry, attempts) = pushing_back(2, || Response {
        code: 503,
        headers: vec![],
        body: b"down for maintenance".to_vec(),
    });
    let repo = Repo::with_crate("flaky", "0.1.0");
    repo.shipcrate()
        .registry_target()
        .run()
        .success()
        .stderr_has("the registry answered 503");
    assert_eq!(index_entries("flaky").len(), 1);
    let times = attempts.lock().unwrap();
    assert!(times.len() >= 3, "{}", times.len());
    let last = times.len() - 1;
    // Backoff: 1 s then 2 s (each plus up to 2 s of jitter) between our attempts.
    assert!(
        times[last] - times[0] >= Duration::from_secs(3),
        "{:?}",
        times[last] - times[0]
    );

    // A refused token is not retried: one attempt, exit 1.
    let repo = repo
        .file("src/lib.rs", "pub fn answer() -> u32 { 42 } // 0.2\n")
        .file("Cargo.toml", &manifest("flaky", "0.2.0"))
        .commit("0.2.0");
    let before = times.len();
    drop(times);
    repo.shipcrate()
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", "not-the-token")
        .run()
        .code(1)
        .stderr_has("got 401 Unauthorized message from server.")
        .lacks("retry 1");
    assert_eq!(attempts.lock().unwrap().len(), before + 1);
}

#[cargo_test]
fn losing_an_upload_race_counts_as_already_published() {
    // Another job uploads the same version between our index check and our upload: the
    // registry takes that job's upload (it is in the index) and refuses ours.
    let attempts = Arc::new(Mutex::new(0));
    let seen = Arc::clone(&attempts);
    let _registry = answering_uploads(move |req, server| {
        *seen.lock().unwrap() += 1;
        let other_job = server.check_authorized_publish(req);
        assert_eq!(other_job.code, 200, "the other job's upload went in");
        Response {
            code: 200,
            headers: vec![],
            body: br#"{"errors":[{"detail":"crate version `0.1.0` is already uploaded"}]}"#
                .to_vec(),
        }
    });
    let repo = Repo::with_crate("raced", "0.1.0");
    let report = paths::root().join("report.json");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success()
        .lacks("retry 1");
    assert_eq!(*attempts.lock().unwrap(), 1);
    assert_eq!(index_entries("raced").len(), 1);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["crates"][0]["outcome"], "already-published");
    assert_eq!(
        json["crates"][0]["reason"],
        "another publisher uploaded it first (the index lists it)"
    );
}

/// A root manifest that is also a package (as rayon, regex, clap are): `rootpkg` depends on
/// the member `memb`, whose license is a symlink into the root; `internal` is
/// `publish = false`.
fn root_package_workspace() -> Repo {
    let repo = Repo::new("repo")
        .file(
            "Cargo.toml",
            &format!(
                "{}\n[dependencies]\nmemb = {{ path = \"memb\", version = \"0.1.0\", registry = \"alternative\" }}\n\n\
                 [workspace]\nmembers = [\"memb\", \"internal\"]\n",
                manifest("rootpkg", "0.1.0")
            ),
        )
        .file("src/lib.rs", "pub fn answer() -> u32 { memb::forty() + 2 }\n")
        .file(".gitignore", "/target\n")
        .file("LICENSE-MIT", "MIT License, the root's copy\n")
        .file("memb/Cargo.toml", &manifest("memb", "0.1.0"))
        .file("memb/src/lib.rs", "pub fn forty() -> u32 { 40 }\n")
        .file(
            "internal/Cargo.toml",
            &format!("{}publish = false\n", manifest("internal", "0.1.0")),
        )
        .file("internal/src/lib.rs", "");
    std::os::unix::fs::symlink("../LICENSE-MIT", repo.root.join("memb/LICENSE-MIT")).unwrap();
    repo.commit("root package with members")
}

/// cargo's config names the target dir: the verification builds there, warm, and nothing is
/// built in the checkout's `target` on a guess.
#[cargo_test]
fn a_target_dir_from_cargo_config_is_where_the_verification_builds() {
    let _registry = registry();
    let repo = Repo::with_crate("configured", "0.1.0")
        .file(
            ".cargo/config.toml",
            "[build]\ntarget-dir = \"custom-target\"\n",
        )
        .commit("a target dir of its own");
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .success();
    assert!(repo.root.join("custom-target/package").is_dir());
    assert!(!repo.root.join("target").exists(), "a stray target dir");
}

#[cargo_test]
fn a_root_package_workspace_publishes_every_member_and_explain_shows_the_plan() {
    let registry = registry();
    let repo = root_package_workspace();
    repo.shipcrate()
        .arg("explain")
        .registry_target()
        .run()
        .success()
        .stdout_has("    1. memb v0.1.0: publish\n    2. rootpkg v0.1.0: publish\n")
        .stdout_has("internal v0.1.0: skip: publish = false")
        .stdout_has("Decision: publish 2 crate(s): memb@0.1.0, rootpkg@0.1.0");
    // `path` naming a member's directory: that member alone.
    repo.shipcrate()
        .arg("explain")
        .registry_target()
        .env("SHIPCRATE_PATH", "memb")
        .run()
        .success()
        .stdout_has("    1. memb v0.1.0: publish\n")
        .lacks("rootpkg v0.1.0");

    // A dry run verifies both and leaves no temp dir behind (the index's goes while cargo
    // builds).
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .success()
        .stderr_has("rootpkg v0.1.0: verified");
    assert!(leftovers().is_empty(), "{:?}", leftovers());

    let out = repo
        .shipcrate()
        .registry_target()
        .run()
        .success()
        .stderr_has("internal v0.1.0: skip: publish = false");
    assert_eq!(uploads(&out.stderr), ["memb", "rootpkg"], "{}", out.both());
    let consumer = consume(&registry, "rootpkg", "0.1.0");
    drop(consumer);
    let files = downloaded_crate(&paths::root().join("consumer-home"), "memb", "0.1.0");
    assert_eq!(
        files.get("memb-0.1.0/LICENSE-MIT").map(String::as_str),
        Some("MIT License, the root's copy\n"),
        "{:?}",
        files.keys()
    );

    // Everything is out: the decision says so, and why, instead of a bare "publish".
    repo.shipcrate()
        .arg("explain")
        .registry_target()
        .run()
        .success()
        .stdout_has("memb v0.1.0: skip: already in the index")
        .stdout_has(
            "Decision: publish — nothing to upload: every crate in the plan is already in the \
             index (memb@0.1.0, rootpkg@0.1.0)",
        );
    repo.shipcrate()
        .arg("explain")
        .registry_target()
        .env("SHIPCRATE_EXCLUDE", "memb\nrootpkg")
        .run()
        .success()
        .stdout_has("rootpkg v0.1.0: skip: not selected")
        .stdout_has("Decision: publish — nothing to upload: no crate of the workspace may go to");
}

/// `c1` <- `c2` <- … <- `c6`, each depending on the one before.
fn six_in_a_row() -> Repo {
    let names = ["c1", "c2", "c3", "c4", "c5", "c6"];
    let mut repo = Repo::workspace(&names).file(".gitignore", "/target\n");
    for (i, name) in names.iter().enumerate() {
        let deps = match i {
            0 => String::new(),
            _ => format!("[dependencies]\n{}", path_dep(names[i - 1])),
        };
        repo = repo
            .file(&format!("{name}/Cargo.toml"), &member(name, &deps))
            .file(
                &format!("{name}/src/lib.rs"),
                "pub fn answer() -> u32 { 42 }\n",
            );
    }
    repo.commit("six crates")
}

#[cargo_test]
fn one_cargo_uploads_the_workspace_and_a_new_one_resumes_after_a_429() {
    // The registry refuses the 4th upload once, asking to come back in a second.
    let seen: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let _registry = answering_uploads(move |req, server| {
        let mut log = log.lock().unwrap();
        // The upload body starts with the JSON metadata's length, then the JSON.
        let body = req.body.as_deref().unwrap_or_default();
        let json = String::from_utf8_lossy(body.get(4..).unwrap_or_default());
        let name = json
            .split("\"name\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("?")
            .to_owned();
        log.push(name);
        if log.len() == 4 {
            too_many(Duration::from_secs(1))
        } else {
            server.check_authorized_publish(req)
        }
    });
    let repo = six_in_a_row();
    let report = paths::root().join("report.json");
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success()
        .stderr_has("the registry answered 429 Too Many Requests; retry 1 of 5 for c4@0.1.0");

    // All six in one cargo; after the 429, paced: one cargo per crate the registry's bucket
    // takes (its 429 dated 1 s ahead, after 3 taken: one a second), so none is packaged by a
    // cargo that can't upload it.
    let runs: Vec<&str> = out
        .stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Publishing "))
        .collect();
    assert_eq!(
        runs,
        [
            "c1 v0.1.0, c2 v0.1.0, c3 v0.1.0, c4 v0.1.0, c5 v0.1.0, c6 v0.1.0 to registry `alternative`",
            "c4 v0.1.0 to registry `alternative`",
            "c5 v0.1.0 to registry `alternative`",
            "c6 v0.1.0 to registry `alternative`",
        ],
        "{}",
        out.both()
    );
    // Nothing twice: the registry saw c4 twice (refused, then taken), every other crate once.
    assert_eq!(
        *seen.lock().unwrap(),
        ["c1", "c2", "c3", "c4", "c4", "c5", "c6"]
    );
    for name in ["c1", "c2", "c3", "c4", "c5", "c6"] {
        assert_eq!(index_entries(name).len(), 1, "{name}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let crates: Vec<(String, String, u64)> = json["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["outcome"].as_str().unwrap().to_owned(),
                c["retries"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, u64)> = ["c1", "c2", "c3", "c4", "c5", "c6"]
        .iter()
        .map(|n| (n.to_string(), "published".to_owned(), u64::from(*n == "c4")))
        .collect();
    assert_eq!(crates, expected);
}

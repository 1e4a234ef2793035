//! Reading a registry's index the way cargo does: sparse over HTTP and git, short and
//! mixed-case names, found and missing.

use std::path::Path;

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use cargo_test_support::registry::Package;
use shipcrate::Env;
use shipcrate::index::{self, Index};
use shipcrate::registry::Target;

use crate::support::*;

/// One name for each of the index's path rules (1/, 2/, 3/x/, ab/cd/). Both test registries
/// store a crate published as `MixedCase` under a mixed-case path, where cargo (and
/// shipcrate, through tame-index) look it up in lower case — cargo then warns that it timed
/// out and exits 0, shipcrate fails naming the crate — so case is tested on the lookup side:
/// `ABC` and `Long-Name` must find `abc` and `long-name`.
const NAMES: &[&str] = &["a", "ab", "abc", "long-name"];

fn env() -> Env {
    [
        ("CARGO_HOME", paths::cargo_home().display().to_string()),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("GIT_CONFIG_GLOBAL", "/dev/null".to_owned()),
        ("HOME", paths::home().display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[track_caller]
fn check(index: &mut Index) {
    for name in NAMES {
        let found: Vec<String> = index
            .versions(name)
            .unwrap()
            .into_iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(found, ["1.0.0"], "{name}");
    }
    // Names are matched the way cargo matches them: case does not matter.
    let upper: Vec<String> = index
        .versions("ABC")
        .unwrap()
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(upper, ["1.0.0"]);
    let mixed: Vec<String> = index
        .versions("Long-Name")
        .unwrap()
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(mixed, ["1.0.0"]);
    for missing in ["b", "zz", "xyz", "missing-crate"] {
        assert!(index.versions(missing).unwrap().is_empty(), "{missing}");
    }
}

#[cargo_test]
fn a_sparse_index_over_http() {
    let _registry = registry();
    for name in NAMES {
        Package::new(name, "1.0.0").alternative(true).publish();
    }
    let git = which("git");
    let url = index::url_for(&Target::Named("alternative".into()), &paths::root(), &env()).unwrap();
    let mut index =
        Index::open(url, &env(), &git, &shipcrate::secret::LiveToken::default()).unwrap();
    assert!(
        index.url().starts_with("sparse+http://127.0.0.1:"),
        "{}",
        index.url()
    );
    check(&mut index);
}

#[cargo_test]
#[ignore = "needs cargo-http-registry: `cargo install --locked cargo-http-registry`"]
fn a_git_index_served_by_a_registry_process() {
    let server = GitRegistry::start();
    for name in NAMES {
        let repo = Repo::new(&format!("crate-{name}"))
            .file("Cargo.toml", &manifest(name, "1.0.0"))
            .file("src/lib.rs", "")
            .commit("crate");
        repo.shipcrate()
            .env("SHIPCRATE_INDEX", &server.index_url())
            .env("SHIPCRATE_TOKEN", "${ANY_TOKEN}")
            .env("ANY_TOKEN", TOKEN)
            .env("CARGO_NET_GIT_FETCH_WITH_CLI", "true")
            .env("SHIPCRATE_INDEX_TIMEOUT", "30")
            .run()
            .success();
    }
    let git = which("git");
    let url = index::url_for(
        &Target::Index(server.index_url()),
        Path::new(&paths::root()),
        &env(),
    )
    .unwrap();
    let mut index =
        Index::open(url, &env(), &git, &shipcrate::secret::LiveToken::default()).unwrap();
    check(&mut index);
}

#[cargo_test]
fn an_auth_required_index_is_read_with_the_token_in_force_after_a_renewal() {
    // A sparse, auth-required index that accepts only the token currently valid, as
    // crates.io does once a trusted-publishing token is revoked.
    let valid = std::sync::Arc::new(std::sync::Mutex::new("tp-old".to_owned()));
    let accepted = std::sync::Arc::clone(&valid);
    let server = FakeHttp::start(move |request, port| {
        if request.header("authorization") != Some(accepted.lock().unwrap().as_str()) {
            return (
                401,
                r#"{"errors":[{"detail":"token expired or revoked"}]}"#.to_owned(),
            );
        }
        match request.target.as_str() {
            "/index/config.json" => (
                200,
                format!(r#"{{"dl":"http://127.0.0.1:{port}/dl","auth-required":true}}"#),
            ),
            "/index/2/ab" => (
                200,
                r#"{"name":"ab","vers":"1.0.0","deps":[],"cksum":"00","features":{},"yanked":false}"#
                    .to_owned(),
            ),
            _ => (404, String::new()),
        }
    });
    let live = shipcrate::secret::LiveToken::new(Some(shipcrate::secret::Token::new(
        "tp-old".to_owned(),
        "test".to_owned(),
    )));
    let index = Index::open(
        format!("sparse+{}/index/", server.url()),
        &env(),
        &which("git"),
        &live,
    )
    .unwrap();
    assert_eq!(index.versions("ab").unwrap().len(), 1);

    // Renewed: the old token is revoked at the registry and the new one put in force.
    *valid.lock().unwrap() = "tp-new".to_owned();
    live.set(shipcrate::secret::Token::new(
        "tp-new".to_owned(),
        "test".to_owned(),
    ));
    assert_eq!(index.versions("ab").unwrap().len(), 1);
    let last = server.seen().pop().unwrap();
    assert_eq!(last.target, "/index/2/ab");
    assert_eq!(last.header("authorization"), Some("tp-new"));
}

/// A run publishing `name` to registry `local` at `index` (a dry run: the index is read all
/// the same).
fn dry_run_to(name: &str, index: &str) -> Outcome {
    Repo::with_crate(name, "0.1.0")
        .shipcrate()
        .env("SHIPCRATE_REGISTRY", "local")
        .env("CARGO_REGISTRIES_LOCAL_INDEX", index)
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", TOKEN)
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
}

#[cargo_test]
fn a_git_index_server_that_never_answers_is_given_up_on_naming_it() {
    let port = stalled_server();
    let url = format!("http://127.0.0.1:{port}/git");
    let started = std::time::Instant::now();
    dry_run_to("stalled", &url)
        .code(1)
        .stderr_has(&format!(
            "could not read the index of registry `local`: could not fetch the git index at \
             {url} (a server sending under 1 KB/s for 30s is given up on"
        ))
        .stderr_has("Operation too slow");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(90), "took {took:?}");
}

#[cargo_test]
fn a_sparse_index_that_never_answers_is_given_up_on_naming_it() {
    let port = stalled_server();
    let started = std::time::Instant::now();
    dry_run_to(
        "stalledsparse",
        &format!("sparse+http://127.0.0.1:{port}/index/"),
    )
    .code(1)
    .stderr_has(&format!(
        "could not read the index of registry `local`: the registry at \
             http://127.0.0.1:{port}/index/config.json did not answer within 60s"
    ));
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(90), "took {took:?}");
}

#[cargo_test]
fn an_index_answer_too_large_to_read_names_the_url() {
    let server = FakeHttp::start(|request, port| match request.target.as_str() {
        "/index/config.json" => (
            200,
            format!(r#"{{"dl":"http://127.0.0.1:{port}/dl","api":"http://127.0.0.1:{port}"}}"#),
        ),
        "/index/hu/ge/hugeidx" => (200, "x".repeat(65 << 20)),
        _ => (404, String::new()),
    });
    let url = format!("{}/index/hu/ge/hugeidx", server.url());
    dry_run_to("hugeidx", &format!("sparse+{}/index/", server.url()))
        .code(1)
        .stderr_has(&format!(
            "{url} answered with more than 64 MiB, more than any index file or crate shipcrate \
             reads: not read"
        ))
        .stderr_has("could not read which versions of hugeidx the registry has");
}

#[cargo_test]
fn the_token_goes_to_no_download_host_that_refuses_a_read() {
    // crates.io's `dl` is another host (static.crates.io, answering 403 for a file it lacks).
    // cargo sends the token to `dl` only when `config.json` says `auth-required`, and retries
    // `config.json` alone with it after a 401 (RFC 3139); a 403 from `dl` gets no token.
    let dl = FakeHttp::start(|_, _| (403, "<Error>AccessDenied</Error>".to_owned()));
    let dl_url = dl.url();
    let index = FakeHttp::start(move |request, port| {
        match request.target.as_str() {
        "/index/config.json" => (
            200,
            format!(r#"{{"dl":"{dl_url}/crates","api":"http://127.0.0.1:{port}"}}"#),
        ),
        "/index/fa/rd/fardl" => (
            200,
            r#"{"name":"fardl","vers":"0.1.0","deps":[],"cksum":"00","features":{},"yanked":false}"#
                .to_owned(),
        ),
        _ => (404, String::new()),
    }
    });
    let out = Repo::with_crate("fardl", "0.1.0")
        .shipcrate()
        .env("SHIPCRATE_REGISTRY", "local")
        .env(
            "CARGO_REGISTRIES_LOCAL_INDEX",
            &format!("sparse+{}/index/", index.url()),
        )
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", TOKEN)
        .run();
    println!("{}", out.both());
    let asked = dl.seen();
    assert!(
        !asked.is_empty(),
        "the published .crate was never asked for"
    );
    for request in asked {
        assert!(
            !request
                .headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("authorization") || v.contains(TOKEN)),
            "{} {} carried the token",
            request.method,
            request.target
        );
    }
}

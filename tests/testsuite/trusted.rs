//! Trusted publishing against loopback stand-ins for the two HTTP endpoints involved:
//!
//! - GitHub's ID-token endpoint, as the runner exposes it and `@actions/core` calls it
//!   (actions/toolkit `packages/core/src/oidc-utils.ts` at 0d78354e: GET
//!   `ACTIONS_ID_TOKEN_REQUEST_URL` with `&audience=<encoded aud>` appended,
//!   `Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>`, answer `{"value": "<jwt>"}`);
//! - the registry's exchange (rust-lang/crates.io
//!   `src/controllers/trustpub/tokens/exchange/mod.rs` at 68645bb4 and `tokens/json.rs` at
//!   e77f9aff: POST `/api/v1/trusted_publishing/tokens` with `{"jwt": …}`, answer
//!   `{"token": …}`, errors as `{"errors":[{"detail": …}]}`) and revocation
//!   (`src/controllers/trustpub/tokens/revoke/mod.rs` at 2775289b: DELETE on the same path,
//!   the token as a `Bearer` in `Authorization`, 204).
//!
//! The upload itself goes to cargo's token-checking test registry, which accepts only the
//! token the exchange hands out: any other token fails the publish.

use cargo_test_support::prelude::*;
use cargo_test_support::registry::Response;

use crate::support::*;

const REQUEST_TOKEN: &str = "gh-request-t0ken-91c";

/// The CI's and the registry's endpoints in one loopback server.
fn endpoints() -> FakeHttp {
    FakeHttp::start(|request, _| {
        match (
            request.method.as_str(),
            request.target.split('?').next().unwrap_or_default(),
        ) {
            ("GET", "/oidc")
                if request.header("authorization") == Some(&format!("Bearer {REQUEST_TOKEN}")) =>
            {
                (200, r#"{"count":1,"value":"jwt-from-github"}"#.to_owned())
            }
            ("GET", "/oidc") => (401, r#"{"message":"bad request token"}"#.to_owned()),
            ("POST", "/api/v1/trusted_publishing/tokens") if request.body.contains("bad-jwt") => (
                400,
                r#"{"errors":[{"detail":"No matching Trusted Publishing config found"}]}"#
                    .to_owned(),
            ),
            ("POST", "/api/v1/trusted_publishing/tokens") => {
                (200, format!(r#"{{"token":"{TOKEN}"}}"#))
            }
            ("DELETE", "/api/v1/trusted_publishing/tokens") => (204, String::new()),
            _ => (404, r#"{"errors":[{"detail":"Not Found"}]}"#.to_owned()),
        }
    })
}

fn github(run: Run, server: &FakeHttp) -> Run {
    run.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_REF", "refs/heads/main")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("{}/oidc?api-version=2.0", server.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("SHIPCRATE_TRUSTED_PUBLISHING_URL", &server.url())
}

fn count(server: &FakeHttp, method: &str) -> usize {
    server
        .seen()
        .iter()
        .filter(|r| r.method == method && r.target.starts_with("/api/v1/trusted_publishing"))
        .count()
}

#[cargo_test]
fn github_mints_publishes_and_revokes_without_showing_the_token() {
    let _registry = registry();
    let server = endpoints();
    let repo = Repo::with_crate("trusty", "0.1.0");
    let out = github(repo.shipcrate(), &server)
        .run()
        .success()
        .stderr_has("Token from trusted publishing");
    assert_eq!(index_entries("trusty").len(), 1);

    let seen = server.seen();
    let oidc = seen
        .iter()
        .find(|r| r.target.starts_with("/oidc"))
        .expect("asked GitHub for an ID token");
    // The audience is the API URL without its scheme, port kept (crates-io-auth-action).
    let host = server.url().replace("http://", "").replace(':', "%3A");
    assert!(
        oidc.target.ends_with(&format!("&audience={host}")),
        "{}",
        oidc.target
    );
    let exchange = seen.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(exchange.body, r#"{"jwt":"jwt-from-github"}"#);
    let revoke = seen
        .iter()
        .find(|r| r.method == "DELETE")
        .expect("the token was revoked");
    assert_eq!(
        revoke.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        seen.last().unwrap().method,
        "DELETE",
        "revoked last: {seen:?}"
    );

    // Minted after the verify build, masked for the runner before its first use (the upload);
    // nowhere else in the output.
    let lines: Vec<&str> = out.stdout.lines().collect();
    let position = |line: &str| lines.iter().position(|l| *l == line);
    let mask = position(&format!("::add-mask::{TOKEN}")).expect("masked");
    assert!(position("::group::cargo publish --dry-run").unwrap() < mask);
    assert!(mask < position("::group::cargo publish").unwrap());
    let rest: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect();
    assert!(
        !rest.join("\n").contains(TOKEN) && !out.stderr.contains(TOKEN),
        "{}",
        out.both()
    );
    assert!(!out.stdout.contains(REQUEST_TOKEN) && !out.stderr.contains(REQUEST_TOKEN));
}

#[cargo_test]
fn a_crate_that_does_not_build_mints_nothing() {
    let _registry = registry();
    let server = endpoints();
    let repo = Repo::with_crate("trustfail", "0.1.0")
        .file("src/lib.rs", "pub fn f() -> u32 { nope }\n")
        .commit("broken");
    github(repo.shipcrate(), &server)
        .run()
        .code(1)
        .stderr_has("trustfail@0.1.0 failed to verify: nothing was uploaded");
    assert!(
        server.seen().is_empty(),
        "no ID token asked for, nothing minted: {:?}",
        server.seen()
    );
}

#[cargo_test]
fn the_token_is_revoked_when_the_upload_fails_and_the_audience_can_be_set() {
    let _registry = registry_builder()
        .add_responder("/api/v1/crates/new", |_, _| Response {
            code: 403,
            headers: vec![],
            body: br#"{"errors":[{"detail":"this crate is owned by someone else"}]}"#.to_vec(),
        })
        .build();
    let server = endpoints();
    let repo = Repo::with_crate("trustfail", "0.1.0");
    github(repo.shipcrate(), &server)
        .env("SHIPCRATE_OIDC_AUDIENCE", "my-registry")
        .run()
        .code(1)
        .stderr_has("this crate is owned by someone else");
    assert!(
        server
            .seen()
            .iter()
            .any(|r| r.target.ends_with("&audience=my-registry"))
    );
    assert_eq!((count(&server, "POST"), count(&server, "DELETE")), (1, 1));
}

#[cargo_test]
fn the_token_is_revoked_on_sigterm() {
    let _registry = registry();
    let server = endpoints();
    let repo = Repo::with_crate("trustterm", "0.1.0");
    let child = github(repo.shipcrate(), &server).spawn_until_hook_runs();
    assert_eq!(count(&server, "DELETE"), 0);
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    Outcome::from_child(child).code(143);
    assert_eq!((count(&server, "POST"), count(&server, "DELETE")), (1, 1));
    assert!(index_entries("trustterm").is_empty());
}

#[cargo_test]
fn a_token_about_to_expire_is_renewed_and_the_old_one_revoked() {
    let _registry = registry();
    let server = endpoints();
    let repo = Repo::workspace(&["one", "two"])
        .file("one/Cargo.toml", &manifest("tp-one", "0.1.0"))
        .file("one/src/lib.rs", "")
        .file("two/Cargo.toml", &format!("{}\n[dependencies]\ntp-one = {{ path = \"../one\", version = \"0.1.0\", registry = \"alternative\" }}\n", manifest("tp-two", "0.1.0")))
        .file("two/src/lib.rs", "")
        .commit("two crates");
    // A one-second life: the hook outlasts it, so the first upload already needs a new token.
    github(repo.shipcrate(), &server)
        .env("SHIPCRATE_TRUSTED_PUBLISHING_TTL", "1s")
        .env("SHIPCRATE_BEFORE_DEPLOY", "sleep 1.2")
        .run()
        .success()
        .stderr_has("Renewed the trusted-publishing token");
    assert_eq!(index_entries("tp-one").len(), 1);
    assert_eq!(index_entries("tp-two").len(), 1);
    let (minted, revoked) = (count(&server, "POST"), count(&server, "DELETE"));
    assert!(minted >= 2, "minted {minted}");
    assert_eq!(revoked, minted, "every minted token was revoked");
}

#[cargo_test]
fn gitlab_jwt_and_the_errors_that_say_what_to_do() {
    let _registry = registry();
    let server = endpoints();
    let repo = Repo::with_crate("trustlab", "0.1.0");
    let gitlab = |run: Run| {
        run.env("GITLAB_CI", "true")
            .env("CI_COMMIT_BRANCH", "main")
            .env("CI_DEFAULT_BRANCH", "main")
            .env("SHIPCRATE_REGISTRY", "alternative")
            .env("SHIPCRATE_TRUSTED_PUBLISHING_URL", &server.url())
    };
    // The registry's own words when it refuses.
    gitlab(repo.shipcrate())
        .env("CRATES_IO_ID_TOKEN", "bad-jwt")
        .run()
        .code(1)
        .stderr_has("No matching Trusted Publishing config found");
    assert_eq!(
        count(&server, "DELETE"),
        0,
        "nothing minted, nothing to revoke"
    );
    // Asked for, but impossible: say how to declare the identity.
    gitlab(repo.shipcrate())
        .env("SHIPCRATE_TRUSTED_PUBLISHING", "always")
        .run()
        .code(2)
        .stderr_has("declare it in the job, `id_tokens:");
    github(repo.shipcrate(), &server)
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
        .env("SHIPCRATE_TRUSTED_PUBLISHING", "always")
        .run()
        .code(2)
        .stderr_has("permissions: id-token: write");
    // And with GitLab's JWT, a publish.
    gitlab(repo.shipcrate())
        .env("CRATES_IO_ID_TOKEN", "jwt-from-gitlab")
        .run()
        .success();
    assert_eq!(index_entries("trustlab").len(), 1);
    assert!(
        server
            .seen()
            .iter()
            .any(|r| r.body == r#"{"jwt":"jwt-from-gitlab"}"#)
    );
}

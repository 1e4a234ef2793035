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
use cargo_test_support::str;

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

pub fn github(run: Run, server: &FakeHttp) -> Run {
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
        .stderr_eq(str![[r#"
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
        Plan 1 crate(s) to upload, in this order:
             trustfail v0.1.0: publish
        Note first release of `trustfail`: the name is taken for good once uploaded
[VERIFYING] trustfail@0.1.0 before uploading any
...
[SUMMARY] trustfail v0.1.0: failed (error[E0425]: cannot find value `nope` in this scope[..])
[ERROR] trustfail@0.1.0 failed to verify: nothing was uploaded; published: nothing; failed: trustfail v0.1.0; not started: nothing

"#]]);
    assert!(
        server.seen().is_empty(),
        "no ID token asked for, nothing minted: {:?}",
        server.seen()
    );
}

#[cargo_test]
fn the_token_is_revoked_when_the_upload_fails_and_the_audience_can_be_set() {
    let _registry = sturdy(
        registry_builder().add_responder("/api/v1/crates/new", |_, _| Response {
            code: 403,
            headers: vec![],
            body: br#"{"errors":[{"detail":"this crate is owned by someone else"}]}"#.to_vec(),
        }),
    );
    let server = endpoints();
    let repo = Repo::with_crate("trustfail", "0.1.0");
    github(repo.shipcrate(), &server)
        .env("SHIPCRATE_OIDC_AUDIENCE", "my-registry")
        .run()
        .code(1)
        .stderr_eq(str![[r#"
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
        Plan 1 crate(s) to upload, in this order:
             trustfail v0.1.0: publish
        Note first release of `trustfail`: the name is taken for good once uploaded
[VERIFYING] trustfail@0.1.0 before uploading any
...
       Token from trusted publishing (the CI's OIDC identity)
  Publishing trustfail v0.1.0 to registry `alternative`
...
[WARNING] trustfail is a new crate: its first publish needs a normal API token; trusted publishing works from its second release on
[SUMMARY] trustfail v0.1.0: failed ([..]: this crate is owned by someone else)
[ERROR] publishing trustfail@0.1.0 failed; published: nothing; failed: trustfail v0.1.0; not started: nothing

"#]]);
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
    signal("-TERM", child.id());
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
            .env("CI_PIPELINE_SOURCE", "push")
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
        .stderr_eq(str![[r#"
     Copying commit [..] to a pristine tree
       Using cargo [..]
       Token for [..]
        Plan 1 crate(s) to upload, in this order:
             trustlab v0.1.0: publish
        Note first release of `trustlab`: the name is taken for good once uploaded
[VERIFYING] trustlab@0.1.0 before uploading any
...
[SUMMARY] trustlab v0.1.0: not started (the registry refused the trusted-publishing exchange (400): No matching Trusted Publishing config found)
[ERROR] the registry refused the trusted-publishing exchange (400): No matching Trusted Publishing config found; published: nothing; failed: nothing; not started: trustlab v0.1.0

"#]]);
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
        .stderr_eq(str![[r#"
[ERROR] `trusted_publishing: always`, but `CRATES_IO_ID_TOKEN` is not set: declare it in the job, `id_tokens: { CRATES_IO_ID_TOKEN: { aud: 127.0.0.1:[..] } }` (or name another variable with `oidc_token_env`)

"#]]);
    github(repo.shipcrate(), &server)
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
        .env("SHIPCRATE_TRUSTED_PUBLISHING", "always")
        .run()
        .code(2)
        .stderr_eq(str![[r#"
[ERROR] `trusted_publishing: always`, but GitHub gave this job no ID token: add `permissions: id-token: write` to the job (and, when running the image with `docker run`, pass `-e ACTIONS_ID_TOKEN_REQUEST_URL -e ACTIONS_ID_TOKEN_REQUEST_TOKEN`)

"#]]);
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

/// crates.io's side of trusted publishing as a stand-in, with the rules that matter for a
/// long release (rust-lang/crates.io `src/controllers/trustpub/tokens/exchange/mod.rs`): a
/// JWT is exchanged once (its `jti`; a second time is refused, "JWT has already been used"),
/// a minted token is good for `life` and until it is revoked. GitHub's endpoint hands out a
/// new JWT on every request. Mints can be made to fail from a given one on.
struct Authority {
    life: std::time::Duration,
    exchanged: Vec<String>,
    minted: Vec<Minted>,
    /// Mints from this one on (1-based) fail with a non-JSON 500.
    fail_from: Option<usize>,
    github_jwts: usize,
}

struct Minted {
    token: String,
    at: std::time::Instant,
    revoked: bool,
}

type Shared = std::sync::Arc<std::sync::Mutex<Authority>>;

impl Authority {
    fn new(life: std::time::Duration) -> Shared {
        std::sync::Arc::new(std::sync::Mutex::new(Authority {
            life,
            exchanged: Vec::new(),
            minted: Vec::new(),
            fail_from: None,
            github_jwts: 0,
        }))
    }

    /// The token is one we minted, not revoked, and not expired.
    fn valid(&self, token: &str) -> bool {
        self.minted
            .iter()
            .any(|m| m.token == token && !m.revoked && m.at.elapsed() < self.life)
    }

    fn answer(&mut self, request: &Recorded) -> (u16, String) {
        let path = request.target.split('?').next().unwrap_or_default();
        match (request.method.as_str(), path) {
            ("GET", "/oidc") => {
                self.github_jwts += 1;
                (200, format!(r#"{{"value":"gh-jwt-{}"}}"#, self.github_jwts))
            }
            ("POST", "/api/v1/trusted_publishing/tokens") => {
                let jwt = serde_json::from_str::<serde_json::Value>(&request.body).unwrap()["jwt"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                if self.exchanged.contains(&jwt) {
                    return (
                        400,
                        r#"{"errors":[{"detail":"JWT has already been used"}]}"#.to_owned(),
                    );
                }
                self.exchanged.push(jwt);
                if self.fail_from.is_some_and(|n| self.minted.len() + 1 >= n) {
                    return (500, "upstream timed out".to_owned());
                }
                let token = format!("tp-minted-{}", self.minted.len() + 1);
                self.minted.push(Minted {
                    token: token.clone(),
                    at: std::time::Instant::now(),
                    revoked: false,
                });
                (200, format!(r#"{{"token":"{token}"}}"#))
            }
            ("DELETE", "/api/v1/trusted_publishing/tokens") => {
                let bearer = request.header("authorization").unwrap_or_default();
                let token = bearer.strip_prefix("Bearer ").unwrap_or_default();
                match self.minted.iter_mut().find(|m| m.token == token) {
                    Some(minted) => {
                        minted.revoked = true;
                        (204, String::new())
                    }
                    None => (401, r#"{"errors":[{"detail":"unknown token"}]}"#.to_owned()),
                }
            }
            _ => (404, r#"{"errors":[{"detail":"Not Found"}]}"#.to_owned()),
        }
    }
}

/// The CI's and the registry's trusted-publishing endpoints, answered by `authority`.
fn authority_endpoints(authority: &Shared) -> FakeHttp {
    let authority = std::sync::Arc::clone(authority);
    FakeHttp::start(move |request, _| authority.lock().unwrap().answer(request))
}

/// An upload, as the registry saw it: when, with which token, and whether it was taken.
struct Upload {
    at: std::time::Instant,
    token: Option<String>,
    taken: bool,
}

/// The test registry behind a token check: an upload must carry a token `authority` minted,
/// unrevoked and unexpired (else 403, as crates.io refuses it). `refuse(n)` may answer the
/// n-th upload (1-based) itself, e.g. with a 429.
fn guarded_registry(
    authority: &Shared,
    refuse: impl Fn(usize) -> Option<Response> + Send + 'static,
) -> (Registry, std::sync::Arc<std::sync::Mutex<Vec<Upload>>>) {
    let authority = std::sync::Arc::clone(authority);
    let uploads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&uploads);
    let registry = sturdy(registry_builder()
        .add_responder("/api/v1/crates/new", move |req, server| {
            let mut log = log.lock().unwrap();
            let token = req.authorization.clone();
            let mut upload = Upload {
                at: std::time::Instant::now(),
                token: token.clone(),
                taken: false,
            };
            let answer = if let Some(answer) = refuse(log.len() + 1) {
                answer
            } else if token
                .as_deref()
                .is_some_and(|t| authority.lock().unwrap().valid(t))
            {
                // Valid: the registry behind the check takes it with its own credential.
                let forwarded = cargo_test_support::registry::Request {
                    url: req.url.clone(),
                    method: req.method.clone(),
                    body: req.body.clone(),
                    authorization: Some(TOKEN.to_owned()),
                    if_modified_since: None,
                    if_none_match: None,
                };
                upload.taken = true;
                server.check_authorized_publish(&forwarded)
            } else {
                Response {
                    code: 403,
                    headers: vec![],
                    body: br#"{"errors":[{"detail":"authentication failed: the token is expired or revoked"}]}"#.to_vec(),
                }
            };
            log.push(upload);
            answer
        })
        );
    (registry, uploads)
}

/// crates.io's 429 for a new crate, asking to come back in `secs` seconds.
fn rate_limited(secs: u64) -> Response {
    let date = httpdate::fmt_http_date(
        std::time::SystemTime::now() + std::time::Duration::from_secs(secs),
    );
    Response {
        code: 429,
        headers: vec![],
        body: format!(
            r#"{{"errors":[{{"detail":"You have published too many new crates in a short period of time. Please try again after {date} and see https://crates.io/docs/rate-limits for more information on rate limits."}}]}}"#
        )
        .into_bytes(),
    }
}

/// `tp-one` <- `tp-two`.
fn two_crates() -> Repo {
    Repo::workspace(&["one", "two"])
        .file("one/Cargo.toml", &manifest("tp-one", "0.1.0"))
        .file("one/src/lib.rs", "")
        .file("two/Cargo.toml", &format!("{}\n[dependencies]\ntp-one = {{ path = \"../one\", version = \"0.1.0\", registry = \"alternative\" }}\n", manifest("tp-two", "0.1.0")))
        .file("two/src/lib.rs", "")
        .commit("two crates")
}

fn github_with(run: Run, server: &FakeHttp, life: &str) -> Run {
    github(run, server).env("SHIPCRATE_TRUSTED_PUBLISHING_TTL", life)
}

fn gitlab_with(run: Run, server: &FakeHttp, life: &str) -> Run {
    run.env("GITLAB_CI", "true")
        .env("CI_PIPELINE_SOURCE", "push")
        .env("CI_COMMIT_BRANCH", "main")
        .env("CI_DEFAULT_BRANCH", "main")
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("SHIPCRATE_TRUSTED_PUBLISHING_URL", &server.url())
        .env("SHIPCRATE_TRUSTED_PUBLISHING_TTL", life)
}

#[track_caller]
fn all_revoked(authority: &Shared) {
    let authority = authority.lock().unwrap();
    assert!(!authority.minted.is_empty());
    for minted in &authority.minted {
        assert!(minted.revoked, "{} was not revoked", minted.token);
    }
}

#[cargo_test]
fn github_renews_during_a_rate_limit_wait_longer_than_the_tokens_life() {
    // Tokens live 12 s; the registry asks for a 15 s wait after the first upload.
    let authority = Authority::new(std::time::Duration::from_secs(12));
    let server = authority_endpoints(&authority);
    let (_registry, uploads) = guarded_registry(&authority, |n| (n == 1).then(|| rate_limited(15)));
    let out = github_with(two_crates().shipcrate(), &server, "12s")
        .run()
        .success()
        .stderr_has("the registry answered 429 Too Many Requests; retry 1 of 5 for tp-one@0.1.0");
    assert_eq!(index_entries("tp-one").len(), 1, "{}", out.both());
    assert_eq!(index_entries("tp-two").len(), 1);

    let uploads = uploads.lock().unwrap();
    let refused = uploads[0].at;
    let retried = uploads[1].at;
    assert!(
        uploads[1..].iter().all(|u| u.taken),
        "every upload after the wait carried a live token"
    );
    let authority_now = authority.lock().unwrap();
    // A token minted during the wait, not only before it and after it.
    assert!(
        authority_now
            .minted
            .iter()
            .any(|m| m.at > refused + std::time::Duration::from_secs(5)
                && m.at + std::time::Duration::from_secs(2) < retried),
        "no renewal during the wait"
    );
    // Each exchange used a JWT of its own.
    let mut jwts = authority_now.exchanged.clone();
    jwts.dedup();
    assert_eq!(jwts.len(), authority_now.exchanged.len());
    // None of the minted tokens shows in the output.
    for minted in &authority_now.minted {
        assert!(
            !out.stderr.contains(&minted.token)
                && !out
                    .stdout
                    .lines()
                    .any(|l| !l.starts_with("::add-mask::") && l.contains(&minted.token))
        );
    }
    drop(authority_now);
    all_revoked(&authority);
}

#[cargo_test]
fn gitlab_with_one_jwt_stops_before_the_token_runs_out_and_a_rerun_finishes() {
    let authority = Authority::new(std::time::Duration::from_secs(12));
    let server = authority_endpoints(&authority);
    let (_registry, uploads) = guarded_registry(&authority, |n| (n == 1).then(|| rate_limited(15)));
    let repo = two_crates();
    gitlab_with(repo.shipcrate(), &server, "12s")
        .env("CRATES_IO_ID_TOKEN", "gl-jwt-job-1")
        .run()
        .code(1)
        .stderr_has("this GitLab job has no unused ID token to renew it")
        .stderr_has("Re-running the job continues where it stopped")
        .stderr_has(
            "published: nothing; failed: nothing; not started: tp-one v0.1.0, tp-two v0.1.0",
        );
    assert!(index_entries("tp-one").is_empty());
    assert_eq!(
        uploads.lock().unwrap().len(),
        1,
        "stopped instead of waiting"
    );
    all_revoked(&authority);

    // The re-run is a new job with a new JWT: it finishes.
    gitlab_with(repo.shipcrate(), &server, "12s")
        .env("CRATES_IO_ID_TOKEN", "gl-jwt-job-2")
        .run()
        .success();
    assert_eq!(index_entries("tp-one").len(), 1);
    assert_eq!(index_entries("tp-two").len(), 1);
    all_revoked(&authority);
}

#[cargo_test]
fn gitlab_with_two_jwts_renews_once_during_the_wait() {
    let authority = Authority::new(std::time::Duration::from_secs(12));
    let server = authority_endpoints(&authority);
    let (_registry, uploads) = guarded_registry(&authority, |n| (n == 1).then(|| rate_limited(15)));
    gitlab_with(two_crates().shipcrate(), &server, "12s")
        .env("CRATES_IO_ID_TOKEN", "gl-jwt-a")
        .env("CRATES_IO_ID_TOKEN_2", "gl-jwt-b")
        .env(
            "SHIPCRATE_OIDC_TOKEN_ENV",
            "CRATES_IO_ID_TOKEN\nCRATES_IO_ID_TOKEN_2",
        )
        .run()
        .success()
        .stderr_has("Renewed the trusted-publishing token");
    assert_eq!(index_entries("tp-one").len(), 1);
    assert_eq!(index_entries("tp-two").len(), 1);
    assert!(uploads.lock().unwrap()[1..].iter().all(|u| u.taken));
    assert_eq!(
        authority.lock().unwrap().exchanged,
        ["gl-jwt-a", "gl-jwt-b"]
    );
    all_revoked(&authority);
}

#[cargo_test]
fn a_failed_renewal_keeps_the_old_token_until_it_expires() {
    let authority = Authority::new(std::time::Duration::from_secs(12));
    authority.lock().unwrap().fail_from = Some(2);
    let server = authority_endpoints(&authority);
    let (_registry, uploads) = guarded_registry(&authority, |_| None);
    github_with(two_crates().shipcrate(), &server, "12s")
        .run()
        .success()
        // A non-JSON error body is not shown: it could hold a credential.
        .stderr_has("renewing the trusted-publishing token failed: the registry refused the trusted-publishing exchange (500): its body (18 bytes) is not shown: a token endpoint's answer may hold a credential; going on with the current one");
    assert_eq!(index_entries("tp-one").len(), 1);
    assert_eq!(index_entries("tp-two").len(), 1);
    let uploads = uploads.lock().unwrap();
    assert!(
        uploads
            .iter()
            .all(|u| u.token.as_deref() == Some("tp-minted-1"))
    );
    assert_eq!(authority.lock().unwrap().minted.len(), 1);
    all_revoked(&authority);
}

#[cargo_test]
fn a_paced_release_outlives_three_token_lives_on_live_tokens() {
    // Tokens live 12 s; the registry takes 2 new crates at once, then one per 10 s: the six
    // crates take 40 s of pacing, more than three lives.
    let life = std::time::Duration::from_secs(12);
    let authority = Authority::new(life);
    let server = authority_endpoints(&authority);
    let bucket = std::sync::Mutex::new(TokenBucket::new(Limit {
        burst: 2,
        interval: std::time::Duration::from_secs(10),
    }));
    let (_registry, uploads) = guarded_registry(&authority, move |_| {
        let taken = bucket.lock().unwrap().take(std::time::SystemTime::now());
        taken.err().map(|until| too_many_requests(true, until))
    });
    let names: Vec<String> = (1..=6).map(|i| format!("tp-{i}")).collect();
    let dirs: Vec<String> = (1..=6).map(|i| format!("c{i}")).collect();
    let refs: Vec<&str> = dirs.iter().map(String::as_str).collect();
    let mut repo = Repo::workspace(&refs);
    for (dir, name) in dirs.iter().zip(&names) {
        repo = repo
            .file(&format!("{dir}/Cargo.toml"), &manifest(name, "0.1.0"))
            .file(&format!("{dir}/src/lib.rs"), "");
    }
    let out = github_with(repo.commit("six crates").shipcrate(), &server, "12s")
        .run()
        .success()
        .stderr_has("Pacing one new crate per 10s after a burst of 2");
    for name in &names {
        assert_eq!(index_entries(name).len(), 1, "{name}\n{}", out.both());
    }
    let uploads = uploads.lock().unwrap();
    let taken: Vec<&Upload> = uploads.iter().filter(|u| u.taken).collect();
    assert_eq!(taken.len(), 6, "{}", out.both());
    // Refused only by the bucket (a 429 while it is learned), never for a dead token.
    assert!(
        uploads.len() - taken.len() <= 3,
        "{} refused",
        uploads.len() - 6
    );
    let span = taken[5].at - taken[0].at;
    assert!(span > life * 3, "{span:?}");
    // Each taken upload carried a token minted within its life, and it took several.
    let authority_now = authority.lock().unwrap();
    for upload in &taken {
        let token = upload.token.as_deref().unwrap();
        let minted = authority_now
            .minted
            .iter()
            .find(|m| m.token == token)
            .unwrap();
        assert!(upload.at - minted.at < life, "{token} used past its life");
    }
    assert!(
        authority_now.minted.len() >= 4,
        "{}",
        authority_now.minted.len()
    );
    drop(authority_now);
    all_revoked(&authority);
}

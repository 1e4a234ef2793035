//! Token endpoints that answer badly: the registry's trusted-publishing exchange and GitHub's
//! ID-token endpoint answering cut off, with bytes after the JSON, with a token in an error
//! page, with a blank token, or never. No body is shown; a token found in one is masked at
//! once and revoked; a token that can't be one is refused; every wait ends.

use std::time::{Duration, Instant};

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;
use crate::trusted::github;

/// A live-looking trusted-publishing token (crates.io's form: `cio_tp_` and 32 characters).
const LIVE: &str = "cio_tp_gGK6jurSwKyl9V3Az19z7YEFQI9aoOOd";

/// GitHub's ID-token endpoint answering `oidc`, the registry's exchange answering
/// `exchange`, revocation taking any token.
fn answering(oidc: (u16, String), exchange: (u16, String)) -> FakeHttp {
    FakeHttp::start(move |request, _| {
        let path = request.target.split('?').next().unwrap_or_default();
        match (request.method.as_str(), path) {
            ("GET", "/oidc") => oidc.clone(),
            ("POST", "/api/v1/trusted_publishing/tokens") => exchange.clone(),
            ("DELETE", "/api/v1/trusted_publishing/tokens") => (204, String::new()),
            _ => (404, r#"{"errors":[{"detail":"Not Found"}]}"#.to_owned()),
        }
    })
}

fn jwt_answer() -> (u16, String) {
    (200, r#"{"count":1,"value":"jwt-from-github"}"#.to_owned())
}

/// `secret` appears nowhere a user reads: stderr, and stdout but for the runner's
/// `::add-mask::` lines.
#[track_caller]
fn shown_nowhere(out: &Outcome, secret: &str) {
    let shown = out.stderr.contains(secret)
        || out
            .stdout
            .lines()
            .any(|l| !l.starts_with("::add-mask::") && l.contains(secret));
    assert!(!shown, "{secret} shown:\n{}", out.both());
}

/// The bearers of the revocations `server` saw.
fn revoked(server: &FakeHttp) -> Vec<String> {
    server
        .seen()
        .iter()
        .filter(|r| r.method == "DELETE")
        .filter_map(|r| r.header("authorization"))
        .map(|b| b.trim_start_matches("Bearer ").to_owned())
        .collect()
}

#[cargo_test]
fn an_exchange_answer_not_exactly_a_token_is_never_shown_and_its_token_is_revoked() {
    let _registry = registry();
    let repo = Repo::with_crate("tpbroken", "0.1.0");
    let cut = format!(r#"{{"token":"{LIVE}"#);
    let trailing = format!(r#"{{"token":"{LIVE}"}} and more"#);
    let page = format!(r#"<html>upstream said {{"token":"{LIVE}"}}</html>"#);
    let not_a_token = "answered 200 without a token in the form `{\"token\": \"…\"}`";
    let refused = "the registry refused the trusted-publishing exchange (502)";
    for (status, body, said) in [
        (200, &cut, not_a_token),
        (200, &trailing, not_a_token),
        (502, &page, refused),
    ] {
        let said = format!("{said}: its body ({} bytes) is not shown", body.len());
        let server = answering(jwt_answer(), (status, body.clone()));
        let out = github(repo.shipcrate(), &server)
            .run()
            .code(1)
            .stderr_has(&said)
            .stderr_has("a token in it is masked from here on, and was revoked")
            .stderr_has("nothing was published");
        shown_nowhere(&out, LIVE);
        // On GitHub the runner is told to mask it too, before anything else is said.
        assert!(
            out.stdout.contains(&format!("::add-mask::{LIVE}\n")),
            "{}",
            out.both()
        );
        let revoked = revoked(&server);
        assert!(
            !revoked.is_empty() && revoked.iter().all(|t| t == LIVE),
            "{revoked:?}"
        );
        assert!(index_entries("tpbroken").is_empty());
    }
}

#[cargo_test]
fn a_blank_or_broken_minted_token_is_refused_and_the_report_stays_json() {
    let _registry = registry();
    let repo = Repo::with_crate("tpblank", "0.1.0");
    let report = paths::root().join("report.json");
    for (token, why) in [
        (
            r#"" ""#,
            "a token that holds whitespace or control characters",
        ),
        (r#""""#, "a token that is empty"),
        (
            r#""cio_tp_line\nbreak-in-the-token""#,
            "a token that holds whitespace or control characters",
        ),
        (
            r#""x""#,
            "a token that is 1 characters long, too short to be a secret",
        ),
    ] {
        let server = answering(jwt_answer(), (200, format!(r#"{{"token":{token}}}"#)));
        let out = github(repo.shipcrate(), &server)
            .env("SHIPCRATE_REPORT", report.to_str().unwrap())
            .run()
            .code(1)
            .stderr_has(why)
            .stderr_has("not a usable token, so nothing is uploaded with it");
        // Nothing innocent masked: the log's spaces and letters are there, the report is JSON.
        assert!(!out.stderr.contains("***"), "{}", out.both());
        let text = std::fs::read_to_string(&report).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).expect("the report is JSON");
        assert_eq!(json["crates"][0]["outcome"], "not-started", "{text}");
        assert!(index_entries("tpblank").is_empty());
    }
}

#[cargo_test]
fn a_cut_off_id_token_is_never_shown() {
    let _registry = registry();
    let repo = Repo::with_crate("tpjwt", "0.1.0");
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOngveSJ9.c2lnbmF0dXJlLXBhcnQ";
    let server = answering(
        (200, format!(r#"{{"count":1,"value":"{}"#, &jwt[..50])),
        (500, "never asked".to_owned()),
    );
    let out = github(repo.shipcrate(), &server)
        .run()
        .code(1)
        .stderr_has(&format!(
            "GitHub's ID-token endpoint at {}/oidc?api-version=2.0&audience=",
            server.url()
        ))
        .stderr_has("answered 200 without a usable ID token in the form `{\"value\": \"…\"}`: its body (70 bytes) is not shown")
        .stderr_has("a credential in it is masked from here on");
    shown_nowhere(&out, &jwt[..50]);
    assert!(
        server.seen().iter().all(|r| r.method == "GET"),
        "nothing exchanged"
    );
}

#[cargo_test]
fn a_hung_id_token_endpoint_is_given_up_on_within_the_deadline() {
    let _registry = registry();
    let repo = Repo::with_crate("tphung", "0.1.0");
    let port = stalled_server();
    let exchange = answering(jwt_answer(), (500, "never asked".to_owned()));
    let started = Instant::now();
    github(repo.shipcrate(), &exchange)
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("http://127.0.0.1:{port}/oidc?api-version=2.0"),
        )
        .run()
        .code(1)
        .stderr_has(&format!(
            "GitHub's ID-token endpoint at http://127.0.0.1:{port}/oidc?api-version=2.0&audience="
        ))
        .stderr_has("did not answer within")
        .stderr_has("gave up on GitHub's ID token after 3 tries in");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(150), "took {took:?}");
    assert!(exchange.seen().is_empty());
}

//! The rate-limit benchmark's registry: crates.io's publish rate limit (the tests' stand-in,
//! `tests/testsuite/support/bucket.rs`, included as it is) in front of a cargo-http-registry
//! on 127.0.0.1. Uploads (`PUT /api/v1/crates/new`) go through two token buckets, new crates
//! and new versions; what a bucket takes is forwarded, the rest refused with crates.io's 429.
//! cargo-http-registry names itself in its index's `config.json` when it starts, and each
//! publish it commits puts that back (0.1.8, src/index.rs: `ensure_config`, and `commit`
//! writes the tree from its own copy of git's index): the proxy names itself again when it
//! starts and after each upload, committed and announced to git's dumb HTTP protocol (how
//! cargo-http-registry serves the index), so every cargo uploads through it. Each upload is
//! logged as a JSON line.
//!
//! `metered-registry UPSTREAM_PORT REGISTRY_ROOT LOG NEW_BURST NEW_SECS VERSION_BURST VERSION_SECS`
//!
//! Prints its port, then serves until killed.

// A benchmark's helper binary: it reports on stdout and stderr; the stand-in it includes is
// `pub` for the test binary's modules, reachable from nowhere else.
#![allow(clippy::print_stdout, clippy::print_stderr, unreachable_pub)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[path = "../tests/testsuite/support/bucket.rs"]
mod bucket;

use bucket::{Limit, TokenBucket, published_name, too_many_requests_body};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [
        upstream,
        root,
        log,
        new_burst,
        new_secs,
        version_burst,
        version_secs,
    ] = &args[..]
    else {
        eprintln!(
            "usage: metered-registry UPSTREAM_PORT ROOT LOG NEW_BURST NEW_SECS VERSION_BURST VERSION_SECS"
        );
        std::process::exit(2);
    };
    let limit = |burst: &str, secs: &str| Limit {
        burst: burst.parse().unwrap(),
        interval: Duration::from_secs_f64(secs.parse().unwrap()),
    };
    let mut buckets = [
        TokenBucket::new(limit(new_burst, new_secs)),
        TokenBucket::new(limit(version_burst, version_secs)),
    ];
    let root = PathBuf::from(root);
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let me = format!("http://127.0.0.1:{port}");
    point_api_at(&root, &me);
    println!("{port}");
    std::io::stdout().flush().unwrap();
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    for mut request in server.incoming_requests() {
        let body = body(&mut request);
        let url = request.url().to_owned();
        let method = request.method().as_str().to_owned();
        let auth = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .map(|h| h.value.to_string());
        let mut taken = true;
        let mut name = String::new();
        let (code, answer) = if method == "PUT" && url == "/api/v1/crates/new" {
            name = published_name(&body);
            let new = !listed(&root, &name);
            match buckets[usize::from(!new)].take(SystemTime::now()) {
                Ok(()) => forward(&agent, upstream, &method, &url, auth, body),
                Err(until) => {
                    taken = false;
                    (429, too_many_requests_body(new, until).0)
                }
            }
        } else {
            forward(&agent, upstream, &method, &url, auth, body)
        };
        if !name.is_empty() {
            let at = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            writeln!(
                log,
                "{}",
                serde_json::json!({ "name": name, "at": at, "taken": taken, "code": code })
            )
            .unwrap();
            point_api_at(&root, &me);
        }
        let response = tiny_http::Response::from_string(answer)
            .with_status_code(code)
            .with_header(
                "Content-Type: application/json"
                    .parse::<tiny_http::Header>()
                    .unwrap(),
            );
        let _gone = request.respond(response);
    }
}

fn forward(
    agent: &ureq::Agent,
    upstream: &str,
    method: &str,
    url: &str,
    auth: Option<String>,
    body: Vec<u8>,
) -> (u16, String) {
    let target = format!("http://127.0.0.1:{upstream}{url}");
    let request = http_request(method, &target, auth, body);
    match agent.run(request) {
        Ok(mut response) => (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(error) => (502, format!(r#"{{"errors":[{{"detail":"{error}"}}]}}"#)),
    }
}

fn http_request(
    method: &str,
    target: &str,
    auth: Option<String>,
    body: Vec<u8>,
) -> ureq::http::Request<Vec<u8>> {
    let mut builder = ureq::http::Request::builder().method(method).uri(target);
    if let Some(auth) = auth {
        builder = builder.header("Authorization", auth);
    }
    builder.body(body).unwrap()
}

/// Whether the registry's index lists `name` (cargo's index layout).
fn listed(root: &Path, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let path = match lower.len() {
        1 => format!("1/{lower}"),
        2 => format!("2/{lower}"),
        3 => format!("3/{}/{lower}", &lower[..1]),
        _ => format!("{}/{}/{lower}", &lower[..2], &lower[2..4]),
    };
    root.join(path).is_file()
}

/// The index's last commit names this proxy as its API in `config.json`. cargo-http-registry
/// commits each publish from its own copy of git's index, in which `config.json` still names
/// it: what the proxy committed before is undone by each publish, so it is redone after each.
fn point_api_at(root: &Path, me: &str) {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .unwrap()
    };
    let committed = git(&["show", "HEAD:config.json"]).stdout;
    let mut config: serde_json::Value = serde_json::from_slice(&committed).unwrap();
    if config["api"] == me {
        return;
    }
    config["api"] = me.into();
    let file = root.join("config.json");
    std::fs::write(&file, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    git(&["add", "config.json"]);
    git(&["commit", "--quiet", "-m", "api: the metering proxy"]);
    // Served over git's dumb HTTP protocol: its file list must know the new commit.
    git(&["update-server-info"]);
}

/// The request's body (as `support::http` reads it: curl asks to upgrade to HTTP/2, and
/// `tiny_http` then hands over the raw socket, so only `Content-Length` bytes are read).
fn body(request: &mut tiny_http::Request) -> Vec<u8> {
    let length = request.body_length().unwrap_or(0) as u64;
    let mut body = Vec::new();
    let _partial = std::io::Read::take(request.as_reader(), length).read_to_end(&mut body);
    body
}

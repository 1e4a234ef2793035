//! Stand-in HTTP endpoints on 127.0.0.1 (OIDC and token-exchange authorities, sparse indexes,
//! echo servers) that answer through a handler closure and record every request. Served by
//! `tiny_http`: a kept, blocking HTTP/1.1 server (framing, `Expect: 100-continue`, chunked
//! bodies) that fits a handler closure on a thread without pulling an async runtime into the tests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request a [`FakeHttp`] server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path with query string.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A server on 127.0.0.1 that answers every request with `handler(request, port)` — a status
/// and a JSON body — and records it. Bounded: at most 200 requests within 5 minutes, then it
/// stops by itself; it also stops when dropped.
pub struct FakeHttp {
    pub port: u16,
    seen: Arc<Mutex<Vec<Recorded>>>,
    server: Arc<tiny_http::Server>,
}

impl FakeHttp {
    pub fn start(handler: impl Fn(&Recorded, u16) -> (u16, String) + Send + 'static) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (serving, record) = (Arc::clone(&server), Arc::clone(&seen));
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_mins(5);
            for _ in 0..200 {
                let left = deadline.saturating_duration_since(Instant::now());
                // `Err` once unblocked by `Drop`; `None` when the time is up.
                let Ok(Some(mut request)) = serving.recv_timeout(left) else {
                    break;
                };
                let body = body(&mut request);
                let recorded = Recorded {
                    method: request.method().as_str().to_owned(),
                    target: request.url().to_owned(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| (h.field.as_str().as_str().to_owned(), h.value.to_string()))
                        .collect(),
                    body: String::from_utf8_lossy(&body).into_owned(),
                };
                let (status, answer) = handler(&recorded, port);
                record.lock().unwrap().push(recorded);
                let response = tiny_http::Response::from_string(answer)
                    .with_status_code(status)
                    .with_header(
                        "Content-Type: application/json"
                            .parse::<tiny_http::Header>()
                            .unwrap(),
                    );
                // The client may have given up (a timeout under test); nothing to answer then.
                let _gone = request.respond(response);
            }
        });
        FakeHttp { port, seen, server }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

/// The request's body. curl (so cargo) asks to upgrade to HTTP/2 (`Connection: Upgrade,
/// HTTP2-Settings`); `tiny_http` then hands over the raw socket, so only `Content-Length` bytes
/// are read and the answer stays HTTP/1.1, as a server that declines the upgrade does.
fn body(request: &mut tiny_http::Request) -> Vec<u8> {
    let upgrade = request.headers().iter().any(|h| {
        h.field.equiv("Connection") && h.value.as_str().to_ascii_lowercase().contains("upgrade")
    });
    let length = request.body_length().unwrap_or(0) as u64;
    let mut body = Vec::new();
    let reader = request.as_reader();
    // A client that hangs up mid-body is recorded with what it sent.
    let _partial = if upgrade {
        std::io::Read::read_to_end(&mut std::io::Read::take(reader, length), &mut body)
    } else {
        reader.read_to_end(&mut body)
    };
    body
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// A registry whose API echoes the Authorization header back in its error, as a broken or
/// hostile server might: cargo then prints the token, and shipcrate must mask it.
pub fn echo_server() -> FakeHttp {
    FakeHttp::start(|request, port| {
        let auth = request.header("authorization").unwrap_or_default();
        match (request.method.as_str(), request.target.as_str()) {
            ("GET", "/index/config.json") => (
                200,
                format!(r#"{{"dl":"http://127.0.0.1:{port}/dl","api":"http://127.0.0.1:{port}"}}"#),
            ),
            ("PUT", "/api/v1/crates/new") => (
                403,
                format!(r#"{{"errors":[{{"detail":"token `{auth}` is not allowed here"}}]}}"#),
            ),
            _ => (404, "not found".to_owned()),
        }
    })
}

/// A server on 127.0.0.1 that takes connections (up to 20) and never answers; its port.
pub fn stalled_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(20) {
            held.push(stream);
        }
    });
    port
}

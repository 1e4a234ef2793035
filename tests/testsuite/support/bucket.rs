//! A registry metered like crates.io: the test registry's upload API behind two token buckets,
//! one for new crates and one for new versions, each refilled and refusing as crates.io's
//! `take_token` does (rust-lang/crates.io, `src/rate_limiter.rs` at
//! 57fa000662f511321daa61e6769f190ea0e80771): full at its first use, one token per interval
//! since `last_refill` (moved by whole intervals), a 429 when empty whose message is crates.io's
//! own (`src/util/errors/json.rs`, `TooManyRequests`: "Please try again after" the next token's
//! instant as `%a, %d %b %Y %T GMT`, cut to the second). A refused upload takes no token.
//! Every upload is logged: which crate, when, taken or refused.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use cargo_test_support::registry::{Response, TestRegistry};

use super::registries::registry_builder;

/// A bucket's size and refill interval.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub burst: u32,
    pub interval: Duration,
}

/// One upload the registry saw.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub name: String,
    pub at: Instant,
    pub taken: bool,
}

/// The metered registry: dropped with its [`TestRegistry`].
pub struct Metered {
    _registry: TestRegistry,
    state: Arc<Mutex<State>>,
}

struct State {
    new_crates: TokenBucket,
    new_versions: TokenBucket,
    /// Crates the registry has a version of.
    known: BTreeSet<String>,
    log: Vec<Attempt>,
    /// A crate whose upload the registry takes this long to answer.
    hold: Option<(String, Duration)>,
}

/// One of crates.io's buckets.
pub struct TokenBucket {
    limit: Limit,
    /// Tokens and `last_refill`, once used.
    state: Option<(u32, SystemTime)>,
}

impl TokenBucket {
    pub fn new(limit: Limit) -> Self {
        TokenBucket { limit, state: None }
    }

    /// crates.io's `take_token`: `Err(retry_after)` when the bucket is empty.
    pub fn take(&mut self, now: SystemTime) -> Result<(), SystemTime> {
        let rate = self.limit.interval;
        let (tokens, last_refill) = match self.state {
            None => (self.limit.burst, now),
            Some((tokens, last)) => {
                let elapsed = now.duration_since(last).unwrap_or_default();
                let add = u32::try_from(elapsed.as_millis() / rate.as_millis()).unwrap();
                (
                    (tokens.saturating_sub(1) + add).min(self.limit.burst),
                    last + rate * add,
                )
            }
        };
        self.state = Some((tokens, last_refill));
        if tokens >= 1 {
            Ok(())
        } else {
            Err(last_refill + rate)
        }
    }
}

impl Metered {
    /// The test registry with its uploads metered; `known` crates exist already (their
    /// uploads are new versions).
    pub fn start(new_crates: Limit, new_versions: Limit, known: &[&str]) -> Self {
        let state = Arc::new(Mutex::new(State {
            new_crates: TokenBucket::new(new_crates),
            new_versions: TokenBucket::new(new_versions),
            known: known.iter().map(|k| (*k).to_owned()).collect(),
            log: Vec::new(),
            hold: None,
        }));
        let shared = Arc::clone(&state);
        let registry = registry_builder()
            .add_responder("/api/v1/crates/new", move |req, server| {
                let name = published_name(req.body.as_deref().unwrap_or_default());
                let mut state = shared.lock().unwrap();
                let new = !state.known.contains(&name);
                let bucket = if new {
                    &mut state.new_crates
                } else {
                    &mut state.new_versions
                };
                let taken = bucket.take(SystemTime::now());
                state.log.push(Attempt {
                    name: name.clone(),
                    at: Instant::now(),
                    taken: taken.is_ok(),
                });
                let hold = state
                    .hold
                    .as_ref()
                    .filter(|(held, _)| *held == name)
                    .map(|(_, hold)| *hold);
                match taken {
                    Ok(()) => {
                        state.known.insert(name);
                        drop(state);
                        if let Some(hold) = hold {
                            std::thread::sleep(hold);
                        }
                        server.check_authorized_publish(req)
                    }
                    Err(retry_after) => too_many_requests(new, retry_after),
                }
            })
            .build();
        Metered {
            _registry: registry,
            state,
        }
    }

    /// Answer `name`'s upload only after `hold` (a slow upload, to interrupt).
    pub fn hold(&self, name: &str, hold: Duration) {
        self.state.lock().unwrap().hold = Some((name.to_owned(), hold));
    }

    pub fn log(&self) -> Vec<Attempt> {
        self.state.lock().unwrap().log.clone()
    }

    /// Uploads refused with a 429.
    pub fn refused(&self) -> usize {
        self.log().iter().filter(|a| !a.taken).count()
    }

    /// From the first upload taken to the last.
    pub fn span(&self) -> Duration {
        let taken: Vec<Instant> = self
            .log()
            .iter()
            .filter(|a| a.taken)
            .map(|a| a.at)
            .collect();
        match (taken.first(), taken.last()) {
            (Some(first), Some(last)) => *last - *first,
            _ => Duration::ZERO,
        }
    }
}

/// The least span for `n` uploads from one fresh bucket: the burst at once, then one per
/// interval from the first.
pub fn least_span(limit: Limit, n: u32) -> Duration {
    limit.interval * n.saturating_sub(limit.burst)
}

/// crates.io's 429, word for word, with its `Retry-After` header.
pub fn too_many_requests(new: bool, retry_after: SystemTime) -> Response {
    let what = if new {
        "You have published too many new crates in a short period of time"
    } else {
        "You have published too many updates to existing crates in a short period of time"
    };
    let date = httpdate::fmt_http_date(retry_after);
    let detail = format!(
        "{what}. Please try again after {date} and see https://crates.io/docs/rate-limits for more details."
    );
    Response {
        code: 429,
        headers: vec![format!("Retry-After: {date}")],
        body: serde_json::json!({ "errors": [{ "detail": detail }] })
            .to_string()
            .into_bytes(),
    }
}

/// The crate an upload's body is for: the body starts with its JSON metadata's length
/// (4 bytes, little-endian), then the JSON.
fn published_name(body: &[u8]) -> String {
    let len = body
        .get(..4)
        .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()) as usize);
    body.get(4..4 + len)
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(json).ok())
        .and_then(|v| v["name"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

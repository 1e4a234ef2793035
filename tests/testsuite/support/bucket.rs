//! crates.io's publish rate limit as a stand-in, for the tests (`Metered`, in front of the
//! test registry) and the rate-limit benchmark (`benches/metered-registry.rs`, in front of
//! cargo-http-registry), which includes this file: a token bucket refilled and refusing as
//! crates.io's `take_token` does (rust-lang/crates.io, `src/rate_limiter.rs` at
//! 57fa000662f511321daa61e6769f190ea0e80771): full at its first use, one token per interval
//! since `last_refill` (moved by whole intervals), empty → 429; a refused upload takes no
//! token. The 429's message is crates.io's own (`src/util/errors/json.rs`, `TooManyRequests`:
//! "Please try again after" the next token's instant as `%a, %d %b %Y %T GMT`, cut to the
//! second). Only std, `serde_json` and `httpdate`: the benchmark builds it without the tests.

use std::time::{Duration, SystemTime};

/// A bucket's size and refill interval.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub burst: u32,
    pub interval: Duration,
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

/// crates.io's 429 body, word for word: for a new crate (`new`) or a new version, refused
/// until `retry_after`. Also the `Retry-After` header's value, returned second.
pub fn too_many_requests_body(new: bool, retry_after: SystemTime) -> (String, String) {
    let what = if new {
        "You have published too many new crates in a short period of time"
    } else {
        "You have published too many updates to existing crates in a short period of time"
    };
    let date = httpdate::fmt_http_date(retry_after);
    let detail = format!(
        "{what}. Please try again after {date} and see https://crates.io/docs/rate-limits for more details."
    );
    (
        serde_json::json!({ "errors": [{ "detail": detail }] }).to_string(),
        date,
    )
}

/// The crate an upload's body is for: the body starts with its JSON metadata's length
/// (4 bytes, little-endian), then the JSON.
pub fn published_name(body: &[u8]) -> String {
    let len = body
        .get(..4)
        .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()) as usize);
    body.get(4..4 + len)
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(json).ok())
        .and_then(|v| v["name"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

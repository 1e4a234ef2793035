//! A registry metered like crates.io: the test registry's upload API behind two
//! [`TokenBucket`]s, one for new crates and one for new versions. Every upload is logged:
//! which crate, when, taken or refused.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use cargo_test_support::registry::Response;

use super::bucket::{Limit, TokenBucket, published_name, too_many_requests_body};
use super::registries::{Registry, registry_builder, sturdy};

/// One upload the registry saw.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub name: String,
    pub at: Instant,
    pub taken: bool,
}

/// The metered registry: dropped with its [`Registry`].
pub struct Metered {
    _registry: Registry,
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
    /// How far the registry's clock is behind the machine's.
    behind: Duration,
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
            behind: Duration::ZERO,
        }));
        let shared = Arc::clone(&state);
        let registry = sturdy(registry_builder().add_responder(
            "/api/v1/crates/new",
            move |req, server| {
                let name = published_name(req.body.as_deref().unwrap_or_default());
                let mut state = shared.lock().unwrap();
                let new = !state.known.contains(&name);
                let behind = state.behind;
                let bucket = if new {
                    &mut state.new_crates
                } else {
                    &mut state.new_versions
                };
                let taken = bucket.take(SystemTime::now() - behind);
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
            },
        ));
        Metered {
            _registry: registry,
            state,
        }
    }

    /// Answer `name`'s upload only after `hold` (a slow upload, to interrupt).
    pub fn hold(&self, name: &str, hold: Duration) {
        self.state.lock().unwrap().hold = Some((name.to_owned(), hold));
    }

    /// The registry's clock runs `behind` the machine's: its 429s name instants already past
    /// here.
    pub fn clock_behind(&self, behind: Duration) {
        self.state.lock().unwrap().behind = behind;
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

/// crates.io's 429, with its `Retry-After` header.
pub fn too_many_requests(new: bool, retry_after: SystemTime) -> Response {
    let (body, date) = too_many_requests_body(new, retry_after);
    Response {
        code: 429,
        headers: vec![format!("Retry-After: {date}")],
        body: body.into_bytes(),
    }
}

//! Pacing to a registry's token buckets, learned from its 429s.
//!
//! crates.io meters publishes per user with two token buckets, one for new crates and one
//! for new versions of existing crates (rust-lang/crates.io, `src/rate_limiter.rs` at
//! 57fa000662f511321daa61e6769f190ea0e80771, `LimitedAction::PublishNew`/`PublishUpdate`,
//! `take_token`): a bucket starts full (`burst` tokens) with `last_refill` at its first use,
//! gains one token per `rate` elapsed since `last_refill` (which moves by whole `rate`s), and
//! refuses with 429 when empty, saying "Please try again after `last_refill + rate`" — the
//! instant its next token arrives, formatted `%a, %d %b %Y %T GMT`, so cut to the second
//! (`src/util/errors/json.rs`, `TooManyRequests`). A refused upload takes nothing.
//!
//! So after the first 429 of a run the bucket is known: the instant is when the next token
//! comes; the uploads accepted before it are the burst spent; the instant less the first
//! accepted upload is the interval (exact when the bucket was fresh, short otherwise, and then
//! the next 429 says it exactly: the instants two 429s name lie as many intervals apart as
//! uploads were taken between them). From then on a crate goes only when its bucket holds a
//! token, so a run collects a refusal only while it learns.
//!
//! Pure bookkeeping over wall-clock times (the registry's clock speaks in dates); never waits.

use std::time::{Duration, SystemTime};

/// Which of the registry's buckets an upload draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A crate the registry doesn't have yet.
    NewCrate,
    /// A new version of a crate it has.
    NewVersion,
}

impl Kind {
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::NewCrate => "new crate",
            Kind::NewVersion => "new version",
        }
    }
}

/// The run's two buckets, as far as it knows them.
#[derive(Debug, Default)]
pub(crate) struct Pace {
    new_crates: Bucket,
    new_versions: Bucket,
}

#[derive(Debug, Default)]
struct Bucket {
    /// Uploads the registry took this run, and when it took the first.
    accepted: u32,
    first_accepted: Option<SystemTime>,
    /// Known after the first dated 429.
    limit: Option<Limit>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Limit {
    /// Uploads taken before the first 429 (at least one).
    pub burst: u32,
    /// One token per this, once known.
    pub interval: Option<Duration>,
    /// When the next token arrives.
    next: SystemTime,
    /// The instant the last 429 named (its date plus the second it was cut to), and the
    /// uploads taken since.
    anchor: SystemTime,
    since_anchor: u32,
}

/// How many crates of one kind may go now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Allowance {
    /// No limit known.
    Any,
    /// This many (at least one).
    Now(u32),
    /// None until then.
    At(SystemTime),
}

/// The date in a 429 is cut to the second: the token comes within the second after it.
const DATE_RESOLUTION: Duration = Duration::from_secs(1);

impl Pace {
    fn bucket(&mut self, kind: Kind) -> &mut Bucket {
        match kind {
            Kind::NewCrate => &mut self.new_crates,
            Kind::NewVersion => &mut self.new_versions,
        }
    }

    /// What is known of `kind`'s bucket (`None`: no dated 429 yet).
    pub(crate) fn limit(&self, kind: Kind) -> Option<Limit> {
        match kind {
            Kind::NewCrate => self.new_crates.limit,
            Kind::NewVersion => self.new_versions.limit,
        }
    }

    /// When the next token of `kind` arrives, once a 429 said.
    pub(crate) fn next(&self, kind: Kind) -> Option<SystemTime> {
        self.limit(kind).map(|l| l.next)
    }

    /// What is known of `kind`'s bucket, in words: `one new crate per 10s after a burst of 4`.
    pub(crate) fn describe(&self, kind: Kind) -> Option<String> {
        let limit = self.limit(kind)?;
        Some(match limit.interval {
            Some(interval) => format!(
                "one {} per {}s after a burst of {}",
                kind.noun(),
                interval.as_secs_f64(),
                limit.burst
            ),
            None => format!(
                "{}s one at a time (the next 429 tells the interval)",
                kind.noun()
            ),
        })
    }

    /// The registry took an upload of `kind` that began at `at` (when cargo said
    /// `Uploading`; the registry's clock read between then and its answer): a token spent.
    pub(crate) fn accepted(&mut self, kind: Kind, at: SystemTime) {
        let bucket = self.bucket(kind);
        bucket.accepted += 1;
        bucket.first_accepted.get_or_insert(at);
        if let Some(limit) = &mut bucket.limit {
            limit.since_anchor += 1;
            if let Some(interval) = limit.interval {
                // Tokens that piled up while we were slow, up to the burst, then one spent.
                let oldest = at
                    .checked_sub(interval * limit.burst.saturating_sub(1))
                    .unwrap_or(at);
                limit.next = limit.next.max(oldest) + interval;
            }
        }
    }

    /// The registry refused an upload of `kind` until `until` (the date in its 429).
    pub(crate) fn refused(&mut self, kind: Kind, until: SystemTime) {
        let bucket = self.bucket(kind);
        let instant = until + DATE_RESOLUTION;
        let limit = match bucket.limit {
            None => Limit {
                burst: bucket.accepted.max(1),
                // Since the bucket's first use: the interval if the run found it full
                // and fresh, less if not (the next 429 corrects it). The token comes within
                // the second after the date; the upload began just before the registry's
                // clock read: that less whole seconds is the interval, never more.
                interval: bucket
                    .first_accepted
                    .and_then(|first| instant.duration_since(first).ok())
                    .map(whole_seconds)
                    .filter(|d| !d.is_zero()),
                next: instant,
                anchor: instant,
                since_anchor: 0,
            },
            Some(known) => {
                let interval = match known.since_anchor {
                    0 => known.interval,
                    taken => instant
                        .duration_since(known.anchor)
                        .ok()
                        .map(|d| d / taken)
                        .filter(|d| !d.is_zero())
                        .or(known.interval),
                };
                Limit {
                    interval,
                    next: instant,
                    anchor: instant,
                    since_anchor: 0,
                    ..known
                }
            }
        };
        bucket.limit = Some(limit);
    }

    /// How many uploads of `kind` the registry will take at `now`.
    pub(crate) fn allowance(&self, kind: Kind, now: SystemTime) -> Allowance {
        let Some(limit) = self.limit(kind) else {
            return Allowance::Any;
        };
        if now < limit.next {
            return Allowance::At(limit.next);
        }
        match limit.interval {
            // Unknown: one at a time, and the next 429 says when the one after may go.
            None => Allowance::Now(1),
            Some(interval) => {
                let waited = now.duration_since(limit.next).unwrap_or_default();
                let more = u32::try_from(waited.as_nanos() / interval.as_nanos().max(1))
                    .unwrap_or(u32::MAX);
                Allowance::Now(more.saturating_add(1).min(limit.burst))
            }
        }
    }

    /// How many of `kinds` (the crates still to go, in order) may go in one cargo run at
    /// `now`: up to the first whose bucket is empty. `Err(when)` when not even the first may
    /// go before `when`.
    pub(crate) fn batch_len(
        &self,
        kinds: impl IntoIterator<Item = Kind>,
        now: SystemTime,
    ) -> Result<usize, SystemTime> {
        let mut left = [Kind::NewCrate, Kind::NewVersion].map(|k| self.allowance(k, now));
        let mut taken = 0;
        for kind in kinds {
            let slot = &mut left[usize::from(kind == Kind::NewVersion)];
            match slot {
                Allowance::Any => {}
                Allowance::Now(n) if *n > 0 => *n -= 1,
                Allowance::At(when) if taken == 0 => return Err(*when),
                Allowance::Now(_) | Allowance::At(_) => break,
            }
            taken += 1;
        }
        Ok(taken)
    }
}

fn whole_seconds(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    /// crates.io's `take_token` for one bucket, as its source computes it, millisecond
    /// clock: `Ok` or the `retry_after` of its 429.
    #[derive(Clone)]
    struct CratesIo {
        burst: u32,
        rate: Duration,
        state: Option<(u32, SystemTime)>,
    }

    impl CratesIo {
        fn take(&mut self, now: SystemTime) -> Result<(), SystemTime> {
            let (tokens, last_refill) = match self.state {
                None => (self.burst, now),
                Some((tokens, last)) => {
                    let add = u32::try_from(
                        now.duration_since(last).unwrap().as_millis() / self.rate.as_millis(),
                    )
                    .unwrap();
                    (
                        (tokens.saturating_sub(1) + add).min(self.burst),
                        last + self.rate * add,
                    )
                }
            };
            self.state = Some((tokens, last_refill));
            if tokens >= 1 {
                Ok(())
            } else {
                Err(last_refill + self.rate)
            }
        }
    }

    /// The date a 429 shows: formatted with `%T`, cut to the second.
    fn shown(until: SystemTime) -> SystemTime {
        let secs = until
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    const TOOK: Duration = Duration::from_millis(700);

    /// Publish `n` crates of one kind against `registry`, each as soon as the pace allows,
    /// an upload taking `TOOK`: the span from the first taken to the last, and the refusals.
    fn publish(mut registry: CratesIo, n: usize) -> (Duration, u32) {
        let mut pace = Pace::default();
        let mut now = at(0) + Duration::from_millis(300);
        let (mut accepted, mut refused) = (Vec::new(), 0);
        while accepted.len() < n {
            match pace.batch_len([Kind::NewCrate], now) {
                Err(when) => now = when,
                Ok(_) => match registry.take(now) {
                    Ok(()) => {
                        pace.accepted(Kind::NewCrate, now);
                        accepted.push(now);
                        now += TOOK;
                    }
                    Err(until) => {
                        refused += 1;
                        pace.refused(Kind::NewCrate, shown(until));
                        now += TOOK;
                    }
                },
            }
        }
        (
            accepted[n - 1].duration_since(accepted[0]).unwrap(),
            refused,
        )
    }

    /// The least span for `n` crates: a publisher that knows the exact instant of each token.
    fn least(mut registry: CratesIo, n: usize) -> Duration {
        let mut now = at(0) + Duration::from_millis(300);
        let mut accepted = Vec::new();
        while accepted.len() < n {
            match registry.take(now) {
                Ok(()) => {
                    accepted.push(now);
                    now += TOOK;
                }
                Err(until) => now = until,
            }
        }
        accepted[n - 1].duration_since(accepted[0]).unwrap()
    }

    #[test]
    fn a_fresh_bucket_is_learned_from_one_429_and_kept_to() {
        let registry = CratesIo {
            burst: 4,
            rate: 10 * S,
            state: None,
        };
        let (span, refused) = publish(registry.clone(), 16);
        assert_eq!(refused, 1);
        let least = least(registry, 16);
        // 12 crates past the burst, one per 10 s; the date's second lost once.
        assert_eq!(least, 120 * S);
        assert!(span >= least && span <= least + 2 * S, "{span:?}");
    }

    #[test]
    fn a_used_bucket_costs_at_most_two_more_refusals() {
        for state in [
            // Another job spent the burst 7.5 s before this run began.
            Some((0, at(0) - Duration::from_millis(7_500))),
            // Half spent 50 s ago; spent 3 min ago.
            Some((2, at(0) - 50 * S)),
            Some((1, at(0) - 180 * S)),
        ] {
            let registry = CratesIo {
                burst: 5,
                rate: 60 * S,
                state,
            };
            let (span, refused) = publish(registry.clone(), 12);
            let least = least(registry, 12);
            assert!(refused <= 3, "{state:?}: {refused}");
            assert!(
                span >= least && span.as_secs_f64() <= least.as_secs_f64() * 1.10,
                "{state:?}: {span:?} against {least:?}"
            );
        }
    }

    #[test]
    fn a_batch_holds_what_each_bucket_allows() {
        let mut pace = Pace::default();
        let kinds = [Kind::NewCrate, Kind::NewVersion, Kind::NewCrate];
        assert_eq!(pace.batch_len(kinds, at(0)), Ok(3));
        pace.accepted(Kind::NewCrate, at(0) + Duration::from_millis(400));
        pace.refused(Kind::NewCrate, at(10));
        assert_eq!(pace.batch_len(kinds, at(1)), Err(at(11)));
        // New versions aren't limited: they go until the next new crate.
        let later = [Kind::NewVersion, Kind::NewVersion, Kind::NewCrate];
        assert_eq!(pace.batch_len(later, at(1)), Ok(2));
        assert_eq!(pace.batch_len(kinds, at(11)), Ok(2));
        // Twenty seconds late: the tokens that came meanwhile, up to the burst (1).
        assert_eq!(pace.allowance(Kind::NewCrate, at(31)), Allowance::Now(1));
        assert_eq!(pace.limit(Kind::NewCrate).unwrap().interval, Some(10 * S));
    }
}

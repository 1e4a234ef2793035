//! When and how long to wait: backoff with jitter for a registry that pushes back, the wait
//! crates.io asks for, and polling for the index. Waits show progress.
//!
//! Decides and sleeps; never runs cargo.

use std::io::IsTerminal;
use std::time::{Duration, Instant, SystemTime};

use crate::report::Reporter;

/// Largest random extra added to every wait, so parallel publishers don't retry in step.
pub(crate) const JITTER_MAX: Duration = Duration::from_secs(2);

/// The wait before retry number `attempt` (1-based) when the registry gave no time:
/// exponential backoff from one second, plus jitter. (A time it gives is kept to exactly:
/// `upload`'s pacing.)
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(10)) + jitter()
}

fn jitter() -> Duration {
    let most = u64::try_from(JITTER_MAX.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=most))
}

/// Minutes of waiting crates.io's rate limits will impose on a plan, if any: after a burst of
/// 5 new crates, one per 10 minutes; after a burst of 30 new versions, one per minute.
pub(crate) fn crates_io_wait_minutes(new_crates: usize, new_versions: usize) -> Option<usize> {
    let minutes = new_crates.saturating_sub(5) * 10 + new_versions.saturating_sub(30);
    (minutes > 0).then_some(minutes)
}

/// What a plan past crates.io's burst is told before the waits start: how many new crates and
/// new versions, the minutes to expect, and when they exceed the `deadline`, that the run
/// will stop there and a re-run publishes the rest.
pub(crate) fn crates_io_wait_warning(
    new_crates: usize,
    new_versions: usize,
    deadline: Option<Duration>,
) -> Option<String> {
    let minutes = crates_io_wait_minutes(new_crates, new_versions)?;
    let rerun = deadline
        .filter(|d| d.as_secs() < u64::try_from(minutes).unwrap_or(u64::MAX) * 60)
        .map(|d| {
            format!(
                "; that is more than `deadline` ({}) allows: the run will stop there, and \
                 re-running the job publishes the rest",
                humantime::format_duration(d)
            )
        })
        .unwrap_or_default();
    Some(format!(
        "this plan has {new_crates} new crate(s) and {new_versions} new version(s), beyond \
         crates.io's burst (5 new crates, 30 new versions): expect about {minutes} minutes of \
         rate-limit waits, which shipcrate will sit out{rerun}"
    ))
}

/// Sleep for `wait`, saying why; a bar on a terminal, a line a minute otherwise. `tick` runs
/// about once a second (a token renewal may be due mid-wait); its error ends the wait.
pub(crate) fn wait(
    wait: Duration,
    why: &str,
    tick: &mut dyn FnMut() -> anyhow::Result<()>,
    reporter: &Reporter,
) -> anyhow::Result<()> {
    let until = httpdate::fmt_http_date(SystemTime::now() + wait);
    reporter.status(
        "Waiting",
        &format!("{:.1}s, until {until}: {why}", wait.as_secs_f64()),
    );
    let end = Instant::now() + wait;
    let bar = (std::io::stderr().is_terminal() && wait > Duration::from_secs(5))
        .then(|| indicatif::ProgressBar::new(wait.as_secs()));
    let mut next_line = Instant::now() + Duration::from_mins(1);
    let result = loop {
        let now = Instant::now();
        if now >= end {
            break Ok(());
        }
        std::thread::sleep((end - now).min(Duration::from_millis(500)));
        if let Err(error) = tick() {
            break Err(error);
        }
        let left = end.saturating_duration_since(Instant::now());
        match &bar {
            Some(bar) => bar.set_position(wait.as_secs().saturating_sub(left.as_secs())),
            None if Instant::now() >= next_line && !left.is_zero() => {
                reporter.status("Waiting", &format!("{}s left: {why}", left.as_secs()));
                next_line += Duration::from_mins(1);
            }
            None => {}
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_io_burst_estimate() {
        assert_eq!(crates_io_wait_minutes(5, 30), None);
        assert_eq!(crates_io_wait_minutes(7, 0), Some(20));
        assert_eq!(crates_io_wait_minutes(0, 32), Some(2));
    }

    #[test]
    fn the_plan_is_told_when_the_waits_outlast_the_deadline() {
        assert_eq!(crates_io_wait_warning(5, 30, None), None);
        let said = crates_io_wait_warning(8, 40, Some(Duration::from_hours(1))).unwrap();
        assert_eq!(
            said,
            "this plan has 8 new crate(s) and 40 new version(s), beyond crates.io's burst (5 new \
             crates, 30 new versions): expect about 40 minutes of rate-limit waits, which \
             shipcrate will sit out"
        );
        let said = crates_io_wait_warning(8, 40, Some(Duration::from_mins(30))).unwrap();
        assert!(
            said.ends_with(
                "sit out; that is more than `deadline` (30m) allows: the run will stop there, \
                 and re-running the job publishes the rest"
            ),
            "{said}"
        );
    }

    #[test]
    fn delays_grow_and_stay_within_jitter() {
        for attempt in 1..5 {
            let d = backoff(attempt);
            let base = Duration::from_secs(1 << (attempt - 1));
            assert!(d >= base && d <= base + JITTER_MAX, "{attempt}: {d:?}");
        }
    }
}

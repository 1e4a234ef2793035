//! The watchdog: the shipcrate binary started again (as `shipcrate-watchdog`), leading the
//! process group every child of the run joins and listing the run's processes, so that when
//! the run is gone — SIGKILL included — what it started is stopped.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use rustix::process::Signal;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use super::procs::{descendants, others_in_group, process, signal_pids};
use super::{GRACE, WATCHDOG};

/// Whether this process was started as the watchdog.
pub fn is_watchdog() -> bool {
    std::env::args_os().next().is_some_and(|a| a == WATCHDOG)
}

/// The watchdog: wait until the run that started us is gone, then stop the process group we
/// lead (every child of that run) and every process the run had under it when we last looked
/// (its strays, re-parented to it, in sessions of their own), SIGTERM first, SIGKILL after
/// [`GRACE`].
pub fn watchdog() -> ! {
    // The signals that stop a run must not stop the one who cleans up after it.
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        signal_hook::flag::register(signal, std::sync::Arc::new(AtomicBool::new(false))).ok();
    }
    let me = rustix::process::getpid();
    let run = rustix::process::getppid().map(|p| p.as_raw_pid().unsigned_abs());
    // End of file: the run closed its end, by exiting or by being killed.
    let (gone, run_ended) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink()).ok();
        gone.send(()).ok();
    });
    let mut known: Vec<(u32, u64)> = Vec::new();
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = run_ended.recv_timeout(LOOK) {
        let Some(run) = run else { continue };
        for pid in descendants(run) {
            if let Some(p) = process(pid).filter(|p| p.pid != me.as_raw_pid().unsigned_abs())
                && !known
                    .iter()
                    .any(|&(k, start)| k == p.pid && start == p.start)
            {
                known.push((p.pid, p.start));
            }
        }
    }
    let left = || {
        let mut left: Vec<u32> = known
            .iter()
            .filter(|&&(pid, start)| process(pid).is_some_and(|p| p.start == start))
            .map(|&(pid, _)| pid)
            .collect();
        let below: Vec<u32> = left.iter().flat_map(|&pid| descendants(pid)).collect();
        left.extend(below);
        left
    };
    if others_in_group(me) || !left().is_empty() {
        rustix::process::kill_process_group(me, Signal::TERM).ok();
        signal_pids(&left(), Signal::TERM);
        let deadline = Instant::now() + GRACE;
        while (others_in_group(me) || !left().is_empty()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        rustix::process::kill_process_group(me, Signal::KILL).ok();
        signal_pids(&left(), Signal::KILL);
    }
    std::process::exit(0)
}

/// How often the watchdog lists the run's processes.
const LOOK: Duration = Duration::from_millis(100);

//! Nothing shipcrate starts outlives it. On SIGINT/SIGTERM/SIGHUP every child gets SIGTERM, then
//! SIGKILL after [`GRACE`], the temp dirs go, and we exit 128+signal. Killed outright (SIGKILL),
//! a watchdog process stops the children instead, and the next run removes the temp dirs.
//!
//! Normal exits clean up through `Drop`; this covers the exits `Drop` never sees.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// How long children get to stop after SIGTERM before they are killed.
pub(crate) const GRACE: Duration = Duration::from_secs(5);

/// `argv[0]` of the watchdog: the shipcrate binary started again in that role.
const WATCHDOG: &str = "shipcrate-watchdog";

/// Beside each temp dir, `<dir>.lock`, locked while its run lives: a later run that can lock
/// it knows the dir's run is gone.
const LOCK: &str = ".lock";

static STATE: Mutex<State> = Mutex::new(State {
    dirs: Vec::new(),
    children: Vec::new(),
    cleanup: None,
    report: None,
    watchdog: None,
});

/// Set by [`install`]: children get a watchdog (tests that use the library directly don't).
static WATCHED: AtomicBool = AtomicBool::new(false);

/// Set once a signal arrived: no new child starts, and threads that finish one wait for the
/// exit instead of carrying on (an upload must not begin while we stop).
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Run on a signal after the children stop, before the temp dirs go (e.g. revoking a token).
pub(crate) type Cleanup = Box<dyn Fn() + Send>;

/// Run on a signal after the cleanup, given the signal: the run's report, as far as it knows.
pub(crate) type Report = Box<dyn Fn(i32) + Send>;

struct State {
    dirs: Vec<(PathBuf, Option<fs_err::File>)>,
    children: Vec<u32>,
    cleanup: Option<Cleanup>,
    report: Option<Report>,
    watchdog: Option<Watchdog>,
}

/// A process leading the process group every child joins. It reads a pipe only we write to;
/// when we are gone, however we went, it sees end-of-file and stops the group.
struct Watchdog {
    child: Child,
    _pipe: ChildStdin,
}

/// Start the watcher thread, arm the watchdog, remove what killed runs left, and make this
/// process non-dumpable. Call once, before any temp dir or child exists.
pub(crate) fn install() -> std::io::Result<()> {
    // A build script runs as our user: non-dumpable, our memory and /proc/<pid>/environ (which
    // holds the token we were started with) are closed to it unless it runs as root.
    #[cfg(target_os = "linux")]
    if let Err(error) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        unreported(&format!(
            "warning: could not make shipcrate non-dumpable: {error}"
        ));
    }
    sweep_stale(&std::env::temp_dir());
    // Where a pristine copy may be made in memory (`checkout`).
    sweep_stale(Path::new("/dev/shm"));
    // The watchdog starts with the first child: a run that stops before starting any (a skip)
    // pays nothing for it.
    WATCHED.store(true, Ordering::SeqCst);
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            STOPPING.store(true, Ordering::SeqCst);
            stop_children();
            let state = STATE.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(cleanup) = &state.cleanup {
                cleanup();
            }
            if let Some(report) = &state.report {
                report(signal);
            }
            for (dir, _) in &state.dirs {
                remove_dir(dir);
            }
            unreported(&format!(
                "shipcrate: stopped by signal {signal}; temporary files removed"
            ));
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// SIGTERM to every child's process group; SIGKILL to what is left after [`GRACE`].
fn stop_children() {
    let (group, children) = {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        (watchdog_pid(&mut state), state.children.clone())
    };
    let groups: Vec<u32> = group.map_or(children, |g| vec![g]);
    signal_groups(&groups, Signal::TERM);
    let deadline = Instant::now() + GRACE;
    let running = || {
        !STATE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .children
            .is_empty()
    };
    while running() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Also what the children left behind in the group (a hook's background job).
    signal_groups(&groups, Signal::KILL);
}

fn signal_groups(groups: &[u32], signal: Signal) {
    for &group in groups {
        if let Some(pid) = i32::try_from(group).ok().and_then(Pid::from_raw) {
            // Gone already is fine.
            rustix::process::kill_process_group(pid, signal).ok();
        }
    }
}

fn remove_dir(dir: &Path) {
    // A child may still be closing files in it: try a few times.
    for _ in 0..5 {
        if std::fs::remove_dir_all(dir).is_ok() || !dir.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::remove_file(lock_path(dir)).ok();
}

fn lock_path(dir: &Path) -> PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(LOCK);
    PathBuf::from(name)
}

/// The process group children join: the watchdog's, started with the first child.
pub(crate) fn child_group() -> Option<u32> {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if WATCHED.swap(false, Ordering::SeqCst) {
        state.watchdog = start_watchdog();
    }
    watchdog_pid(&mut state)
}

fn watchdog_pid(state: &mut State) -> Option<u32> {
    let watchdog = state.watchdog.as_mut()?;
    matches!(watchdog.child.try_wait(), Ok(None)).then(|| watchdog.child.id())
}

/// Once a signal arrived, a thread that is about to start a child or has just seen one end
/// waits here for the exit the signal thread makes.
pub(crate) fn park_if_stopping() {
    while STOPPING.load(Ordering::SeqCst) {
        std::thread::park();
    }
}

fn start_watchdog() -> Option<Watchdog> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().ok()?;
    // No environment: it needs none, and holds no token.
    let spawned = Command::new(exe)
        .arg0(WATCHDOG)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    match spawned {
        Ok(mut child) => {
            let pipe = child.stdin.take()?;
            Some(Watchdog { child, _pipe: pipe })
        }
        Err(error) => {
            unreported(&format!(
                "warning: could not start shipcrate's watchdog ({error}): if shipcrate is \
                 killed outright, what it started may keep running"
            ));
            None
        }
    }
}

/// A line on stderr from where no reporter reaches: the signal thread, a cleanup it runs, a
/// `Drop`, the process setup. The one place outside `report` that prints; say nothing secret
/// here, as nothing masks it.
#[allow(clippy::print_stderr)]
pub(crate) fn unreported(line: &str) {
    eprintln!("{line}");
}

/// Whether this process was started as the watchdog.
pub fn is_watchdog() -> bool {
    std::env::args_os().next().is_some_and(|a| a == WATCHDOG)
}

/// The watchdog: wait until the run that started us is gone, then stop the process group we
/// lead (every child of that run), SIGTERM first, SIGKILL after [`GRACE`].
pub fn watchdog() -> ! {
    // The signals that stop a run must not stop the one who cleans up after it.
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        signal_hook::flag::register(signal, std::sync::Arc::new(AtomicBool::new(false))).ok();
    }
    // End of file: the run closed its end, by exiting or by being killed.
    std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink()).ok();
    let me = rustix::process::getpid();
    if others_in_group(me) {
        rustix::process::kill_process_group(me, Signal::TERM).ok();
        let deadline = Instant::now() + GRACE;
        while others_in_group(me) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if others_in_group(me) {
            rustix::process::kill_process_group(me, Signal::KILL).ok();
        }
    }
    std::process::exit(0)
}

/// A live process (not gone, not a zombie) as `/proc/<pid>/stat` tells it.
struct Process {
    pid: u32,
    parent: u32,
    group: u32,
}

/// The process `pid`, if it is alive.
fn process(pid: u32) -> Option<Process> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp …`; comm may hold anything, so read after its `)`.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?;
    let parent = fields.next()?.parse().ok()?;
    let group = fields.next()?.parse().ok()?;
    (state != "Z" && state != "X").then_some(Process { pid, parent, group })
}

/// Every live process.
fn processes() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| process(entry.file_name().to_str()?.parse().ok()?))
        .collect()
}

/// Every live process descended from `pid` (children, theirs, …).
pub(crate) fn descendants(pid: u32) -> Vec<u32> {
    let all = processes();
    let mut found = vec![pid];
    let mut next = 0;
    while let Some(&parent) = found.get(next) {
        found.extend(all.iter().filter(|p| p.parent == parent).map(|p| p.pid));
        next += 1;
    }
    found.remove(0);
    found
}

/// Whether `pid` is still a live process (not gone, not a zombie).
pub(crate) fn alive(pid: u32) -> bool {
    process(pid).is_some()
}

/// Whether a live process other than `me` is in the process group `me` leads.
fn others_in_group(me: Pid) -> bool {
    let me = me.as_raw_pid().unsigned_abs();
    processes().iter().any(|p| p.pid != me && p.group == me)
}

/// Remove temp dirs whose run is gone: only `shipcrate-*` dirs of our own user beside a lock
/// file we can take (its run held it until it died). Never follows a symlink.
fn sweep_stale(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    let uid = rustix::process::geteuid().as_raw();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name
            .strip_suffix(LOCK)
            .filter(|s| s.starts_with("shipcrate-"))
        else {
            continue;
        };
        let lock = entry.path();
        let dir = tmp.join(stem);
        let ours = |path: &Path, dir: bool| {
            std::fs::symlink_metadata(path)
                .is_ok_and(|m| m.uid() == uid && if dir { m.is_dir() } else { m.is_file() })
        };
        if !ours(&lock, false) {
            continue;
        }
        let Ok(file) = std::fs::File::open(&lock) else {
            continue;
        };
        // Held: its run is alive.
        if file.try_lock().is_err() {
            continue;
        }
        if ours(&dir, true) {
            std::fs::remove_dir_all(&dir).ok();
        }
        std::fs::remove_file(&lock).ok();
    }
}

pub(crate) fn set_cleanup(cleanup: Option<Cleanup>) {
    STATE.lock().unwrap_or_else(|e| e.into_inner()).cleanup = cleanup;
}

pub(crate) fn set_report(report: Option<Report>) {
    STATE.lock().unwrap_or_else(|e| e.into_inner()).report = report;
}

/// Remove `dir` on a signal, and lock `<dir>.lock` for as long as this run lives. The lock
/// file is locked under another name and then renamed into place, so that another run's
/// sweep never finds it unlocked.
pub(crate) fn track_dir(dir: &Path) {
    let lock = lock_path(dir);
    let new = lock.with_file_name(format!(
        ".{}-new",
        lock.file_name().unwrap_or_default().to_string_lossy()
    ));
    let lock = fs_err::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&new)
        .ok()
        .filter(|file| file.file().lock().is_ok())
        .filter(|_| std::fs::rename(&new, &lock).is_ok());
    std::fs::remove_file(&new).ok();
    STATE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .dirs
        .push((dir.to_path_buf(), lock));
}

pub(crate) fn untrack_dir(dir: &Path) {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(at) = state.dirs.iter().position(|(d, _)| d == dir) {
        let (_, lock) = state.dirs.remove(at);
        if lock.is_some() {
            std::fs::remove_file(lock_path(dir)).ok();
        }
    }
}

pub(crate) fn track_child(pid: u32) {
    STATE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .children
        .push(pid);
}

pub(crate) fn untrack_child(pid: u32) {
    STATE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .children
        .retain(|&p| p != pid);
}

//! Nothing shipcrate starts outlives it. On SIGINT/SIGTERM/SIGHUP every child gets SIGTERM, then
//! SIGKILL after [`GRACE`], the temp dirs go, and we exit 128+signal. Killed outright (SIGKILL),
//! a watchdog process stops the children instead, and the next run removes the temp dirs.
//!
//! On Linux shipcrate is a child subreaper (`PR_SET_CHILD_SUBREAPER`, prctl(2)): a process
//! started under the run whose parent exits — `setsid -f`, a double fork, a build script's
//! daemon — is re-parented to shipcrate instead of init, so it stays in the run's tree
//! whatever session or process group it moved to. Such strays are stopped when the
//! verification ends (before any hook runs or the upload's gate holds the token), when the
//! run ends, and on a signal; the watchdog keeps a list of the run's processes, strays
//! included, and stops them when the run is killed outright.
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

mod procs;
mod watchdog;

pub(crate) use procs::{alive, descendants};
use procs::{processes, signal_pids};
pub use watchdog::{is_watchdog, watchdog};

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
    // Orphans of the run come to us, not to init: see the module's text.
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::set_child_subreaper(Some(rustix::process::getpid())) {
        unreported(&format!(
            "warning: could not make shipcrate a child subreaper ({error}): a process started \
             under the run that leaves its session (`setsid`) may outlive it"
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
            stop_strays();
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
/// `Drop`, the process setup. The one place outside `report` that writes to stderr; say
/// nothing secret here, as nothing masks it.
pub(crate) fn unreported(line: &str) {
    use std::io::Write;
    // Not `eprintln!`: with stderr gone (the CI's log reader killed first) it would panic, and
    // a panic on the signal thread would leave the run parked, never exiting.
    writeln!(std::io::stderr(), "{line}").ok();
}

/// Stop every process under us that no thread of ours waits for: children re-parented to us
/// (we are a subreaper) and everything they started. They are frozen first (SIGSTOP), scanning
/// again until no new one turns up, so nothing they start meanwhile escapes; then killed, and
/// those that were our children reaped. Children we started ourselves, and the watchdog, are
/// left alone.
pub(crate) fn stop_strays() {
    let me = rustix::process::getpid().as_raw_pid().unsigned_abs();
    let mut frozen: Vec<u32> = Vec::new();
    {
        // Held while freezing: no child is started (and not yet tracked) meanwhile.
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        let mut ours = state.children.clone();
        ours.extend(watchdog_pid(&mut state));
        loop {
            let all = processes();
            let mut found: Vec<u32> = all
                .iter()
                .filter(|p| p.parent == me && !ours.contains(&p.pid))
                .map(|p| p.pid)
                .collect();
            let mut next = 0;
            while let Some(&parent) = found.get(next) {
                found.extend(all.iter().filter(|p| p.parent == parent).map(|p| p.pid));
                next += 1;
            }
            found.retain(|pid| !frozen.contains(pid));
            if found.is_empty() {
                break;
            }
            signal_pids(&found, Signal::STOP);
            frozen.extend(found);
        }
    }
    if frozen.is_empty() {
        return;
    }
    signal_pids(&frozen, Signal::KILL);
    let deadline = Instant::now() + GRACE;
    loop {
        for &pid in &frozen {
            if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
                // Ours to reap when it was re-parented to us; not ours, an error: fine.
                rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::NOHANG).ok();
            }
        }
        if !frozen.iter().any(|&pid| alive(pid)) || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
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

/// Start `cmd` and count it as one of ours in one step: a sweep for strays ([`stop_strays`])
/// never takes a child started meanwhile for one.
pub(crate) fn spawn_tracked(cmd: &mut Command) -> std::io::Result<Child> {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let child = cmd.spawn()?;
    state.children.push(child.id());
    Ok(child)
}

pub(crate) fn untrack_child(pid: u32) {
    STATE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .children
        .retain(|&p| p != pid);
}

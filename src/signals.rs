//! SIGINT/SIGTERM/SIGHUP: stop the running child, remove temp dirs, exit 128+signal.
//!
//! Normal exits clean up through `Drop`; this covers the exits `Drop` never sees.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

static STATE: Mutex<State> = Mutex::new(State {
    dirs: Vec::new(),
    children: Vec::new(),
    cleanup: None,
});

/// Run on a signal after the children stop, before the temp dirs go (e.g. revoking a token).
pub type Cleanup = Box<dyn Fn() + Send>;

struct State {
    dirs: Vec<PathBuf>,
    children: Vec<u32>,
    cleanup: Option<Cleanup>,
}

/// Start the watcher thread. Call once, before any temp dir or child exists.
pub fn install() -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let state = STATE.lock().unwrap_or_else(|e| e.into_inner());
            for &pid in &state.children {
                terminate(pid);
            }
            if !state.children.is_empty() {
                std::thread::sleep(Duration::from_millis(300));
            }
            if let Some(cleanup) = &state.cleanup {
                cleanup();
            }
            for dir in &state.dirs {
                remove_dir(dir);
            }
            eprintln!("shipcrate: stopped by signal {signal}; temporary files removed");
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

fn remove_dir(dir: &Path) {
    // A child may still be closing files in it: try a few times.
    for _ in 0..5 {
        if std::fs::remove_dir_all(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[allow(unsafe_code)]
fn terminate(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) on the process group our running child leads (see `cmd::command`),
    // with a valid signal number; no memory is involved.
    unsafe {
        libc::kill(-pid, libc::SIGTERM);
    }
}

pub fn set_cleanup(cleanup: Option<Cleanup>) {
    STATE.lock().unwrap_or_else(|e| e.into_inner()).cleanup = cleanup;
}

pub fn track_dir(dir: &Path) {
    STATE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .dirs
        .push(dir.to_path_buf());
}

pub fn untrack_dir(dir: &Path) {
    STATE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .dirs
        .retain(|d| d != dir);
}

pub fn track_child(pid: u32) {
    STATE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .children
        .push(pid);
}

pub fn untrack_child(pid: u32) {
    STATE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .children
        .retain(|&p| p != pid);
}

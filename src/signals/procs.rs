//! The processes as `/proc` tells them: which live, whose children they are, which group
//! they are in, when they started; and signals sent to a list of them.

use rustix::process::{Pid, Signal};

/// `signal` to each of `pids`.
pub(super) fn signal_pids(pids: &[u32], signal: Signal) {
    for &pid in pids {
        if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
            // Gone already is fine.
            rustix::process::kill_process(pid, signal).ok();
        }
    }
}

/// A live process (not gone, not a zombie) as `/proc/<pid>/stat` tells it.
pub(super) struct Process {
    pub(super) pid: u32,
    pub(super) parent: u32,
    pub(super) group: u32,
    /// When it started (clock ticks after boot): a pid taken again is another process.
    pub(super) start: u64,
}

/// The process `pid`, if it is alive.
pub(super) fn process(pid: u32) -> Option<Process> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp …`; comm may hold anything, so read after its `)`.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?;
    let parent = fields.next()?.parse().ok()?;
    let group = fields.next()?.parse().ok()?;
    // `starttime` is field 22; `group` was field 5.
    let started = fields.nth(16)?.parse().ok()?;
    (state != "Z" && state != "X").then_some(Process {
        pid,
        parent,
        group,
        start: started,
    })
}

/// Every live process.
pub(super) fn processes() -> Vec<Process> {
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
pub(super) fn others_in_group(me: Pid) -> bool {
    let me = me.as_raw_pid().unsigned_abs();
    processes().iter().any(|p| p.pid != me && p.group == me)
}

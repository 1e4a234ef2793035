//! Runs child processes: a clean environment, output streamed through the secret masker.
//!
//! The one place shipcrate spawns; it decides nothing about what to run.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::Env;
use crate::secret::Masker;
use crate::signals;

/// `line` as a terminal would leave it, in plain text: control sequences (`ESC [ … final`,
/// colour and cursor moves alike) taken out, and only what follows the last carriage return
/// (a progress bar redraws its line with `\r`).
fn plain_text(line: &str) -> String {
    let line = line
        .rsplit('\r')
        .find(|part| !part.trim().is_empty())
        .unwrap_or("");
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then one final byte in `@`..=`~`.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
}

/// What a streamed child did: its exit code (128+signal when killed) and its masked output,
/// without colour.
pub(crate) struct Finished {
    pub code: i32,
    pub output: String,
}

/// A command with exactly `env` as its environment, run in `dir`, in the process group of
/// shipcrate's watchdog (or leading a group of its own without one), so that everything it
/// starts can be stopped with it; on Linux it dies with shipcrate.
pub(crate) fn command(program: &Path, dir: &Path, env: &Env) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    cmd.current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .process_group(signals::child_group().map_or(0, u32::cast_signed));
    die_with_parent(&mut cmd);
    cmd
}

/// Linux: the child gets SIGKILL when the thread that started it ends. Every shipcrate thread
/// waits for the children it starts, so in practice: when shipcrate dies, even by SIGKILL.
/// (Grandchildren — build scripts, a hook's commands — are the watchdog's job.)
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe
    // work is allowed. It makes two system calls (prctl, getppid), allocates nothing, takes no
    // lock, and touches no memory but its captured pid.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
            // Parent gone before the prctl took effect: no signal would ever come.
            if rustix::process::getppid() != Some(parent) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}

/// What a streamed child sends the reader: a line of output, or its end.
enum Event {
    Line(String),
    Exited(std::io::Result<std::process::ExitStatus>),
}

/// Run to completion, streaming stdout and stderr line by line to our stderr, masked.
pub(crate) fn stream(cmd: Command, masker: &Masker) -> Result<Finished> {
    stream_with(cmd, masker, |_| {})
}

/// [`stream`], handing each masked line to `observe` as it arrives (both streams, in the order
/// they reach us), so a caller can act on a child's progress while it runs.
pub(crate) fn stream_with(
    cmd: Command,
    masker: &Masker,
    observe: impl FnMut(&str),
) -> Result<Finished> {
    start(cmd, masker)?.finish(observe)
}

/// A child started with its output piped: each line, masked, waits in a channel until
/// [`Streaming::finish`] shows it. Dropped unfinished, the child is stopped.
pub(crate) struct Streaming {
    program: String,
    pid: u32,
    /// When it was started.
    pub(crate) began: Instant,
    received: std::sync::mpsc::Receiver<Event>,
    done: bool,
}

/// Start `cmd`, its output held back until [`Streaming::finish`].
pub(crate) fn start(mut cmd: Command, masker: &Masker) -> Result<Streaming> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    signals::park_if_stopping();
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child =
        signals::spawn_tracked(&mut cmd).with_context(|| format!("could not start `{program}`"))?;
    let pid = child.id();
    let (events, received) = std::sync::mpsc::channel::<Event>();
    let pump = |source: Box<dyn Read + Send>| {
        let masker = masker.clone();
        let events = events.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(source).split(b'\n') {
                let Ok(line) = line else { break };
                let line = masker.mask(&String::from_utf8_lossy(&line));
                if events.send(Event::Line(line)).is_err() {
                    break;
                }
            }
        })
    };
    pump(Box::new(child.stdout.take().expect("piped stdout")));
    pump(Box::new(child.stderr.take().expect("piped stderr")));
    let waiter = events.clone();
    std::thread::spawn(move || {
        let status = child.wait();
        // The receiver may be gone only if the caller is; nothing left to tell.
        waiter.send(Event::Exited(status)).ok();
    });
    Ok(Streaming {
        program,
        pid,
        began: Instant::now(),
        received,
        done: false,
    })
}

impl Streaming {
    /// Show the child's output (what it said so far, then as it comes) on our stderr, each
    /// line handed to `observe` too, until it ends.
    pub(crate) fn finish(mut self, mut observe: impl FnMut(&str)) -> Result<Finished> {
        self.done = true;
        let mut output = String::new();
        let mut status = None;
        let mut drain_until: Option<Instant> = None;
        // Ends when both pipes close and the child is reaped — or, when a background job the
        // child left (`cmd &` in a hook) holds the pipes open, a moment after the child exits:
        // the job is stopped when shipcrate exits, and must not hold the run up till then.
        loop {
            let event = match drain_until {
                None => self.received.recv().ok(),
                Some(until) => self
                    .received
                    .recv_timeout(until.saturating_duration_since(Instant::now()))
                    .ok(),
            };
            match event {
                Some(Event::Line(line)) => {
                    // Our own stderr closing is no reason to stop the child: keep draining.
                    let _ = writeln!(std::io::stderr().lock(), "{line}");
                    // Shown in colour when the user asked cargo for it (`CARGO_TERM_COLOR=always`
                    // is common in CI); read without.
                    let line = plain_text(&line);
                    observe(&line);
                    output.push_str(&line);
                    output.push('\n');
                }
                Some(Event::Exited(exited)) => {
                    signals::untrack_child(self.pid);
                    signals::park_if_stopping();
                    status = Some(exited);
                    drain_until = Some(Instant::now() + Duration::from_secs(2));
                }
                None => break,
            }
        }
        let status = status.context("the child's waiter thread died")?;
        let status = status.with_context(|| format!("waiting for `{}`", self.program))?;
        let code = status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        });
        Ok(Finished { code, output })
    }
}

impl Streaming {
    /// The child's output, unshown, once it ends — or `None` when it is still running after
    /// `limit` (from its start): it is then stopped with everything it started, as on drop.
    fn held_within(mut self, limit: Duration) -> Result<Option<Finished>> {
        let deadline = self.began + limit;
        let mut output = String::new();
        let mut status = None;
        let mut until = deadline;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.received.recv_timeout(left) {
                Ok(Event::Line(line)) => {
                    output.push_str(&plain_text(&line));
                    output.push('\n');
                }
                Ok(Event::Exited(exited)) => {
                    self.done = true;
                    signals::untrack_child(self.pid);
                    signals::park_if_stopping();
                    status = Some(exited);
                    // What is left in the pipes, unless something the child left holds them.
                    until = Instant::now() + Duration::from_secs(2);
                }
                Err(_) if status.is_none() && Instant::now() >= deadline => return Ok(None),
                Err(_) => break,
            }
        }
        let status = status.context("the child's waiter thread died")?;
        let status = status.with_context(|| format!("waiting for `{}`", self.program))?;
        let code = status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        });
        Ok(Some(Finished { code, output }))
    }
}

impl Drop for Streaming {
    /// Unfinished: stop the child and everything it started, and reap it, its output unshown.
    /// It is frozen first (SIGSTOP), then each process it started, scanning again until no
    /// new one turns up — so nothing it starts meanwhile escapes — and then all are killed:
    /// what an unfinished child was doing is of no use to anyone.
    fn drop(&mut self) {
        use rustix::process::{Pid, Signal, kill_process};
        if self.done {
            return;
        }
        // Already gone (and reaped): its pid may be another process's by now.
        while let Ok(event) = self.received.try_recv() {
            if matches!(event, Event::Exited(_)) {
                signals::untrack_child(self.pid);
                return;
            }
        }
        let send = |pid: u32, signal| {
            if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
                kill_process(pid, signal).ok();
            }
        };
        send(self.pid, Signal::STOP);
        let mut family = vec![self.pid];
        loop {
            let found: Vec<u32> = signals::descendants(self.pid)
                .into_iter()
                .filter(|pid| !family.contains(pid))
                .collect();
            if found.is_empty() {
                break;
            }
            for pid in &found {
                send(*pid, Signal::STOP);
            }
            family.extend(found);
        }
        for pid in &family {
            send(*pid, Signal::KILL);
        }
        // The child, reaped by its waiter thread; then what it started.
        let deadline = Instant::now() + signals::GRACE;
        while let Ok(event) = self
            .received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if matches!(event, Event::Exited(_)) {
                break;
            }
        }
        while family[1..].iter().any(|pid| signals::alive(*pid)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        signals::untrack_child(self.pid);
    }
}

/// `cmd` as its errors name it: the program and its arguments (never a secret: those go
/// through the environment).
fn shown(cmd: &Command) -> String {
    let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy()).collect();
    format!("{} {}", cmd.get_program().to_string_lossy(), args.join(" "))
}

/// Run quietly and return stdout; a failure is an error carrying stderr. Like [`stream`],
/// the child is stopped with us on a signal.
pub(crate) fn capture(mut cmd: Command) -> Result<String> {
    let shown = shown(&cmd);
    signals::park_if_stopping();
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child =
        signals::spawn_tracked(&mut cmd).with_context(|| format!("could not start `{shown}`"))?;
    let pid = child.id();
    let out = child.wait_with_output();
    signals::untrack_child(pid);
    signals::park_if_stopping();
    let out = out.with_context(|| format!("waiting for `{shown}`"))?;
    if !out.status.success() {
        return Err(Failed {
            shown,
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Run `cmd` to its end, its output held, for at most `limit`: a child still running then is
/// stopped with everything it started. The error says which, with what it printed.
pub(crate) fn run_within(cmd: Command, limit: Duration) -> Result<()> {
    let shown = shown(&cmd);
    match start(cmd, &Masker::default())?.held_within(limit)? {
        Some(done) if done.code == 0 => Ok(()),
        Some(done) => anyhow::bail!(
            "`{shown}` failed (exit {}): {}",
            done.code,
            done.output.trim()
        ),
        None => anyhow::bail!(
            "`{shown}` was stopped: it had not finished after {}s",
            limit.as_secs()
        ),
    }
}

/// A [`capture`]d command that ran and failed: what it wrote to stderr, for a caller that
/// reads it (cargo's first error, say) rather than showing all of it.
#[derive(Debug)]
pub(crate) struct Failed {
    shown: String,
    status: std::process::ExitStatus,
    pub stderr: String,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` failed ({}): {}",
            self.shown, self.status, self.stderr
        )
    }
}

impl std::error::Error for Failed {}

#[cfg(test)]
mod tests {
    #[test]
    fn control_sequences_and_redraws_are_taken_out_and_nothing_else() {
        assert_eq!(
            super::plain_text("\x1b[1m\x1b[92m   Uploading\x1b[0m a v0.1.0 (/t/a)"),
            "   Uploading a v0.1.0 (/t/a)"
        );
        assert_eq!(super::plain_text("plain [1m text"), "plain [1m text");
        assert_eq!(super::plain_text("erased\x1b[K here"), "erased here");
        // A progress bar's redraws: what is left on the line.
        assert_eq!(
            super::plain_text("    Waiting [==>  ] 1/60\r\x1b[K   Published a v0.1.0 at x"),
            "   Published a v0.1.0 at x"
        );
    }
}

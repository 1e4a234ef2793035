//! Runs child processes: a clean environment, output streamed through the secret masker.
//!
//! The one place shipcrate spawns; it decides nothing about what to run.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::Env;
use crate::secret::Masker;
use crate::signals;

/// What a streamed child did: its exit code (128+signal when killed) and its masked output.
pub struct Finished {
    pub code: i32,
    pub output: String,
}

/// A command with exactly `env` as its environment, run in `dir`, leading its own process
/// group so that on a signal everything it started can be stopped with it.
pub fn command(program: &Path, dir: &Path, env: &Env) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    cmd.current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .process_group(0);
    cmd
}

/// Run to completion, streaming stdout and stderr line by line to our stderr, masked.
pub fn stream(cmd: Command, masker: &Masker) -> Result<Finished> {
    stream_with(cmd, masker, |_| {})
}

/// [`stream`], handing each masked line to `observe` as it arrives (both streams, in the order
/// they reach us), so a caller can act on a child's progress while it runs.
pub fn stream_with(
    mut cmd: Command,
    masker: &Masker,
    mut observe: impl FnMut(&str),
) -> Result<Finished> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{program}`"))?;
    signals::track_child(child.id());
    let (lines, received) = std::sync::mpsc::channel::<String>();
    let pump = |source: Box<dyn Read + Send>| {
        let masker = masker.clone();
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(source).split(b'\n') {
                let Ok(line) = line else { break };
                if lines
                    .send(masker.mask(&String::from_utf8_lossy(&line)))
                    .is_err()
                {
                    break;
                }
            }
        })
    };
    let out = pump(Box::new(child.stdout.take().expect("piped stdout")));
    let err = pump(Box::new(child.stderr.take().expect("piped stderr")));
    drop(lines);
    let mut output = String::new();
    // Ends when both pipes close: the child and everything that inherited them are done.
    for line in received {
        // Our own stderr closing is no reason to stop the child: keep draining.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
        observe(&line);
        output.push_str(&line);
        output.push('\n');
    }
    let status = child.wait();
    signals::untrack_child(child.id());
    let _ = out.join();
    let _ = err.join();
    let status = status.with_context(|| format!("waiting for `{program}`"))?;
    let code = status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        128 + status.signal().unwrap_or(0)
    });
    Ok(Finished { code, output })
}

/// Run quietly and return stdout; a failure is an error carrying stderr. Like [`stream`],
/// the child is stopped with us on a signal.
pub fn capture(mut cmd: Command) -> Result<String> {
    let shown = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let pid = child.id();
    signals::track_child(pid);
    let out = child.wait_with_output();
    signals::untrack_child(pid);
    let out = out.with_context(|| format!("waiting for `{shown}`"))?;
    if !out.status.success() {
        anyhow::bail!(
            "`{shown}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

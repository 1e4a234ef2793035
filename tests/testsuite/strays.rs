//! No process started during a run outlives it, `setsid` included: a build script's and a
//! hook's daemon, each in a session of its own, are gone when shipcrate exits — normally, on
//! SIGTERM, and when shipcrate is killed by SIGKILL while its watchdog lives — and a build script's
//! daemon is gone before the upload's gate holds the token.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

/// Where the daemons write their pids, and what each manages to read of the gate's token file.
struct Daemons {
    repo: Repo,
    build_pids: PathBuf,
    build_stolen: PathBuf,
    hook_pids: PathBuf,
    hook_stolen: PathBuf,
}

impl Daemons {
    /// The `before_deploy` hook that leaves the other daemon.
    fn hook(&self) -> String {
        daemon(&self.hook_pids, &self.hook_stolen)
    }
}

/// A daemon, left running by `setsid -f` in a session of its own: it appends its pid to
/// `pids`, then, while it lives, copies any token file an upload's gate holds to `stolen`.
fn daemon(pids: &Path, stolen: &Path) -> String {
    format!(
        "setsid -f sh -c 'echo $$ >> {pids}; while :; do cat \"${{TMPDIR:-/tmp}}\"/shipcrate-gate-*/upload >> {stolen} 2>/dev/null; sleep 0.05; done' </dev/null >/dev/null 2>&1; \
         while [ ! -s {pids} ]; do sleep 0.01; done",
        pids = pids.display(),
        stolen = stolen.display(),
    )
}

/// A crate whose build script starts such a daemon (and then sleeps `build_sleep` seconds),
/// and the `before_deploy` hook that starts another.
fn with_daemons(name: &str, build_sleep: u32) -> Daemons {
    let build_pids = paths::root().join("build-daemon.pids");
    let build_stolen = paths::root().join("build-daemon.stolen");
    let script = daemon(&build_pids, &build_stolen);
    let repo = Repo::with_crate(name, "0.1.0")
        .file(
            "build.rs",
            &format!(
                "fn main() {{\n    let ok = std::process::Command::new(\"sh\").args([\"-c\", {script:?}]).status().unwrap();\n    \
                 assert!(ok.success());\n    std::thread::sleep(std::time::Duration::from_secs({build_sleep}));\n}}\n"
            ),
        )
        .commit("a build script that leaves a daemon");
    Daemons {
        repo,
        build_pids,
        build_stolen,
        hook_pids: paths::root().join("hook-daemon.pids"),
        hook_stolen: paths::root().join("hook-daemon.stolen"),
    }
}

fn pids(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

/// Alive: in /proc, and not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat[stat.rfind(')').unwrap() + 1..]
            .split_whitespace()
            .next();
        !matches!(state, Some("Z" | "X"))
    })
}

/// Every pid in `files`, none of them alive within `within` (zero: right now).
#[track_caller]
fn assert_all_gone(files: &[&Path], within: Duration) {
    let all: Vec<u32> = files.iter().flat_map(|f| pids(f)).collect();
    assert!(!all.is_empty(), "no daemon wrote its pid");
    for file in files {
        assert!(!pids(file).is_empty(), "{} is empty", file.display());
    }
    let deadline = Instant::now() + within;
    while all.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<u32> = all.into_iter().filter(|&p| alive(p)).collect();
    // Don't leave them to the next test.
    for &pid in &left {
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .ok();
    }
    assert!(left.is_empty(), "still running: {left:?}");
}

fn wait_for(file: &Path) {
    let deadline = Instant::now() + Duration::from_mins(2);
    while pids(file).is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An `after_deploy` hook noting, into `into`, which pid of `files` is alive after the upload.
fn alive_after_upload(files: &[&Path], into: &Path) -> String {
    let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    format!(
        "for p in $(cat {} 2>/dev/null); do if grep -qs '^State:[[:space:]]*[^ZX]' /proc/$p/status; then echo $p >> {}; fi; done",
        files.join(" "),
        into.display()
    )
}

#[cargo_test]
fn a_build_scripts_daemon_is_gone_before_the_upload_held_at_the_gate() {
    // No `before_deploy`: the upload cargo starts during the verification and waits at the
    // gate, which opens (the token written) once the verification has ended.
    let _registry = registry();
    let d = with_daemons("gated", 0);
    let alive = paths::root().join("alive-after-upload");
    d.repo
        .shipcrate()
        .registry_target()
        .env(
            "SHIPCRATE_AFTER_DEPLOY",
            &alive_after_upload(&[&d.build_pids], &alive),
        )
        .run()
        .success();
    assert_eq!(index_entries("gated").len(), 1, "the upload went through");
    let alive = std::fs::read_to_string(&alive).unwrap_or_default();
    assert!(alive.is_empty(), "alive after the upload: {alive}");
    let read = std::fs::read_to_string(&d.build_stolen).unwrap_or_default();
    assert!(
        !read.contains(TOKEN),
        "the build script's daemon read the token"
    );
    assert_all_gone(&[&d.build_pids], Duration::ZERO);
}

#[cargo_test]
fn a_build_script_faking_the_upload_cargos_readiness_never_sees_the_token() {
    // For 6 s, while the verification runs it, the build script does what a cargo done
    // verifying does — writes into every gate's dir, prints cargo's `Uploading` line into
    // its cargo's stderr — and reads every gate's token file. The gate must not open under
    // it (a review found one that did, when the verifying cargo was the uploading one).
    let _registry = registry();
    let stolen = paths::root().join("forger.stolen");
    let script = format!(
        r#"cargo_pid=$1; end=$(( $(date +%s) + 6 ))
while [ "$(date +%s)" -lt "$end" ]; do
  for d in "${{TMPDIR:-/tmp}}"/shipcrate-gate-*; do
    [ -d "$d" ] || continue
    : > "$d/asked" 2>/dev/null
    cat "$d/upload" >> {stolen:?} 2>/dev/null
  done
  printf '   Uploading forger v0.1.0 (/forger)\n' > "/proc/$cargo_pid/fd/2" 2>/dev/null
  sleep 0.1
done"#,
        stolen = stolen.display().to_string()
    );
    let repo = Repo::with_crate("forger", "0.1.0")
        .file(
            "build.rs",
            &format!(
                "fn main() {{\n    let cargo = std::os::unix::process::parent_id().to_string();\n    \
                 let ok = std::process::Command::new(\"sh\").args([\"-c\", {script:?}, \"sh\", &cargo]).status().unwrap();\n    \
                 assert!(ok.success());\n}}\n"
            ),
        )
        .commit("a build script that fakes the upload cargo's readiness");
    repo.shipcrate().registry_target().run().success();
    assert_eq!(index_entries("forger").len(), 1, "the upload went through");
    let read = std::fs::read_to_string(&stolen).unwrap_or_default();
    assert!(!read.contains(TOKEN), "the build script read the token");
}

#[cargo_test]
fn daemons_of_a_build_script_and_a_hook_are_gone_before_the_upload_and_when_the_run_ends() {
    let _registry = registry();
    let d = with_daemons("daemons", 0);
    // After the upload, `after_deploy` notes which daemon is still alive.
    let alive_after_upload_file = paths::root().join("alive-after-upload");
    let after = alive_after_upload(&[&d.build_pids, &d.hook_pids], &alive_after_upload_file);
    d.repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_BEFORE_DEPLOY", &d.hook())
        .env("SHIPCRATE_AFTER_DEPLOY", &after)
        .run()
        .success();
    assert_eq!(index_entries("daemons").len(), 1, "the upload went through");
    // Gone before the gate held the token: the build script's when the verification ended,
    // the hook's when the gate opened.
    let alive = std::fs::read_to_string(&alive_after_upload_file).unwrap_or_default();
    assert!(alive.is_empty(), "alive after the upload: {alive}");
    for stolen in [&d.build_stolen, &d.hook_stolen] {
        let read = std::fs::read_to_string(stolen).unwrap_or_default();
        assert!(!read.contains(TOKEN), "{} read the token", stolen.display());
    }
    // And, whatever they were, none outlives the run: gone as shipcrate exits.
    assert_all_gone(&[&d.build_pids, &d.hook_pids], Duration::ZERO);
}

/// Interrupted with `signal` while the build script's daemon runs (the build script still
/// sleeping), or while the hook's does (the hook still sleeping).
fn interrupted(signal_name: &str, in_hook: bool) {
    let _registry = registry();
    let d = with_daemons("interrupted", if in_hook { 0 } else { 120 });
    let hook = format!("{}; sleep 120", d.hook());
    let child = d
        .repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_BEFORE_DEPLOY", &hook)
        .spawn();
    let started = if in_hook { &d.hook_pids } else { &d.build_pids };
    wait_for(started);
    // The watchdog lists the run's processes every 0.1 s: give it time to see the daemon.
    std::thread::sleep(Duration::from_millis(500));
    signal(signal_name, child.id());
    let out = Outcome::from_child(child);
    assert_ne!(out.code, Some(0), "{}", out.both());
    let files: Vec<&Path> = if in_hook {
        vec![&d.build_pids, &d.hook_pids]
    } else {
        vec![&d.build_pids]
    };
    if signal_name == "-KILL" {
        // The watchdog stops them: SIGTERM, then SIGKILL after the 5 s grace.
        assert_all_gone(&files, Duration::from_secs(20));
    } else {
        assert_eq!(out.code, Some(143), "{}", out.both());
        assert_all_gone(&files, Duration::ZERO);
    }
    assert!(index_entries("interrupted").is_empty());
}

#[cargo_test]
fn a_build_scripts_daemon_is_gone_after_sigterm() {
    interrupted("-TERM", false);
}

#[cargo_test]
fn a_hooks_daemon_is_gone_after_sigterm() {
    interrupted("-TERM", true);
}

#[cargo_test]
fn a_build_scripts_daemon_is_gone_after_sigkill_while_the_watchdog_lives() {
    interrupted("-KILL", false);
}

#[cargo_test]
fn a_hooks_daemon_is_gone_after_sigkill_while_the_watchdog_lives() {
    interrupted("-KILL", true);
}

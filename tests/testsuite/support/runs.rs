//! Running the real binary and the tools around it: the isolated environment every process
//! gets, the `Run` builder and its `Outcome` checks, and PATH shims that record what was run.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cargo_test_support::compare::assert_e2e;
use cargo_test_support::paths;
use cargo_test_support::prelude::IntoData;

use super::registries::TOKEN;

/// Environment every git and shipcrate process in the tests gets: no user or system config.
pub fn base_env() -> Vec<(String, String)> {
    let toolchain = Path::new(&std::env::var("CARGO").expect("tests run under cargo"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", toolchain.display());
    vec![
        ("PATH".into(), path),
        ("HOME".into(), paths::home().display().to_string()),
        (
            "CARGO_HOME".into(),
            paths::cargo_home().display().to_string(),
        ),
        ("TMPDIR".into(), tmp_dir().display().to_string()),
        ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
        ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
        ("GIT_AUTHOR_NAME".into(), "Test".into()),
        ("GIT_AUTHOR_EMAIL".into(), "test@example.com".into()),
        ("GIT_COMMITTER_NAME".into(), "Test".into()),
        ("GIT_COMMITTER_EMAIL".into(), "test@example.com".into()),
        ("CARGO_TERM_COLOR".into(), "never".into()),
        ("CARGO_NET_OFFLINE".into(), "false".into()),
        // A run by hand, as the README says to declare one: the test machine may be a
        // container, where shipcrate holds back branch builds that could be pull requests'
        // unless told there is no CI (tests of that remove this).
        ("SHIPCRATE_CI".into(), "none".into()),
    ]
}

/// Where shipcrate makes its temp dirs in tests, so leftovers can be seen.
pub fn tmp_dir() -> PathBuf {
    let dir = paths::root().join("tmp");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
/// One shipcrate invocation, built up then run.
pub struct Run {
    cmd: Command,
}

impl Run {
    pub(super) fn new(dir: &Path) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shipcrate"));
        cmd.current_dir(dir)
            .env_clear()
            .envs(base_env())
            .stdin(Stdio::null());
        Run { cmd }
    }

    #[must_use]
    pub fn arg(mut self, arg: &str) -> Self {
        self.cmd.arg(arg);
        self
    }

    #[must_use]
    pub fn args(mut self, args: &[&str]) -> Self {
        self.cmd.args(args);
        self
    }

    #[must_use]
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.cmd.env(key, value);
        self
    }

    #[must_use]
    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// A variable whose value is any bytes (not necessarily UTF-8).
    #[must_use]
    pub fn env_bytes(mut self, key: &[u8], value: &[u8]) -> Self {
        use std::os::unix::ffi::OsStrExt;
        self.cmd.env(
            std::ffi::OsStr::from_bytes(key),
            std::ffi::OsStr::from_bytes(value),
        );
        self
    }

    /// Run as another user (the test runs as root).
    #[must_use]
    pub fn run_as(mut self, uid: u32) -> Self {
        use std::os::unix::process::CommandExt;
        self.cmd.uid(uid).gid(uid);
        self
    }

    /// Put a directory first on PATH (for shims).
    #[must_use]
    pub fn path_prefix(mut self, dir: &Path) -> Self {
        let path = base_env().into_iter().find(|(k, _)| k == "PATH").unwrap().1;
        self.cmd.env("PATH", format!("{}:{path}", dir.display()));
        self
    }

    /// The test registry as the target, with its token in cargo's variable for it.
    #[must_use]
    pub fn registry_target(self) -> Self {
        self.env("SHIPCRATE_REGISTRY", "alternative")
            .env("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", TOKEN)
    }

    pub fn run(mut self) -> Outcome {
        let out = self.cmd.output().unwrap();
        Outcome::from(out)
    }

    pub fn spawn(mut self) -> std::process::Child {
        self.cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Start with a `before_deploy` hook that signals it started and then sleeps; return once
    /// it runs, so the caller can interrupt shipcrate mid-run.
    pub fn spawn_until_hook_runs(self) -> std::process::Child {
        let marker = paths::root().join("hook-started");
        let hook = format!("touch {}; sleep 60", marker.display());
        let child = self.env("SHIPCRATE_BEFORE_DEPLOY", &hook).spawn();
        let deadline = std::time::Instant::now() + std::time::Duration::from_mins(1);
        while !marker.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the hook never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child
    }
}

/// What a run printed and how it exited.
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Outcome {
    fn from(out: Output) -> Self {
        Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Outcome {
    pub fn from_child(child: std::process::Child) -> Self {
        Outcome::from(child.wait_with_output().unwrap())
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n{}",
            self.both()
        );
        self
    }

    #[track_caller]
    pub fn success(self) -> Self {
        self.code(0)
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.both()
        );
        self
    }

    /// The whole of stderr, as the user reads it, against `expected` (an inline `str![..]`),
    /// so a wrong, extra or missing line fails where a substring check would pass.
    /// cargo-test-support's redactions apply: `[ROOT]` for the test's root, `[..]` for the rest
    /// of a line that varies (a commit, a port), a `...` line for lines cargo prints itself.
    /// `SNAPSHOTS=overwrite cargo test <name>` rewrites the snapshot in place.
    #[track_caller]
    pub fn stderr_eq(self, expected: impl IntoData) -> Self {
        assert_e2e().eq(&self.stderr, expected);
        self
    }

    /// The whole of stdout against `expected`, as [`Outcome::stderr_eq`] does for stderr.
    #[track_caller]
    pub fn stdout_eq(self, expected: impl IntoData) -> Self {
        assert_e2e().eq(&self.stdout, expected);
        self
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.both()
        );
        self
    }

    #[track_caller]
    pub fn lacks(self, needle: &str) -> Self {
        assert!(
            !self.stdout.contains(needle) && !self.stderr.contains(needle),
            "output has {needle:?}\n{}",
            self.both()
        );
        self
    }

    pub fn both(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}
/// PATH shims for `cargo`, `git` and `sh` that record argv and env, then exec the real tool.
/// Returns the shim dir; records go to `<dir>/log/<tool>.<pid>.{argv,env}`.
pub fn shims() -> PathBuf {
    let dir = paths::root().join("shims");
    std::fs::create_dir_all(dir.join("log")).unwrap();
    for tool in ["cargo", "git", "sh"] {
        let real = which(tool);
        let script = format!(
            "#!/bin/sh\nlog={log}/{tool}.$$\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$log.argv\"\n\
             env > \"$log.env\"\nexec {real} \"$@\"\n",
            log = dir.join("log").display(),
            real = real.display()
        );
        let path = dir.join(tool);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// A directory holding a `cargo` that runs the shell `prelude` first, then the real cargo;
/// put it first on PATH with [`Run::path_prefix`].
pub fn cargo_wrapper(name: &str, prelude: &str) -> PathBuf {
    let dir = paths::root().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!(
        "#!/bin/sh\n{prelude}\nexec {real} \"$@\"\n",
        real = which("cargo").display()
    );
    std::fs::write(dir.join("cargo"), script).unwrap();
    std::fs::set_permissions(dir.join("cargo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// The real tool the tests' PATH resolves to.
pub fn which(tool: &str) -> PathBuf {
    let path = base_env().into_iter().find(|(k, _)| k == "PATH").unwrap().1;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{tool} not found"))
}

/// The recorded `(tool, kind, contents)` of every shimmed call.
pub fn shim_logs(dir: &Path) -> Vec<(String, String, String)> {
    let mut logs: Vec<_> = std::fs::read_dir(dir.join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let tool = name.split('.').next().unwrap().to_owned();
            let kind = name.rsplit('.').next().unwrap().to_owned();
            (tool, kind, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    logs.sort();
    logs
}

/// `(tool, argv, env)` of every shimmed call, argv and env matched by pid.
pub fn shim_records(shims: &Path) -> Vec<(String, Vec<String>, String)> {
    let log = shims.join("log");
    let mut records = Vec::new();
    for entry in std::fs::read_dir(&log).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".argv") else {
            continue;
        };
        let tool = stem.split('.').next().unwrap().to_owned();
        let argv = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let env = std::fs::read_to_string(log.join(format!("{stem}.env"))).unwrap_or_default();
        records.push((tool, argv, env));
    }
    records
}

/// Entries left in shipcrate's temp dir.
pub fn leftovers() -> Vec<PathBuf> {
    std::fs::read_dir(tmp_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// Crate names in the order shipcrate uploaded them (cargo's `Uploaded` lines).
pub fn uploads(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Uploaded "))
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect()
}

/// The JSON report's entry for the crate `name` (its `outcome`, `reason`, …).
#[track_caller]
pub fn reported_crate(report: &Path, name: &str) -> serde_json::Value {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    json["crates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the report: {json}"))
        .clone()
}

/// Send `name` (`-TERM`, `-INT`, `-KILL`) to `pid`, as a CI runner cutting a job off does.
pub fn signal(name: &str, pid: u32) {
    let sent = std::process::Command::new("kill")
        .args([name, &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill {name} {pid} failed");
}

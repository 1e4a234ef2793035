//! The one test harness: real git repos, a real loopback registry, the real binary.
//!
//! Every test runs inside cargo-test-support's sandbox (`#[cargo_test]`), so `paths::root()`
//! is private to it and the registry's config lives in `paths::cargo_home()`.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cargo_test_support::paths;
use cargo_test_support::registry::{RegistryBuilder, TestRegistry, Token};

/// The token the test registry accepts.
pub const TOKEN: &str = "s3cr3t-t0ken-4f9b2c";

/// A git repository under the test's root, built step by step.
pub struct Repo {
    pub root: PathBuf,
}

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
    ]
}

/// Where shipcrate makes its temp dirs in tests, so leftovers can be seen.
pub fn tmp_dir() -> PathBuf {
    let dir = paths::root().join("tmp");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(base_env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Repo {
    /// An empty repository on branch `main`.
    pub fn new(name: &str) -> Self {
        let root = paths::root().join(name);
        std::fs::create_dir_all(&root).unwrap();
        git(&root, &["init", "--quiet", "--initial-branch=main"]);
        Repo { root }
    }

    /// A repository whose root manifest is a virtual workspace of `members` (not committed).
    pub fn workspace(members: &[&str]) -> Self {
        Repo::new("repo").file(
            "Cargo.toml",
            &format!("[workspace]\nmembers = {members:?}\nresolver = \"2\"\n"),
        )
    }

    /// A repository with one library crate `name` v`version`, committed.
    pub fn with_crate(name: &str, version: &str) -> Self {
        Repo::new("repo")
            .file("Cargo.toml", &manifest(name, version))
            .file("src/lib.rs", "pub fn answer() -> u32 { 42 }\n")
            .file(".gitignore", "/target\n")
            .commit("initial")
    }

    #[must_use]
    pub fn file(self, path: &str, contents: &str) -> Self {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    #[must_use]
    pub fn commit(self, message: &str) -> Self {
        git(&self.root, &["add", "-A"]);
        git(&self.root, &["commit", "--quiet", "-m", message]);
        self
    }

    #[must_use]
    pub fn tag(self, name: &str) -> Self {
        git(&self.root, &["tag", "-a", name, "-m", name]);
        self
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(&self.root, args)
    }

    /// `git submodule add` of the local repository `source` at `path` (not committed).
    pub fn add_submodule(&self, source: &Repo, path: &str) {
        self.git(&[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "--quiet",
            "add",
            source.root.to_str().unwrap(),
            path,
        ]);
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// Run shipcrate in this repository.
    pub fn shipcrate(&self) -> Run {
        Run::new(&self.root)
    }

    /// Every file and dir below the root, `.git` included, with its mode, mtime and content
    /// hash. `target/` is left out, and so is the root's own mtime, which changes when cargo
    /// creates `target/` (the one place shipcrate may write).
    pub fn snapshot(&self) -> Snapshot {
        let entries = walkdir::WalkDir::new(&self.root)
            .min_depth(1)
            .into_iter()
            .filter_entry(|e| e.path() != self.root.join("target"))
            .map(|e| e.unwrap())
            .map(|e| {
                let meta = std::fs::symlink_metadata(e.path()).unwrap();
                let hash = if meta.is_file() {
                    fnv(&std::fs::read(e.path()).unwrap())
                } else {
                    0
                };
                (
                    e.path().to_path_buf(),
                    (meta.mode(), meta.mtime(), meta.mtime_nsec(), hash),
                )
            })
            .collect();
        Snapshot(entries)
    }

    #[track_caller]
    pub fn assert_unchanged(&self, before: &Snapshot) {
        let after = self.snapshot();
        let changed: Vec<&PathBuf> = before
            .0
            .keys()
            .chain(after.0.keys())
            .filter(|p| before.0.get(*p) != after.0.get(*p))
            .collect();
        assert!(changed.is_empty(), "the checkout changed: {changed:?}");
    }
}

/// Paths with (mode, mtime s, mtime ns, content hash).
pub struct Snapshot(BTreeMap<PathBuf, (u32, i64, i64, u64)>);

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

pub fn manifest(name: &str, version: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
         description = \"test crate\"\nlicense = \"MIT\"\n"
    )
}

/// One shipcrate invocation, built up then run.
pub struct Run {
    cmd: Command,
}

impl Run {
    fn new(dir: &Path) -> Self {
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
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.cmd.env(key, value);
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
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
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

/// The cargo team's test registry on 127.0.0.1: sparse index, API, token-checked uploads.
pub fn registry() -> TestRegistry {
    registry_builder().build()
}

/// [`registry`], before it is built (to add responders).
pub fn registry_builder() -> RegistryBuilder {
    RegistryBuilder::new()
        .http_index()
        .http_api()
        .alternative()
        .no_configure_token()
        .token(Token::Plaintext(TOKEN.into()))
}

/// A loopback registry that stands in for crates.io: cargo's config replaces crates.io's source
/// with it, so index reads for crates.io go there. (Not for uploads: cargo refuses to publish to
/// a replaced crates.io.)
pub fn crates_io_stand_in() -> TestRegistry {
    RegistryBuilder::new()
        .http_index()
        .no_configure_token()
        .build()
}

/// The index entries the registry holds for `name` (one JSON object per version).
pub fn index_entries(name: &str) -> Vec<serde_json::Value> {
    let root = paths::root().join("alternative-registry");
    let Some(file) = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_type().is_file() && e.file_name() == name)
    else {
        return Vec::new();
    };
    std::fs::read_to_string(file.path())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A crate depending on `name = version` from the test registry, built with an empty
/// `CARGO_HOME` that knows only that registry. Returns the consumer's root.
#[track_caller]
pub fn consume(registry: &TestRegistry, name: &str, version: &str) -> PathBuf {
    consume_from(registry.index_url().as_str(), "alternative", name, version)
}

/// The same against any registry index, known to the consumer as `registry_name`.
#[track_caller]
pub fn consume_from(index: &str, registry_name: &str, name: &str, version: &str) -> PathBuf {
    let root = paths::root().join("consumer");
    let home = paths::root().join("consumer-home");
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!("[registries.{registry_name}]\nindex = \"{index}\"\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"consumer\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{name} = {{ version = \"={version}\", registry = \"{registry_name}\" }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("src/main.rs"),
        format!(
            "fn main() {{ println!(\"{{}}\", {}::answer()); }}\n",
            name.replace('-', "_")
        ),
    )
    .unwrap();
    let out = Command::new("cargo")
        .args(["run", "--quiet"])
        .current_dir(&root)
        .env_clear()
        .envs(base_env())
        .env("CARGO_HOME", &home)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env("CARGO_NET_GIT_FETCH_WITH_CLI", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "consumer failed to build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42");
    root
}

/// The `.crate` the consumer downloaded, unpacked: path inside the archive → contents.
pub fn downloaded_crate(
    consumer_home: &Path,
    name: &str,
    version: &str,
) -> BTreeMap<String, String> {
    let file = format!("{name}-{version}.crate");
    let path = walkdir::WalkDir::new(consumer_home.join("registry/cache"))
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy() == file)
        .unwrap_or_else(|| panic!("{file} not in the consumer's cache"))
        .into_path();
    shipcrate::compare::read_crate(&std::fs::read(path).unwrap())
        .unwrap()
        .into_iter()
        .map(|(inner, bytes)| {
            (
                format!("{name}-{version}/{inner}"),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect()
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

/// `cargo-http-registry`, a registry server run as its own process as a user would run one,
/// serving a git index on 127.0.0.1. Stopped on drop.
pub struct GitRegistry {
    child: std::process::Child,
    pub root: PathBuf,
    pub port: u16,
}

impl GitRegistry {
    /// Start it; a test that needs it fails naming the install when it is missing (these
    /// tests are `#[ignore]`d unless asked for).
    // The child is reaped by `Drop`, which clippy cannot follow into the returned struct.
    #[allow(clippy::zombie_processes)]
    #[track_caller]
    pub fn start() -> Self {
        let exe = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .chain(
                std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/shipcrate-tools/bin")),
            )
            .map(|d| d.join("cargo-http-registry"))
            .find(|p| p.is_file())
            .expect(
                "cargo-http-registry is not installed: `cargo install --locked cargo-http-registry` \
                 (or `bash .ci/run`, which installs it)",
            );
        let root = paths::root().join("git-registry");
        let mut child = Command::new(exe)
            .args(["--addr", "127.0.0.1:0"])
            .arg(&root)
            .env_clear()
            .envs(base_env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let api = std::fs::read_to_string(root.join("config.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v["api"].as_str().map(str::to_owned));
            if let Some(port) = api.and_then(|a| a.rsplit(':').next().and_then(|p| p.parse().ok()))
            {
                return GitRegistry { child, root, port };
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("cargo-http-registry did not start within 30 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    pub fn index_url(&self) -> String {
        format!("http://127.0.0.1:{}/git", self.port)
    }

    /// Index entries for `name`, read from the registry's own index files.
    pub fn entries(&self, name: &str) -> Vec<serde_json::Value> {
        walkdir::WalkDir::new(&self.root)
            .into_iter()
            .filter_entry(|e| e.file_name() != ".git")
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && e.file_name() == name)
            .flat_map(|e| {
                std::fs::read_to_string(e.path())
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

impl Drop for GitRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request a [`FakeHttp`] server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path with query string.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 that answers with `handler` and records every
/// request. Bounded: at most 200 connections within 5 minutes, then it stops by itself.
pub struct FakeHttp {
    pub port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Recorded>>>,
}

impl FakeHttp {
    pub fn start(handler: impl Fn(&Recorded, u16) -> (u16, String) + Send + 'static) -> Self {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = std::sync::Arc::clone(&seen);
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
            for stream in listener.incoming().take(200) {
                if std::time::Instant::now() > deadline {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                stream
                    .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let (method, target) = (
                    parts.next().unwrap_or_default().to_owned(),
                    parts.next().unwrap_or_default().to_owned(),
                );
                let mut headers = Vec::new();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = header.trim().split_once(':') {
                        headers.push((k.trim().to_owned(), v.trim().to_owned()));
                    }
                }
                let mut request = Recorded {
                    method,
                    target,
                    headers,
                    body: String::new(),
                };
                if request.header("expect").is_some() {
                    let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                let length: usize = request
                    .header("content-length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = std::io::Read::read_exact(&mut reader, &mut body);
                request.body = String::from_utf8_lossy(&body).into_owned();
                let (status, answer) = handler(&request, port);
                record.lock().unwrap().push(request);
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        FakeHttp { port, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

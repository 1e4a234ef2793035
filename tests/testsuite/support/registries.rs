//! Registries the tests publish into and read from, all on 127.0.0.1: cargo-test-support's
//! sparse registry, a crates.io stand-in, `cargo-http-registry` serving a git index, and a
//! consumer crate that resolves and builds against what was published.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_test_support::paths;
use cargo_test_support::registry::{RegistryBuilder, TestRegistry, Token};

use super::runs::base_env;

/// The token the test registry accepts.
pub const TOKEN: &str = "s3cr3t-t0ken-4f9b2c";
/// The cargo team's test registry on 127.0.0.1: sparse index, API, token-checked uploads,
/// behind a [`Relay`] (see [`sturdy`]) so that a cargo killed mid-request leaves it serving.
pub fn registry() -> Registry {
    sturdy(registry_builder())
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
pub fn consume(registry: &Registry, name: &str, version: &str) -> PathBuf {
    consume_from(&registry.index_url(), "alternative", name, version)
}

/// The same against any registry index, known to the consumer as `registry_name`.
#[track_caller]
pub fn consume_from(index: &str, registry_name: &str, name: &str, version: &str) -> PathBuf {
    let root = paths::root().join("consumer");
    let main = format!(
        "fn main() {{ println!(\"{{}}\", {}::answer()); }}\n",
        name.replace('-', "_")
    );
    let prints = run_consumer(
        (index, registry_name),
        (name, version),
        &main,
        &root.join("target"),
    );
    assert_eq!(prints.trim(), "42");
    root
}

/// Build and run a crate `consumer` (in `<root>/consumer`) whose `main.rs` is `main` and
/// which depends on `name = version` from the registry at `index`, known to it as
/// `registry_name`, with an empty `CARGO_HOME` that knows only that registry (its other
/// dependencies come from crates.io). Returns what it printed.
#[track_caller]
pub fn run_consumer(
    (index, registry_name): (&str, &str),
    (name, version): (&str, &str),
    main: &str,
    target: &Path,
) -> String {
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
    std::fs::write(root.join("src/main.rs"), main).unwrap();
    let out = Command::new("cargo")
        .args(["run", "--quiet"])
        .current_dir(&root)
        .env_clear()
        .envs(base_env())
        .env("CARGO_HOME", &home)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_NET_GIT_FETCH_WITH_CLI", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the consumer of {name} {version} failed to build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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

/// [`registry`] (which is behind a [`Relay`] already; kept for the tests that name it).
pub fn sturdy_registry() -> Registry {
    registry()
}

/// A test registry behind a [`Relay`]: its `index_url`/`api_url` name the relay, as cargo's
/// config and the index's `config.json` do; everything else is the [`TestRegistry`]'s.
pub struct Registry {
    inner: TestRegistry,
    upstream: String,
    relay: Relay,
}

impl Registry {
    /// The sparse index's URL, through the relay.
    pub fn index_url(&self) -> String {
        self.relayed(self.inner.index_url().as_str())
    }

    /// The API's URL, through the relay.
    pub fn api_url(&self) -> String {
        self.relayed(self.inner.api_url().as_str())
    }

    fn relayed(&self, url: &str) -> String {
        url.replace(&self.upstream, &self.relay.addr)
    }
}

impl std::ops::Deref for Registry {
    type Target = TestRegistry;
    fn deref(&self) -> &TestRegistry {
        &self.inner
    }
}

/// `builder`'s registry behind a [`Relay`]: cargo's config and the index's `config.json` name
/// the relay, so every request shipcrate and cargo make goes through it. For tests whose runs
/// stop a cargo mid-request (an early dry run a run does not take over is killed) and then use
/// the registry again.
pub fn sturdy(builder: RegistryBuilder) -> Registry {
    let registry = builder.build();
    let upstream = registry.api_url().host_str().unwrap().to_owned()
        + ":"
        + &registry.api_url().port().unwrap().to_string();
    let relay = Relay::start(&upstream);
    for file in [
        paths::cargo_home().join("config.toml"),
        paths::root()
            .join("alternative-registry")
            .join("config.json"),
    ] {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains(&upstream),
            "`{}` does not name the registry at {upstream}: the relay would be bypassed",
            file.display()
        );
        std::fs::write(&file, text.replace(&upstream, &relay.addr)).unwrap();
    }
    Registry {
        inner: registry,
        upstream,
        relay,
    }
}

/// A relay on 127.0.0.1 in front of cargo-test-support's one-thread registry, which panics
/// (and serves nothing more) when a client drops its connection mid-request
/// (`registry.rs:829`, a write's `unwrap`): the relay reads each whole request before passing
/// it on, and reads each whole answer whether or not its client is still there to take it.
pub struct Relay {
    addr: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    fn start(upstream: &str) -> Relay {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (upstream, stopped) = (upstream.to_owned(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let upstream = upstream.clone();
                std::thread::spawn(move || relay_one(client, &upstream));
            }
        });
        Relay { addr, stop }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(&self.addr);
    }
}

/// One request (the registry answers one a connection, `Connection: close`): passed on only
/// once whole, its answer read to the end.
fn relay_one(client: std::net::TcpStream, upstream: &str) {
    use std::io::{BufRead, Read, Write};
    let mut reader = std::io::BufReader::new(client);
    let mut request = Vec::new();
    let mut length = 0;
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line).to_ascii_lowercase();
        if let Some(value) = text.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        request.extend_from_slice(&line);
        if line == b"\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    request.extend_from_slice(&body);
    let Ok(mut server) = std::net::TcpStream::connect(upstream) else {
        return;
    };
    let mut answer = Vec::new();
    if server.write_all(&request).is_ok() {
        let _ = server.read_to_end(&mut answer);
    }
    let _ = reader.get_mut().write_all(&answer);
}

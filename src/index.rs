//! Asks a registry's index which versions of a crate exist, the way cargo reads it: the sparse
//! protocol over HTTP, or a git index fetched with git. Where cargo finds the index, its path
//! rules and `config.json` come from `tame-index`; `auth-required` registries get the token.
//!
//! Read-only: never uploads, never writes outside its own temp dir.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tame_index::KrateName;

use crate::Env;
use crate::cmd;
use crate::error::UsageError;
use crate::registry::Target;
use crate::secret::LiveToken;
use crate::signals;

/// A version the index lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub version: String,
    /// The SHA-256 of its `.crate` the registry recorded (`cksum`; empty if it gave none).
    pub cksum: String,
}

/// A git index's server is given up on when it sends under `LOW_SPEED` bytes a second for
/// `STALL` (git's `http.lowSpeedLimit`/`lowSpeedTime`; `GIT_HTTP_LOW_SPEED_*` override them),
/// and a fetch still running after `FETCH_DEADLINE` is stopped (any protocol).
const LOW_SPEED: u32 = 1000;
const STALL: Duration = Duration::from_secs(30);
const FETCH_DEADLINE: Duration = Duration::from_mins(5);

/// How long one request to a registry or a CI token endpoint may take, its answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_mins(1);

/// The most of an index file or a `.crate` that is read.
const BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// Where a fetched git index is kept in our bare repository.
const FETCHED: &str = "refs/shipcrate/index";

/// One registry's index.
pub struct Index {
    url: String,
    source: Source,
    config: Option<tame_index::index::IndexConfig>,
    /// Read at each request: a renewed token is used from the next one on.
    token: LiveToken,
    agent: ureq::Agent,
}

enum Source {
    /// Base URL ending in `/`.
    Sparse(String),
    /// A bare repository we fetch the index into; `shallow` until the server says it can't.
    Git {
        dir: tempfile::TempDir,
        git: PathBuf,
        env: Env,
        url: String,
        shallow: bool,
    },
}

/// Where `target`'s index is, as cargo would resolve it from `dir` (cargo config files, env).
pub fn url_for(target: &Target, dir: &Path, env: &Env) -> Result<String> {
    let url = index_url(target, dir, env)?;
    refuse_password(&url)?;
    Ok(url)
}

/// The remote shipcrate fetches a git index from (a name no one's git config is likely to
/// use: a remote of the same name there would come first).
const REMOTE: &str = "shipcrate-index";

/// git's config for fetching `url` as [`REMOTE`]: the URL without its user name, and that
/// name (a token in its place) as the `Authorization` header it stands for, sent to the
/// index's host only (no redirect followed). A password was refused before ([`url_for`]).
fn git_remote(url: &str) -> Vec<(String, String)> {
    use base64::Engine;
    let remote = format!("remote.{REMOTE}.url");
    let mut parsed = match url::Url::parse(url) {
        Ok(parsed)
            if ["http", "https"].contains(&parsed.scheme()) && !parsed.username().is_empty() =>
        {
            parsed
        }
        _ => return vec![(remote, url.to_owned())],
    };
    let user = percent_encoding::percent_decode_str(parsed.username())
        .decode_utf8_lossy()
        .into_owned();
    // A URL with a host has a user name to clear.
    let _ = parsed.set_username("");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:"));
    vec![
        (remote, parsed.to_string()),
        (
            "http.extraHeader".to_owned(),
            format!("Authorization: Basic {basic}"),
        ),
        ("http.followRedirects".to_owned(), "false".to_owned()),
    ]
}

/// cargo refuses a registry's index URL that holds a password (rust-lang/cargo,
/// `GlobalContext::get_registry_index`: `url.password().is_some()`, "registry URLs may not
/// contain passwords"): said before the URL is used, and without it. A user name alone (a
/// token in its place, as some git hosts take one) cargo takes; it is never shown either.
fn refuse_password(url: &str) -> Result<()> {
    let bare = url.strip_prefix("sparse+").unwrap_or(url);
    match url::Url::parse(bare) {
        Ok(parsed) if parsed.password().is_some() => Err(UsageError(format!(
            "the index URL {} holds a password, and cargo refuses a registry URL with one: \
             give git the credentials instead (a credential helper, or `http.extraHeader`), \
             or, for a sparse index that needs them, `auth-required` and the token",
            crate::secret::without_userinfo(url)
        ))
        .into()),
        _ => Ok(()),
    }
}

/// The index URL `target` names, as cargo in `dir` finds it.
fn index_url(target: &Target, dir: &Path, env: &Env) -> Result<String> {
    let cargo_home = env.get("CARGO_HOME").map(tame_index::PathBuf::from);
    let config_root = tame_index::PathBuf::from_path_buf(dir.to_path_buf()).ok();
    let url = match target {
        Target::Index(url) => return Ok(url.clone()),
        Target::CratesIo => {
            tame_index::IndexUrl::crates_io(config_root, cargo_home.as_deref(), None)
                .context("cannot tell where crates.io's index is")?
        }
        Target::Named(name) => {
            tame_index::IndexUrl::for_registry_name(config_root, cargo_home.as_deref(), name)
                .with_context(|| {
                    format!(
                        "cargo does not know registry `{name}`: define it in \
                         .cargo/config.toml (`[registries.{name}] index = \"…\"`) or set \
                         `CARGO_REGISTRIES_{}_INDEX`",
                        crate::registry::env_name(name)
                    )
                })?
        }
    };
    Ok(url.as_str().to_owned())
}

impl Index {
    /// The index at `url` (from [`url_for`]), read once: a git index is fetched now.
    pub fn open(url: String, env: &Env, git: &Path, token: &LiveToken) -> Result<Index> {
        let agent = agent();
        let source = match url.strip_prefix("sparse+") {
            Some(base) => Source::Sparse(if base.ends_with('/') {
                base.to_owned()
            } else {
                format!("{base}/")
            }),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("shipcrate-index-")
                    .tempdir()?;
                signals::track_dir(dir.path());
                // No template: nothing to write now and remove at the end (sample hooks).
                let mut init = git2::RepositoryInitOptions::new();
                init.bare(true).external_template(false);
                git2::Repository::init_opts(dir.path(), &init)
                    .context("could not make a repository for the registry's index")?;
                Source::Git {
                    dir,
                    git: git.to_path_buf(),
                    env: env.clone(),
                    url: url.clone(),
                    shallow: !dumb_http(&agent, &url),
                }
            }
        };
        let mut index = Index {
            url,
            source,
            config: None,
            token: token.clone(),
            agent,
        };
        index.refresh()?;
        let config = index
            .read("config.json")?
            .with_context(|| format!("the index at {} has no config.json", index.url))?;
        index.config = Some(
            serde_json::from_slice(&config)
                .with_context(|| format!("bad config.json in {}", index.url))?,
        );
        Ok(index)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where uploads go: `config.json`'s `api`.
    pub(crate) fn api(&self) -> Option<&str> {
        self.config.as_ref().and_then(|c| c.api.as_deref())
    }

    /// Whether `url` is a file of this (sparse) index, not a download or another host's.
    fn in_index(&self, url: &str) -> bool {
        matches!(&self.source, Source::Sparse(base) if url.starts_with(base.as_str()))
    }

    /// The registry wants a token even to read its index (`auth-required` in `config.json`).
    pub(crate) fn auth_required(&self) -> bool {
        self.config.as_ref().is_some_and(|c| c.auth_required)
    }

    /// Bring a git index up to date (a fetch); sparse indexes are read fresh on every request.
    pub fn refresh(&mut self) -> Result<()> {
        if let Source::Git {
            dir,
            git,
            env,
            url,
            shallow,
        } = &mut self.source
        {
            // Shallow when the server can (smart HTTP); dumb HTTP servers can't: known up front
            // over HTTP, else learnt from the first fetch that fails saying so.
            let fetch = |shallow: bool| {
                let mut fetch = cmd::command(git, dir.path(), env);
                // The URL may hold credentials: never in argv, which every user of the machine
                // can read (`ps`) — git's, or its HTTP helper's, which gets the remote's URL.
                // The remote is the URL without them; they go as a header, in git's
                // environment, which only we can read, after what it configures already.
                let given = crate::git::config_count(env);
                let config = git_remote(url);
                fetch.env("GIT_CONFIG_COUNT", (given + config.len()).to_string());
                for (i, (key, value)) in config.into_iter().enumerate() {
                    fetch
                        .env(format!("GIT_CONFIG_KEY_{}", given + i), key)
                        .env(format!("GIT_CONFIG_VALUE_{}", given + i), value);
                }
                // A repository that lives for one run: no upkeep, no tags.
                fetch
                    .args(["-c", "maintenance.auto=false", "-c", "gc.auto=0"])
                    // git waits for a stalled server forever by default.
                    .args(["-c", &format!("http.lowSpeedLimit={LOW_SPEED}")])
                    .args(["-c", &format!("http.lowSpeedTime={}", STALL.as_secs())])
                    .args(["fetch", "--quiet", "--no-tags"])
                    .args(shallow.then_some("--depth=1"))
                    .args([REMOTE, &format!("+HEAD:{FETCHED}")]);
                cmd::run_within(fetch, FETCH_DEADLINE)
            };
            let failed = |error: anyhow::Error| {
                error.context(format!(
                    "could not fetch the git index at {url} (a server sending under {} KB/s \
                     for {}s is given up on, and a fetch still running after {} minutes)",
                    LOW_SPEED / 1000,
                    STALL.as_secs(),
                    FETCH_DEADLINE.as_secs() / 60
                ))
            };
            if *shallow {
                match fetch(true) {
                    Ok(()) => return Ok(()),
                    // git's words for a server that can't serve a shallow fetch.
                    Err(error) if !format!("{error:#}").contains("shallow") => {
                        return Err(failed(error));
                    }
                    Err(_) => *shallow = false,
                }
            }
            fetch(false).map_err(failed)?;
        }
        Ok(())
    }

    /// A file of the index, `None` when it does not exist.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match &self.source {
            Source::Sparse(base) => self.get(&format!("{base}{path}"), self.auth_required()),
            // Read in-process: a workspace asks for dozens of files, a `git` each adds up.
            Source::Git { dir, .. } => {
                let repo = git2::Repository::open_bare(dir.path())?;
                let tree = repo.find_reference(FETCHED)?.peel_to_tree()?;
                let entry = match tree.get_path(Path::new(path)) {
                    Ok(entry) => entry,
                    Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                Ok(Some(repo.find_blob(entry.id())?.content().to_vec()))
            }
        }
    }

    fn get(&self, url: &str, auth: bool) -> Result<Option<Vec<u8>>> {
        let mut request = self.agent.get(url).header("Cache-Control", "no-cache");
        if auth && let Some(token) = self.token.get() {
            request = request.header("Authorization", token.expose());
        }
        let mut response = request
            .call()
            .map_err(|error| unreached(error, "the registry", url, REQUEST_TIMEOUT))?;
        let status = response.status().as_u16();
        match status {
            200 => {
                let read = response
                    .body_mut()
                    .with_config()
                    .limit(BODY_LIMIT)
                    .read_to_vec();
                Ok(Some(read.map_err(|error| {
                    match error {
                        ureq::Error::BodyExceedsLimit(_) => anyhow::anyhow!(
                            "{url} answered with more than {} MiB, more than any index file or \
                         crate shipcrate reads: not read",
                            BODY_LIMIT >> 20
                        ),
                        ureq::Error::Timeout(_) => anyhow::anyhow!(
                            "{url} had not sent its whole answer after {}s",
                            REQUEST_TIMEOUT.as_secs()
                        ),
                        error => anyhow::Error::new(error)
                            .context(format!("could not read the answer from {url}")),
                    }
                })?))
            }
            // What cargo treats as "no such crate".
            404 | 410 | 451 => Ok(None),
            // The index's own files, asked again with the token (cargo: `config.json` after a
            // 401, RFC 3139); never a download from `dl`'s host, which gets the token only
            // when `config.json` says `auth-required` (a CDN's 403 for a missing file would
            // have it otherwise).
            401 | 403 if !auth && self.token.get().is_some() && self.in_index(url) => {
                self.get(url, true)
            }
            401 | 403 if self.token.get().is_none() => bail!(
                "{url} answered with status {status}: this index wants a token even to be read \
                 (`auth-required`), and none is set. Give the registry's token (`token`, or \
                 `CARGO_REGISTRIES_<NAME>_TOKEN`); trusted publishing mints its token only \
                 before the uploads, too late for such an index"
            ),
            _ => bail!("{url} answered with status {status}"),
        }
    }

    /// [`Index::versions`] of `name`, read to decide whether `spec` (`name@version`, a crate
    /// of the plan) is to be uploaded: the run and `explain` alike. A failed read says that no
    /// guess is made either way.
    pub(crate) fn versions_deciding(&self, name: &str, spec: &str) -> Result<Vec<Listed>> {
        self.versions(name).with_context(|| {
            format!(
                "could not read which versions of {name} the registry has, so whether {spec} \
                 is to be uploaded can't be known; nothing was uploaded"
            )
        })
    }

    /// The versions the index lists for `name` (any case), empty when it has none; for a git
    /// index, as of the last [`Index::refresh`].
    pub fn versions(&self, name: &str) -> Result<Vec<Listed>> {
        let krate = KrateName::cargo(name)
            .with_context(|| format!("`{name}` is not a valid crate name"))?;
        let Some(bytes) = self.read(&krate.relative_path(Some('/')))? else {
            return Ok(Vec::new());
        };
        // Only name and version matter here (a yanked version is still there: it can't be
        // published again), and `yanked` is read as cargo reads it; other fields vary between
        // registries (cargo accepts `null` where tame-index's full model wants a string).
        #[derive(serde::Deserialize)]
        struct Line {
            name: String,
            vers: String,
            #[serde(default, rename = "yanked")]
            _yanked: bool,
            #[serde(default)]
            cksum: Option<String>,
        }
        let mut listed = Vec::new();
        for line in bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        {
            let line: Line = serde_json::from_slice(line)
                .with_context(|| format!("bad index entry for `{name}` in {}", self.url))?;
            if line.name.eq_ignore_ascii_case(name) {
                listed.push(Listed {
                    version: line.vers,
                    cksum: line.cksum.unwrap_or_default(),
                });
            }
        }
        Ok(listed)
    }

    /// The published `.crate` of `name` `version`.
    pub(crate) fn download(&self, name: &str, version: &str) -> Result<Vec<u8>> {
        let config = self.config.as_ref().context("index config not read")?;
        let krate = KrateName::cargo(name)?;
        let url = config.download_url(krate, version);
        self.get(&url, self.auth_required())?
            .with_context(|| format!("{url} has no {name} {version} to download"))
    }
}

/// Whether `url` is a git repository served over "dumb" HTTP (plain files), which can't
/// serve a shallow fetch: asked as git asks first, for the refs with the smart service named,
/// which a smart server answers as such and a file server with the file. Anything else
/// (another scheme, an error, a slow answer, a login page) is left to git.
fn dumb_http(agent: &ureq::Agent, url: &str) -> bool {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return false;
    }
    let refs = format!(
        "{}/info/refs?service=git-upload-pack",
        url.trim_end_matches('/')
    );
    let asked = agent
        .get(&refs)
        .config()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .call();
    asked.is_ok_and(|response| {
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|t| t.to_str().ok())
            .unwrap_or("");
        response.status() == 200
            && !kind.starts_with("application/x-git-upload-pack-advertisement")
            && !kind.starts_with("text/html")
    })
}

/// The HTTP client for registries and CI token endpoints: the system's trust store (so
/// corporate TLS proxies work), a timeout, statuses returned rather than raised.
pub(crate) fn agent() -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .timeout_global(Some(REQUEST_TIMEOUT))
        .http_status_as_error(false)
        .tls_config(tls)
        .user_agent(concat!("shipcrate/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// The error for a request to `what` at `url` that got no answer: a timeout says how long it
/// waited (ureq says only `timeout: global`), anything else what failed.
pub(crate) fn unreached(
    error: ureq::Error,
    what: &str,
    url: &str,
    waited: Duration,
) -> anyhow::Error {
    match error {
        ureq::Error::Timeout(_) => anyhow::anyhow!(
            "{what} at {url} did not answer within {}s",
            waited.as_secs()
        ),
        error => anyhow::Error::new(error).context(format!("could not reach {what} at {url}")),
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        if let Source::Git { dir, .. } = &self.source {
            signals::untrack_dir(dir.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_git_index_urls_user_name_becomes_a_header_not_part_of_the_remote() {
        let config = git_remote("https://tok%2Fen@git.example:8443/index.git");
        assert_eq!(
            config,
            [
                (
                    "remote.shipcrate-index.url".to_owned(),
                    "https://git.example:8443/index.git".to_owned()
                ),
                (
                    "http.extraHeader".to_owned(),
                    // base64("tok/en:")
                    "Authorization: Basic dG9rL2VuOg==".to_owned()
                ),
                ("http.followRedirects".to_owned(), "false".to_owned()),
            ]
        );
        // ssh's user is no secret, and ssh needs it; a URL without one stays as it is.
        for url in ["ssh://git@git.example/index.git", "https://git.example/i"] {
            assert_eq!(
                git_remote(url),
                [("remote.shipcrate-index.url".to_owned(), url.to_owned())]
            );
        }
    }

    #[test]
    fn an_index_url_with_a_password_is_refused_as_cargo_refuses_it() {
        for url in [
            "https://u:p@reg.example/index",
            "sparse+https://u:p@reg.example/index/",
            "ssh://git:secret@git.example/i",
        ] {
            let error = refuse_password(url).unwrap_err().to_string();
            assert!(error.contains("holds a password"), "{error}");
            assert!(
                !error.contains(":p@") && !error.contains("secret"),
                "{error}"
            );
        }
        // What cargo takes: a user name alone, an empty password, none at all, IPv6, a query.
        for url in [
            "https://tok@reg.example/index",
            "https://u:@reg.example/index",
            "sparse+https://reg.example/index/",
            "http://[::1]:8080/index",
            "https://reg.example?a=b:c@d",
        ] {
            assert!(refuse_password(url).is_ok(), "{url}");
        }
    }
}

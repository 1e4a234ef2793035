//! The upload's gate: the upload cargo (`--no-verify`, so it builds nothing) starts while the
//! verify cargo still builds, updates the index and packages the crates, and then waits at the
//! gate before its first upload. cargo asks its credential provider for a token before each
//! crate's upload; the provider is shipcrate itself (started by cargo as `shipcrate
//! --cargo-plugin`, cargo's credential-provider protocol v1), and its answer for an upload
//! waits until this run opens the gate — every crate verified — or refuses, in which case
//! cargo gets an error instead of a token, uploads nothing, and is stopped.
//!
//! The token is written to disk only when the gate opens — after the verify build, whose build
//! scripts run as our user, has ended — into a file only its owner can read, in a directory
//! only its owner can enter. Before that, cargo's reads (it asks for a "read" token up front,
//! to check it can get one) are answered with a placeholder: a registry whose index is read
//! without a token (`auth-required` ones are never gated) never sees it, and cargo asks again
//! for each upload.
//!
//! Each upload asks on its own (nothing is cached), so none starts past the run's `deadline`:
//! a gate opened with one refuses every upload after it — also for the later batches of a
//! run with a deadline, whose cargo goes through a gate opened at once.
//!
//! A cargo behind a gate never builds (`--no-verify`): a build script running under the
//! cargo that would later be given the token could fake that cargo's readiness (write what
//! the provider writes, or print what cargo prints) and have the gate opened under it.
//!
//! Knows nothing of cargo's command line (`publish` builds it) or of what to upload.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::registry::Target;
use crate::secret::PrivateDir;

/// The argument cargo starts a credential provider with.
const PLUGIN_FLAG: &str = "--cargo-plugin";
/// What reads of the index are answered with: no token (see the module's text).
const PLACEHOLDER: &str = "shipcrate-gate-closed";
/// The token for uploads, written when the gate opens.
const OPEN: &str = "upload";
/// Why the gate will never open, written instead.
const REFUSED: &str = "refused";
/// When no upload may start any more (milliseconds since the epoch), written when the gate
/// opens.
const DEADLINE: &str = "deadline";
/// What cargo is told of an upload past the deadline, and says back in its error.
pub(crate) const PAST_DEADLINE: &str = "the run's `deadline` came, and no upload starts after it";
/// How often a waiting provider looks at the gate.
const POLL: Duration = Duration::from_millis(2);

/// One upload cargo's gate. Dropped unopened: refused, so nothing is uploaded.
pub(crate) struct Gate {
    dir: PrivateDir,
    opened: bool,
}

impl Gate {
    /// A closed gate, holding no token.
    pub(crate) fn new() -> Result<Gate> {
        let dir = PrivateDir::new("shipcrate-gate-", "the upload's gate")?;
        Ok(Gate { dir, opened: false })
    }

    /// Where the upload cargo packages (not the verify cargo's target dir, which it builds in
    /// at the same time).
    pub(crate) fn target_dir(&self) -> PathBuf {
        self.dir.path().join("target")
    }

    /// `--config` values making this gate `target`'s credential provider.
    pub(crate) fn provider_config(&self, target: &Target) -> Result<Vec<String>> {
        let exe = std::env::current_exe().context("cannot tell where shipcrate's binary is")?;
        let provider = [
            exe.display().to_string(),
            self.dir.path().display().to_string(),
        ];
        Ok(target.credential_provider_config(&provider))
    }

    /// Every crate is verified: uploads get `token` from now on — each one that starts before
    /// `deadline`, when there is one; later ones are refused.
    pub(crate) fn open(&mut self, token: &str, deadline: Option<SystemTime>) -> Result<()> {
        // Nothing left running by a build script or a hook (a daemon in a session of its own,
        // re-parented to us) lives to read the token file: only our children and theirs.
        crate::signals::stop_strays();
        if let Some(deadline) = deadline {
            let millis = deadline
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            self.dir.put(DEADLINE, &millis.to_string())?;
        }
        self.dir.put(OPEN, token)?;
        self.opened = true;
        Ok(())
    }

    /// The gate stays shut: a waiting upload gets `why` as cargo's error.
    pub(crate) fn refuse(&self, why: &str) {
        if !self.opened {
            self.dir.put(REFUSED, why).ok();
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.refuse("the shipcrate run stopped before every crate was verified");
    }
}

/// Whether this process was started by cargo as a credential provider.
pub fn is_provider() -> bool {
    let mut args = std::env::args_os().skip(1);
    args.next().is_some_and(|a| a == PLUGIN_FLAG) && args.next().is_none()
}

/// The credential provider: answers cargo's requests on stdin until it closes them. Exits 0
/// (errors go to cargo as answers) unless cargo can't be talked to.
pub fn provider() -> ! {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    let cargo = rustix::process::getppid();
    let mut talk = || -> std::io::Result<()> {
        writeln!(stdout, "{}", serde_json::json!({ "v": [1] }))?;
        stdout.flush()?;
        for line in stdin.lock().lines() {
            let answer = answer(&line?, || rustix::process::getppid() == cargo);
            writeln!(stdout, "{answer}")?;
            stdout.flush()?;
        }
        Ok(())
    };
    std::process::exit(i32::from(talk().is_err()));
}

/// The answer to one request of cargo's credential protocol; `cargo_alive` says whether the
/// cargo that asked is still there to be answered.
fn answer(request: &str, cargo_alive: impl Fn() -> bool) -> serde_json::Value {
    use serde_json::json;
    let refused = |message: String| json!({ "Err": { "kind": "other", "message": message } });
    let Ok(request) = serde_json::from_str::<serde_json::Value>(request) else {
        return refused("shipcrate's gate could not read cargo's request".to_owned());
    };
    let dir = request["args"].get(0).and_then(|d| d.as_str());
    let (Some(1), Some("get"), Some(dir)) = (
        request["v"].as_u64(),
        request["kind"].as_str(),
        dir.map(Path::new),
    ) else {
        return json!({ "Err": { "kind": "operation-not-supported" } });
    };
    // A read's answer holds for reads only. An upload's is given only once the gate is open,
    // and only to that upload: each asks, so none starts past the deadline.
    let (token, cache) = match request["operation"].as_str() {
        Some("read") => (Ok(PLACEHOLDER.to_owned()), "session"),
        Some("publish") => (wait_for(dir, &cargo_alive), "never"),
        _ => return json!({ "Err": { "kind": "operation-not-supported" } }),
    };
    match token.and_then(|token| before_deadline(dir, SystemTime::now()).map(|()| token)) {
        Ok(token) => json!({ "Ok": {
            "kind": "get",
            "token": token,
            "cache": cache,
            "operation_independent": false,
        } }),
        Err(why) => refused(why),
    }
}

/// Whether an upload may start at `now`, before the deadline the gate at `dir` was opened with.
fn before_deadline(dir: &Path, now: SystemTime) -> Result<(), String> {
    let Ok(millis) = std::fs::read_to_string(dir.join(DEADLINE)) else {
        return Ok(());
    };
    let deadline = millis
        .trim()
        .parse()
        .map(|millis| SystemTime::UNIX_EPOCH + Duration::from_millis(millis))
        .map_err(|_| "shipcrate's gate could not read its deadline".to_owned())?;
    match now < deadline {
        true => Ok(()),
        false => Err(format!(
            "shipcrate did not let this upload through: {PAST_DEADLINE}"
        )),
    }
}

/// The upload token, once the gate at `dir` opens; the reason when it is refused or gone (its
/// run ended), or when the cargo that asked is gone.
fn wait_for(dir: &Path, cargo_alive: impl Fn() -> bool) -> Result<String, String> {
    loop {
        match std::fs::read_to_string(dir.join(OPEN)) {
            Ok(token) => return Ok(token),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!("shipcrate's gate could not be read: {e}"));
            }
            Err(_) => {}
        }
        if let Ok(why) = std::fs::read_to_string(dir.join(REFUSED)) {
            return Err(format!("shipcrate did not let this upload through: {why}"));
        }
        if !dir.is_dir() {
            return Err("the shipcrate run that started this upload is gone".to_owned());
        }
        if !cargo_alive() {
            return Err("the cargo that asked is gone".to_owned());
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(operation: &str, dir: &Path) -> String {
        serde_json::json!({
            "v": 1,
            "registry": { "index-url": "https://example.com/index", "name": "example" },
            "kind": "get",
            "operation": operation,
            "name": "a", "vers": "0.1.0", "cksum": "00",
            "args": [dir.display().to_string()],
        })
        .to_string()
    }

    fn answer(request: &str) -> serde_json::Value {
        super::answer(request, || true)
    }

    #[test]
    fn reads_get_no_token_uploads_get_it_once_the_gate_opens() {
        let mut gate = Gate::new().unwrap();
        let dir = gate.dir.path().to_path_buf();
        let read = answer(&request("read", &dir));
        assert_eq!(read["Ok"]["token"], PLACEHOLDER);
        assert_eq!(read["Ok"]["operation_independent"], false);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "nothing on disk"
        );

        let waiting = std::thread::spawn(move || answer(&request("publish", &dir)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiting.is_finished(), "an upload waits for the gate");
        gate.open("upload-token", None).unwrap();
        let upload = waiting.join().unwrap();
        assert_eq!(upload["Ok"]["token"], "upload-token");
        // Each upload asks again: none starts past the deadline.
        assert_eq!(upload["Ok"]["cache"], "never");
        assert_eq!(upload["Ok"]["operation_independent"], false);
    }

    #[test]
    fn past_its_deadline_an_open_gate_lets_no_upload_through() {
        let mut gate = Gate::new().unwrap();
        let dir = gate.dir.path().to_path_buf();
        let soon = SystemTime::now() + Duration::from_secs(2);
        gate.open("upload-token", Some(soon)).unwrap();
        assert_eq!(
            answer(&request("publish", &dir))["Ok"]["token"],
            "upload-token"
        );
        assert_eq!(before_deadline(&dir, soon - Duration::from_secs(1)), Ok(()));
        let late = before_deadline(&dir, soon + Duration::from_secs(1)).unwrap_err();
        assert!(late.contains("`deadline` came"), "{late}");
    }

    #[test]
    fn a_refused_or_dropped_gate_or_a_gone_cargo_gives_uploads_an_error_not_a_token() {
        let gate = Gate::new().unwrap();
        let dir = gate.dir.path().to_path_buf();
        gate.refuse("bench-c3 failed to verify");
        let refused = answer(&request("publish", &dir));
        assert_eq!(refused["Err"]["kind"], "other");
        assert_eq!(
            refused["Err"]["message"],
            "shipcrate did not let this upload through: bench-c3 failed to verify"
        );

        let gate = Gate::new().unwrap();
        let dir = gate.dir.path().to_path_buf();
        let orphaned = super::answer(&request("publish", &dir), || false);
        assert_eq!(orphaned["Err"]["message"], "the cargo that asked is gone");
        drop(gate);
        let gone = answer(&request("publish", &dir));
        assert!(gone["Ok"].is_null(), "{gone}");
    }

    #[test]
    fn only_gets_are_answered() {
        let gate = Gate::new().unwrap();
        let dir = gate.dir.path().display().to_string();
        let login = serde_json::json!({
            "v": 1, "registry": { "index-url": "x" }, "kind": "login", "args": [dir],
        });
        assert_eq!(
            answer(&login.to_string())["Err"]["kind"],
            "operation-not-supported"
        );
        let yank = request("yank", gate.dir.path());
        assert_eq!(answer(&yank)["Err"]["kind"], "operation-not-supported");
        assert_eq!(answer("not json")["Err"]["kind"], "other");
    }
}

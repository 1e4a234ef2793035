//! All output: status lines on stderr, GitHub/GitLab annotations, step outputs, step summary,
//! and the JSON report.
//!
//! Everything printed passes the masker; nothing here decides what happens.

// The one place that prints: every line here has passed the masker.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::Env;
use crate::conditions::Decision;
use crate::outcome::{CrateOutcome, FirstRelease, Outcome};
use crate::secret::Masker;

mod escape;

/// The one reporter; knows which CI's log conventions apply, and when the run started.
/// Clones share the masker and whether the report is written (the signal thread writes the
/// report with one).
#[derive(Clone)]
pub(crate) struct Reporter {
    github: bool,
    gitlab: bool,
    masker: Masker,
    started: std::time::Instant,
    /// Whether the run's report files are written: by the run at its end, or by the signal
    /// thread when a signal stops it — whichever comes first, alone, once (a second would
    /// append a second summary, or tear the JSON report writing beside the first).
    reported: std::sync::Arc<std::sync::Mutex<bool>>,
}

impl Reporter {
    pub(crate) fn new(env: &Env) -> Self {
        Self {
            github: env.get("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            gitlab: env.get("GITLAB_CI").is_some_and(|v| v == "true"),
            masker: Masker::default(),
            started: std::time::Instant::now(),
            reported: std::sync::Arc::default(),
        }
    }

    /// When the run started (`deadline` counts from it).
    pub(crate) fn started(&self) -> std::time::Instant {
        self.started
    }

    /// Mask `secret` from here on; on GitHub, tell the runner to mask it in the whole log.
    /// `false` when it is too short to mask (`secret::too_short_to_mask`): nothing is masked.
    pub(crate) fn add_secret(&self, secret: &str) -> bool {
        if self.github {
            // One line per command: a secret's later lines would otherwise print raw. The
            // data escaped as actions/toolkit's `setSecret` does: the runner unescapes it.
            for form in crate::secret::forms(secret) {
                if !form.contains('\n') {
                    println!("::add-mask::{}", escape::workflow_command_data(&form));
                }
            }
        }
        self.masker.add(secret)
    }

    pub(crate) fn masker(&self) -> &Masker {
        &self.masker
    }

    /// `text` masked, then made inert for a human log line on this CI.
    fn log_text(&self, text: &str) -> String {
        escape::log_text(&self.masker.mask(text), self.github)
    }

    /// A cargo-style status line: `   Publishing foo v1.0.0`.
    pub(crate) fn status(&self, verb: &str, what: &str) {
        eprintln!("{verb:>12} {}", self.log_text(what));
    }

    pub(crate) fn warn(&self, message: &str) {
        eprintln!("warning: {}", self.log_text(message));
        self.annotate("warning", message);
    }

    pub(crate) fn notice(&self, message: &str) {
        eprintln!("{:>12} {}", "Note", self.log_text(message));
        self.annotate("notice", message);
    }

    /// A failure, as the last thing said; on GitHub also an error annotation.
    pub(crate) fn error(&self, message: &str) {
        eprintln!("error: {}", self.log_text(message));
        self.annotate("error", message);
    }

    /// On GitHub, `message` as a `::kind::` annotation, its data escaped.
    fn annotate(&self, kind: &str, message: &str) {
        if self.github {
            let data = escape::workflow_command_data(&self.masker.mask(message));
            println!("::{kind}::{data}");
        }
    }

    pub(crate) fn group_start(&self, id: &str, title: &str) {
        if self.github {
            println!("::group::{}", escape::workflow_command_data(title));
        } else if self.gitlab {
            eprintln!(
                "\x1b[0Ksection_start:{}:{id}[collapsed=false]\r\x1b[0K{title}",
                now()
            );
        }
    }

    pub(crate) fn group_end(&self, id: &str) {
        if self.github {
            println!("::endgroup::");
        } else if self.gitlab {
            eprintln!("\x1b[0Ksection_end:{}:{id}\r\x1b[0K", now());
        }
    }

    /// The end of a run: summary lines, GitHub outputs and step summary, the JSON report —
    /// once: a later call, on any clone, writes nothing (a signal's report and the run's own
    /// don't both land, nor tear each other).
    pub(crate) fn finish(&self, summary: &Summary, files: &ReportFiles, env: &Env) -> Result<()> {
        // Masked before any format escapes it: a secret escaped (`\_` in Markdown, `\"` in
        // JSON) is no longer the text the masker looks for. Each file is masked again whole.
        let summary = &summary.masked(&self.masker);
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        if std::mem::replace(&mut *reported, true) {
            return Ok(());
        }
        for c in &summary.crates {
            let reason = c
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            self.status(
                "Summary",
                &format!(
                    "{} v{}: {}{reason}",
                    c.name,
                    c.version,
                    outcome_word(c.outcome)
                ),
            );
        }
        if let Some(path) = env.get("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
            append(
                Path::new(path),
                &self.masker.mask(&github_outputs(summary)?),
            )
            .context("could not write the step's outputs to `GITHUB_OUTPUT`")?;
        }
        if let Some(path) = env.get("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            append(Path::new(path), &self.masker.mask(&markdown(summary)))
                .context("could not write `GITHUB_STEP_SUMMARY`")?;
        }
        if let Some(path) = &files.json {
            let json = serde_json::to_string_pretty(&summary.json())?;
            fs_err::write(path, self.masker.mask(&json) + "\n")
                .context("could not write the JSON report")?;
        }
        if let Some(path) = &files.dotenv {
            fs_err::write(path, self.masker.mask(&dotenv(summary)?))
                .context("could not write the dotenv file")?;
        }
        Ok(())
    }
}

/// Where the machine-readable reports go, when asked for.
#[derive(Clone)]
pub(crate) struct ReportFiles {
    pub json: Option<std::path::PathBuf>,
    pub dotenv: Option<std::path::PathBuf>,
}

/// What the run did, for every report.
pub(crate) struct Summary {
    pub decision: Decision,
    pub dry_run: bool,
    pub commit: Option<String>,
    pub registry: String,
    pub crates: Vec<CrateOutcome>,
    /// The crates the registry had never seen, each with the line the log gave it.
    pub first_releases: Vec<FirstRelease>,
}

#[derive(Serialize)]
struct Json<'a> {
    schema_version: u32,
    decision: &'static str,
    skip_reason: Option<&'a str>,
    commit: Option<&'a str>,
    registry: &'a str,
    dry_run: bool,
    crates: &'a [CrateOutcome],
    first_releases: &'a [FirstRelease],
}

impl Summary {
    /// This summary with every secret in its text masked.
    fn masked(&self, masker: &Masker) -> Summary {
        let mask = |text: &String| masker.mask(text);
        Summary {
            decision: match &self.decision {
                Decision::Skip(why) => Decision::Skip(mask(why)),
                Decision::Publish => Decision::Publish,
            },
            dry_run: self.dry_run,
            commit: self.commit.as_ref().map(mask),
            registry: mask(&self.registry),
            crates: (self.crates.iter())
                .map(|c| CrateOutcome {
                    name: mask(&c.name),
                    version: mask(&c.version),
                    reason: c.reason.as_ref().map(mask),
                    ..c.clone()
                })
                .collect(),
            first_releases: (self.first_releases.iter())
                .map(|f| FirstRelease {
                    name: mask(&f.name),
                    version: mask(&f.version),
                    line: mask(&f.line),
                })
                .collect(),
        }
    }

    fn skip_reason(&self) -> Option<&str> {
        match &self.decision {
            Decision::Skip(why) => Some(why),
            Decision::Publish => None,
        }
    }

    fn json(&self) -> Json<'_> {
        Json {
            schema_version: 1,
            decision: if self.skip_reason().is_some() {
                "skip"
            } else {
                "publish"
            },
            skip_reason: self.skip_reason(),
            commit: self.commit.as_deref(),
            registry: &self.registry,
            dry_run: self.dry_run,
            crates: &self.crates,
            first_releases: &self.first_releases,
        }
    }
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Published => "published",
        Outcome::AlreadyPublished => "already published",
        Outcome::Verified => "verified (dry run, not uploaded)",
        Outcome::Skipped => "skipped",
        Outcome::Failed => "failed",
        Outcome::NotStarted => "not started",
        Outcome::Interrupted => "interrupted",
    }
}

/// The step outputs, by name: `published`, `skipped`, `not-published`, `decision`,
/// `skip-reason`, `dry-run`, `checksums`.
fn outputs(summary: &Summary) -> Result<[(&'static str, String); 7]> {
    let listed = |o: Outcome, with_reason: bool| -> Vec<serde_json::Value> {
        summary
            .crates
            .iter()
            .filter(|c| c.outcome == o)
            .map(|c| match with_reason {
                true => {
                    serde_json::json!({"name": c.name, "version": c.version, "reason": c.reason})
                }
                false => serde_json::json!({"name": c.name, "version": c.version}),
            })
            .collect()
    };
    let json = summary.json();
    Ok([
        (
            "published",
            serde_json::to_string(&listed(Outcome::Published, false))?,
        ),
        (
            "skipped",
            serde_json::to_string(&listed(Outcome::Skipped, true))?,
        ),
        (
            "not-published",
            serde_json::to_string(&not_published(summary))?,
        ),
        ("decision", json.decision.to_owned()),
        (
            "skip-reason",
            json.skip_reason.unwrap_or_default().to_owned(),
        ),
        ("dry-run", summary.dry_run.to_string()),
        ("checksums", serde_json::to_string(&checksums(summary))?),
    ])
}

/// Each uploaded `.crate` with its SHA-256: what `actions/attest-build-provenance` attests.
fn checksums(summary: &Summary) -> Vec<serde_json::Value> {
    summary
        .crates
        .iter()
        .filter_map(|c| {
            let sha256 = c.sha256.as_deref()?;
            let file = format!("{}-{}.crate", c.name, c.version);
            Some(serde_json::json!({
                "name": c.name, "version": c.version, "file": file, "sha256": sha256
            }))
        })
        .collect()
}

/// The crates this run was to upload and didn't get in (`failed`, `not-started`,
/// `interrupted`): what a re-run has left to do.
fn not_published(summary: &Summary) -> Vec<serde_json::Value> {
    summary
        .crates
        .iter()
        .filter(|c| {
            matches!(
                c.outcome,
                Outcome::Failed | Outcome::NotStarted | Outcome::Interrupted
            )
        })
        .map(|c| {
            serde_json::json!({
                "name": c.name, "version": c.version, "outcome": c.outcome, "reason": c.reason
            })
        })
        .collect()
}

/// `$GITHUB_OUTPUT` entries, in the multi-line-safe `name<<delimiter` form. As actions/toolkit
/// does (`prepareKeyValueMessage`, packages/core/src/file-command.ts), the delimiter is random
/// and a value holding it is refused: no value can end its entry early and set another.
fn github_outputs(summary: &Summary) -> Result<String> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random)
        .map_err(|e| anyhow::anyhow!("no randomness for a delimiter: {e}"))?;
    let delimiter = format!(
        "ghadelimiter_{}",
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    outputs(summary)?
        .iter()
        .map(|(name, value)| {
            if value.contains(&delimiter) {
                anyhow::bail!("the output `{name}` contains the delimiter `{delimiter}`");
            }
            Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
        })
        .collect()
}

/// A dotenv file for GitLab: `SHIPCRATE_OUTPUT_<NAME>=value`, one line each.
fn dotenv(summary: &Summary) -> Result<String> {
    Ok(outputs(summary)?
        .iter()
        .map(|(name, value)| {
            let key = name.to_ascii_uppercase().replace('-', "_");
            format!("SHIPCRATE_OUTPUT_{key}={}\n", escape::dotenv_value(value))
        })
        .collect())
}

fn markdown(summary: &Summary) -> String {
    let mut out = String::from("### shipcrate\n\n");
    if let Some(why) = summary.skip_reason() {
        out += &format!("Nothing published: {}.\n", escape::markdown_text(why));
        return out;
    }
    if summary.dry_run {
        out += "Dry run: nothing was uploaded.\n\n";
    }
    for first in &summary.first_releases {
        out += &format!("**{}**\n\n", first.line);
    }
    out += &format!(
        "Registry: {}\n\n| crate | version | outcome |\n|---|---|---|\n",
        escape::markdown_text(&summary.registry)
    );
    for c in &summary.crates {
        out += &format!(
            "| {} | {} | {} |\n",
            escape::markdown_code_in_table(&c.name),
            escape::markdown_text(&c.version),
            outcome_word(c.outcome)
        );
    }
    out
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = r#"tok_en"w\ith*escapes"#;

    fn summary(reason: &str) -> Summary {
        Summary {
            decision: Decision::Publish,
            dry_run: false,
            commit: None,
            // A private registry's URL can carry its credentials (a git index's userinfo).
            registry: format!("sparse+https://ci:{reason}@registry.example/index/"),
            crates: vec![CrateOutcome {
                name: "a".to_owned(),
                version: "0.1.0".to_owned(),
                outcome: Outcome::Failed,
                duration_ms: 0,
                retries: 0,
                reason: Some(reason.to_owned()),
                sha256: None,
            }],
            first_releases: vec![FirstRelease {
                name: "a".to_owned(),
                version: "0.1.0".to_owned(),
                line: format!("first release: {reason}"),
            }],
        }
    }

    /// Every file a run's report goes to, written by `finish`, read back whole.
    fn written(reporter: &Reporter, summary: &Summary) -> Vec<(&'static str, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let env: Env = [
            ("GITHUB_OUTPUT", path("output")),
            ("GITHUB_STEP_SUMMARY", path("summary")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.display().to_string()))
        .collect();
        let files = ReportFiles {
            json: Some(path("report.json")),
            dotenv: Some(path("report.env")),
        };
        reporter.finish(summary, &files, &env).unwrap();
        ["output", "summary", "report.json", "report.env"]
            .map(|name| (name, fs_err::read_to_string(path(name)).unwrap()))
            .into()
    }

    #[test]
    fn the_signal_thread_and_the_run_write_one_report_between_them() {
        let reporter = Reporter::new(&Env::new());
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let env: Env = [
            ("GITHUB_OUTPUT", "output"),
            ("GITHUB_STEP_SUMMARY", "summary"),
        ]
        .map(|(k, v)| (k.to_owned(), path(v).display().to_string()))
        .into();
        let files = ReportFiles {
            json: Some(path("report.json")),
            dotenv: None,
        };
        // The run's last write and a signal's, at once, from two threads (clones of the one
        // reporter, as the signal thread holds).
        let long = summary(&"x".repeat(100_000));
        let short = summary("stopped");
        std::thread::scope(|s| {
            s.spawn(|| reporter.clone().finish(&long, &files, &env).unwrap());
            s.spawn(|| reporter.clone().finish(&short, &files, &env).unwrap());
        });
        let json: serde_json::Value =
            serde_json::from_str(&fs_err::read_to_string(path("report.json")).unwrap())
                .expect("the JSON report is one writer's, whole");
        let reason = json["crates"][0]["reason"].as_str().unwrap();
        assert!(
            reason == "stopped" || reason.len() == 100_000,
            "{reason:.40}"
        );
        let step_summary = fs_err::read_to_string(path("summary")).unwrap();
        assert_eq!(
            step_summary.matches("### shipcrate").count(),
            1,
            "{step_summary:.300}"
        );
        let outputs = fs_err::read_to_string(path("output")).unwrap();
        let published = outputs.lines().filter(|l| l.starts_with("published<<"));
        assert_eq!(published.count(), 1, "{outputs:.300}");
    }

    #[test]
    fn a_token_in_a_reason_is_masked_in_every_report_whatever_each_format_escapes() {
        let reporter = Reporter::new(&Env::new());
        assert!(reporter.add_secret(TOKEN));
        // Markdown escapes `_` and `*`, JSON `"` and `\`: masking after them finds no token.
        let said = format!("the registry answered 403: token `{TOKEN}` is revoked");
        for (file, text) in written(&reporter, &summary(&said)) {
            for piece in [
                "tok_en",
                r"tok\_en",
                "ith*escapes",
                r"ith\*escapes",
                r#"w\\ith"#,
            ] {
                assert!(!text.contains(piece), "{file} shows {piece:?}:\n{text}");
            }
            assert!(text.contains("***"), "{file}:\n{text}");
        }
    }
}

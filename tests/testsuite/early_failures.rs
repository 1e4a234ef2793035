//! A run that fails after its decision, however early, writes its report (JSON, dotenv,
//! GitHub outputs and step summary) with what it knows; a full disk is said as such. Before
//! the decision, a run that can't start says why: a deleted working directory, a repository
//! of another user marked safe only where libgit2 doesn't look.

use std::process::Command;

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use cargo_test_support::str;

use crate::support::*;

/// The report files a run is told to write, read back.
struct Reports {
    json: std::path::PathBuf,
    dotenv: std::path::PathBuf,
    outputs: std::path::PathBuf,
    summary: std::path::PathBuf,
}

impl Reports {
    fn new() -> Self {
        let at = |name: &str| paths::root().join(name);
        Reports {
            json: at("report.json"),
            dotenv: at("report.env"),
            outputs: at("github-output"),
            summary: at("step-summary.md"),
        }
    }

    fn vars(&self) -> [(&'static str, String); 5] {
        let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
        [
            ("SHIPCRATE_REPORT", path(&self.json)),
            ("SHIPCRATE_DOTENV", path(&self.dotenv)),
            ("GITHUB_OUTPUT", path(&self.outputs)),
            ("GITHUB_STEP_SUMMARY", path(&self.summary)),
            ("GITHUB_ACTIONS", "true".to_owned()),
        ]
    }

    fn on(&self, mut run: Run) -> Run {
        for (key, value) in self.vars() {
            run = run.env(key, &value);
        }
        run.env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_REF", "refs/heads/main")
    }

    /// Each file was written; the JSON report's crates, as `(name, outcome)`.
    #[track_caller]
    fn written(&self) -> Vec<(String, String)> {
        for file in [&self.dotenv, &self.outputs, &self.summary] {
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|e| panic!("{} not written: {e}", file.display()));
            assert!(!text.is_empty(), "{} is empty", file.display());
        }
        let text = std::fs::read_to_string(&self.json).expect("the JSON report was written");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["decision"], "publish", "{text}");
        json["crates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let field = |k: &str| c[k].as_str().unwrap().to_owned();
                (field("name"), field("outcome"))
            })
            .collect()
    }
}

#[cargo_test]
fn a_run_stopped_before_its_copy_or_its_checks_still_writes_the_report() {
    let _registry = registry();
    let repo = Repo::with_crate("early", "0.1.0");
    // No token: the pre-flight stops the run.
    let reports = Reports::new();
    reports
        .on(repo.shipcrate())
        .env("SHIPCRATE_REGISTRY", "alternative")
        .run()
        .code(2)
        .stderr_has("needs a token");
    assert_eq!(reports.written(), []);

    // The index can't be reached: nothing known past the decision.
    let reports = Reports::new();
    reports
        .on(repo.shipcrate())
        .env("SHIPCRATE_REGISTRY", "local")
        .env(
            "CARGO_REGISTRIES_LOCAL_INDEX",
            "sparse+http://127.0.0.1:9/index/",
        )
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", TOKEN)
        .run()
        .code(1)
        .stderr_has("could not read the index of registry `local`");
    assert_eq!(reports.written(), []);

    // The index fails to say which versions it has: the plan is known, its crate not started.
    let server = FakeHttp::start(|request, port| match request.target.as_str() {
        "/index/config.json" => (
            200,
            format!(r#"{{"dl":"http://127.0.0.1:{port}/dl","api":"http://127.0.0.1:{port}"}}"#),
        ),
        _ => (500, "index broken".to_owned()),
    });
    let reports = Reports::new();
    reports
        .on(repo.shipcrate())
        .env("SHIPCRATE_REGISTRY", "local")
        .env(
            "CARGO_REGISTRIES_LOCAL_INDEX",
            &format!("sparse+{}/index/", server.url()),
        )
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", TOKEN)
        .run()
        .code(1)
        .stderr_has("could not read which versions of early the registry has")
        .stderr_has("Summary early v0.1.0: not started (the run stopped before its uploads)");
    assert_eq!(
        reports.written(),
        [("early".to_owned(), "not-started".to_owned())]
    );
}

#[cargo_test]
fn a_signal_during_the_checks_writes_the_report_with_the_plan_not_started() {
    let _registry = registry();
    let repo = Repo::with_crate("slowcheck", "0.1.0");
    // The index answers its config, then holds the crate's entry: the run is in its checks
    // (step 9, the plan known) when the job is cut off.
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&asked);
    let server = FakeHttp::start(move |request, port| match request.target.as_str() {
        "/index/config.json" => (
            200,
            format!(r#"{{"dl":"http://127.0.0.1:{port}/dl","api":"http://127.0.0.1:{port}"}}"#),
        ),
        _ => {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_secs(30));
            (404, String::new())
        }
    });
    let reports = Reports::new();
    let child = reports
        .on(repo.shipcrate())
        .env("SHIPCRATE_REGISTRY", "local")
        .env(
            "CARGO_REGISTRIES_LOCAL_INDEX",
            &format!("sparse+{}/index/", server.url()),
        )
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", TOKEN)
        .spawn();
    let deadline = std::time::Instant::now() + std::time::Duration::from_mins(2);
    while !asked.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            std::time::Instant::now() < deadline,
            "the index was never read"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    signal("-TERM", child.id());
    Outcome::from_child(child).code(143).stderr_has(
        "Stopped by signal 15: published 0 of 1 (none); not yet: slowcheck v0.1.0; re-run this \
         job to publish the rest",
    );
    assert_eq!(
        reports.written(),
        [("slowcheck".to_owned(), "not-started".to_owned())]
    );
}

#[cargo_test]
#[ignore = "needs `unshare` (util-linux) and user and mount namespaces, to mount a 1 MiB tmpfs as TMPDIR"]
fn a_full_tmpdir_is_said_as_such_and_the_report_is_written() {
    let _registry = registry();
    // More than the 1 MiB the copy has room for.
    let big: String = (0..40_000).map(|i| format!("{i:025}\n")).collect();
    let repo = Repo::with_crate("fulldisk", "0.1.0")
        .file("data/big.txt", &big)
        .commit("a big file");
    let tmp = paths::root().join("small-tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let reports = Reports::new();
    // The tmpfs lives in a mount namespace of the run's own: it goes when the run ends.
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--map-root-user",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
    ])
    .arg("mount -t tmpfs -o size=1m tmpfs \"$0\" || exit 97; exec \"$@\"")
    .arg(&tmp)
    .arg(env!("CARGO_BIN_EXE_shipcrate"))
    .current_dir(&repo.root)
    .env_clear()
    .envs(base_env())
    .envs(reports.vars())
    .env("TMPDIR", &tmp)
    .env("GITHUB_EVENT_NAME", "push")
    .env("GITHUB_REF", "refs/heads/main")
    .env("SHIPCRATE_REGISTRY", "alternative")
    .env("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", TOKEN);
    let out = Outcome::from(cmd.output().expect("`unshare` (util-linux) is installed"));
    assert_ne!(
        out.code,
        Some(97),
        "could not mount a tmpfs: {}",
        out.both()
    );
    let out = out.code(1).stderr_has(&format!(
        "no space left on `{}` (TMPDIR `{}`): the pristine copy of the commit does not fit there",
        tmp.display(),
        tmp.display()
    ));
    assert!(out.stdout.contains("::error::"), "{}", out.both());
    assert_eq!(reports.written(), []);
    assert!(index_entries("fulldisk").is_empty());
}

#[cargo_test]
fn started_in_a_deleted_directory_it_says_so() {
    let dir = paths::root().join("gone");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("cd \"$0\" && rmdir \"$0\" && exec \"$1\"")
        .arg(&dir)
        .arg(env!("CARGO_BIN_EXE_shipcrate"))
        .env_clear()
        .envs(base_env())
        .output()
        .unwrap();
    Outcome::from(out).code(2).stderr_eq(str![[r#"
[ERROR] cannot read the current directory: it no longer exists (deleted, or moved away, after the shell entered it). cd into the repository's checkout and run shipcrate again

"#]]);
}

#[cargo_test]
fn safe_directory_given_only_to_git_is_named_not_blamed_on_git() {
    // The test runs as root; the repository is root's, shipcrate runs as `nobody`.
    const NOBODY: u32 = 65534;
    let repo = Repo::with_crate("notmine", "0.1.0");
    let root = repo.root.to_str().unwrap();
    repo.shipcrate()
        .run_as(NOBODY)
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", root)
        .run()
        .code(2)
        .stderr_has(&format!(
            "`{root}` belongs to another user, and shipcrate reads repositories with libgit2, \
             which refuses that unless git's global or system config marks the directory \
             safe: run `git config --global --add safe.directory {root}`"
        ))
        .stderr_has(&format!(
            "`safe.directory` = `{root}` given through `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_<n>` is \
             honoured by git, but not by libgit2"
        ));
}

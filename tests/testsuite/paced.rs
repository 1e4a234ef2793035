//! Large releases against a registry metered like crates.io (`support::Metered`): paced to its
//! buckets after the first 429, each crate packaged a bounded number of times.

use std::time::Duration;

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

/// A workspace of `n` crates `p1`…`pn`, independent of each other.
fn independent(n: usize) -> (Repo, Vec<String>) {
    let names: Vec<String> = (1..=n).map(|i| format!("p{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut repo = Repo::workspace(&refs).file(".gitignore", "/target\n");
    for name in &names {
        repo = repo
            .file(&format!("{name}/Cargo.toml"), &manifest(name, "0.1.0"))
            .file(
                &format!("{name}/src/lib.rs"),
                "pub fn answer() -> u32 { 42 }\n",
            );
    }
    (repo.commit("independent crates"), names)
}

/// How many times cargo packaged `name` in this output (its `Packaging` lines).
fn packaged(stderr: &str, name: &str) -> usize {
    let line = format!("Packaging {name} v");
    stderr
        .lines()
        .filter(|l| l.trim_start().starts_with(&line))
        .count()
}

#[cargo_test]
fn a_release_past_the_burst_is_paced_to_the_bucket_instead_of_refused() {
    // 7 new crates; the registry takes 3 at once, then one per 10 s.
    let limit = Limit {
        burst: 3,
        interval: Duration::from_secs(10),
    };
    let lenient = Limit {
        burst: 100,
        interval: Duration::from_secs(1),
    };
    let metered = Metered::start(limit, lenient, &[]);
    let (repo, names) = independent(7);
    let report = paths::root().join("report.json");
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success()
        .stderr_has("Pacing one new crate per 10s after a burst of 3");
    let log = metered.log();
    println!("{:#?}\n{}", log, out.both());

    // At most 3 refused uploads (learning the bucket), whatever the number of crates.
    assert!(metered.refused() <= 3, "{} refused", metered.refused());
    // From the first upload taken to the last: within 1.25× of the bucket's least (the
    // date's one-second resolution, at a 10 s interval).
    let least = least_span(limit, 7);
    let span = metered.span();
    println!("span {span:?}, least {least:?}");
    assert!(span >= least, "{span:?}");
    assert!(
        span.as_secs_f64() <= least.as_secs_f64() * 1.25,
        "{span:?} against {least:?}"
    );
    // Packaged: once to verify, once in the first upload cargo; a crate the first 429 cut
    // off, once more in its own paced cargo; never again, however many retries. (Twice would
    // need the verifying cargo to upload: see `gate`'s module text for why it never does.)
    let counts: Vec<usize> = names.iter().map(|n| packaged(&out.stderr, n)).collect();
    println!("packaged {counts:?}");
    for (name, count) in names.iter().zip(&counts) {
        assert!(*count <= 3, "{name} packaged {count} times");
        assert_eq!(index_entries(name).len(), 1, "{name}");
        let taken = log.iter().filter(|a| a.taken && &a.name == name).count();
        assert_eq!(taken, 1, "{name}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for krate in json["crates"].as_array().unwrap() {
        assert_eq!(krate["outcome"], "published", "{krate}");
    }
}

#[cargo_test]
fn a_429_naming_an_instant_already_past_is_backed_off_not_resent_at_once() {
    // The registry's clock is a minute behind: each 429's "try again after" is past here.
    // Sent again at once, the upload is refused again, until `max_retries` fails the run.
    let limit = Limit {
        burst: 2,
        interval: Duration::from_secs(3),
    };
    let metered = Metered::start(limit, limit, &[]);
    metered.clock_behind(Duration::from_mins(1));
    let (repo, _) = independent(3);
    let out = repo
        .shipcrate()
        .registry_target()
        .run()
        .success()
        .stderr_has("already past by this machine's clock");
    println!("{:#?}\n{}", metered.log(), out.both());
    assert!(metered.refused() <= 3, "{} refused", metered.refused());
}

#[cargo_test]
fn a_deadline_passed_during_the_verification_runs_no_before_deploy() {
    let _registry = registry();
    // The verification builds for 3 s (the build script); the deadline is 2 s after the start.
    let repo = Repo::with_crate("late", "0.1.0")
        .file(
            "build.rs",
            "fn main() { std::thread::sleep(std::time::Duration::from_secs(3)); }\n",
        )
        .commit("a slow build");
    let ran = paths::root().join("before-deploy-ran");
    let report = paths::root().join("report.json");
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_DEADLINE", "2s")
        .env(
            "SHIPCRATE_BEFORE_DEPLOY",
            &format!("touch {}", ran.display()),
        )
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .code(1)
        .stderr_has("stopped at the run's deadline (2s after its start, `deadline`)")
        .stderr_has("published 0 of 1 (none); not yet: late v0.1.0; re-run this job");
    println!("{}", out.both());
    // A hook readying a publish that won't happen (a release page, a tag pushed) never runs.
    assert!(!ran.exists(), "before_deploy ran past the deadline");
    assert_eq!(
        outcomes(&report),
        [("late".to_owned(), "not-started".to_owned())]
    );
    assert!(index_entries("late").is_empty());
}

/// Every crate's outcome in the JSON report at `path`, as (name, outcome).
fn outcomes(path: &std::path::Path) -> Vec<(String, String)> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[cargo_test]
fn at_the_deadline_no_upload_starts_and_the_report_says_what_is_left() {
    // 5 new crates, 2 at once then one per 20 s, and 40 s to do it in: not enough.
    let limit = Limit {
        burst: 2,
        interval: Duration::from_secs(20),
    };
    let metered = Metered::start(limit, limit, &[]);
    let (repo, names) = independent(5);
    let report = paths::root().join("report.json");
    let dotenv = paths::root().join("shipcrate.env");
    let started = std::time::Instant::now();
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_DEADLINE", "40s")
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .env("SHIPCRATE_DOTENV", dotenv.to_str().unwrap())
        .run()
        .code(1)
        .stderr_has("stopped at the run's deadline (40s after its start, `deadline`)")
        .stderr_has("re-run this job to publish the rest — crates already published are skipped");
    let took = started.elapsed();
    println!("{}", out.both());
    // It stops as soon as the next upload can't start in time, not at the deadline or later;
    // and nothing was sent to the registry past it.
    assert!(took < Duration::from_secs(45), "{took:?}");
    for attempt in metered.log() {
        assert!(
            attempt.at - started < Duration::from_secs(40),
            "{attempt:?}"
        );
    }
    let got = outcomes(&report);
    let published: Vec<&str> = got
        .iter()
        .filter(|(_, o)| o == "published")
        .map(|(n, _)| n.as_str())
        .collect();
    // The burst at least; in plan order; the rest not started, none lost.
    assert!(published.len() >= 2 && published.len() < 5, "{got:?}");
    for (i, (name, outcome)) in got.iter().enumerate() {
        assert_eq!(name, &names[i]);
        let expected = if i < published.len() {
            "published"
        } else {
            "not-started"
        };
        assert_eq!(outcome, expected, "{got:?}");
        assert_eq!(index_entries(name).len(), usize::from(i < published.len()));
    }
    let line = format!(
        "published {} of 5 ({}); not yet: {}",
        published.len(),
        names[..published.len()]
            .iter()
            .map(|n| format!("{n} v0.1.0"))
            .collect::<Vec<_>>()
            .join(", "),
        names[published.len()..]
            .iter()
            .map(|n| format!("{n} v0.1.0"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out.stderr_has(&line);
    let env = std::fs::read_to_string(&dotenv).unwrap();
    assert!(
        env.contains(&format!(r#""name":"{}","outcome":"not-started""#, names[4])),
        "{env}"
    );
}

#[cargo_test]
fn a_deadline_that_comes_during_an_upload_lets_no_later_crate_of_that_cargo_start() {
    // One cargo uploads all three (no rate limit); the registry takes 25 s to answer p1 (less
    // than the 30 s cargo waits on a silent server), and the deadline comes meanwhile: cargo
    // asks for p2's token past it, and is refused.
    let lenient = Limit {
        burst: 100,
        interval: Duration::from_secs(1),
    };
    let metered = Metered::start(lenient, lenient, &[]);
    metered.hold("p1", Duration::from_secs(25));
    let (repo, names) = independent(3);
    let report = paths::root().join("report.json");
    let started = std::time::Instant::now();
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_DEADLINE", "20s")
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .code(1)
        .stderr_has("stopped at the run's deadline (20s after its start, `deadline`)")
        .stderr_has("no upload starts after it")
        .stderr_has("published 1 of 3 (p1 v0.1.0); not yet: p2 v0.1.0, p3 v0.1.0");
    println!("{}", out.both());
    // p1 went up before the deadline; nothing was sent after it.
    let log = metered.log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].name, "p1");
    assert!(log[0].at - started < Duration::from_secs(20), "{log:?}");
    assert_eq!(
        outcomes(&report),
        [
            (names[0].clone(), "published".to_owned()),
            (names[1].clone(), "not-started".to_owned()),
            (names[2].clone(), "not-started".to_owned()),
        ]
    );
    assert_eq!(index_entries("p1").len(), 1);
    assert!(index_entries("p2").is_empty());
}

#[cargo_test]
fn a_signal_mid_upload_writes_every_report_with_what_went_up_and_what_is_left() {
    let lenient = Limit {
        burst: 100,
        interval: Duration::from_secs(1),
    };
    let metered = Metered::start(lenient, lenient, &[]);
    // The registry takes 20 s to answer p2's upload: the job is cut off meanwhile. (The test
    // registry's server then panics on the broken pipe to the gone cargo: expected.)
    metered.hold("p2", Duration::from_secs(20));
    let (repo, _) = independent(4);
    let report = paths::root().join("report.json");
    let dotenv = paths::root().join("shipcrate.env");
    let outputs = paths::root().join("github-output");
    let summary = paths::root().join("step-summary.md");
    let child = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .env("SHIPCRATE_DOTENV", dotenv.to_str().unwrap())
        .env("GITHUB_OUTPUT", outputs.to_str().unwrap())
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .spawn();
    let deadline = std::time::Instant::now() + Duration::from_mins(2);
    while !metered.log().iter().any(|a| a.name == "p2") {
        assert!(
            std::time::Instant::now() < deadline,
            "p2's upload never came"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    signal("-INT", child.id());
    let out = Outcome::from_child(child).code(130).stderr_has(
        "Stopped by signal 2: published 1 of 4 (p1 v0.1.0); not yet: p2 v0.1.0 (interrupted), \
         p3 v0.1.0, p4 v0.1.0; re-run this job to publish the rest — crates already published \
         are skipped",
    );
    println!("{}", out.both());
    assert_eq!(
        outcomes(&report),
        [
            ("p1".to_owned(), "published".to_owned()),
            ("p2".to_owned(), "interrupted".to_owned()),
            ("p3".to_owned(), "not-started".to_owned()),
            ("p4".to_owned(), "not-started".to_owned()),
        ]
    );
    let github = std::fs::read_to_string(&outputs).unwrap();
    assert!(
        github.contains(r#"[{"name":"p1","version":"0.1.0"}]"#),
        "{github}"
    );
    assert!(
        github.contains(r#""name":"p2","outcome":"interrupted""#),
        "{github}"
    );
    let env = std::fs::read_to_string(&dotenv).unwrap();
    assert!(
        env.contains(r#"SHIPCRATE_OUTPUT_NOT_PUBLISHED=[{"name":"p2","outcome":"interrupted""#),
        "{env}"
    );
    let table = std::fs::read_to_string(&summary).unwrap();
    assert!(table.contains("| `p3` | 0.1.0 | not started |"), "{table}");
}

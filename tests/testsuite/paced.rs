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
    // off, once more in its own paced cargo; never again, however many retries.
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

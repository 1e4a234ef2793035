//! Publishing to a separate registry server process with a git index (cargo-http-registry).

use cargo_test_support::prelude::*;

use crate::support::*;

#[cargo_test]
#[ignore = "needs cargo-http-registry: `cargo install --locked cargo-http-registry`"]
fn publishes_to_a_git_index_registry_server() {
    let server = GitRegistry::start();
    let repo = Repo::with_crate("gitindexed", "0.4.0").tag("v0.4.0");
    let report = cargo_test_support::paths::root().join("report.json");
    repo.shipcrate()
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .env("SHIPCRATE_REGISTRY", "local")
        .env("CARGO_REGISTRIES_LOCAL_INDEX", &server.index_url())
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", TOKEN)
        .env("CARGO_NET_GIT_FETCH_WITH_CLI", "true")
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .success()
        .lacks(TOKEN);
    let entries = server.entries("gitindexed");
    assert_eq!(entries.len(), 1, "{entries:?}");

    // A consumer with an empty CARGO_HOME resolves and builds against it.
    let consumer = consume_from(&server.index_url(), "local", "gitindexed", "0.4.0");
    let lock = std::fs::read_to_string(consumer.join("Cargo.lock")).unwrap();
    let cksum = entries[0]["cksum"].as_str().unwrap();
    assert!(lock.contains(&format!("checksum = \"{cksum}\"")), "{lock}");
    // The report's hash of the upload is the one the git index records (checked by the run).
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(report["crates"][0]["sha256"], cksum);
}

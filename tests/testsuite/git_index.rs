//! Publishing to a separate registry server process with a git index (cargo-http-registry).

use std::process::Command;

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

#[cargo_test]
fn publishes_to_a_git_index_registry_server() {
    let Some(server) = GitRegistry::start() else {
        return;
    };
    let repo = Repo::with_crate("gitindexed", "0.4.0").tag("v0.4.0");
    repo.shipcrate()
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
    let consumer = paths::root().join("consumer");
    std::fs::create_dir_all(consumer.join("src")).unwrap();
    std::fs::write(
        consumer.join("Cargo.toml"),
        "[package]\nname = \"consumer\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\ngitindexed = { version = \"=0.4.0\", registry = \"local\" }\n",
    )
    .unwrap();
    std::fs::write(
        consumer.join("src/main.rs"),
        "fn main() { println!(\"{}\", gitindexed::answer()); }\n",
    )
    .unwrap();
    let out = Command::new("cargo")
        .args(["run", "--quiet"])
        .current_dir(&consumer)
        .env("CARGO_HOME", paths::root().join("consumer-home"))
        .env("CARGO_REGISTRIES_LOCAL_INDEX", server.index_url())
        .env("CARGO_NET_GIT_FETCH_WITH_CLI", "true")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42");
    let lock = std::fs::read_to_string(consumer.join("Cargo.lock")).unwrap();
    let cksum = entries[0]["cksum"].as_str().unwrap();
    assert!(lock.contains(&format!("checksum = \"{cksum}\"")), "{lock}");
}

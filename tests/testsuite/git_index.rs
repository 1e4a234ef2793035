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

#[cargo_test]
#[ignore = "needs cargo-http-registry: `cargo install --locked cargo-http-registry`"]
fn a_git_index_urls_credentials_never_reach_gits_command_line() {
    // Anyone on the machine reads a command line (`ps`); only we read our children's
    // environment. shipcrate's own fetch of the index takes the URL from there.
    let server = GitRegistry::start();
    // A token in the user name's place, as some git hosts take one (cargo refuses a password).
    let secret = "hunter2-in-the-url";
    let url = server
        .index_url()
        .replacen("http://", &format!("http://{secret}@"), 1);
    let repo = Repo::with_crate("gitsecret", "0.1.0").tag("v0.1.0");
    let shims = shims();
    let out = repo
        .shipcrate()
        .path_prefix(&shims)
        .env("SHIPCRATE_REGISTRY", "local")
        .env("CARGO_REGISTRIES_LOCAL_INDEX", &url)
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", TOKEN)
        // This server speaks git's dumb HTTP, which only git's CLI reads. (cargo's own CLI
        // fetch then has the URL in its command line: cargo's doing, not shipcrate's.)
        .env("CARGO_NET_GIT_FETCH_WITH_CLI", "true")
        .env("SHIPCRATE_ON__TAGS", "true")
        .run()
        .success()
        .lacks(secret);
    println!("{}", out.both());
    assert_eq!(server.entries("gitsecret").len(), 1);
    // Our fetches (the index read, then its refresh after the upload): with `-c
    // maintenance.auto=false`, which cargo's own git commands don't pass.
    let ours: Vec<(Vec<String>, String)> = shim_records(&shims)
        .into_iter()
        .filter(|(tool, argv, _)| {
            tool == "git"
                && argv.iter().any(|a| a == "fetch")
                && argv.iter().any(|a| a == "maintenance.auto=false")
        })
        .map(|(_, argv, env)| (argv, env))
        .collect();
    assert!(!ours.is_empty(), "shipcrate fetched no git index");
    // The remote is the URL without the user name, so git's HTTP helper (started from git's
    // own exec path, out of the shims' sight, with the remote's URL in its argv) never has
    // it; the name goes as the `Authorization: Basic` header it stands for.
    let basic = "aHVudGVyMi1pbi10aGUtdXJsOg=="; // base64("hunter2-in-the-url:")
    for (argv, env) in &ours {
        assert!(!argv.iter().any(|a| a.contains(secret)), "{argv:?}");
        let config = |key: &str| {
            let n = env
                .lines()
                .find_map(|l| {
                    l.strip_suffix(&format!("={key}"))?
                        .strip_prefix("GIT_CONFIG_KEY_")
                })
                .unwrap_or_else(|| panic!("no {key} in git's environment:\n{env}"));
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("GIT_CONFIG_VALUE_{n}=")))
                .unwrap()
                .to_owned()
        };
        assert_eq!(config("remote.shipcrate-index.url"), server.index_url());
        assert_eq!(
            config("http.extraHeader"),
            format!("Authorization: Basic {basic}")
        );
    }
}

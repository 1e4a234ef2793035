//! The token: only in cargo's environment (or handed over by shipcrate as cargo's credential
//! provider), never in argv, hooks, logs or reports.

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

#[cargo_test]
fn the_token_reaches_cargo_only_through_its_environment() {
    let _registry = registry();
    let repo = Repo::with_crate("secretive", "0.1.0");
    let shims = shims();
    let report = paths::root().join("report.json");
    let out = repo
        .shipcrate()
        .path_prefix(&shims)
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("SHIPCRATE_TOKEN", "${PUBLISH_SECRET}")
        .env("PUBLISH_SECRET", TOKEN)
        // A crates.io token must never go to another registry.
        .env("CARGO_REGISTRY_TOKEN", "crates-io-only-token")
        .env("SHIPCRATE_ON__CONDITION", "true")
        .env("SHIPCRATE_BEFORE_DEPLOY", "env > /dev/null; echo before")
        .env("SHIPCRATE_AFTER_DEPLOY", "echo after")
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success()
        .lacks(TOKEN);
    assert_eq!(index_entries("secretive").len(), 1, "{}", out.both());
    assert!(!std::fs::read_to_string(&report).unwrap().contains(TOKEN));

    let logs = shim_logs(&shims);
    let count = |tool: &str| {
        logs.iter()
            .filter(|(t, k, _)| t == tool && k == "argv")
            .count()
    };
    assert!(
        count("sh") >= 3,
        "condition and hooks ran through the sh shim: {logs:?}"
    );
    assert!(count("git") >= 1 && count("cargo") >= 2, "{logs:?}");
    for (tool, kind, text) in &logs {
        if kind == "argv" {
            assert!(!text.contains(TOKEN), "token in {tool} argv: {text}");
        }
        if tool != "cargo" {
            assert!(!text.contains(TOKEN), "token in {tool} {kind}");
            assert!(
                !text.contains("crates-io-only-token"),
                "crates.io token in {tool} {kind}"
            );
        }
    }
    // Every cargo call: only the upload holds the token, in the registry's own variable.
    let mut uploads = 0;
    for (tool, argv, env) in shim_records(&shims) {
        let holding: Vec<&str> = env.lines().filter(|l| l.contains(TOKEN)).collect();
        let upload = tool == "cargo"
            && argv.first().is_some_and(|a| a == "publish")
            && !argv.iter().any(|a| a == "--dry-run");
        if upload {
            uploads += 1;
            assert_eq!(
                holding,
                [format!("CARGO_REGISTRIES_ALTERNATIVE_TOKEN={TOKEN}")]
            );
        } else {
            assert!(holding.is_empty(), "{tool} {argv:?} holds the token");
        }
        assert!(
            !env.contains("crates-io-only-token"),
            "a crates.io token reached {tool} {argv:?}"
        );
    }
    assert_eq!(uploads, 1);
}

/// Without `before_deploy`, the upload cargo starts while the verification builds and asks
/// shipcrate for the token (its credential provider, over a pipe) when the gate opens: the
/// token is then in no process's argv or environment at all.
#[cargo_test]
fn an_upload_held_at_the_gate_gets_the_token_from_shipcrate_not_argv_or_env() {
    let registry = registry();
    // While the verify build runs, its build script looks through shipcrate's temp dir (where
    // the gate is) for the token; it knows the token only reversed, so as not to be found.
    let looked = paths::root().join("build-script-looked");
    let reversed: String = TOKEN.chars().rev().collect();
    let build = format!(
        r#"fn scan(dir: &std::path::Path, token: &[u8], found: &mut Vec<String>) {{
    let Ok(entries) = std::fs::read_dir(dir) else {{ return }};
    for entry in entries.flatten() {{
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {{ continue }};
        if meta.is_dir() {{
            scan(&path, token, found);
        }} else if meta.is_file() && std::fs::read(&path)
            .is_ok_and(|bytes| bytes.windows(token.len()).any(|w| w == token))
        {{
            found.push(path.display().to_string());
        }}
    }}
}}
fn main() {{
    let token: String = {reversed:?}.chars().rev().collect();
    let mut found = Vec::new();
    scan(std::path::Path::new({tmp:?}), token.as_bytes(), &mut found);
    let line = if found.is_empty() {{ "clean".to_owned() }} else {{ found.join(" ") }};
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open({looked:?}).unwrap();
    std::io::Write::write_all(&mut log, format!("{{line}}\n").as_bytes()).unwrap();
}}
"#,
        tmp = tmp_dir().display().to_string(),
        looked = looked.display().to_string(),
    );
    let repo = Repo::with_crate("gated", "0.1.0")
        .file("build.rs", &build)
        .commit("a build script that looks for the token");
    let shims = shims();
    let out = repo
        .shipcrate()
        .path_prefix(&shims)
        .registry_target()
        .run()
        .success()
        .lacks(TOKEN);
    assert_eq!(index_entries("gated").len(), 1, "{}", out.both());
    let seen = std::fs::read_to_string(&looked).unwrap();
    assert!(
        !seen.is_empty() && seen.lines().all(|l| l == "clean"),
        "the token was on disk during the build: {seen}"
    );
    consume(&registry, "gated", "0.1.0");
    let mut uploads = 0;
    for (tool, argv, env) in shim_records(&shims) {
        assert!(
            !argv.iter().any(|a| a.contains(TOKEN)),
            "token in {tool} {argv:?}"
        );
        assert!(!env.contains(TOKEN), "{tool} {argv:?} holds the token");
        if tool == "cargo"
            && argv.first().is_some_and(|a| a == "publish")
            && !argv.iter().any(|a| a == "--dry-run")
        {
            uploads += 1;
            let provider = argv
                .iter()
                .find(|a| a.starts_with("registries.alternative.credential-provider="))
                .unwrap_or_else(|| panic!("no credential provider: {argv:?}"));
            assert!(
                provider.contains(env!("CARGO_BIN_EXE_shipcrate")),
                "{provider}"
            );
        }
    }
    assert_eq!(uploads, 1);
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

/// cargo calls a registry it found through `CARGO_REGISTRIES_MY_REG_INDEX` `my_reg`, and looks
/// for its credential provider under that name.
#[cargo_test]
fn a_registry_named_with_a_hyphen_gets_the_token_through_the_gate() {
    let registry = registry();
    let repo = Repo::with_crate("hyphenated", "0.1.0");
    let out = repo
        .shipcrate()
        .env("SHIPCRATE_REGISTRY", "my-reg")
        .env(
            "CARGO_REGISTRIES_MY_REG_INDEX",
            registry.index_url().as_str(),
        )
        .env("CARGO_REGISTRIES_MY_REG_TOKEN", TOKEN)
        .run()
        .success()
        .lacks(TOKEN);
    assert_eq!(index_entries("hyphenated").len(), 1, "{}", out.both());
}

#[cargo_test]
fn a_wrong_token_shows_the_registrys_401_and_nothing_secret() {
    let _registry = registry();
    let repo = Repo::with_crate("wrongtoken", "0.1.0");
    let wrong = "wrong-t0ken-77a1e";
    repo.shipcrate()
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", wrong)
        .run()
        .code(1)
        .stderr_has(
            "Summary wrongtoken v0.1.0: failed (error: failed to publish wrongtoken v0.1.0 to \
             registry at",
        )
        .stderr_has("got 401 Unauthorized message from server.)")
        .stderr_has("failed: wrongtoken v0.1.0")
        .lacks(wrong);
    assert!(index_entries("wrongtoken").is_empty());
}

#[cargo_test]
fn github_masks_the_token_before_printing_anything() {
    let _registry = registry();
    let repo = Repo::with_crate("masked", "0.1.0");
    let out = repo
        .shipcrate()
        .registry_target()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REF", "refs/heads/main")
        .env("GITHUB_EVENT_NAME", "push")
        .run()
        .success();
    let first = out.stdout.lines().next().unwrap_or_default();
    assert_eq!(first, format!("::add-mask::{TOKEN}"));
    let rest: String = out.stdout.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert!(
        !rest.contains(TOKEN) && !out.stderr.contains(TOKEN),
        "{}",
        out.both()
    );
}

#[cargo_test]
fn a_token_echoed_back_by_the_registry_is_masked() {
    let server = echo_server();
    let index = format!("sparse+{}/index/", server.url());
    let repo = Repo::with_crate("echoed", "0.1.0");
    repo.shipcrate()
        .env("SHIPCRATE_REGISTRY", "echo")
        .env("CARGO_REGISTRIES_ECHO_INDEX", &index)
        .env("CARGO_REGISTRIES_ECHO_TOKEN", TOKEN)
        .run()
        .code(1)
        .stderr_has("token `***` is not allowed here")
        .lacks(TOKEN);
    let seen = server.seen();
    assert!(
        seen.iter()
            .any(|r| r.target == "/api/v1/crates/new" && r.header("authorization") == Some(TOKEN)),
        "cargo never sent the token to the echo server: {seen:?}"
    );
}

#[cargo_test]
fn an_empty_token_fails_early_naming_the_variable() {
    let _registry = registry();
    let repo = Repo::with_crate("empty", "0.1.0");
    repo.shipcrate()
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", "")
        .run()
        .code(2)
        .stderr_has("`CARGO_REGISTRIES_ALTERNATIVE_TOKEN` is set but empty");
    assert!(leftovers().is_empty());
}

#[cargo_test]
fn a_literal_token_in_a_tracked_config_file_is_refused() {
    let _registry = registry();
    let repo = Repo::with_crate("leaky", "0.1.0")
        .file(
            ".shipcrate.yml",
            "token: cio-literal-token-123\nregistry: alternative\n",
        )
        .commit("oops");
    repo.shipcrate()
        .run()
        .code(2)
        .stderr_has("literal token in a file git tracks")
        .stderr_has("revoke it")
        .lacks("cio-literal-token-123");
    assert!(index_entries("leaky").is_empty());
}

#[cargo_test]
fn a_token_too_short_to_be_a_secret_is_not_masked_everywhere_and_is_named() {
    let _registry = registry();
    let repo = Repo::with_crate("shorty", "0.1.0");
    // One of the commit's own characters: masked, the sha would read `f2***3ce0b***`.
    let head = repo.head();
    let token = &head[..1];
    let out = repo
        .shipcrate()
        .env("SHIPCRATE_REGISTRY", "alternative")
        .env("CARGO_REGISTRIES_ALTERNATIVE_TOKEN", token)
        .env("SHIPCRATE_DRY_RUN", "true")
        .run()
        .success()
        .stderr_has(&format!("Copying commit {}", &head[..7]))
        .stderr_has(
            "the token from `CARGO_REGISTRIES_ALTERNATIVE_TOKEN` is 1 characters long: too short \
             to be a registry's token, and too short to mask",
        );
    assert!(!out.both().contains("***"), "{}", out.both());
}

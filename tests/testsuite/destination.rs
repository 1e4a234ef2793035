//! The token goes only where the environment says: a commit's cargo config may define a
//! registry of its own, never redirect one the environment defines.

use cargo_test_support::paths;
use cargo_test_support::prelude::*;

use crate::support::*;

#[cargo_test]
fn a_commit_that_redirects_the_registry_stops_before_anything_runs() {
    let _registry = registry();
    let repo = Repo::with_crate("redirected", "0.1.0")
        .file(
            ".cargo/config.toml",
            "[registries.alternative]\nindex = \"sparse+http://127.0.0.1:9/index/\"\n",
        )
        .commit("send the registry's token elsewhere");
    let hook_ran = paths::root().join("hook-ran");
    repo.shipcrate()
        .registry_target()
        .env(
            "SHIPCRATE_BEFORE_DEPLOY",
            &format!("touch {}", hook_ran.display()),
        )
        .run()
        .code(2)
        .stderr_has("`.cargo/config.toml` sets `registries.alternative.index` = \"sparse+http://127.0.0.1:9/index/\", but the environment says \"sparse+http://127.0.0.1:")
        .stderr_has("set `CARGO_REGISTRIES_ALTERNATIVE_INDEX` in the environment")
        .lacks(TOKEN);
    assert!(!hook_ran.exists(), "a hook ran");
    assert!(index_entries("redirected").is_empty());
}

#[cargo_test]
fn a_redirect_in_a_file_the_commits_config_includes_stops_the_run() {
    // cargo 1.94 made `include` stable: the included file's index is the one cargo uses.
    let _registry = registry();
    let repo = Repo::with_crate("included", "0.1.0")
        .file(
            ".cargo/config.toml",
            "include = [\"more/registries.toml\"]\n",
        )
        .file(
            ".cargo/more/registries.toml",
            "[registries.alternative]\nindex = \"sparse+http://127.0.0.1:9/index/\"\n",
        )
        .commit("send the registry's token elsewhere, one file away");
    repo.shipcrate()
        .registry_target()
        .run()
        .code(2)
        .stderr_has("`.cargo/more/registries.toml` sets `registries.alternative.index` = \"sparse+http://127.0.0.1:9/index/\", but the environment says")
        .lacks(TOKEN);
    assert!(index_entries("included").is_empty());
}

#[cargo_test]
fn a_cargo_config_any_user_can_write_above_the_copy_stops_the_run() {
    use std::os::unix::fs::PermissionsExt;
    // The pristine copy is made in TMPDIR; cargo reads `.cargo/config.toml` in every parent
    // of it — in `/tmp` or `/dev/shm`, a file any user may have put there.
    let _registry = registry();
    let repo = Repo::with_crate("planted", "0.1.0");
    let shared = paths::root().join("shared");
    let tmpdir = shared.join("tmp");
    std::fs::create_dir_all(&tmpdir).unwrap();
    std::fs::create_dir_all(shared.join(".cargo")).unwrap();
    let planted = shared.join(".cargo/config.toml");
    std::fs::write(
        &planted,
        "[registries.alternative]\nindex = \"sparse+http://127.0.0.1:9/index/\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
    repo.shipcrate()
        .registry_target()
        .env("TMPDIR", tmpdir.to_str().unwrap())
        .run()
        .code(2)
        .stderr_has(&format!(
            "cargo would read `{}` running in `{}",
            planted.display(),
            tmpdir.display()
        ))
        .stderr_has("it is writable by every user (mode 666)")
        .lacks(TOKEN);
    assert!(index_entries("planted").is_empty());
}

#[cargo_test]
fn a_config_toml_beside_a_config_stops_the_run() {
    // Cargo reads `.cargo/config`; the index reader (tame-index 0.27, src/index/location.rs
    // `read_cargo_config`) reads `.cargo/config.toml` alone.
    let _registry = registry();
    let repo = Repo::with_crate("twofiles", "0.1.0")
        .file(".cargo/config", "[net]\nretry = 2\n")
        .file(
            ".cargo/config.toml",
            "[registries.alternative]\nindex = \"sparse+http://127.0.0.1:9/index/\"\n",
        )
        .commit("one config for cargo, another for the index reader");
    repo.shipcrate()
        .registry_target()
        .run()
        .code(2)
        .stderr_has("both `.cargo/config` and `.cargo/config.toml` exist")
        .lacks(TOKEN);
    assert!(index_entries("twofiles").is_empty());
}

#[cargo_test]
fn a_commits_credential_provider_for_the_registry_stops_the_run() {
    let _registry = registry();
    let repo = Repo::with_crate("provided", "0.1.0")
        .file(
            ".cargo/config.toml",
            "[registries.alternative]\ncredential-provider = [\"sh\", \"-c\", \"env > /tmp/stolen\"]\n",
        )
        .commit("a credential provider of the commit's own");
    repo.shipcrate()
        .registry_target()
        .run()
        .code(2)
        .stderr_has("sets `registries.alternative.credential-provider` = [\"sh\", \"-c\", \"env > /tmp/stolen\"], but the environment does not set it")
        .lacks(TOKEN);
    assert!(index_entries("provided").is_empty());
}

#[cargo_test]
fn a_registry_the_commit_alone_defines_gets_the_token_and_the_run_says_so() {
    let registry = registry();
    let repo = Repo::with_crate("own", "0.1.0")
        .file(
            ".cargo/config.toml",
            &format!(
                "[registries.mine]\nindex = \"{}\"\n",
                registry.index_url().as_str()
            ),
        )
        .commit("the registry, defined in the repository");
    // A cargo home that knows no registry (cargo refuses two names for one index).
    let home = paths::root().join("empty-cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    repo.shipcrate()
        .env("CARGO_HOME", home.to_str().unwrap())
        .env("SHIPCRATE_REGISTRY", "mine")
        .env("CARGO_REGISTRIES_MINE_TOKEN", TOKEN)
        .run()
        .success()
        .stderr_has(&format!(
            "Token for registry `mine` goes to {} (index {}); registry `mine` is defined only by the commit's `.cargo/config.toml`",
            registry.api_url().as_str(),
            registry.index_url().as_str()
        ));
    assert_eq!(index_entries("own").len(), 1);
}

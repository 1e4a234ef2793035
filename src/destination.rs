//! Where the token goes, and who said so. Before any token is handed over, the settings that
//! decide where cargo sends the target registry's token — its index, its credential provider,
//! and for crates.io its source and the default registry — are read as cargo will read them
//! where it runs, each from the place that sets it: the commit's cargo config files (inside
//! the tree) or the environment (`CARGO_*` variables, config files above the tree,
//! `$CARGO_HOME/config.toml`). A commit may define a registry the environment does not (the
//! ordinary way to name an alternative registry); it may not redefine or redirect one the
//! environment defines: that stops the run (exit 2) naming the file, the key and both values.
//!
//! Cargo's rules, from its configuration reference (doc.rust-lang.org/cargo/reference/config.html,
//! "Hierarchical structure", "Environment variables", `[registries]`, `[registry]`, `[source]`):
//! config files are probed in the directory cargo runs in and every parent, then
//! `$CARGO_HOME/config.toml`; for strings the deeper file wins; `.cargo/config` is read before
//! (and, both present, instead of) `.cargo/config.toml`; a `CARGO_FOO_BAR` variable overrides
//! `foo.bar` in every file; a file's `include`d files (stable since cargo 1.94) are read with
//! it, under it. Reads files only; never runs cargo or talks to a registry.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::Env;
use crate::error::UsageError;
use crate::registry::Target;

/// What the check found: when the registry is defined by the commit alone, the file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Destination {
    pub(crate) commit_only: Option<PathBuf>,
}

/// One setting as cargo resolves it: its value, and the file that sets it (`None`: a variable).
struct Found {
    value: toml::Value,
    from: Option<PathBuf>,
}

/// Check that nothing inside `tree` (the files of the commit) moves where `target`'s token
/// goes, for cargo running in `dir` (inside `tree`) with `env` as its environment.
pub(crate) fn check(target: &Target, dir: &Path, tree: &Path, env: &Env) -> Result<Destination> {
    both_names(dir, tree)?;
    let (inside, outside) = config_files(dir, tree, env);
    let me = rustix::process::geteuid().as_raw();
    let home = home_config(env);
    for file in outside.iter().filter(|f| Some(*f) != home.as_ref()) {
        if let Some(why) = writable_by_another(file, me) {
            return Err(UsageError(format!(
                "cargo would read `{}` running in `{}`, and it is {why}: another user could \
                 choose where the token for {target} goes. Remove it, or set TMPDIR to a \
                 directory only you can write (the pristine copy is made there)",
                file.display(),
                dir.display()
            ))
            .into());
        }
    }
    let defined_by_environment = match target {
        Target::Named(name) => {
            let key = format!("registries.{name}.index");
            variable(&key, env).is_some() || lookup(&outside, &key).is_some()
        }
        // Built in to cargo, or named on its command line by shipcrate.
        Target::CratesIo | Target::Index(_) => true,
    };
    let mut commit_only = None;
    // A provider the environment names by an alias runs what the deepest file says it is.
    let aliases = alias_names(&outside).map(|alias| format!("credential-alias.{alias}"));
    for key in keys(target).into_iter().chain(aliases) {
        if variable(&key, env).is_some() {
            // The environment's variable overrides every file.
            continue;
        }
        let Some(commit) = lookup(&inside, &key) else {
            continue;
        };
        let file = commit.from.unwrap_or_default();
        let shown = file.strip_prefix(tree).unwrap_or(&file).to_path_buf();
        if !defined_by_environment {
            commit_only.get_or_insert(shown);
            continue;
        }
        let environment = lookup(&outside, &key);
        if environment
            .as_ref()
            .is_some_and(|e| e.value == commit.value)
        {
            continue;
        }
        let says = match environment {
            Some(Found {
                value,
                from: Some(from),
            }) => format!("the environment says {value} ({})", from.display()),
            _ => "the environment does not set it".to_owned(),
        };
        return Err(UsageError(format!(
            "the commit's cargo config would send the token for {target} elsewhere: `{}` \
             sets `{key}` = {}, but {says}. shipcrate stops rather than let a commit choose \
             where the token goes: remove `{key}` from the commit's cargo config, or set \
             `{}` in the environment to say where the token is for",
            shown.display(),
            commit.value,
            variable_name(&key),
        ))
        .into());
    }
    Ok(Destination { commit_only })
}

/// The settings that decide where `target`'s token goes.
fn keys(target: &Target) -> Vec<String> {
    let global = "registry.global-credential-providers".to_owned();
    match target {
        Target::Named(name) => vec![
            format!("registries.{name}.index"),
            format!("registries.{name}.credential-provider"),
            global,
        ],
        Target::Index(_) => vec![
            format!("registries.{}.credential-provider", Target::INDEX_NAME),
            global,
        ],
        Target::CratesIo => vec![
            "source.crates-io.replace-with".to_owned(),
            "registry.index".to_owned(),
            "registry.default".to_owned(),
            "registry.credential-provider".to_owned(),
            global,
        ],
    }
}

/// The config files cargo reads running in `dir`, deepest first: those inside `tree` (the
/// commit's), and the others (the environment's, `$CARGO_HOME/config.toml` last).
fn config_files(dir: &Path, tree: &Path, env: &Env) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for at in dir.ancestors() {
        if let Some(file) = file_in(&at.join(".cargo")) {
            if at.starts_with(tree) {
                inside.push(file);
            } else {
                outside.push(file);
            }
        }
    }
    if let Some(file) = home_config(env)
        && !outside.contains(&file)
        && !inside.contains(&file)
    {
        outside.push(file);
    }
    (inside, outside)
}

/// A `.cargo` directory cargo probes from `dir` holding both `config` and `config.toml` as
/// two files: cargo reads `config` alone, the index reader (tame-index) `config.toml` alone,
/// so the index shipcrate reads (with the token, when `auth-required`) could be another.
fn both_names(dir: &Path, tree: &Path) -> Result<()> {
    for at in dir.ancestors() {
        let (old, new) = (at.join(".cargo/config"), at.join(".cargo/config.toml"));
        if old.is_file()
            && new.is_file()
            && std::fs::canonicalize(&old).ok() != std::fs::canonicalize(&new).ok()
        {
            let shown = |p: &Path| p.strip_prefix(tree).unwrap_or(p).display().to_string();
            return Err(UsageError(format!(
                "both `{}` and `{}` exist: cargo reads the first and ignores the second, other \
                 tools read the second, so where the token goes would depend on who reads. \
                 Keep one of them (or make `config` a symlink to `config.toml`)",
                shown(&old),
                shown(&new)
            ))
            .into());
        }
    }
    Ok(())
}

/// `$CARGO_HOME`'s config file (`$HOME/.cargo` when unset), if there is one.
fn home_config(env: &Env) -> Option<PathBuf> {
    let home = env
        .get("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".cargo")))?;
    file_in(&home)
}

/// Why a config file cargo finds above the tree, or its `.cargo` directory, could be written
/// by a user other than `me`: owned by another (root aside), or writable by all (group-
/// writable is left alone: a umask of 0002 makes that of a user's own files).
/// Cargo reads such files without asking (a `/tmp/.cargo/config.toml` anyone may create).
fn writable_by_another(file: &Path, me: u32) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    for path in [file.parent()?, file] {
        let meta = std::fs::metadata(path).ok()?;
        if meta.uid() != me && meta.uid() != 0 {
            return Some(format!("owned by uid {}", meta.uid()));
        }
        if meta.mode() & 0o002 != 0 {
            return Some(format!(
                "writable by every user (mode {:o})",
                meta.mode() & 0o7777
            ));
        }
    }
    None
}

/// `config`, else `config.toml`, in a `.cargo` directory.
fn file_in(dir: &Path) -> Option<PathBuf> {
    ["config", "config.toml"]
        .iter()
        .map(|name| dir.join(name))
        .find(|file| file.is_file())
}

/// `key` (dotted) in the first of `files` that sets it. A file cargo cannot read either is
/// cargo's error to report, not a setting.
fn lookup(files: &[PathBuf], key: &str) -> Option<Found> {
    files.iter().find_map(|file| lookup_in(file, key, 0))
}

/// How deep `include`s are followed: cargo refuses a cycle; this bounds one.
const MAX_INCLUDE_DEPTH: usize = 16;

/// `key` in `file` or, where the file itself doesn't set it, in the files it `include`s —
/// the last first, each with its own includes (cargo's "Including extra configuration
/// files", stable since cargo 1.94: paths relative to the including file, which wins).
fn lookup_in(file: &Path, key: &str, depth: usize) -> Option<Found> {
    if depth > MAX_INCLUDE_DEPTH {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let mut parts = key.split('.');
    let own = parts.next().and_then(|first| {
        parts.try_fold(table.get(first)?, |value, part| value.as_table()?.get(part))
    });
    if let Some(value) = own {
        return Some(Found {
            value: value.clone(),
            from: Some(file.to_path_buf()),
        });
    }
    includes(&table, file)
        .iter()
        .rev()
        .find_map(|path| lookup_in(path, key, depth + 1))
}

/// The `[credential-alias]` names `files` (and the files they include) define.
fn alias_names(files: &[PathBuf]) -> impl Iterator<Item = String> {
    fn names(file: &Path, depth: usize, out: &mut std::collections::BTreeSet<String>) {
        let Some(table) = (depth <= MAX_INCLUDE_DEPTH)
            .then(|| std::fs::read_to_string(file).ok())
            .flatten()
            .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
        else {
            return;
        };
        if let Some(aliases) = table
            .get("credential-alias")
            .and_then(toml::Value::as_table)
        {
            out.extend(aliases.keys().cloned());
        }
        for path in includes(&table, file) {
            names(&path, depth + 1, out);
        }
    }
    let mut out = std::collections::BTreeSet::new();
    for file in files {
        names(file, 0, &mut out);
    }
    out.into_iter()
}

/// The files `table`, read from `file`, includes, in order (relative to `file`'s directory).
fn includes(table: &toml::Table, file: &Path) -> Vec<PathBuf> {
    let dir = file.parent().unwrap_or(Path::new(""));
    let entries: Vec<PathBuf> = match table.get("include") {
        Some(toml::Value::Array(items)) => items.iter().filter_map(include_path).collect(),
        Some(one) => include_path(one).into_iter().collect(),
        None => Vec::new(),
    };
    entries.iter().map(|path| dir.join(path)).collect()
}

/// An `include` entry: a path, or a table with a `path`.
fn include_path(item: &toml::Value) -> Option<PathBuf> {
    match item {
        toml::Value::String(path) => Some(PathBuf::from(path)),
        toml::Value::Table(table) => table.get("path")?.as_str().map(PathBuf::from),
        _ => None,
    }
}

/// The environment variable cargo reads for `key`: `CARGO_` and the key upper-cased, `.` and
/// `-` as `_`.
fn variable_name(key: &str) -> String {
    format!(
        "CARGO_{}",
        key.to_ascii_uppercase().replace(['.', '-'], "_")
    )
}

fn variable(key: &str, env: &Env) -> Option<Found> {
    env.get(&variable_name(key))
        .filter(|v| !v.is_empty())
        .map(|v| Found {
            value: toml::Value::String(v.clone()),
            from: None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_env as env;

    /// A checkout at `<tmp>/work/repo` with `commit` as its `.cargo/config.toml`, a
    /// `CARGO_HOME` with `home` as its config.
    fn layout(commit: Option<&str>, home: &str) -> (tempfile::TempDir, PathBuf, Env) {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("work/repo");
        std::fs::create_dir_all(repo.join(".cargo")).unwrap();
        if let Some(commit) = commit {
            std::fs::write(repo.join(".cargo/config.toml"), commit).unwrap();
        }
        let home_dir = tmp.path().join("cargo-home");
        std::fs::create_dir_all(&home_dir).unwrap();
        std::fs::write(home_dir.join("config.toml"), home).unwrap();
        let vars = env(&[("CARGO_HOME", home_dir.to_str().unwrap())]);
        (tmp, repo, vars)
    }

    const HOME: &str = "[registries.corp]\nindex = \"sparse+https://corp.example/index/\"\n";

    fn named(name: &str) -> Target {
        Target::Named(name.into())
    }

    #[test]
    fn the_commit_may_not_redirect_a_registry_the_environment_defines() {
        let (_tmp, repo, vars) = layout(
            Some("[registries.corp]\nindex = \"sparse+https://evil.example/index/\"\n"),
            HOME,
        );
        let error = check(&named("corp"), &repo, &repo, &vars).unwrap_err();
        assert!(error.is::<UsageError>());
        let text = error.to_string();
        for part in [
            "`.cargo/config.toml` sets `registries.corp.index`",
            "\"sparse+https://evil.example/index/\"",
            "the environment says \"sparse+https://corp.example/index/\"",
            "cargo-home/config.toml",
            "CARGO_REGISTRIES_CORP_INDEX",
        ] {
            assert!(text.contains(part), "{part:?} not in {text}");
        }
    }

    #[test]
    fn the_same_index_a_variable_or_a_registry_of_its_own_is_allowed() {
        let same = "[registries.corp]\nindex = \"sparse+https://corp.example/index/\"\n";
        let (_tmp, repo, vars) = layout(Some(same), HOME);
        assert_eq!(
            check(&named("corp"), &repo, &repo, &vars).unwrap(),
            Destination { commit_only: None }
        );
        // A variable overrides the commit's file: cargo never reads it.
        let evil = "[registries.corp]\nindex = \"sparse+https://evil.example/index/\"\n";
        let (_tmp, repo, mut vars) = layout(Some(evil), HOME);
        vars.insert(
            "CARGO_REGISTRIES_CORP_INDEX".into(),
            "sparse+https://corp.example/index/".into(),
        );
        assert!(check(&named("corp"), &repo, &repo, &vars).is_ok());
        // Defined by the commit alone: allowed, and said.
        let own = "[registries.mine]\nindex = \"sparse+https://mine.example/index/\"\n";
        let (_tmp, repo, vars) = layout(Some(own), HOME);
        assert_eq!(
            check(&named("mine"), &repo, &repo, &vars).unwrap(),
            Destination {
                commit_only: Some(PathBuf::from(".cargo/config.toml"))
            }
        );
    }

    #[test]
    fn a_credential_provider_or_crates_ios_source_set_by_the_commit_stops_the_run() {
        for (target, commit, key) in [
            (
                named("corp"),
                "[registries.corp]\ncredential-provider = [\"./steal\"]\n",
                "registries.corp.credential-provider",
            ),
            (
                named("corp"),
                "[registry]\nglobal-credential-providers = [\"./steal\"]\n",
                "registry.global-credential-providers",
            ),
            (
                Target::CratesIo,
                "[source.crates-io]\nreplace-with = \"evil\"\n",
                "source.crates-io.replace-with",
            ),
            (
                Target::CratesIo,
                "[registry]\nindex = \"https://evil.example/index\"\n",
                "registry.index",
            ),
            (
                Target::CratesIo,
                "[registry]\ndefault = \"evil\"\n",
                "registry.default",
            ),
            (
                Target::Index("sparse+https://x.example/".into()),
                "[registries.shipcrate]\ncredential-provider = [\"./steal\"]\n",
                "registries.shipcrate.credential-provider",
            ),
        ] {
            let (_tmp, repo, vars) = layout(Some(commit), HOME);
            let error = check(&target, &repo, &repo, &vars).unwrap_err().to_string();
            assert!(
                error.contains(&format!("sets `{key}`")) && error.contains("does not set it"),
                "{error}"
            );
        }
    }

    #[test]
    fn the_commit_may_not_redefine_a_credential_alias_the_environment_defines() {
        // cargo 1.95 runs the commit's program for `credential-provider = "corpauth"` when the
        // commit's config defines `[credential-alias] corpauth` too (the deeper file wins).
        let home = format!(
            "{HOME}credential-provider = \"corpauth\"\n[credential-alias]\ncorpauth = [\"/usr/bin/corp-auth\"]\n"
        );
        let (_tmp, repo, vars) = layout(
            Some("[credential-alias]\ncorpauth = [\"./steal\"]\n"),
            &home,
        );
        let error = check(&named("corp"), &repo, &repo, &vars)
            .unwrap_err()
            .to_string();
        for part in [
            "`.cargo/config.toml` sets `credential-alias.corpauth` = [\"./steal\"]",
            "the environment says [\"/usr/bin/corp-auth\"]",
            "CARGO_CREDENTIAL_ALIAS_CORPAUTH",
        ] {
            assert!(error.contains(part), "{part:?} not in {error}");
        }
        // The same alias, or one the environment doesn't define, changes nothing it chose.
        let (_tmp, repo, vars) = layout(
            Some("[credential-alias]\ncorpauth = [\"/usr/bin/corp-auth\"]\nmine = [\"x\"]\n"),
            &home,
        );
        assert!(check(&named("corp"), &repo, &repo, &vars).is_ok());
    }

    #[test]
    fn a_config_file_above_the_tree_another_user_can_write_stops_the_run() {
        use std::os::unix::fs::PermissionsExt;
        // The copy lives in `/tmp` or `/dev/shm`, where any user may create `.cargo/`: cargo
        // would read it in the copy, and it would choose where the token goes.
        let (tmp, repo, vars) = layout(None, HOME);
        let above = tmp.path().join("work/.cargo");
        std::fs::create_dir_all(&above).unwrap();
        std::fs::write(above.join("config.toml"), HOME).unwrap();
        assert!(check(&named("corp"), &repo, &repo, &vars).is_ok());
        std::fs::set_permissions(above.join("config.toml"), PermissionsExt::from_mode(0o666))
            .unwrap();
        let error = check(&named("corp"), &repo, &repo, &vars).unwrap_err();
        assert!(error.is::<UsageError>());
        let text = error.to_string();
        for part in [
            "work/.cargo/config.toml",
            "writable by every user",
            "TMPDIR",
        ] {
            assert!(text.contains(part), "{part:?} not in {text}");
        }
        std::fs::set_permissions(above.join("config.toml"), PermissionsExt::from_mode(0o644))
            .unwrap();
        std::fs::set_permissions(&above, PermissionsExt::from_mode(0o777)).unwrap();
        assert!(check(&named("corp"), &repo, &repo, &vars).is_err());
        std::fs::set_permissions(&above, PermissionsExt::from_mode(0o755)).unwrap();
        // Owned by another user (root may give it away; others judge their own as another's).
        let me = rustix::process::geteuid().as_raw();
        let judged_by = if me == 0 {
            let nobody = Some(rustix::fs::Uid::from_raw(65534));
            rustix::fs::chown(above.join("config.toml"), nobody, None).unwrap();
            0
        } else {
            me + 1
        };
        let why = writable_by_another(&above.join("config.toml"), judged_by).unwrap();
        assert!(why.starts_with("owned by uid "), "{why}");
    }

    #[test]
    fn a_config_beside_a_config_toml_stops_the_run_unless_one_links_the_other() {
        // Cargo reads `.cargo/config` and ignores `config.toml` beside it; tame-index (which
        // finds the index shipcrate reads, with the token for `auth-required` registries)
        // reads `config.toml` alone: a commit holding both could send shipcrate's read there.
        let (_tmp, repo, vars) = layout(Some(HOME), HOME);
        std::fs::write(
            repo.join(".cargo/config"),
            "[registries.corp]\nindex = \"sparse+https://corp.example/index/\"\n",
        )
        .unwrap();
        std::fs::write(
            repo.join(".cargo/config.toml"),
            "[registries.corp]\nindex = \"sparse+https://evil.example/index/\"\n",
        )
        .unwrap();
        let error = check(&named("corp"), &repo, &repo, &vars).unwrap_err();
        assert!(error.is::<UsageError>());
        let text = error.to_string();
        for part in ["`.cargo/config`", "`.cargo/config.toml`", "Keep one"] {
            assert!(text.contains(part), "{part:?} not in {text}");
        }
        // The old name kept as a link to the new one, for old cargos: one file.
        std::fs::remove_file(repo.join(".cargo/config")).unwrap();
        std::fs::write(repo.join(".cargo/config.toml"), HOME).unwrap();
        std::os::unix::fs::symlink("config.toml", repo.join(".cargo/config")).unwrap();
        assert!(check(&named("corp"), &repo, &repo, &vars).is_ok());
    }

    #[test]
    fn a_file_the_commits_config_includes_is_the_commits() {
        // Cargo 1.94 made `include` stable: cargo 1.95 here sends `cargo search --registry
        // corp` to the included file's index, not `$CARGO_HOME`'s. The file's own keys win
        // over its includes; of the includes, the last.
        for (config, evil) in [
            ("include = [\"evil.toml\"]\n", ".cargo/evil.toml"),
            (
                "include = [{ path = \"sub/evil.toml\" }]\n",
                ".cargo/sub/evil.toml",
            ),
            ("include = [\"a.toml\"]\n", ".cargo/sub/evil.toml"),
        ] {
            let (_tmp, repo, vars) = layout(Some(config), HOME);
            std::fs::create_dir_all(repo.join(".cargo/sub")).unwrap();
            std::fs::write(
                repo.join(".cargo/a.toml"),
                "include = [\"sub/evil.toml\"]\n",
            )
            .unwrap();
            std::fs::write(
                repo.join(evil),
                "[registries.corp]\nindex = \"sparse+https://evil.example/index/\"\n",
            )
            .unwrap();
            let error = check(&named("corp"), &repo, &repo, &vars)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(&format!("`{evil}` sets `registries.corp.index`")),
                "{error}"
            );
        }
        let (_tmp, repo, vars) = layout(
            Some(
                "include = [\"evil.toml\"]\n[registries.corp]\nindex = \"sparse+https://corp.example/index/\"\n",
            ),
            HOME,
        );
        std::fs::write(
            repo.join(".cargo/evil.toml"),
            "[registries.corp]\nindex = \"sparse+https://evil.example/index/\"\n",
        )
        .unwrap();
        assert!(check(&named("corp"), &repo, &repo, &vars).is_ok());
    }

    #[test]
    fn files_above_the_tree_are_the_environments_and_the_deeper_commit_file_wins() {
        let (tmp, repo, vars) = layout(None, "");
        // Above the tree: the environment's (a CI's work dir).
        std::fs::create_dir_all(tmp.path().join("work/.cargo")).unwrap();
        std::fs::write(tmp.path().join("work/.cargo/config.toml"), HOME).unwrap();
        // In the tree, a crate's dir below the root: the deeper file wins.
        let member = repo.join("member");
        std::fs::create_dir_all(member.join(".cargo")).unwrap();
        std::fs::write(
            repo.join(".cargo/config.toml"),
            "[registries.corp]\nindex = \"sparse+https://corp.example/index/\"\n",
        )
        .unwrap();
        std::fs::write(
            member.join(".cargo/config"),
            "[registries.corp]\nindex = \"sparse+https://evil.example/index/\"\n",
        )
        .unwrap();
        let error = check(&named("corp"), &member, &repo, &vars)
            .unwrap_err()
            .to_string();
        assert!(error.contains("`member/.cargo/config` sets"), "{error}");
        assert!(error.contains("work/.cargo/config.toml"), "{error}");
        assert!(check(&named("corp"), &repo, &repo, &vars).is_ok());
    }
}

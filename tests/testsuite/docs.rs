//! The README's option table and `action.yml`'s inputs cover every key shipcrate reads.

use shipcrate::config::{KEYS, input_name};

#[test]
fn readme_and_action_list_every_key() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    for (key, _, _) in KEYS {
        let input = input_name(key);
        assert!(
            readme.contains(&format!("| `{key}` | `{input}` |")),
            "README lacks a row for `{key}`"
        );
        assert!(
            action.contains(&format!("\n  {input}:\n    description:")),
            "action.yml lacks input `{input}`"
        );
    }
    for input in action
        .lines()
        .filter_map(|l| l.strip_prefix("  ").and_then(|l| l.strip_suffix(':')))
    {
        if !input.starts_with(' ')
            && input != "config"
            && ![
                "published",
                "skipped",
                "not-published",
                "decision",
                "skip-reason",
                "dry-run",
                "checksums",
            ]
            .contains(&input)
        {
            assert!(
                KEYS.iter().any(|(k, _, _)| input_name(k) == input),
                "action.yml input `{input}` is no key"
            );
        }
    }
}

#[test]
fn readme_shows_the_validated_examples_and_the_dev_action_matches() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let readme = read("README.md");
    for example in [
        "examples/github-publish.yml",
        "examples/github-attest.yml",
        "examples/gitlab-ci.yml",
    ] {
        assert!(
            readme.contains(&read(example)),
            "README does not show {example} as it is"
        );
    }
    let inputs_and_outputs = |text: &str| -> String {
        let start = text.find("inputs:").unwrap();
        let end = text.find("runs:").unwrap();
        text[start..end].to_owned()
    };
    assert_eq!(
        inputs_and_outputs(&read(".github/actions/shipcrate-dev/action.yml")),
        inputs_and_outputs(&read("action.yml")),
        "the development action's inputs or outputs differ from action.yml's"
    );
}

/// CI runs the README's full-suite command, and the README names every test a plain
/// `cargo test` ignores, with what it needs.
#[test]
fn readme_gives_cis_test_command_and_every_ignored_test() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let full = "cargo test --locked -- --include-ignored";
    assert!(
        readme.contains(&format!("\n{full} ")),
        "README lacks `{full}`"
    );
    assert!(
        ci.lines().any(|l| l.trim() == full),
        ".ci/run does not run `{full}`"
    );
    let suite = root.join("tests/testsuite");
    for entry in walkdir::WalkDir::new(&suite) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        // `support/http.rs` is module `support::http`; `support/mod.rs` is `support`.
        let module = path
            .strip_prefix(&suite)
            .unwrap()
            .with_extension("")
            .to_string_lossy()
            .trim_end_matches("/mod")
            .replace('/', "::");
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let Some(reason) = line.trim().strip_prefix("#[ignore = \"") else {
                continue;
            };
            assert!(reason.starts_with("needs "), "{module}: {line}");
            let name = lines
                .find_map(|l| l.trim().strip_prefix("fn "))
                .and_then(|l| l.split('(').next())
                .unwrap();
            assert!(
                readme.contains(&format!("`{module}::*`"))
                    || readme.contains(&format!("`{module}::{name}`")),
                "README's development section doesn't name {module}::{name} ({reason})"
            );
        }
    }
}

/// `cargo binstall shipcrate` looks for the archives the release workflow attaches: the
/// names Cargo.toml's binstall metadata spells are the ones the workflow makes, for both
/// targets.
#[test]
fn binstall_finds_the_release_archives() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let package = manifest["package"].as_table().unwrap();
    let binstall = package["metadata"]["binstall"].as_table().unwrap();
    let render = |key: &str, target: &str| {
        binstall[key]
            .as_str()
            .unwrap()
            .replace("{ repo }", package["repository"].as_str().unwrap())
            .replace("{ name }", "shipcrate")
            .replace("{ bin }", "shipcrate")
            .replace("{ version }", "1.2.3")
            .replace("{ target }", target)
            .replace("{ archive-suffix }", ".tgz")
            .replace("{ binary-ext }", "")
    };
    assert_eq!(binstall["pkg-fmt"].as_str(), Some("tgz"));
    let workflow = std::fs::read_to_string(root.join(".github/workflows/release.yml")).unwrap();
    // What the workflow makes, with GITHUB_REF_NAME = v1.2.3.
    assert!(workflow.contains(r#"name="shipcrate-$TARGET-$GITHUB_REF_NAME""#));
    assert!(workflow.contains(r#"tar -C dist -czf "dist/$name.tgz" "$name""#));
    assert!(workflow.contains(r#"cp "target/$TARGET/release/shipcrate""#));
    assert!(workflow.contains("./*.tgz ./*.tgz.sha256 SHA256SUMS"));
    for target in ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"] {
        assert!(
            workflow.contains(&format!("- target: {target}\n")),
            "the release workflow builds no {target}"
        );
        let archive = format!("shipcrate-{target}-v1.2.3");
        assert_eq!(
            render("pkg-url", target),
            format!(
                "https://github.com/shipcrate/shipcrate/releases/download/v1.2.3/{archive}.tgz"
            )
        );
        assert_eq!(render("bin-dir", target), format!("{archive}/shipcrate"));
    }
}

/// One description per key, said alike everywhere: `action.yml`'s input is the key table's
/// text (which `--help` is built from) without Markdown's backticks, lists saying "one per
/// line"; the README's row starts with it (and may go on).
#[test]
fn action_readme_and_help_describe_each_key_alike() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let action = &yaml_rust2::YamlLoader::load_from_str(&action).unwrap()[0];
    for (key, kind, help) in KEYS.iter().filter(|(k, _, _)| *k != "token") {
        let input = input_name(key);
        let list = if *kind == shipcrate::config::Kind::List {
            " (one per line)"
        } else {
            ""
        };
        assert_eq!(
            action["inputs"][input.as_str()]["description"].as_str(),
            Some(format!("{}{list}", help.replace('`', "")).as_str()),
            "action.yml's `{input}` is not described as the key table (and --help) describe `{key}`"
        );
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{key}` | `{input}` |")))
            .unwrap_or_else(|| panic!("README lacks a row for `{key}`"));
        let meaning = row.trim_end_matches('|').rsplit(" | ").next().unwrap();
        assert!(
            meaning.starts_with(help),
            "README's `{key}` says {meaning:?}; the key table (and --help) say {help:?}"
        );
    }
}

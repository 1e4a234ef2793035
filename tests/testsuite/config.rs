//! Bad configuration: exit 2, the key and its source named, nothing published.

use cargo_test_support::prelude::*;
use cargo_test_support::str;

use crate::support::*;

#[cargo_test]
fn bad_config_exits_2_naming_key_and_source() {
    let _registry = registry();
    let repo = Repo::with_crate("badconfig", "0.1.0");
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "SHIPCRATE_DRY_RUNN",
            "true",
            &[
                "unknown key `dry_runn`",
                "SHIPCRATE_DRY_RUNN",
                "did you mean `SHIPCRATE_DRY_RUN`?",
            ],
        ),
        (
            "SHIPCRATE_ON__TAGS",
            "maybe",
            &["`on.tags`", "SHIPCRATE_ON__TAGS", "maybe"],
        ),
        (
            "INPUT_ALLOW-DIRTYY",
            "true",
            &["unknown input `allow-dirtyy`", "did you mean `allow-dirty`"],
        ),
        (
            "SHIPCRATE_CONFIG",
            "missing.yml",
            &["missing.yml", "does not exist"],
        ),
    ];
    for (var, value, needles) in cases {
        let mut out = repo
            .shipcrate()
            .registry_target()
            .env(var, value)
            .run()
            .code(2);
        for needle in *needles {
            out = out.stderr_has(needle);
        }
    }
    assert!(index_entries("badconfig").is_empty());
}

#[cargo_test]
fn bad_yaml_and_unknown_file_keys_exit_2() {
    let _registry = registry();
    let repo = Repo::with_crate("badyaml", "0.1.0")
        .file(".shipcrate.yml", "on:\n  tag: true\n")
        .commit("typo");
    repo.shipcrate()
        .registry_target()
        .run()
        .code(2)
        .stderr_eq(str![[r#"
[ERROR] unknown key `on.tag` in [ROOT]/repo/.shipcrate.yml; did you mean `on.tags`?

"#]]);
    let repo = repo.file(".shipcrate.yml", "on: [unclosed\n");
    repo.shipcrate()
        .registry_target()
        .run()
        .code(2)
        .stderr_eq(str![[r#"
[ERROR] cannot read the configuration in [ROOT]/repo/.shipcrate.yml: bad configuration: did not find expected ',' or ']' at line 2 column 1, while parsing a flow sequence at line 1 column 5

"#]]);
    repo.shipcrate()
        .registry_target()
        .arg("--on-tags=sometimes")
        .run()
        .code(2)
        .stderr_eq(str![[r#"
[ERROR] cannot read the configuration in [ROOT]/repo/.shipcrate.yml: bad configuration: did not find expected ',' or ']' at line 2 column 1, while parsing a flow sequence at line 1 column 5

"#]]);
    assert!(index_entries("badyaml").is_empty());
}

#[cargo_test]
fn unknown_flags_are_usage_errors() {
    let repo = Repo::with_crate("flags", "0.1.0");
    repo.shipcrate()
        .arg("--dry-runn")
        .run()
        .code(2)
        .stderr_eq(str![[r#"
[ERROR] unexpected argument '--dry-runn' found

  tip: a similar argument exists: '--dry-run'

Usage: shipcrate --dry-run[=<BOOL>]

For more information, try '--help'.

"#]]);
}

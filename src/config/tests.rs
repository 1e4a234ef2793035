//! Unit tests for config: merging, sources, validation and the values `explain` shows.

use super::*;

use super::in_force::in_force;
use crate::test_env as env;

#[allow(
    clippy::needless_pass_by_value,
    reason = "tests build the flags in place"
)]
fn load_with(yaml: Option<&str>, env_pairs: &[(&str, &str)], flags: Flags) -> Result<Config> {
    let dir = tempfile::tempdir().unwrap();
    if let Some(yaml) = yaml {
        std::fs::write(dir.path().join(".shipcrate.yml"), yaml).unwrap();
    }
    load(dir.path(), &env(env_pairs), &flags)
}

#[test]
fn every_key_shows_the_value_in_force() {
    let cfg = load_with(None, &[], Flags::default()).unwrap();
    for (key, _, _) in KEYS {
        assert!(
            in_force(&cfg, key, false).is_some(),
            "`{key}` has no line in config::in_force"
        );
    }
    let shown = |k: &str| cfg.sources.iter().find(|s| s.0 == k).unwrap().1.clone();
    assert_eq!(shown("index_timeout"), "5m");
    assert_eq!(shown("max_wait"), "15m");
    assert_eq!(shown("trusted_publishing_ttl"), "30m");
    assert_eq!(shown("max_retries"), "5");
    assert_eq!(shown("check_tag"), "true");
    let cfg = load_with(
        Some("max_wait: 90\non:\n  branch: [main, next]\n"),
        &[("SHIPCRATE_INDEX_TIMEOUT", "2h")],
        Flags::default(),
    )
    .unwrap();
    let shown = |k: &str| cfg.sources.iter().find(|s| s.0 == k).unwrap().1.clone();
    assert_eq!(shown("max_wait"), "1m 30s");
    assert_eq!(shown("index_timeout"), "2h");
    assert_eq!(shown("on.branch"), "[main, next]");
}

fn err(result: Result<Config>) -> String {
    let e = result.unwrap_err();
    assert!(e.is::<UsageError>(), "not a usage error: {e:#}");
    e.to_string()
}

#[test]
fn layers_override_in_order() {
    let yaml = "dry_run: false\nregistry: from-file\nlocked: true\n";
    let cfg = load_with(
        Some(yaml),
        &[
            ("SHIPCRATE_DRY_RUN", "true"),
            ("SHIPCRATE_REGISTRY", "from-env"),
            ("INPUT_REGISTRY", "from-input"),
        ],
        Flags {
            config: None,
            values: vec![("registry", "from-flag".into())],
        },
    )
    .unwrap();
    assert!(cfg.dry_run);
    assert!(cfg.locked);
    assert_eq!(cfg.target, Target::Named("from-flag".into()));
    let origin = |k: &str| cfg.sources.iter().find(|s| s.0 == k).unwrap().2.to_string();
    assert_eq!(origin("dry_run"), "env `SHIPCRATE_DRY_RUN`");
    assert_eq!(origin("locked"), ".shipcrate.yml: locked");
    assert_eq!(origin("registry"), "flag `--registry`");
    assert_eq!(origin("no_verify"), "default");
}

#[test]
fn empty_values_mean_unset() {
    let cfg = load_with(
        Some("registry: from-file\n"),
        &[
            ("INPUT_REGISTRY", ""),
            ("SHIPCRATE_REGISTRY", ""),
            ("INPUT_DRY-RUN", ""),
        ],
        Flags::default(),
    )
    .unwrap();
    assert_eq!(cfg.target, Target::Named("from-file".into()));
    assert!(!cfg.dry_run);
}

#[test]
fn booleans_accept_what_users_write() {
    for (value, want) in [
        ("true", true),
        ("1", true),
        ("yes", true),
        ("false", false),
        ("0", false),
    ] {
        let cfg = load_with(None, &[("SHIPCRATE_ON__TAGS", value)], Flags::default()).unwrap();
        assert_eq!(cfg.on.tags, Some(want), "{value}");
    }
    let cfg = load_with(
        Some("on:\n  tags: \"true\"\nallow_dirty: 1\n"),
        &[],
        Flags::default(),
    )
    .unwrap();
    assert_eq!(cfg.on.tags, Some(true));
    assert!(cfg.allow_dirty);
}

#[test]
fn one_boolean_reader_for_env_inputs_and_flags() {
    for (value, want) in [("ON", true), ("Yes", true), ("off", false), ("0", false)] {
        let from_env = load_with(None, &[("SHIPCRATE_DRY_RUN", value)], Flags::default());
        let from_input = load_with(None, &[("INPUT_DRY-RUN", value)], Flags::default());
        let flags = Flags {
            values: vec![("dry_run", value.to_owned())],
            ..Flags::default()
        };
        let from_flag = load_with(None, &[], flags);
        let read = [from_env, from_input, from_flag].map(|cfg| cfg.unwrap().dry_run);
        assert_eq!(read, [want; 3], "{value}");
        // `travis`, looked up before the layers merge, is read by the same rule.
        let asked = travis_asked(&env(&[("SHIPCRATE_TRAVIS", value)]), &Flags::default());
        assert_eq!(asked, want, "travis: {value}");
    }
    // YAML 1.1's `y` is `.travis.yml`'s boolean, not the environment's.
    let error = err(load_with(
        None,
        &[("SHIPCRATE_DRY_RUN", "y")],
        Flags::default(),
    ));
    assert!(error.contains("dry_run"), "{error}");
    assert!(!travis_asked(
        &env(&[("SHIPCRATE_TRAVIS", "y")]),
        &Flags::default()
    ));
}

#[test]
fn lists_from_yaml_string_yaml_list_and_input_lines() {
    let cfg = load_with(
        Some("before_deploy: echo one\nafter_deploy: [a, b]\non:\n  branch: main\n"),
        &[("INPUT_ON-CONDITION", "test -f x\n\n  test -f y  \n")],
        Flags::default(),
    )
    .unwrap();
    assert_eq!(cfg.before_deploy, ["echo one"]);
    assert_eq!(cfg.after_deploy, ["a", "b"]);
    assert_eq!(cfg.on.branch, ["main"]);
    assert_eq!(cfg.on.condition, ["test -f x", "test -f y"]);
}

#[test]
fn unknown_keys_name_source_and_suggestion() {
    let e = err(load_with(Some("alow_dirty: true\n"), &[], Flags::default()));
    assert!(
        e.contains("unknown key `alow_dirty`") && e.contains(".shipcrate.yml"),
        "{e}"
    );
    assert!(e.contains("did you mean `allow_dirty`"), "{e}");

    let e = err(load_with(Some("on:\n  tag: true\n"), &[], Flags::default()));
    assert!(
        e.contains("`on.tag`") && e.contains("did you mean `on.tags`"),
        "{e}"
    );

    let e = err(load_with(
        None,
        &[("SHIPCRATE_DRYRUN", "1")],
        Flags::default(),
    ));
    assert!(
        e.contains("`SHIPCRATE_DRYRUN`") && e.contains("did you mean `SHIPCRATE_DRY_RUN`?"),
        "{e}"
    );
    // The variable, not the key: `SHIPCRATE_ON_TAGS` reads as key `on_tags`.
    let e = err(load_with(
        None,
        &[("SHIPCRATE_ON_TAGS", "true")],
        Flags::default(),
    ));
    assert!(e.ends_with("did you mean `SHIPCRATE_ON__TAGS`?"), "{e}");

    let e = err(load_with(
        None,
        &[("INPUT_ALLOW_DIRTY", "true")],
        Flags::default(),
    ));
    assert!(
        e.contains("`INPUT_ALLOW_DIRTY`") && e.contains("`allow-dirty`"),
        "{e}"
    );
}

#[test]
fn bad_types_name_key_and_source() {
    let e = err(load_with(
        None,
        &[("SHIPCRATE_ON__TAGS", "sometimes")],
        Flags::default(),
    ));
    assert!(
        e.contains("`on.tags`") && e.contains("SHIPCRATE_ON__TAGS") && e.contains("sometimes"),
        "{e}"
    );

    let e = err(load_with(Some("dry_run: [1, 2]\n"), &[], Flags::default()));
    assert!(
        e.contains("`dry_run`") && e.contains(".shipcrate.yml"),
        "{e}"
    );

    let e = err(load_with(Some("on: true\n"), &[], Flags::default()));
    assert!(e.contains("`on`") && e.contains("map"), "{e}");
}

#[test]
fn token_type_errors_do_not_echo_the_value() {
    let e = err(load_with(
        Some("token:\n  secret: hunter2hunter2\n"),
        &[],
        Flags::default(),
    ));
    assert!(e.contains("`token`") && !e.contains("hunter2"), "{e}");
}

#[test]
fn broken_yaml_is_a_usage_error_naming_the_file() {
    let e = err(load_with(Some("on: [unclosed\n"), &[], Flags::default()));
    assert!(e.contains(".shipcrate.yml"), "{e}");
}

#[test]
fn registry_and_index_conflict() {
    let e = err(load_with(
        None,
        &[
            ("SHIPCRATE_REGISTRY", "a"),
            ("SHIPCRATE_INDEX", "sparse+http://x/"),
        ],
        Flags::default(),
    ));
    assert!(e.contains("`registry`") && e.contains("`index`"), "{e}");
}

#[test]
fn token_origin_is_shown_not_its_value() {
    let cfg = load_with(None, &[("INPUT_TOKEN", "abc-secret")], Flags::default()).unwrap();
    let row = cfg.sources.iter().find(|s| s.0 == "token").unwrap();
    assert_eq!(row.1, "***");
    assert_eq!(row.2.to_string(), "input `token`");
}

#[test]
fn publishing_limits_parse_and_are_checked() {
    let cfg = load_with(
        Some("max_retries: 2\nindex_timeout: 90\nmax_wait: 2m\n"),
        &[],
        Flags::default(),
    )
    .unwrap();
    assert_eq!(cfg.max_retries, 2);
    assert_eq!(cfg.index_timeout, Duration::from_secs(90));
    assert_eq!(cfg.max_wait, Duration::from_mins(2));
    assert_eq!(cfg.checksum_mismatch, Mismatch::Warn);
    assert!(cfg.check_tag);
    let cfg = load_with(Some("checksum_mismatch: fail\n"), &[], Flags::default()).unwrap();
    assert_eq!(cfg.checksum_mismatch, Mismatch::Fail);
    let e = err(load_with(
        None,
        &[("SHIPCRATE_INDEX_TIMEOUT", "soon")],
        Flags::default(),
    ));
    assert!(
        e.contains("`index_timeout`") && e.contains("SHIPCRATE_INDEX_TIMEOUT"),
        "{e}"
    );
    let e = err(load_with(
        None,
        &[("SHIPCRATE_CHECKSUM_MISMATCH", "ignore")],
        Flags::default(),
    ));
    assert!(e.contains("`warn` or `fail`"), "{e}");
}

#[test]
fn each_rule_says_what_its_key_takes() {
    let e = |yaml: &str| err(load_with(Some(yaml), &[], Flags::default()));
    assert_eq!(
        e("checksum_mismatch: ignore\n"),
        "`checksum_mismatch` (.shipcrate.yml: checksum_mismatch) is `ignore`; it takes `warn` \
         or `fail`"
    );
    assert_eq!(
        e("trusted_publishing: maybe\n"),
        "`trusted_publishing` (.shipcrate.yml: trusted_publishing) is `maybe`; it takes \
         `auto`, `always` or `never`"
    );
    assert_eq!(
        e("max_retries: many\n"),
        "`max_retries` (.shipcrate.yml: max_retries) is `many`; it takes a whole number"
    );
    assert_eq!(
        e("max_wait: later\n"),
        "`max_wait` (.shipcrate.yml: max_wait) is `later`; it takes seconds, or a duration \
         like `90s`, `5m` or `1h 30m`"
    );
    for (ttl, secs) in [("31m", 1860), ("0", 0)] {
        assert_eq!(
            e(&format!("trusted_publishing_ttl: {ttl}\n")),
            format!(
                "`trusted_publishing_ttl` (.shipcrate.yml: trusted_publishing_ttl) is {secs}s; \
                 trusted-publishing tokens live at most 30 minutes, so it takes a duration from \
                 `1s` to `30m`"
            )
        );
    }
    let cfg = load_with(
        Some("trusted_publishing: never\ntrusted_publishing_ttl: 30m\n"),
        &[],
        Flags::default(),
    )
    .unwrap();
    assert_eq!(cfg.trusted.mode, TrustedMode::Never);
    assert_eq!(cfg.trusted.ttl, Duration::from_mins(30));
    let cfg = load_with(None, &[], Flags::default()).unwrap();
    assert_eq!(cfg.trusted.mode, TrustedMode::Auto);
    assert_eq!(cfg.trusted.ttl, Duration::from_mins(30));
    assert_eq!(cfg.max_retries, 5);
    assert_eq!(cfg.max_wait, Duration::from_mins(15));
    assert_eq!(cfg.index_timeout, Duration::from_mins(5));
}

#[test]
fn input_names_follow_keys() {
    assert_eq!(input_name("on.all_branches"), "on-all-branches");
    assert_eq!(input_name("before_deploy"), "before-deploy");
}

#[test]
fn deadline_is_unset_or_a_duration_from_the_runs_start() {
    assert_eq!(
        load_with(None, &[], Flags::default()).unwrap().deadline,
        None
    );
    let cfg = load_with(None, &[("SHIPCRATE_DEADLINE", "5h50m")], Flags::default()).unwrap();
    assert_eq!(cfg.deadline, Some(Duration::from_mins(350)));
    assert_eq!(cfg.retry_policy().deadline, Some(Duration::from_mins(350)));
    let zero = err(load_with(Some("deadline: 0\n"), &[], Flags::default()));
    assert_eq!(
        zero,
        "`deadline` (.shipcrate.yml: deadline) is `0`; it takes a duration from the run's \
         start, e.g. `5h50m` (unset: no deadline)"
    );
}

/// `e` has a line for each of `starts`, beginning with it, and no other.
#[track_caller]
fn each_line_starts(e: &str, starts: &[&str]) {
    let lines: Vec<&str> = e.lines().collect();
    for start in starts {
        assert!(
            lines.iter().any(|l| l.starts_with(start)),
            "{start:?} not in\n{e}"
        );
    }
    assert_eq!(lines.len(), starts.len(), "{e}");
}

#[test]
fn every_unknown_key_and_wrong_type_is_reported_at_once() {
    let e = err(load_with(
        Some("registr: x\nfeatures: {a: 1}\ndry_run: maybe\n"),
        &[
            ("SHIPCRATE_ON_TAGS", "true"),
            ("SHIPCRATE_LOCKED", "sometimes"),
        ],
        Flags::default(),
    ));
    each_line_starts(
        &e,
        &[
            "unknown key `registr` in ",
            "unknown key `on_tags` from env `SHIPCRATE_ON_TAGS`; did you mean `SHIPCRATE_ON__TAGS`?",
            "bad value for `dry_run` in ",
            "bad value for `locked` from env `SHIPCRATE_LOCKED`: invalid value string \"sometimes\"",
            "bad value for `features` in ",
        ],
    );
    assert!(
        e.contains("invalid type: found map, expected a string or a list of strings"),
        "{e}"
    );
    assert!(!e.contains("untagged enum"), "{e}");
}

#[test]
fn unknown_keys_wrong_types_and_broken_rules_are_reported_in_one_go() {
    // A user fixing one line at a time would otherwise run three times.
    let e = err(load_with(
        Some("registr: x\ndry_run: maybe\ndeadline: 0\nchecksum_mismatch: sometimes\n"),
        &[("SHIPCRATE_MAX_WAIT", "forever")],
        Flags::default(),
    ));
    each_line_starts(
        &e,
        &[
            "unknown key `registr` in ",
            "bad value for `dry_run` in ",
            "`deadline` (.shipcrate.yml: deadline) is `0`",
            "`checksum_mismatch` (.shipcrate.yml: checksum_mismatch) is `sometimes`",
            "`max_wait` (env `SHIPCRATE_MAX_WAIT`) is `forever`",
        ],
    );
}

#[test]
fn a_text_key_of_another_type_is_reported_with_the_rest() {
    let e = err(load_with(
        Some("registr: x\nregistry: [a]\npath: {a: 1}\ndeadline: 0\n"),
        &[],
        Flags::default(),
    ));
    each_line_starts(
        &e,
        &[
            "unknown key `registr` in ",
            "bad value for `registry` in ",
            "bad value for `path` in ",
            "`deadline` (.shipcrate.yml: deadline) is `0`",
        ],
    );
    // A number is text enough: `max_retries: 3` is read as `3`.
    assert!(load_with(Some("max_retries: 3\n"), &[], Flags::default()).is_ok());
}

#[test]
fn every_broken_rule_is_reported_at_once() {
    let e = err(load_with(
        Some("max_wait: forever\nchecksum_mismatch: maybe\n"),
        &[
            ("SHIPCRATE_CI", "sometimes"),
            ("SHIPCRATE_MAX_RETRIES", "-1"),
        ],
        Flags::default(),
    ));
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 4, "{e}");
    for key in ["`checksum_mismatch`", "`max_retries`", "`max_wait`", "`ci`"] {
        assert!(
            lines.iter().any(|l| l.starts_with(key)),
            "{key} not in\n{e}"
        );
    }
}

#[test]
fn ci_none_is_the_runs_word_never_a_files() {
    // The file is the commit's: a pull request that adds `ci: none` would switch off the hold
    // on branch rules in a container that shows no CI's variables, and publish.
    let e = err(load_with(Some("ci: none\n"), &[], Flags::default()));
    for part in [".shipcrate.yml", "`ci: none`", "SHIPCRATE_CI=none"] {
        assert!(e.contains(part), "{part:?} not in {e}");
    }
    // `auto` in a file changes nothing; `none` where the run is started is the user's word.
    let cfg = load_with(Some("ci: auto\n"), &[], Flags::default()).unwrap();
    assert_eq!(cfg.ci, CiMode::Auto);
    let cfg = load_with(
        Some("ci: auto\n"),
        &[("SHIPCRATE_CI", "none")],
        Flags::default(),
    );
    assert_eq!(cfg.unwrap().ci, CiMode::None);
}

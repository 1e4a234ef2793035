//! The command line, built from the same key table as the config, and turned into plain
//! [`Flags`] before the library sees it. Each subcommand takes only the options it uses.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::config::{Flags, KEYS, Kind, input_name};

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Decide, copy, run hooks and publish.
    Publish,
    /// Print the resolved config, the CI context and the decision; change nothing.
    Explain,
    /// Make the pristine copy of a commit (the built one unless named) in this (new or empty)
    /// directory, and stop.
    Copy {
        dir: PathBuf,
        commit: Option<String>,
    },
    /// Print a `.travis.yml`'s deploy block as shipcrate config, or a GitHub/GitLab job.
    /// Without a file, the `.travis.yml` at the repository root.
    Migrate {
        to: crate::migrate::Target,
        file: Option<PathBuf>,
    },
}

#[derive(Debug)]
pub struct Invocation {
    pub action: Action,
    pub flags: Flags,
}

/// Where each key goes in `--help`: its heading, and what its value is. Every key in
/// [`KEYS`] but `token` (never a flag) has a row; a test checks it.
const FLAGS: &[(&str, &str, &str)] = &[
    ("path", SELECTION, "DIR"),
    ("packages", SELECTION, "CRATE"),
    ("exclude", SELECTION, "CRATE"),
    ("on.tags", CONDITIONS, ""),
    ("on.branch", CONDITIONS, "BRANCH"),
    ("on.all_branches", CONDITIONS, ""),
    ("on.repo", CONDITIONS, "OWNER/NAME"),
    ("on.condition", CONDITIONS, "COMMAND"),
    ("check_tag", CONDITIONS, ""),
    ("registry", PUBLISHING, "NAME"),
    ("index", PUBLISHING, "URL"),
    ("dry_run", PUBLISHING, ""),
    ("allow_dirty", PUBLISHING, ""),
    ("no_verify", PUBLISHING, ""),
    ("locked", PUBLISHING, ""),
    ("verbose", PUBLISHING, ""),
    ("color", PUBLISHING, "auto|always|never"),
    ("features", PUBLISHING, "FEATURE"),
    ("all_features", PUBLISHING, ""),
    ("checksum_mismatch", PUBLISHING, "fail|warn"),
    ("before_deploy", PUBLISHING, "COMMAND"),
    ("after_deploy", PUBLISHING, "COMMAND"),
    ("max_retries", RETRIES, "N"),
    ("max_wait", RETRIES, "DURATION"),
    ("index_timeout", RETRIES, "DURATION"),
    ("deadline", RETRIES, "DURATION"),
    ("trusted_publishing", TRUSTED, "auto|always|never"),
    ("trusted_publishing_url", TRUSTED, "URL"),
    ("oidc_audience", TRUSTED, "AUDIENCE"),
    ("oidc_token_env", TRUSTED, "VAR"),
    ("trusted_publishing_ttl", TRUSTED, "DURATION"),
    ("report", OUTPUT, "PATH"),
    ("dotenv", OUTPUT, "PATH"),
    ("crate_dir", OUTPUT, "DIR"),
    ("ci", CONFIGURATION, "auto|none"),
    ("travis", CONFIGURATION, ""),
];

const SELECTION: &str = "Selection";
const CONDITIONS: &str = "Conditions";
const PUBLISHING: &str = "Publishing";
const RETRIES: &str = "Retries";
const TRUSTED: &str = "Trusted publishing";
const OUTPUT: &str = "Output";
const CONFIGURATION: &str = "Configuration";

const TOP_EXAMPLES: &[(&str, &str)] = &[
    ("shipcrate explain", "what a run would do here, and why"),
    (
        "shipcrate --dry-run --on-all-branches",
        "package and verify every crate, upload nothing",
    ),
    (
        "CARGO_REGISTRY_TOKEN=... shipcrate --on-tags",
        "publish when this is a tag build",
    ),
];

const PUBLISH_EXAMPLES: &[(&str, &str)] = &[
    ("shipcrate publish --on-tags", "publish tag builds only"),
    (
        "shipcrate publish --registry my-registry --packages foo --packages bar",
        "two crates of a workspace, to a registry cargo knows",
    ),
];

const EXPLAIN_EXAMPLES: &[(&str, &str)] = &[
    (
        "shipcrate explain",
        "this checkout, as a run here would see it",
    ),
    (
        "SHIPCRATE_ON__TAGS=true shipcrate explain --config ci/shipcrate.yml",
        "with another config file and an env override",
    ),
];

const SUBCOMMANDS: &[&str] = &["publish", "explain", "copy", "migrate", "help"];

const RUN_FOOTER: &str = "\
Every option can also come from .shipcrate.yml, SHIPCRATE_<KEY> (nested keys joined by __) or
GitHub's INPUT_<KEY>; `ci: none` never from a file, which a pull request could change. The
token is never an option: give it through the environment
(CARGO_REGISTRY_TOKEN, or CARGO_REGISTRIES_<NAME>_TOKEN for a named registry).
DURATION is seconds or a number with s, m or h (90, 5m, 1h). A bool option alone means true;
--dry-run=false sets it false.

Exit codes: 0 published, or skipped by a rule; 1 a failure; 2 bad configuration or usage;
128+N stopped by signal N.";

fn command() -> Command {
    Command::new("shipcrate")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Publish Rust crates from CI, from a pristine copy of the built commit")
        .long_about(
            "Publish Rust crates from CI, from a pristine copy of the built commit.\n\n\
             Without a command, shipcrate publishes: it decides whether this build may publish \
             (the `on` rules; pull-request builds never do), copies the built commit into a \
             temp dir, verifies every crate, runs the hooks and uploads what the registry lacks.",
        )
        .args_conflicts_with_subcommands(true)
        .disable_help_subcommand(true)
        .args(run_args())
        .after_help(examples(TOP_EXAMPLES))
        .after_long_help(format!("{}\n\n{RUN_FOOTER}", examples(TOP_EXAMPLES)))
        .subcommand(
            Command::new("publish")
                .about("Publish when the rules allow (what shipcrate does without a command)")
                .args(run_args())
                .after_help(examples(PUBLISH_EXAMPLES))
                .after_long_help(format!("{}\n\n{RUN_FOOTER}", examples(PUBLISH_EXAMPLES))),
        )
        .subcommand(
            Command::new("explain")
                .about("Show each setting's value and source, the build and the decision; change nothing")
                .long_about(
                    "Show the value in force of every setting and where it came from, what \
                     shipcrate sees of the build (CI, commit, branch, tags), the crates it would \
                     publish and the decision with its reason. Runs the `on.condition` commands, \
                     since they are part of the decision, and changes nothing. Takes every \
                     option a run takes.",
                )
                .args(run_args())
                .after_help(examples(EXPLAIN_EXAMPLES))
                .after_long_help(format!("{}\n\n{RUN_FOOTER}", examples(EXPLAIN_EXAMPLES))),
        )
        .subcommand(
            Command::new("copy")
                .about("Make the pristine copy of a commit in DIR and stop (no publishing)")
                .long_about(
                    "Make the pristine copy a run would publish from, in DIR, and stop: the \
                     commit's tree as a git repository at that commit, submodules included, \
                     for a workspace only what cargo reads. Nothing is published, no hook runs.",
                )
                .arg(
                    Arg::new("dir")
                        .value_name("DIR")
                        .required(true)
                        .help("A new or empty directory to copy into"),
                )
                .arg(
                    Arg::new("commit")
                        .value_name("COMMIT")
                        .help("The commit, tag or branch to copy (default: the one being built)"),
                )
                .after_help(examples(&[
                    ("shipcrate copy /tmp/pristine", "the built commit"),
                    ("shipcrate copy /tmp/v1 v1.0.0", "the commit a tag points at"),
                ])),
        )
        .subcommand(
            Command::new("migrate")
                .about("Print a .travis.yml's cargo deploy as .shipcrate.yml, or as a GitHub workflow or GitLab job")
                .arg(
                    Arg::new("to")
                        .long("to")
                        .value_name("FORMAT")
                        .value_parser(["shipcrate", "github", "gitlab"])
                        .default_value("shipcrate")
                        .help("What to print: shipcrate config, a GitHub Actions workflow, or a GitLab CI job"),
                )
                .arg(
                    Arg::new("file")
                        .value_name("TRAVIS_FILE")
                        .help("The Travis file to read (default: .travis.yml at the repository root)"),
                )
                .after_help(examples(&[
                    ("shipcrate migrate > .shipcrate.yml", "keep the settings, drop Travis"),
                    (
                        "shipcrate migrate --to github > .github/workflows/publish.yml",
                        "a workflow using the action",
                    ),
                    ("shipcrate migrate --to gitlab old/.travis.yml", "a GitLab job, from another file"),
                ])),
        )
        .subcommand(
            Command::new("help")
                .about("Print this message or the help of the given command")
                .arg(
                    Arg::new("command")
                        .value_name("COMMAND")
                        .value_parser(SUBCOMMANDS.to_vec())
                        .help("The command to explain"),
                )
                .after_help(examples(&[("shipcrate help explain", "the same as `shipcrate explain --help`")])),
        )
}

/// The options of a run (and of `explain`, which explains one).
fn run_args() -> Vec<Arg> {
    let mut args = vec![
        Arg::new("config")
            .long("config")
            .value_name("PATH")
            .help_heading(CONFIGURATION)
            .help("Config file (default: .shipcrate.yml, .shipcrate.yaml or shipcrate.yml at the repository root)"),
    ];
    for (key, heading, value) in FLAGS {
        let (kind, help) = KEYS.iter().find(|(k, _, _)| k == key).map_or_else(
            || panic!("cli::FLAGS names `{key}`, which is no key"),
            |(_, kind, help)| (*kind, *help),
        );
        let mut arg = Arg::new(*key)
            .long(input_name(key))
            .help(sentence(help))
            .help_heading(*heading);
        // cargo's `-p`/`--package` and `-v`, as cargo users type them.
        match *key {
            "packages" => arg = arg.short('p').visible_alias("package"),
            // `-vv` as cargo users type it: verbose (cargo's `--verbose`, once).
            "verbose" => arg = arg.short('v').action(ArgAction::Append),
            _ => {}
        }
        args.push(match kind {
            Kind::Bool => arg
                .value_name("BOOL")
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("true"),
            Kind::Text if value.contains('|') => {
                let choices: Vec<&'static str> = value.split('|').collect();
                arg.value_name("MODE")
                    .value_parser(PossibleValuesParser::new(choices))
            }
            Kind::Text => arg.value_name(*value),
            Kind::List => arg.value_name(*value).action(ArgAction::Append),
        });
    }
    args.push(
        Arg::new(MANIFEST_PATH)
            .long("manifest-path")
            .value_name("PATH")
            .help_heading(SELECTION)
            .help("A crate's or workspace's Cargo.toml, as cargo takes it: sets `path` to its directory")
            .value_parser(manifest_dir)
            .conflicts_with("path"),
    );
    for (id, short, _) in REFUSED {
        let arg = Arg::new(*id)
            .long(*id)
            .hide(true)
            .num_args(0..=1)
            .action(ArgAction::Append);
        args.push(match short {
            Some(c) => arg.short(*c),
            None => arg,
        });
    }
    args
}

/// `--manifest-path`'s id: cargo's spelling of `path`, turned into it.
const MANIFEST_PATH: &str = "manifest_path";

/// cargo's options a cargo user types out of habit that shipcrate does not take, each
/// answered with what to do instead (`-p`/`--package` and `--manifest-path` it takes).
const REFUSED: &[(&str, Option<char>, &str)] = &[
    (
        "token",
        None,
        "`--token`: shipcrate takes the token from the environment only, never from argv, \
         where other processes and CI logs can read it. Set `CARGO_REGISTRY_TOKEN` (or \
         `CARGO_REGISTRIES_<NAME>_TOKEN` for a named registry) from a CI secret, or the \
         `token` key to a `${VAR}` reference. A real token typed on a command line may be in \
         your shell's history: revoke it",
    ),
    (
        "quiet",
        Some('q'),
        "`-q`/`--quiet`: shipcrate has no quiet mode: its log is the record of what was \
         published and why, and cargo's status lines are how it tells which crate a failure \
         is about; for a record a program reads, write a JSON report with `--report PATH` \
         (`-v`/`--verbose` and `--color` are cargo's, passed on)",
    ),
];

/// `--manifest-path`'s value as `path` takes it: the directory of a `Cargo.toml`.
fn manifest_dir(value: &str) -> Result<String, String> {
    let manifest = std::path::Path::new(value);
    if manifest.file_name().is_none_or(|name| name != "Cargo.toml") {
        return Err(
            "`--manifest-path` names a `Cargo.toml`, as cargo's does; for a directory, use `--path`"
                .to_owned(),
        );
    }
    Ok(manifest
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map_or_else(|| ".".to_owned(), |dir| dir.to_string_lossy().into_owned()))
}

/// The table's help text as clap's own read: with a capital letter.
fn sentence(help: &str) -> String {
    let mut chars = help.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// An "Examples:" section: each command line, then what it does.
fn examples(items: &[(&str, &str)]) -> String {
    let mut text = String::from("Examples:");
    for (line, what) in items {
        text.push_str(&format!("\n  {line}\n      {what}"));
    }
    text
}

/// Parse `args`; on bad usage clap prints the error and exits with code 2; `--help`, `help`
/// and `--version` print and exit 0.
pub fn parse(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> Invocation {
    let matches = command().get_matches_from(args);
    let (action, sub) = match matches.subcommand() {
        Some(("explain", sub)) => (Action::Explain, sub),
        Some(("migrate", sub)) => {
            let to = match sub.get_one::<String>("to").map(String::as_str) {
                Some("github") => crate::migrate::Target::Github,
                Some("gitlab") => crate::migrate::Target::Gitlab,
                _ => crate::migrate::Target::Shipcrate,
            };
            let file = sub.get_one::<String>("file").map(PathBuf::from);
            (Action::Migrate { to, file }, sub)
        }
        Some(("copy", sub)) => (
            Action::Copy {
                dir: PathBuf::from(sub.get_one::<String>("dir").expect("required")),
                commit: sub.get_one::<String>("commit").cloned(),
            },
            sub,
        ),
        Some(("help", sub)) => print_help(sub.get_one::<String>("command")),
        Some((_, sub)) => (Action::Publish, sub),
        None => (Action::Publish, &matches),
    };
    refuse_cargo_habits(sub);
    Invocation {
        action,
        flags: flags(sub),
    }
}

/// A refused cargo option exits 2 with what to use instead (the value given is never shown:
/// after `--token` it is a secret).
fn refuse_cargo_habits(matches: &ArgMatches) {
    for (id, _, why) in REFUSED {
        if matches.try_get_raw(id).ok().flatten().is_some() {
            command()
                .error(clap::error::ErrorKind::ArgumentConflict, *why)
                .exit();
        }
    }
}

/// The run options given, as plain values; none for commands that take none.
fn flags(matches: &ArgMatches) -> Flags {
    let given = |id: &str| matches.try_get_raw(id).ok().flatten().is_some();
    let mut flags = Flags {
        config: given("config")
            .then(|| matches.get_one::<String>("config").map(PathBuf::from))
            .flatten(),
        values: Vec::new(),
    };
    if let Some(dir) = matches.try_get_one::<String>(MANIFEST_PATH).ok().flatten() {
        flags.values.push(("path", dir.clone()));
    }
    for (key, _, _) in FLAGS {
        if given(key)
            && let Some(values) = matches.get_many::<String>(key)
        {
            let mut joined: Vec<&str> = values.map(String::as_str).collect();
            if *key == "verbose" {
                // `-vv`: the last one says.
                joined.drain(..joined.len().saturating_sub(1));
            }
            flags.values.push((key, joined.join("\n")));
        }
    }
    flags
}

/// `shipcrate help [COMMAND]`: exactly what `shipcrate [COMMAND] --help` prints (clap prints
/// it and exits 0).
fn print_help(name: Option<&String>) -> ! {
    let mut args = vec!["shipcrate"];
    args.extend(name.map(String::as_str));
    args.push("--help");
    command().get_matches_from(args);
    unreachable!("clap exits after printing the help")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn every_key_but_the_token_is_an_option_with_a_heading() {
        for (key, _, _) in KEYS.iter().filter(|(k, _, _)| *k != "token") {
            assert!(
                FLAGS.iter().any(|(k, _, _)| k == key),
                "`{key}` has no row in cli::FLAGS (its heading and value name)"
            );
        }
        assert!(!FLAGS.iter().any(|(k, _, _)| *k == "token"));
    }

    #[test]
    fn flags_become_plain_values() {
        let inv = parse([
            "shipcrate",
            "explain",
            "--dry-run",
            "--on-branch",
            "a",
            "--on-branch",
            "b",
            "--locked=false",
        ]);
        assert_eq!(inv.action, Action::Explain);
        let get = |k: &str| {
            inv.flags
                .values
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("dry_run"), Some("true"));
        assert_eq!(get("locked"), Some("false"));
        assert_eq!(get("on.branch"), Some("a\nb"));
        assert_eq!(get("registry"), None);
    }

    #[test]
    fn cargos_package_and_manifest_path_become_packages_and_path() {
        let inv = parse([
            "shipcrate",
            "explain",
            "-p",
            "a",
            "--package",
            "b",
            "--packages=c",
            "--manifest-path",
            "crates/a/Cargo.toml",
        ]);
        let get = |k: &str| inv.flags.values.iter().find(|(key, _)| *key == k).cloned();
        assert_eq!(get("packages"), Some(("packages", "a\nb\nc".to_owned())));
        assert_eq!(get("path"), Some(("path", "crates/a".to_owned())));
        let root = parse(["shipcrate", "--manifest-path", "Cargo.toml"]);
        assert_eq!(root.flags.values, [("path", ".".to_owned())]);
        for wrong in [
            &["shipcrate", "--manifest-path", "crates/a"][..],
            &[
                "shipcrate",
                "--manifest-path",
                "a/Cargo.toml",
                "--path",
                "a",
            ],
        ] {
            assert!(command().try_get_matches_from(wrong).is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn copy_and_migrate_take_their_own_arguments_only() {
        let inv = parse(["shipcrate", "copy", "out", "v1.0.0"]);
        assert_eq!(
            inv.action,
            Action::Copy {
                dir: "out".into(),
                commit: Some("v1.0.0".into())
            }
        );
        assert!(inv.flags.values.is_empty() && inv.flags.config.is_none());
        let inv = parse(["shipcrate", "migrate", "--to", "gitlab", "ci/.travis.yml"]);
        assert_eq!(
            inv.action,
            Action::Migrate {
                to: crate::migrate::Target::Gitlab,
                file: Some("ci/.travis.yml".into())
            }
        );
        for wrong in [
            &["shipcrate", "copy", "out", "--dry-run"][..],
            &["shipcrate", "migrate", "--registry", "x"],
            &["shipcrate", "--dry-run", "explain"],
        ] {
            assert!(command().try_get_matches_from(wrong).is_err(), "{wrong:?}");
        }
    }
}

//! The command line, built from the same key table as the config, and turned into plain
//! [`Flags`] before the library sees it.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command};

use crate::config::{Flags, KEYS, Kind, input_name};

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Decide, copy, run hooks and publish.
    Publish,
    /// Print the resolved config, the CI context and the decision; change nothing.
    Explain,
    /// Make the pristine copy of the built commit in this (new or empty) directory, and stop.
    Copy(PathBuf),
    /// Print the `.travis.yml` deploy block as shipcrate config, or a GitHub/GitLab job.
    Migrate(crate::travis::Target),
}

#[derive(Debug)]
pub struct Invocation {
    pub action: Action,
    pub flags: Flags,
}

fn command() -> Command {
    let mut cmd = Command::new("shipcrate")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Publish Rust crates from CI, from a pristine copy of the built commit")
        .after_help(
            "Every option can also come from .shipcrate.yml, SHIPCRATE_<KEY> or GitHub's INPUT_<KEY>.\n\
             The token is never a flag: give it through the environment.\n\
             Exit codes: 0 published or skipped by a rule, 1 failure, 2 bad config or usage.",
        )
        .subcommand(Command::new("publish").about("Publish when the rules allow (the default)"))
        .subcommand(
            Command::new("copy")
                .about("Make the pristine copy of the built commit in DIR and stop (no publishing)")
                .arg(Arg::new("dir").value_name("DIR").required(true)),
        )
        .subcommand(
            Command::new("migrate")
                .about("Print .travis.yml's cargo deploy as .shipcrate.yml, or as a GitHub workflow / GitLab job")
                .arg(
                    Arg::new("to")
                        .long("to")
                        .value_name("CI")
                        .value_parser(["shipcrate", "github", "gitlab"])
                        .default_value("shipcrate"),
                ),
        )
        .subcommand(Command::new("explain").about("Show config with sources, CI context and decision; change nothing"))
        .arg(
            Arg::new("config")
                .long("config")
                .value_name("PATH")
                .global(true)
                .help("Config file (default: .shipcrate.yml, .shipcrate.yaml or shipcrate.yml)"),
        );
    for (key, kind, help) in KEYS.iter().filter(|(k, _, _)| *k != "token") {
        let arg = Arg::new(*key)
            .long(input_name(key))
            .help(*help)
            .global(true);
        cmd = cmd.arg(match kind {
            Kind::Bool => arg
                .value_name("BOOL")
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("true"),
            Kind::Text => arg.value_name("VALUE"),
            Kind::List => arg.value_name("VALUE").action(ArgAction::Append),
        });
    }
    cmd
}

/// Parse `args`; on bad usage clap prints the error and exits with code 2.
pub fn parse(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> Invocation {
    let matches = command().get_matches_from(args);
    let (action, sub) = match matches.subcommand() {
        Some(("explain", sub)) => (Action::Explain, sub),
        Some(("migrate", sub)) => {
            let to = match sub.get_one::<String>("to").map(String::as_str) {
                Some("github") => crate::travis::Target::Github,
                Some("gitlab") => crate::travis::Target::Gitlab,
                _ => crate::travis::Target::Shipcrate,
            };
            (Action::Migrate(to), sub)
        }
        Some(("copy", sub)) => (
            Action::Copy(PathBuf::from(
                sub.get_one::<String>("dir").expect("required"),
            )),
            sub,
        ),
        Some((_, sub)) => (Action::Publish, sub),
        None => (Action::Publish, &matches),
    };
    let mut flags = Flags {
        config: sub.get_one::<String>("config").map(PathBuf::from),
        values: Vec::new(),
    };
    for (key, _, _) in KEYS.iter().filter(|(k, _, _)| *k != "token") {
        if let Some(values) = sub.get_many::<String>(key) {
            let joined: Vec<&str> = values.map(String::as_str).collect();
            flags.values.push((key, joined.join("\n")));
        }
    }
    Invocation { action, flags }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
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
}

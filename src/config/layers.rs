//! The string-only layers: `SHIPCRATE_*` env, GitHub's `INPUT_*`, and command-line flags,
//! each a figment provider whose values are attributed to the exact variable or flag.

use anyhow::Result;
use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

use super::{Flags, KEYS, Kind, RESERVED_ENV, RESERVED_ENV_PREFIX, suggest};
use crate::Env;
use crate::error::UsageError;

/// A layer whose values are all strings: `SHIPCRATE_*` env, GitHub `INPUT_*`, or CLI flags.
/// Empty values are "not set"; list keys split one item per line.
pub(super) struct StringLayer {
    name: &'static str,
    /// How a key path is spelled in this layer, for messages.
    spell: fn(&[&str]) -> String,
    values: Vec<(Vec<String>, String)>,
}

impl StringLayer {
    #[allow(
        clippy::unnecessary_wraps,
        reason = "every layer is read by one signature (the inputs' can fail)"
    )]
    pub(super) fn shipcrate_env(env: &Env) -> Result<Self> {
        fn spell(path: &[&str]) -> String {
            format!("env `SHIPCRATE_{}`", path.join("__").to_ascii_uppercase())
        }
        let values = env
            .iter()
            .filter(|(k, v)| k.starts_with("SHIPCRATE_") && !v.is_empty())
            .filter(|(k, _)| {
                !RESERVED_ENV.contains(&k.as_str()) && !k.starts_with(RESERVED_ENV_PREFIX)
            })
            .map(|(k, v)| {
                let path = k["SHIPCRATE_".len()..]
                    .to_ascii_lowercase()
                    .split("__")
                    .map(str::to_owned)
                    .collect();
                (path, v.clone())
            })
            .collect();
        Ok(Self {
            name: "environment",
            spell,
            values,
        })
    }

    pub(super) fn github_inputs(env: &Env) -> Result<Self> {
        fn spell(path: &[&str]) -> String {
            format!("input `{}`", input_name(&path.join(".")))
        }
        let mut values = Vec::new();
        for (var, value) in env {
            let Some(name) = var.strip_prefix("INPUT_") else {
                continue;
            };
            if value.is_empty() || name == "CONFIG" {
                continue;
            }
            let name = name.to_ascii_lowercase();
            match KEYS.iter().find(|(k, _, _)| input_name(k) == name) {
                Some((key, _, _)) => {
                    values.push((key.split('.').map(str::to_owned).collect(), value.clone()));
                }
                None => {
                    let hint = suggest(&name.replace('-', "_"))
                        .map(|k| format!("; did you mean `{}`?", input_name(k)))
                        .unwrap_or_default();
                    return Err(UsageError(format!(
                        "unknown input `{name}` (from env `{var}`){hint}"
                    ))
                    .into());
                }
            }
        }
        Ok(Self {
            name: "GitHub action inputs",
            spell,
            values,
        })
    }

    #[allow(
        clippy::unnecessary_wraps,
        reason = "every layer is read by one signature (the inputs' can fail)"
    )]
    pub(super) fn flags(flags: &Flags) -> Result<Self> {
        fn spell(path: &[&str]) -> String {
            format!("flag `--{}`", input_name(&path.join(".")))
        }
        let values = flags
            .values
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.split('.').map(str::to_owned).collect(), v.clone()))
            .collect();
        Ok(Self {
            name: "command line",
            spell,
            values,
        })
    }
}

/// A key's name as a GitHub input or CLI flag: `on.all_branches` → `on-all-branches`.
pub fn input_name(key: &str) -> String {
    key.replace(['_', '.'], "-")
}

impl Provider for StringLayer {
    fn metadata(&self) -> Metadata {
        let spell = self.spell;
        Metadata::named(self.name).interpolater(move |_, path| spell(path))
    }

    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        let mut root = Dict::new();
        for (path, value) in &self.values {
            let dotted = path.join(".");
            let kind = KEYS
                .iter()
                .find(|(k, _, _)| *k == dotted)
                .map(|(_, kind, _)| *kind);
            let value = match kind {
                Some(Kind::List) => Value::from(
                    value
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect::<Vec<_>>(),
                ),
                _ => Value::from(value.clone()),
            };
            insert(&mut root, path, value);
        }
        Ok(Profile::Default.collect(root))
    }
}

fn insert(dict: &mut Dict, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

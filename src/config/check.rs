//! The checks on each layer before it is merged, and the error text: an unknown key names its
//! source and the key probably meant; figment's type errors name theirs.

use anyhow::Result;
use figment::value::{Dict, Value};
use figment::{Metadata, Profile, Provider, Source};

use super::de::{de_list, de_opt_bool, de_opt_text};
use super::{KEYS, Kind};
use crate::error::UsageError;

/// Every key of a layer that no field takes, each naming its source and the key probably
/// meant, spelt as that source spells it (`SHIPCRATE_ON__TAGS` for the environment); an
/// unreadable layer is an error at once.
pub(super) fn check_layer(provider: &impl Provider) -> Result<Vec<String>> {
    let meta = provider.metadata();
    let data = provider.data().map_err(|e| {
        UsageError(format!(
            "cannot read the configuration {}: {}",
            where_from(&meta, &[] as &[&str]),
            describe(&e)
        ))
    })?;
    let mut problems = Vec::new();
    for dict in data.values() {
        check_dict(dict, &[], &meta, &mut problems);
    }
    Ok(problems)
}

fn check_dict(dict: &Dict, prefix: &[&str], meta: &Metadata, problems: &mut Vec<String>) {
    for (key, value) in dict {
        let mut path = prefix.to_vec();
        path.push(key);
        let dotted = path.join(".");
        if KEYS.iter().any(|(k, _, _)| *k == dotted) {
            continue;
        }
        let is_section = KEYS
            .iter()
            .any(|(k, _, _)| k.starts_with(&format!("{dotted}.")));
        match value {
            Value::Dict(_, inner) if is_section => check_dict(inner, &path, meta, problems),
            _ if is_section => problems.push(format!(
                "`{dotted}` {} must be a map of rules, like `{dotted}: {{ tags: true }}`",
                where_from(meta, &path)
            )),
            _ => {
                let hint = suggest(&dotted)
                    .map(|s| format!("; did you mean {}?", spelt_as_source(meta, s)))
                    .unwrap_or_default();
                problems.push(format!(
                    "unknown key `{dotted}` {}{hint}",
                    where_from(meta, &path)
                ));
            }
        }
    }
}

/// `key` as the layer `meta` describes spells it: the file's key, or the variable, input or
/// flag that sets it (from the layer's own interpolation: "env `SHIPCRATE_ON__TAGS`").
fn spelt_as_source(meta: &Metadata, key: &str) -> String {
    match &meta.source {
        Some(Source::File(_)) => format!("`{key}`"),
        _ => {
            let path: Vec<&str> = key.split('.').collect();
            let spelt = meta.interpolate(&Profile::Default, &path);
            // "env `SHIPCRATE_ON__TAGS`" → "`SHIPCRATE_ON__TAGS`".
            spelt
                .find('`')
                .map_or(spelt.clone(), |at| spelt[at..].to_owned())
        }
    }
}

/// The values of every key present in `figment` that its type refuses, each named with its
/// source: serde stops at the first, so each key is read on its own.
pub(super) fn type_problems(figment: &figment::Figment) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, kind, _) in KEYS {
        let Ok(value) = figment.find_value(key) else {
            continue;
        };
        if let Some(error) = refused(*kind, &value) {
            let path: Vec<&str> = key.split('.').collect();
            let from = figment
                .get_metadata(value.tag())
                .map(|meta| format!(" {}", where_from(meta, &path)))
                .unwrap_or_default();
            problems.push(format!("bad value for `{key}`{from}: {}", error.kind));
        }
    }
    problems
}

/// Why `value` is not of `kind`; `None` when it is.
fn refused(kind: Kind, value: &Value) -> Option<figment::Error> {
    match kind {
        Kind::Bool => de_opt_bool(value).err(),
        Kind::List => de_list(value).err(),
        Kind::Text => de_opt_text(value).err(),
    }
}

/// The known keys whose values have the right type, on their own: what the rules are checked
/// against when other keys are unknown or mistyped, so that every problem is reported at once.
pub(super) fn well_formed(figment: &figment::Figment) -> figment::Figment {
    let mut clean = figment::Figment::new();
    for (key, kind, _) in KEYS {
        let Ok(value) = figment.find_value(key) else {
            continue;
        };
        if refused(*kind, &value).is_none() {
            clean = clean.merge(figment::providers::Serialized::default(key, value));
        }
    }
    clean
}

/// The known key closest to `key`, when it is close enough to be a slip.
pub(super) fn suggest(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|(k, _, _)| (*k, strsim::jaro_winkler(key, k)))
        .filter(|(_, score)| *score > 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

/// "in .shipcrate.yml", "from env `SHIPCRATE_DRY_RUN`", "from input `on-tags`", "from flag `--x`".
pub(super) fn where_from(meta: &Metadata, path: &[impl AsRef<str>]) -> String {
    match &meta.source {
        Some(Source::File(file)) => format!("in {}", file.display()),
        _ => format!("from {}", meta.interpolate(&Profile::Default, path)),
    }
}

pub(super) fn describe(error: &figment::Error) -> String {
    let mut out = Vec::new();
    for e in error.clone() {
        let key = e.path.join(".");
        let from = e
            .metadata
            .as_ref()
            .map(|m| format!(" {}", where_from(m, &e.path)))
            .unwrap_or_default();
        let what = match &e.kind {
            // Never echo what was given for the token: it may be the secret.
            figment::error::Kind::InvalidType(_, expected) if key == "token" => {
                format!("expected {expected}")
            }
            kind => kind.to_string(),
        };
        out.push(if key.is_empty() {
            format!("bad configuration{from}: {what}")
        } else {
            format!("bad value for `{key}`{from}: {what}")
        });
    }
    out.join("\n")
}

//! The checks on each layer before it is merged, and the error text: an unknown key names its
//! source and the key probably meant; figment's type errors name theirs.

use anyhow::Result;
use figment::value::{Dict, Value};
use figment::{Metadata, Profile, Provider, Source};

use super::KEYS;
use crate::error::UsageError;

/// Refuse keys that no field takes, naming the source and the key probably meant.
pub(super) fn check_layer(provider: &impl Provider) -> Result<()> {
    let meta = provider.metadata();
    let data = provider.data().map_err(|e| {
        UsageError(format!(
            "cannot read the configuration {}: {}",
            where_from(&meta, &[] as &[&str]),
            describe(&e)
        ))
    })?;
    for dict in data.values() {
        check_dict(dict, &[], &meta)?;
    }
    Ok(())
}

fn check_dict(dict: &Dict, prefix: &[&str], meta: &Metadata) -> Result<()> {
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
            Value::Dict(_, inner) if is_section => check_dict(inner, &path, meta)?,
            _ if is_section => {
                return Err(UsageError(format!(
                    "`{dotted}` {} must be a map of rules, like `{dotted}: {{ tags: true }}`",
                    where_from(meta, &path)
                ))
                .into());
            }
            _ => {
                let hint = suggest(&dotted)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(UsageError(format!(
                    "unknown key `{dotted}` {}{hint}",
                    where_from(meta, &path)
                ))
                .into());
            }
        }
    }
    Ok(())
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

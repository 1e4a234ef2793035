//! What `explain` shows for each key: the value in force, the built-in default when nothing
//! set it, and what an unset key means.

use std::path::PathBuf;
use std::time::Duration;

use figment::value::Value;

use super::{CiMode, Config, Mismatch, TrustedMode};
use crate::registry::Target;

/// The value of `key` that is in force, as `explain` shows it: the built-in default when
/// nothing set it, and for an unset key what that means. `None` for a key not listed here.
pub(super) fn in_force(cfg: &Config, key: &str, travis: bool) -> Option<String> {
    let text = |v: &Option<String>, none: &str| v.clone().unwrap_or_else(|| none.to_owned());
    let path = |v: &Option<PathBuf>| {
        v.as_ref()
            .map_or("(none)".to_owned(), |p| p.display().to_string())
    };
    let list = |items: &[String], empty: &str| {
        if items.is_empty() {
            empty.to_owned()
        } else {
            format!("[{}]", items.join(", "))
        }
    };
    let crates_io = cfg.target == Target::CratesIo;
    Some(match key {
        "token" => if cfg.token.is_some() {
            "***"
        } else {
            "(cargo's env var)"
        }
        .to_owned(),
        "registry" => match &cfg.target {
            Target::CratesIo => "crates.io".to_owned(),
            Target::Named(name) => name.clone(),
            Target::Index(_) => "(none: `index` is set)".to_owned(),
        },
        "index" => match &cfg.target {
            Target::Index(url) => url.clone(),
            _ => "(the registry's)".to_owned(),
        },
        "path" => cfg.path.display().to_string(),
        "allow_dirty" => cfg.allow_dirty.to_string(),
        "dry_run" => cfg.dry_run.to_string(),
        "no_verify" => cfg.no_verify.to_string(),
        "locked" => cfg.locked.to_string(),
        "verbose" => cfg.verbose.to_string(),
        "color" => cfg.color.unwrap_or("(cargo's own)").to_owned(),
        "features" => list(&cfg.features, "[]"),
        "all_features" => cfg.all_features.to_string(),
        "report" => path(&cfg.report),
        "dotenv" => path(&cfg.dotenv),
        "crate_dir" => path(&cfg.crate_dir),
        "packages" => list(&cfg.packages, "(every member that may)"),
        "exclude" => list(&cfg.exclude, "[]"),
        "check_tag" => cfg.check_tag.to_string(),
        "checksum_mismatch" => match cfg.checksum_mismatch {
            Mismatch::Warn => "warn",
            Mismatch::Fail => "fail",
        }
        .to_owned(),
        "index_timeout" => human(cfg.index_timeout),
        "max_retries" => cfg.max_retries.to_string(),
        "max_wait" => human(cfg.max_wait),
        "deadline" => cfg.deadline.map_or("(none)".to_owned(), human),
        "travis" => travis.to_string(),
        "ci" => match cfg.ci {
            CiMode::Auto => "auto",
            CiMode::None => "none",
        }
        .to_owned(),
        "trusted_publishing" => match cfg.trusted.mode {
            TrustedMode::Auto => "auto",
            TrustedMode::Always => "always",
            TrustedMode::Never => "never",
        }
        .to_owned(),
        "trusted_publishing_url" => text(
            &cfg.trusted.url,
            if crates_io {
                "(crates.io's API)"
            } else {
                "(none)"
            },
        ),
        "oidc_audience" => text(
            &cfg.trusted.audience,
            if crates_io && cfg.trusted.url.is_none() {
                "crates.io"
            } else {
                "(the API URL without its scheme)"
            },
        ),
        "oidc_token_env" => cfg.trusted.token_env.join(", "),
        "trusted_publishing_ttl" => human(cfg.trusted.ttl),
        "on.tags" => cfg
            .on
            .tags
            .map_or("(no tag rule)".to_owned(), |t| t.to_string()),
        "on.branch" => list(&cfg.on.branch, "(the default branch)"),
        "on.all_branches" => cfg.on.all_branches.to_string(),
        "on.repo" => text(&cfg.on.repo, "(any)"),
        "on.condition" => list(&cfg.on.condition, "[]"),
        "before_deploy" => list(&cfg.before_deploy, "[]"),
        "after_deploy" => list(&cfg.after_deploy, "[]"),
        _ => return None,
    })
}

/// A duration the way the settings take it: `5m`, `1h`, `1m 30s`.
fn human(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

pub(super) fn show(value: Option<Value>) -> String {
    match value {
        None | Some(Value::Empty(..)) => "(unset)".to_owned(),
        Some(Value::String(_, s)) => s,
        Some(Value::Bool(_, b)) => b.to_string(),
        Some(Value::Array(_, items)) if items.is_empty() => "[]".to_owned(),
        Some(Value::Array(_, items)) => {
            let items: Vec<String> = items.into_iter().map(|v| show(Some(v))).collect();
            format!("[{}]", items.join(", "))
        }
        Some(other) => other.into_string().unwrap_or_else(|| "…".to_owned()),
    }
}

//! The raw settings as figment merges them, before validation: every key a field, unknown
//! fields refused, values as users write them (`de`).

use serde::{Deserialize, Serialize};

use super::de::{de_bool, de_list, de_opt_bool, de_opt_text};

/// The raw, merged settings, before validation.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct Raw {
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) token: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) registry: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) index: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) path: Option<String>,
    #[serde(deserialize_with = "de_bool")]
    pub(super) allow_dirty: bool,
    #[serde(deserialize_with = "de_bool")]
    pub(super) dry_run: bool,
    #[serde(deserialize_with = "de_bool")]
    pub(super) no_verify: bool,
    #[serde(deserialize_with = "de_bool")]
    pub(super) locked: bool,
    #[serde(deserialize_with = "de_bool")]
    pub(super) verbose: bool,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) color: Option<String>,
    #[serde(deserialize_with = "de_list")]
    pub(super) features: Vec<String>,
    #[serde(deserialize_with = "de_bool")]
    pub(super) all_features: bool,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) report: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) dotenv: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) crate_dir: Option<String>,
    #[serde(deserialize_with = "de_bool")]
    pub(super) travis: bool,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) ci: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) trusted_publishing: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) trusted_publishing_url: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) oidc_audience: Option<String>,
    #[serde(deserialize_with = "de_list")]
    pub(super) oidc_token_env: Vec<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) trusted_publishing_ttl: Option<String>,
    #[serde(deserialize_with = "de_list")]
    pub(super) packages: Vec<String>,
    #[serde(deserialize_with = "de_list")]
    pub(super) exclude: Vec<String>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub(super) check_tag: Option<bool>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) checksum_mismatch: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) index_timeout: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) max_retries: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) max_wait: Option<String>,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) deadline: Option<String>,
    pub(super) on: RawOn,
    #[serde(deserialize_with = "de_list")]
    pub(super) before_deploy: Vec<String>,
    #[serde(deserialize_with = "de_list")]
    pub(super) after_deploy: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawOn {
    #[serde(deserialize_with = "de_opt_bool")]
    pub(super) tags: Option<bool>,
    #[serde(deserialize_with = "de_list")]
    pub(super) branch: Vec<String>,
    #[serde(deserialize_with = "de_bool")]
    pub(super) all_branches: bool,
    #[serde(deserialize_with = "de_opt_text")]
    pub(super) repo: Option<String>,
    #[serde(deserialize_with = "de_list")]
    pub(super) condition: Vec<String>,
}

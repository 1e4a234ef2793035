//! Registry concepts: where the packages go ([`Target`]), and how cargo names a registry in
//! its environment (its token variable, its index variable).
//!
//! Names only: never reads a token or talks to a registry.

use std::fmt;

/// Where the packages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    CratesIo,
    /// A registry cargo knows by name.
    Named(String),
    /// An index URL; cargo is given it as a registry named [`Target::INDEX_NAME`].
    Index(String),
}

impl Target {
    pub(crate) const INDEX_NAME: &'static str = "shipcrate";

    /// The `--registry` name cargo gets, if any.
    pub(crate) fn cargo_name(&self) -> Option<&str> {
        match self {
            Target::CratesIo => None,
            Target::Named(name) => Some(name),
            Target::Index(_) => Some(Self::INDEX_NAME),
        }
    }

    /// `--config` values naming `provider` (a credential provider's command line) as this
    /// registry's credential provider. A registry cargo found through its
    /// `CARGO_REGISTRIES_<NAME>_INDEX` variable it calls by that variable's spelling
    /// (`my_reg` for `my-reg`), so both spellings are named.
    pub(crate) fn credential_provider_config(&self, provider: &[String]) -> Vec<String> {
        let value = serde_json::to_string(provider).unwrap_or_default();
        let Some(name) = self.cargo_name() else {
            return vec![format!("registry.credential-provider={value}")];
        };
        let mut names = vec![name.to_owned()];
        let from_env = env_name(name).to_ascii_lowercase();
        if from_env != name {
            names.push(from_env);
        }
        names
            .iter()
            .map(|name| format!("registries.{name}.credential-provider={value}"))
            .collect()
    }

    /// The environment variable cargo reads this registry's token from.
    pub(crate) fn token_var(&self) -> String {
        match self.cargo_name() {
            None => "CARGO_REGISTRY_TOKEN".to_owned(),
            Some(name) => format!("CARGO_REGISTRIES_{}_TOKEN", env_name(name)),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::CratesIo => f.write_str("crates.io"),
            Target::Named(name) => write!(f, "registry `{name}`"),
            Target::Index(url) => write!(f, "index `{url}`"),
        }
    }
}

/// Cargo's spelling of a registry name inside an environment variable.
pub(crate) fn env_name(registry: &str) -> String {
    registry.to_ascii_uppercase().replace(['-', '.'], "_")
}

//! Every key shipcrate knows, with its type and description: the table the config, the
//! command line, the README and `action.yml` follow. Also the `SHIPCRATE_*` names that are not
//! keys.

/// The type a key takes; drives how string-only layers (env, inputs, flags) are read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Bool,
    Text,
    /// A string or a list of strings; from env and inputs, one item per line.
    List,
}

/// Every key shipcrate knows, as a dotted path, with its type and a one-line description.
/// The README's option table and `action.yml`'s inputs follow this list.
pub const KEYS: &[(&str, Kind, &str)] = &[
    (
        "token",
        Kind::Text,
        "registry token, as a `$VAR` / `${VAR}` reference",
    ),
    (
        "registry",
        Kind::Text,
        "name of a registry cargo knows (default: crates.io)",
    ),
    (
        "index",
        Kind::Text,
        "index URL of a registry, instead of `registry`",
    ),
    (
        "path",
        Kind::Text,
        "crate directory inside the repository (default: its root)",
    ),
    (
        "allow_dirty",
        Kind::Bool,
        "publish the working tree as it is, not the commit",
    ),
    ("dry_run", Kind::Bool, "package and verify, upload nothing"),
    ("no_verify", Kind::Bool, "skip cargo's verify build"),
    ("locked", Kind::Bool, "pass `--locked` to cargo"),
    (
        "verbose",
        Kind::Bool,
        "pass `--verbose` to cargo: it shows each command it runs",
    ),
    (
        "color",
        Kind::Text,
        "cargo's colours: `auto`, `always` or `never` (default: cargo's own setting; shipcrate's lines have none)",
    ),
    (
        "features",
        Kind::List,
        "features to enable for the verify build",
    ),
    (
        "all_features",
        Kind::Bool,
        "enable all features for the verify build",
    ),
    ("report", Kind::Text, "write a JSON report to this path"),
    (
        "dotenv",
        Kind::Text,
        "write the outcome as a dotenv file (GitLab `artifacts: reports: dotenv`)",
    ),
    (
        "crate_dir",
        Kind::Text,
        "copy each uploaded `.crate` file into this directory (to attest them)",
    ),
    (
        "packages",
        Kind::List,
        "workspace members to publish (default: every member that may)",
    ),
    ("exclude", Kind::List, "workspace members not to publish"),
    (
        "check_tag",
        Kind::Bool,
        "on a tag build, a version tag must match a crate's version (default: true)",
    ),
    (
        "checksum_mismatch",
        Kind::Text,
        "a published version whose content differs from the commit: `warn` (default) or `fail`; the crate a version tag names must never differ",
    ),
    (
        "index_timeout",
        Kind::Text,
        "how long an upload may take to show in the index, e.g. `300`, `5m` (default: 5m)",
    ),
    (
        "max_retries",
        Kind::Text,
        "retries of an upload the registry pushed back on, 429 or 5xx (default: 5)",
    ),
    (
        "max_wait",
        Kind::Text,
        "longest single wait before a retry (default: 15m)",
    ),
    (
        "deadline",
        Kind::Text,
        "stop cleanly this long after the run starts, before the CI's own time limit: no upload starts after it, and the report says what is left for a re-run, e.g. `5h50m` (default: none)",
    ),
    (
        "ci",
        Kind::Text,
        "`auto` (default): the CI is read from its variables; `none`: this is no CI (a run by hand), so git's branch may publish even in a container that shows no CI's variables",
    ),
    (
        "travis",
        Kind::Bool,
        "read the `provider: cargo` deploy block of .travis.yml instead of a shipcrate config file",
    ),
    (
        "trusted_publishing",
        Kind::Text,
        "`auto` (default): use an OIDC token from the CI when no token is set; `always`; `never`",
    ),
    (
        "trusted_publishing_url",
        Kind::Text,
        "API URL of a registry other than crates.io that does trusted publishing",
    ),
    (
        "oidc_audience",
        Kind::Text,
        "audience of the CI's ID token (default: the registry API's URL without its scheme, e.g. `crates.io`)",
    ),
    (
        "oidc_token_env",
        Kind::List,
        "GitLab: the `id_tokens:` variable(s) to read; each one after the first is a spare JWT for one renewal (default: CRATES_IO_ID_TOKEN)",
    ),
    (
        "trusted_publishing_ttl",
        Kind::Text,
        "how long a minted token lives, at most 30m (crates.io's fixed life); a fresh one is minted before it runs out (default: 30m)",
    ),
    (
        "on.tags",
        Kind::Bool,
        "true: tag builds only (lifts the branch rule); false: no tag builds",
    ),
    (
        "on.branch",
        Kind::List,
        "branches that publish (default: the default branch)",
    ),
    ("on.all_branches", Kind::Bool, "publish from any branch"),
    (
        "on.repo",
        Kind::Text,
        "publish only from this repository slug (`owner/name`)",
    ),
    (
        "on.condition",
        Kind::List,
        "shell commands that must all exit 0",
    ),
    (
        "before_deploy",
        Kind::List,
        "commands run before publishing",
    ),
    ("after_deploy", Kind::List, "commands run after publishing"),
];

/// Env vars with the `SHIPCRATE_` prefix that are not keys: the config file's name, the
/// variables shipcrate hands to hooks (so a hook may run shipcrate again), and the outputs of
/// its dotenv file (so a later GitLab job may run it too).
pub(super) const RESERVED_ENV: &[&str] = &[
    "SHIPCRATE_CONFIG",
    "SHIPCRATE_COMMIT",
    "SHIPCRATE_CRATES",
    "SHIPCRATE_PRISTINE_DIR",
    "SHIPCRATE_STAGE",
];

pub(super) const RESERVED_ENV_PREFIX: &str = "SHIPCRATE_OUTPUT_";

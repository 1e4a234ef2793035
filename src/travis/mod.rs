//! `.travis.yml` as a settings source: its `provider: cargo` deploy entries (top level, or the
//! one `jobs.include` job that deploys) and the `before_deploy` / `after_deploy` around them,
//! read with the rules Travis's deploy script ran (travis-ci/travis-build,
//! `lib/travis/build/addons/deploy/script.rb`), into plain data: `config` layers it,
//! `migrate` writes it back out. Its parts:
//!
//! - `file`: the file, where its cargo deploys are and which job runs them, with their hooks;
//! - `entry`: one deploy entry, key by key (a table of the keys the cargo provider takes);
//! - `rules`: the entry's `on:` rules (branches, tags, repo, runtimes, conditions);
//! - `expr`: Travis's condition language (`if:`);
//! - `yaml`: YAML 1.1 as Ruby read it.
//!
//! Reads only: what it can't carry over it says, it never runs anything, and it knows nothing
//! of shipcrate's own config (which depends on it, not the other way round).

mod entry;
pub(crate) mod expr;
mod file;
mod jobs;
mod rules;
mod yaml;

use std::path::Path;

use figment::value::{Dict, Map};
use figment::{Metadata, Profile, Provider, Source};

pub(crate) use file::read;
pub(crate) use jobs::{Built, JobRule};

/// The cargo deploy entries of a `.travis.yml`, in shipcrate's keys.
#[derive(Debug, Clone)]
#[allow(
    dead_code,
    reason = "global_env and job_envs are read by migrate's next change"
)]
pub(crate) struct Travis {
    /// In file order; Travis ran each with its own rules.
    pub entries: Vec<Entry>,
    /// What was ignored or could not be carried over, for the log and for `migrate`.
    pub notes: Vec<String>,
    /// The branches and tags Travis built at all (`branches.only` / `except`).
    pub built: Option<Built>,
    /// `env.global`'s assignments: every job had them.
    pub global_env: Vec<(String, String)>,
    /// Each job's own `env:` assignments (matrix `env` lists, `jobs.include` entries).
    pub job_envs: Vec<Vec<(String, String)>>,
}

/// One `provider: cargo` entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// `deploy entry #2`, or `jobs.include #3, deploy entry #1`.
    pub label: String,
    /// shipcrate keys (`token`, `allow_dirty`, `on.*`, `before_deploy`, `after_deploy`).
    pub settings: Dict,
    /// Where the token comes from.
    pub token: TokenRule,
    /// `on.<runtime>` rules: `TRAVIS_<NAME>_VERSION` must equal the value, as written.
    pub runtimes: Vec<Runtime>,
    /// The `if:` of the `jobs.include` job that holds this entry.
    pub job_if: Option<String>,
    /// The job that runs this entry, when a `jobs.include` entry holds it: another job skips.
    pub job: Vec<JobRule>,
}

/// A runtime rule: `on.rust: stable` holds when `TRAVIS_RUST_VERSION` is `stable`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Runtime {
    /// As written in `on:` (`rust`, `node_js`).
    pub key: String,
    /// `TRAVIS_RUST_VERSION`.
    pub var: String,
    pub value: String,
}

/// The `token` of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenRule {
    /// None given: the environment's (dpl read `CARGO_TOKEN`).
    Environment,
    /// `secure:`: only Travis could decrypt it, so the environment's.
    Encrypted,
    /// A `$VAR` reference or a literal, in `settings`.
    Given,
    /// The deprecated per-branch map: the current branch's value (`None`: encrypted).
    PerBranch(Vec<(String, Option<String>)>),
}

/// One deploy entry of the `.travis.yml` as a figment layer, its values attributed to the file.
pub(crate) struct Layer<'a> {
    pub path: &'a Path,
    pub entry: &'a Entry,
}

impl Provider for Layer<'_> {
    fn metadata(&self) -> Metadata {
        Metadata::from(
            format!(".travis.yml ({})", self.entry.label),
            Source::File(self.path.to_path_buf()),
        )
    }

    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        Ok(Profile::Default.collect(self.entry.settings.clone()))
    }
}

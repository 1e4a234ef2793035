//! The run's first steps, shared by `publish` and `explain`: the settings read and every token
//! masked, where we run and whether this build publishes ([`settle`]); then the pristine copy,
//! the plan and the registry's index, made side by side ([`prepare`]).
//!
//! Uploads nothing and runs no hook: what happens after the decision is `run`'s.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::checkout::{self, PristineTree};
use crate::ci::{self, BuildContext, Provider};
use crate::conditions::{self, Decision};
use crate::config::Flags;
use crate::config::{self, CiMode, Config, TrustedMode};
use crate::destination;
use crate::error::UsageError;
use crate::git::{GitFacts, short};
use crate::index::{self, Index};
use crate::plan::{self, Plan};
use crate::publish::Cargo;
use crate::registry::Target;
use crate::report::Reporter;
use crate::secret::{self, LiveToken, Token};
use crate::tools::{self, Tools};
use crate::trusted::{self, Session};
use crate::{Env, cmd, container, git, hooks, ownership, signals};

/// What the run knows once its settings are read and the build is placed.
pub(crate) struct Settled {
    /// The repository's root (the checkout).
    pub(crate) root: PathBuf,
    /// The config of the deploy entry this build uses.
    pub(crate) cfg: Config,
    pub(crate) ctx: BuildContext,
    pub(crate) tools: Tools,
    pub(crate) decision: Decision,
    /// For builds (cargo, git): no credential at all.
    pub(crate) clean_env: Env,
    /// For hooks and conditions: the CI's own credentials, no registry token.
    pub(crate) hook_base: Env,
}

/// 1.–4. The settings, every token they can name masked, the tools, where we run, and whether
/// this build may publish (with several `.travis.yml` deploy entries, the first whose rules
/// hold publishes, with its settings). Also the token `cfg` names, resolved: its error only
/// matters once the build publishes (fork PRs have empty secrets).
pub(crate) fn settle(
    root: PathBuf,
    facts: &GitFacts,
    env: &Env,
    unreadable: &[String],
    flags: &Flags,
    reporter: &Reporter,
) -> Result<(Settled, Result<Option<Token>>)> {
    // 1. Settings, and the repository they belong to.
    let cfg = config::load(&root, env, flags)?;
    secret::refuse_unreadable(unreadable, cfg.token.as_ref())?;
    for note in &cfg.notes {
        reporter.status("Note", note);
    }

    // 2. Every token the config can name, resolved now so it is masked before anything runs.
    let (clean_env, hook_base) = mask_tokens(&cfg, env, reporter);

    // 3. Tools, then where we run.
    let tools = tools::find(env, &root)?;
    let mut ctx = ci::detect(env, facts);
    if ctx.provider == Provider::Git
        && cfg.ci == CiMode::Auto
        && let Some(mark) = container::detect(Path::new("/"))
    {
        ci::hidden(&mut ctx, &mark, !cfg.dry_run);
    }
    // Whatever `ci` says: the CI's own variables are here, only not all of them.
    if !ctx.unseen.is_empty() {
        ci::partial(&mut ctx, !cfg.dry_run);
    }
    for warning in &ctx.warnings {
        reporter.warn(warning);
    }

    // 4. May this build publish?
    let labels: Vec<(&str, &config::On)> = std::iter::once(&cfg)
        .chain(&cfg.later_entries)
        .map(|c| (c.entry.as_deref().unwrap_or("the config"), &c.on))
        .collect();
    let choice = conditions::choose(&labels, &ctx, env, |command| {
        hooks::condition(command, &tools, &root, &hook_base, reporter.masker())
    })?;
    for note in &choice.notes {
        reporter.status("Note", note);
    }
    // Settings and hooks are the checkout's, the copy is the commit the CI built: the same.
    if let Some(moved) = ci::moved(&ctx, facts, |rev| git::resolve_commit(&root, rev)) {
        match choice.decision {
            Decision::Publish if !cfg.dry_run => return Err(UsageError(moved).into()),
            _ => reporter.warn(&moved),
        }
    }
    let cfg = entry_for_build(cfg, choice.index, &ctx);
    let token = secret::resolve(cfg.token.as_ref(), &cfg.target, env);
    let settled = Settled {
        root,
        cfg,
        ctx,
        tools,
        decision: choice.decision,
        clean_env,
        hook_base,
    };
    Ok((settled, token))
}

/// Every token any deploy entry can name goes to the reporter's masker and out of the
/// children's environments: builds (cargo, git) get no credential at all; hooks and
/// conditions keep the CI's own. An unresolvable token is no error here.
fn mask_tokens(cfg: &Config, env: &Env, reporter: &Reporter) -> (Env, Env) {
    let id_token_var = cfg.trusted.token_env.as_slice();
    let mut clean_env = secret::scrub(env, None, id_token_var, secret::Child::Build);
    let mut hook_base = secret::scrub(env, None, id_token_var, secret::Child::Hook);
    for entry in std::iter::once(cfg).chain(&cfg.later_entries) {
        let settings = std::iter::once(entry.token.as_ref())
            .chain(entry.token_by_branch.iter().map(|(_, t)| t.as_ref()));
        for setting in settings {
            if let Ok(Some(token)) = secret::resolve_as_given(setting, &entry.target, env) {
                if !reporter.add_secret(token.expose()) {
                    reporter.warn(&format!(
                        "the token from {} is {} characters long: too short to be a registry's \
                         token, and too short to mask without hiding the same characters all \
                         over the log, so it is not masked. Check the secret's value",
                        token.from,
                        token.expose().chars().count()
                    ));
                }
                let token = Some(&token);
                clean_env = secret::scrub(&clean_env, token, id_token_var, secret::Child::Build);
                hook_base = secret::scrub(&hook_base, token, id_token_var, secret::Child::Hook);
            }
        }
    }
    (clean_env, hook_base)
}

/// The config of the deploy entry that publishes (the first when none does), with a per-branch
/// `token` map's value for this build's branch (Travis's branch is the tag on a tag build).
fn entry_for_build(mut cfg: Config, index: Option<usize>, ctx: &BuildContext) -> Config {
    if let Some(i) = index.filter(|i| *i > 0) {
        cfg = cfg.later_entries.swap_remove(i - 1);
    }
    let branch = ctx.branch.as_ref().or(ctx.tags.first());
    if !cfg.token_by_branch.is_empty() {
        cfg.token = cfg
            .token_by_branch
            .iter()
            .find(|(b, _)| Some(b) == branch)
            .and_then(|(_, t)| t.clone());
    }
    cfg
}

/// The token a publishing build uploads with: the one configured, or a trusted-publishing
/// session that mints one at the upload; with neither, the error the run stops with (exit
/// 2) — a dry run goes on without. `explain` asks the same, so it says what a run would do.
pub(crate) fn credentials(
    settled: &Settled,
    token: Result<Option<Token>>,
    env: &Env,
    reporter: &Reporter,
) -> Result<(LiveToken, Option<Session>)> {
    let cfg = &settled.cfg;
    let token = match token {
        Ok(token) => token,
        Err(error) if cfg.dry_run => {
            reporter.warn(&format!("{error:#}; the dry run goes on without a token"));
            None
        }
        Err(error) => return Err(error),
    };
    // Trusted publishing: a short-lived token from the CI's identity, minted right before the
    // uploads (after verification, so a slow build doesn't eat its life), renewed before it
    // runs out, revoked on every way out (drop, signal). Every user of the token — cargo,
    // the index — reads the one in force from `live`.
    let live = LiveToken::new(token);
    let trusted = trusted::session(
        cfg.trusted_publishing(),
        env,
        settled.ctx.provider,
        live.get().is_some(),
        &live,
        reporter.masker(),
    )?;
    if trusted.is_none() && live.get().is_none() && !cfg.dry_run {
        return Err(no_token(cfg, settled.ctx.provider, env));
    }
    Ok((live, trusted))
}

/// No token and no trusted publishing: what to set. dpl read `CARGO_TOKEN` too (a
/// `.travis.yml` user may have it already); on GitHub, where `trusted_publishing: auto`
/// would have minted one, the job lacks `id-token: write` (`trusted::session` says so
/// itself only when it must: `always`).
fn no_token(cfg: &Config, provider: Provider, env: &Env) -> anyhow::Error {
    let missing = secret::missing(&cfg.target, env);
    let trusted_could = cfg.trusted.mode == TrustedMode::Auto
        && (cfg.target == Target::CratesIo || cfg.trusted.url.is_some());
    match (&cfg.entry, &cfg.target) {
        (Some(_), Target::CratesIo) => {
            missing.context("`.travis.yml`'s deploy takes `CARGO_TOKEN` as well")
        }
        _ if provider == Provider::GithubActions && trusted_could => UsageError(format!(
            "{missing}; or, for trusted publishing (`trusted_publishing: auto`), give the job \
             `permissions: id-token: write` — GitHub gave it no ID token (with `docker run`, \
             also pass `-e ACTIONS_ID_TOKEN_REQUEST_URL -e ACTIONS_ID_TOKEN_REQUEST_TOKEN`)"
        ))
        .into(),
        _ => missing,
    }
}

/// What [`prepare`] makes: the pristine copy (`None` with `allow_dirty`), the plan, the
/// registry's index, and the dry run of the whole workspace when it was started early.
pub(crate) struct Prepared {
    pub(crate) tree: Option<PristineTree>,
    pub(crate) plan: Plan,
    pub(crate) index: Index,
    pub(crate) verifying: Option<Verifying>,
}

/// `cargo publish --dry-run --workspace`, started as soon as the copy exists — while the plan
/// is made and the index read — with its output held back. The run takes it over when the
/// plan is exactly what it verifies, where and how it builds it; else dropping it stops it.
pub(crate) struct Verifying {
    /// `None` once taken over.
    cargo: Option<cmd::Streaming>,
    /// Where it runs, and the target dir it builds in: the plan's, or it is dropped.
    pub(crate) dir: PathBuf,
    pub(crate) target_dir: PathBuf,
    /// The checkout, whose owner gets back what it built when it is dropped.
    root: PathBuf,
}

impl Verifying {
    /// It is the run's verification: the run finishes it (and hands the target dir back).
    pub(crate) fn take_over(mut self) -> Option<cmd::Streaming> {
        self.cargo.take()
    }
}

impl Drop for Verifying {
    /// Not taken over: stopped with everything it started, then what it built in the
    /// checkout's target dir handed back to the checkout's owner (the run may end before its
    /// own hand-back exists, or use another target dir).
    fn drop(&mut self) {
        if let Some(cargo) = self.cargo.take() {
            drop(cargo);
            if let Err(error) = ownership::hand_back(&self.root, &self.target_dir) {
                signals::unreported(&format!("warning: {error:#}"));
            }
        }
    }
}

/// 6. The pristine copy (or, with `allow_dirty`, the working tree as it is). Meanwhile, on
///    threads of their own, cargo's version is checked and the registry's index read.
/// 7. The plan: which crates, in which order (tag checks are the caller's).
/// 8. The index as cargo in the tree finds it.
///
/// `verify_early`: a verification will follow; start it now when the whole workspace is
/// selected (no `path` below the root, no `packages`, no `exclude`, no tag that may name one
/// crate) in a pristine copy.
pub(crate) fn prepare(
    settled: &Settled,
    commit: &str,
    token: &LiveToken,
    verify_early: bool,
    reporter: &Reporter,
) -> Result<Prepared> {
    let Settled {
        root,
        cfg,
        tools,
        clean_env,
        ..
    } = settled;
    let root = root.as_path();
    std::thread::scope(|threads| -> Result<_> {
        let version = threads.spawn(|| tools::cargo_version(&tools.cargo, root, clean_env));
        // Read early only where the checkout's cargo config leaves the token where the
        // environment says; the pristine copy is checked for good below.
        let early_url = destination::check(&cfg.target, &root.join(&cfg.path), root, clean_env)
            .ok()
            .and_then(|_| index::url_for(&cfg.target, &root.join(&cfg.path), clean_env).ok());
        let prefetch = early_url
            .clone()
            .map(|url| threads.spawn(|| Index::open(url, clean_env, &tools.git, token)));
        let edits = (!cfg.allow_dirty).then(|| threads.spawn(|| git::uncommitted(root)));
        let tree: Option<PristineTree> = if cfg.allow_dirty {
            reporter
                .warn("`allow_dirty` is set: publishing the working tree as it is, not the commit");
            None
        } else {
            reporter.status(
                "Copying",
                &format!("commit {} to a pristine tree", short(commit)),
            );
            let hooks = !cfg.before_deploy.is_empty() || !cfg.after_deploy.is_empty();
            Some(checkout::create(
                &tools.git, root, commit, &cfg.path, clean_env, hooks,
            )?)
        };
        if let Some(pointers) = tree.as_ref().map(PristineTree::lfs_pointers) {
            note_lfs_pointers(pointers, reporter);
        }
        if let Some(edits) = edits {
            note_edits(&joined(edits), reporter);
        }
        let tree_root = tree.as_ref().map_or(root, PristineTree::root);
        // Before any token is handed over (an early dry run, the index of an `auth-required`
        // registry): the commit's cargo config may not send it elsewhere.
        let destination = destination::check(
            &cfg.target,
            &tree_root.join(&cfg.path),
            tree_root,
            clean_env,
        )?;
        let whole = whole_workspace(settled);
        let target_dir = tree
            .as_ref()
            .and_then(|tree| plan::target_dir_before_metadata(root, tree.root(), clean_env));
        let mut verifying = match (&tree, target_dir) {
            (Some(tree), Some(target_dir)) if verify_early && whole => {
                let dir = tree.root().join(&cfg.path);
                // Should it not start, the verification starts after the plan, as it
                // otherwise does.
                let cargo = Cargo::in_dir(
                    &tools.cargo,
                    &dir,
                    &target_dir,
                    cfg.cargo_flags(),
                    token,
                    clean_env,
                    reporter.masker(),
                )
                .verify_workspace()
                .ok();
                cargo.map(|cargo| Verifying {
                    cargo: Some(cargo),
                    dir,
                    target_dir,
                    root: root.to_path_buf(),
                })
            }
            _ => None,
        };

        // 7. The plan: which crates, in which order. cargo's version is only awaited now (a
        //    cargo too old for shipcrate explains a plan that failed, so it is said first).
        let plan = plan::plan(&tools.cargo, tree_root, root, cfg.selection(), clean_env);
        reporter.status("Using", &joined(version)?);
        let plan = plan?;
        // The early dry run may have packaged before these files were there.
        if tree.is_some() && checkout::ensure(&tools.git, tree_root, &plan.referenced, clean_env)? {
            verifying = None;
        }

        // 8. The index as cargo in the tree finds it: the one read early, unless the commit's
        //    cargo config names another than the checkout's.
        let url = index::url_for(&cfg.target, &plan.dir, clean_env)?;
        let index = match prefetch {
            Some(read) if early_url.as_deref() == Some(url.as_str()) => joined(read),
            _ => Index::open(url, clean_env, &tools.git, token),
        }
        .with_context(|| format!("could not read the index of {}", cfg.target))?;
        say_destination(&cfg.target, &index, &destination, reporter);
        Ok(Prepared {
            tree,
            plan,
            index,
            verifying,
        })
    })
}

/// Whether the plan will be the whole workspace, as a dry run of it verifies: no `path` below
/// the root, no `packages`, no `exclude`; no `features` (`--workspace` checks them against
/// every member); no tag that may name one crate (it narrows the plan to that crate, so a dry
/// run of the whole workspace would only be stopped).
fn whole_workspace(settled: &Settled) -> bool {
    let cfg = &settled.cfg;
    let names_a_crate = settled.ctx.is_tag_build()
        && settled
            .ctx
            .tags
            .iter()
            .any(|tag| plan::may_name_a_crate(tag));
    (cfg.path.as_os_str().is_empty() || cfg.path == Path::new("."))
        && cfg.packages.is_empty()
        && cfg.exclude.is_empty()
        && cfg.features.is_empty()
        && !names_a_crate
}

/// Files the copy holds as Git LFS pointers, not their content: said, since a package
/// holding them would ship the pointer text.
pub(crate) fn note_lfs_pointers(pointers: &[String], reporter: &Reporter) {
    if let Some(warning) = checkout::lfs_pointers_said(pointers) {
        reporter.warn(&warning);
    }
}

/// Edits in the checkout that the copy leaves out: said once, since a user who just edited a
/// file may expect it to ship.
fn note_edits(edits: &[String], reporter: &Reporter) {
    if edits.is_empty() {
        return;
    }
    let mut named = edits
        .iter()
        .take(3)
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>();
    if edits.len() > 3 {
        named.push(format!("and {} more", edits.len() - 3));
    }
    reporter.status(
        "Note",
        &format!(
            "uncommitted changes to {} tracked file(s) ({}) are not published: the commit is, \
             not the working tree (commit them first, or set `allow_dirty: true` to publish the \
             working tree as it is)",
            edits.len(),
            named.join(", ")
        ),
    );
}

/// `Token for registry `x` goes to <api> (index <url>)`, and when the commit alone defines
/// the registry, which file does.
fn say_destination(
    target: &crate::registry::Target,
    index: &Index,
    destination: &destination::Destination,
    reporter: &Reporter,
) {
    let to = index.api().unwrap_or(index.url());
    let defined = destination
        .commit_only
        .as_ref()
        .map(|file| {
            format!(
                "; {target} is defined only by the commit's `{}`",
                file.display()
            )
        })
        .unwrap_or_default();
    reporter.status(
        "Token",
        &format!("for {target} goes to {to} (index {}){defined}", index.url()),
    );
}

/// The commit to copy: the built one; an unborn HEAD has none.
pub(crate) fn commit(ctx: &BuildContext, what: &str) -> Result<String> {
    ctx.commit
        .clone()
        .with_context(|| format!("no commit to {what}: HEAD is unborn"))
}

/// A thread's result; its panic goes on in ours.
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

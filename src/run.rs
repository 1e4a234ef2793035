//! The pipeline, as numbered steps. Checks that can fail for bad config all run before anything
//! irreversible; the report is written whatever happens after the decision.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::checkout::{self, PristineTree};
use crate::ci::{self, BuildContext};
use crate::cli::{Action, Invocation};
use crate::conditions::{self, Decision};
use crate::config::{self, Config, Mismatch, Target};
use crate::index::{self, Index};
use crate::outcome::{CrateOutcome, Outcome};
use crate::plan::{self, Package, Plan};
use crate::publish::{Cargo, Forever, TokenLife};
use crate::report::{ReportFiles, Reporter, Summary};
use crate::secret::{self, LiveToken};
use crate::{Env, compare, git, hooks, ownership, retry, signals, tools, travis, trusted};

/// Run shipcrate as the process was started: its environment and working directory.
pub fn run(invocation: Invocation) -> Result<()> {
    let mut env = Env::new();
    let mut unreadable = Vec::new();
    for (key, value) in std::env::vars_os() {
        match (key.into_string(), value.into_string()) {
            (Ok(key), Ok(value)) => {
                env.insert(key, value);
            }
            (key, _) => unreadable.push(key.unwrap_or_else(|k| k.to_string_lossy().into_owned())),
        }
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut reporter = Reporter::new(&env);
    let result = refuse_unreadable(&unreadable, None)
        .and_then(|()| signals::install().context("could not install signal handlers"))
        .and_then(|()| pipeline(&invocation, &env, &unreadable, &cwd, &mut reporter));
    if let Err(error) = &result {
        reporter.error(&format!("{error:#}"));
    }
    result
}

/// A variable shipcrate reads that isn't UTF-8 would otherwise read as "not set": settings
/// (`SHIPCRATE_*`, `INPUT_*`), cargo's token variables, and the one `token` names.
fn refuse_unreadable(names: &[String], token: Option<&config::TokenSetting>) -> Result<()> {
    let named = token.and_then(secret::reference_name);
    let read = |name: &str| {
        ["SHIPCRATE_", "INPUT_", "CARGO_REGISTRIES_"]
            .iter()
            .any(|p| name.starts_with(p))
            || matches!(name, "CARGO_REGISTRY_TOKEN" | "CARGO_TOKEN")
            || Some(name) == named
    };
    match names.iter().find(|name| read(name)) {
        Some(name) => Err(crate::error::UsageError(format!(
            "`{name}` is not valid UTF-8: shipcrate reads its settings and tokens as text. \
             Check how the variable is set (an encoding mix-up, or binary data)"
        ))
        .into()),
        None => Ok(()),
    }
}

fn pipeline(
    invocation: &Invocation,
    env: &Env,
    unreadable: &[String],
    cwd: &Path,
    reporter: &mut Reporter,
) -> Result<()> {
    // 1. Settings, and the repository they belong to.
    if let Action::Migrate {
        to,
        file: Some(file),
    } = &invocation.action
    {
        print!("{}", travis::migrate(&travis::read(&cwd.join(file))?, *to));
        return Ok(());
    }
    let (root, facts) = git::open(cwd)?;
    if let Action::Copy { dir, commit } = &invocation.action {
        return copy_only(
            &root,
            &facts,
            env,
            &cwd.join(dir),
            commit.as_deref(),
            reporter,
        );
    }
    if let Action::Migrate { to, file: None } = invocation.action {
        print!(
            "{}",
            travis::migrate(&travis::read(&root.join(".travis.yml"))?, to)
        );
        return Ok(());
    }
    let cfg = config::load(&root, env, &invocation.flags)?;
    refuse_unreadable(unreadable, cfg.token.as_ref())?;
    for note in &cfg.notes {
        reporter.status("Note", note);
    }

    // 2. Every token the config can name, resolved now so it is masked before anything runs;
    //    an unresolvable one only matters once we know this build publishes (fork PRs have
    //    empty secrets).
    //    Builds (cargo, git) get no credential at all; hooks and conditions keep the CI's own.
    let id_token_var = cfg.trusted.token_env.as_slice();
    let mut clean_env = secret::scrub(env, None, id_token_var, secret::Child::Build);
    let mut hook_base = secret::scrub(env, None, id_token_var, secret::Child::Hook);
    for entry in std::iter::once(&cfg).chain(&cfg.later_entries) {
        let settings = std::iter::once(entry.token.as_ref())
            .chain(entry.token_by_branch.iter().map(|(_, t)| t.as_ref()));
        for setting in settings {
            if let Ok(Some(token)) = secret::resolve(setting, &entry.target, env) {
                reporter.add_secret(token.expose());
                let token = Some(&token);
                clean_env = secret::scrub(&clean_env, token, id_token_var, secret::Child::Build);
                hook_base = secret::scrub(&hook_base, token, id_token_var, secret::Child::Hook);
            }
        }
    }

    // 3. Tools, then where we run.
    let tools = tools::find(env, &root)?;
    let ctx = ci::detect(env, &facts);
    for warning in &ctx.warnings {
        reporter.warn(warning);
    }

    // 4. May this build publish? With several `.travis.yml` deploy entries, the first whose
    //    rules hold publishes, with its settings.
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
    let decision = choice.decision;
    let cfg = entry_for_build(cfg, choice.index, &ctx);
    let token = secret::resolve(cfg.token.as_ref(), &cfg.target, env);

    if invocation.action == Action::Explain {
        let token = token.as_ref().ok().and_then(Option::as_ref);
        explain(
            &cfg,
            &ctx,
            &tools::cargo_version(&tools.cargo, &root, &clean_env)?,
            token,
        );
        if let (Some(entry), Decision::Publish) = (&cfg.entry, &decision) {
            println!("\nDeploy entry:    {entry} (.travis.yml), the first whose rules hold");
        }
        // The plan as a run would make it, from a pristine copy that is gone again after.
        let planned = ctx
            .commit
            .as_deref()
            .context("no commit to plan: HEAD is unborn")
            .and_then(|commit| {
                let live = LiveToken::new(token.cloned());
                let (_tree, mut plan, index) =
                    copy_and_plan(&tools, &root, &cfg, commit, &live, &clean_env, reporter)?;
                if cfg.check_tag && ctx.is_tag_build() {
                    plan::check_tags(&mut plan, &ctx.tags)?;
                }
                let listed = plan
                    .publish
                    .iter()
                    .map(|p| {
                        Ok(index
                            .versions(&p.name)?
                            .iter()
                            .any(|v| v.version == p.version))
                    })
                    .collect::<Result<Vec<bool>>>()?;
                Ok((plan, listed))
            });
        return explain_plan(&decision, &cfg.target, planned);
    }
    let files = ReportFiles {
        json: cfg.report.clone(),
        dotenv: cfg.dotenv.clone(),
    };
    let summary = |crates| Summary {
        decision: decision.clone(),
        dry_run: cfg.dry_run,
        commit: ctx.commit.clone(),
        registry: cfg.target.to_string(),
        crates,
    };
    if let Decision::Skip(why) = &decision {
        reporter.notice(&format!("not publishing: {why}"));
        return reporter.finish(&summary(Vec::new()), &files, env);
    }

    // 5. Pre-flight: a token when one is needed, a commit to copy.
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
    let mut trusted = trusted::session(
        &cfg,
        env,
        ctx.provider,
        live.get().is_some(),
        &live,
        reporter.masker(),
    )?;
    if trusted.is_none() && live.get().is_none() && !cfg.dry_run {
        let missing = secret::missing(&cfg.target, env);
        // dpl read `CARGO_TOKEN` too; a `.travis.yml` user may have it already.
        return Err(match (&cfg.entry, &cfg.target) {
            (Some(_), Target::CratesIo) => {
                missing.context("`.travis.yml`'s deploy takes `CARGO_TOKEN` as well")
            }
            _ => missing,
        });
    }
    if let Some(token) = live.get() {
        reporter.status("Token", &format!("from {}", token.from));
    }
    let commit = ctx
        .commit
        .clone()
        .context("no commit to publish: HEAD is unborn")?;

    // 6.–8. The pristine copy, the plan, the registry's index.
    let (tree, mut plan, index) =
        copy_and_plan(&tools, &root, &cfg, &commit, &live, &clean_env, reporter)?;
    let tree_root = tree.as_ref().map_or(root.as_path(), PristineTree::root);
    let target_dir = plan.target_dir.clone();
    let _hand_back = HandBack {
        root: &root,
        dir: &target_dir,
        reporter,
    };
    if cfg.check_tag && ctx.is_tag_build() {
        plan::check_tags(&mut plan, &ctx.tags)?;
    }
    let mut outcomes: Vec<CrateOutcome> = plan
        .skipped
        .iter()
        .map(|(p, why)| CrateOutcome::new(p, Outcome::Skipped, Some(why.clone())))
        .collect();
    let cargo = Cargo::new(
        &tools.cargo,
        &plan,
        &cfg,
        &live,
        &clean_env,
        index.auth_required(),
        reporter.masker(),
    );

    // 9. Pre-flight, all before any upload: what the registry has already, and whether it is
    //    what this commit holds.
    let mut upload = Vec::new();
    let mut new_crates = 0;
    let mut new_names: Vec<String> = Vec::new();
    for package in &plan.publish {
        let listed = index.versions(&package.name)?;
        if listed.is_empty() {
            new_crates += 1;
            new_names.push(package.name.clone());
        }
        if !listed.iter().any(|v| v.version == package.version) {
            upload.push(package.clone());
            continue;
        }
        let changed = compare::differences(
            &cargo.package(package)?,
            &index.download(&package.name, &package.version)?,
        )?;
        let mut reason = "already published".to_owned();
        if !changed.is_empty() {
            let differs = format!(
                "{} is already published, but the commit's content differs: {}",
                package.spec(),
                changed.join(", ")
            );
            if plan.tagged.contains(&package.name) {
                // The tag names this very release: it was moved after the release, or the
                // release was made from another commit. Never a warning.
                bail!(
                    "{differs}. The tag names this version, so the commit is not what was \
                     released: was the tag moved after the release? Bump the version for the \
                     new content (`check_tag: false` turns this check off)"
                );
            }
            let message = format!(
                "{differs}. The code changed without a version bump; bump the version in \
                 Cargo.toml to release it"
            );
            match cfg.checksum_mismatch {
                Mismatch::Fail => bail!("{message} (`checksum_mismatch: fail` is set)"),
                Mismatch::Warn => reporter.warn(&message),
            }
            reason = format!(
                "already published; the commit differs in {}",
                changed.join(", ")
            );
        }
        outcomes.push(CrateOutcome::new(
            package,
            Outcome::AlreadyPublished,
            Some(reason),
        ));
    }
    print_plan(reporter, &plan, &upload);
    let new_versions = upload.len().saturating_sub(new_crates);
    if matches!(cfg.target, Target::CratesIo)
        && !cfg.dry_run
        && let Some(minutes) = retry::crates_io_wait_minutes(new_crates, new_versions)
    {
        reporter.warn(&format!(
            "this plan has {new_crates} new crate(s) and {new_versions} new version(s), beyond \
             crates.io's burst (5 new crates, 30 new versions): expect about {minutes} minutes of \
             rate-limit waits, which shipcrate will sit out"
        ));
    }
    if upload.is_empty() {
        reporter.notice("nothing to upload: every crate in the plan is published or skipped");
        return reporter.finish(&summary(outcomes), &files, env);
    }
    let crates: Vec<String> = upload.iter().map(Package::spec).collect();

    // A dry run reads the index no further: its temp dir goes while cargo builds, not after.
    let mut index = Some(index);
    let _index_gone = DropBehind::start(if cfg.dry_run { index.take() } else { None });

    // 10. Verify every crate, each against the others' new versions, in one dry run (as
    //     cargo's multi-package publish does): each is built once, and a crate that doesn't
    //     build stops the run before any hook runs or anything is uploaded.
    let mut halted: Option<anyhow::Error> = None;
    let verify_first = cfg.dry_run || !cfg.no_verify;
    if verify_first {
        let when = if cfg.dry_run {
            "(dry run)"
        } else {
            "before uploading any"
        };
        reporter.status("Verifying", &format!("{} {when}", crates.join(", ")));
        let checked = cargo.dry_run(&upload, reporter)?;
        let failed: Vec<String> = checked
            .iter()
            .filter(|c| c.outcome == Outcome::Failed)
            .map(|c| format!("{}@{}", c.name, c.version))
            .collect();
        match failed.as_slice() {
            _ if cfg.dry_run => outcomes.extend(checked),
            // All verified: the uploads below report each crate.
            [] => {}
            failed => {
                // One crate when cargo's output named it; else the dry run as a whole.
                let why = match failed {
                    [bad] => format!("{bad} failed to verify"),
                    _ => "the dry run before the first upload failed".to_owned(),
                };
                halted = Some(anyhow::anyhow!("{why}: nothing was uploaded"));
                outcomes.extend(checked.into_iter().map(|c| match c.outcome {
                    Outcome::Failed => c,
                    _ => CrateOutcome {
                        outcome: Outcome::NotStarted,
                        reason: Some(why.clone()),
                        duration_ms: 0,
                        ..c
                    },
                }));
            }
        }
    }

    // 11. The trusted-publishing token, minted now that every crate has built (a slow build
    //     doesn't eat its life) and, on GitHub, before any hook runs (renewal is free there;
    //     a GitLab job's one JWT is minted right before the first upload instead, so a long
    //     hook doesn't eat its life); then before_deploy — only when something will really
    //     be uploaded.
    if !cfg.dry_run
        && halted.is_none()
        && let Some(session) = &mut trusted
        && session.mints_freely()
        && let Err(error) = session.ensure(std::time::Duration::ZERO, reporter)
    {
        outcomes.extend(upload.iter().map(|p| {
            CrateOutcome::new(
                p,
                Outcome::NotStarted,
                Some("no trusted-publishing token".into()),
            )
        }));
        reporter.finish(&summary(outcomes), &files, env)?;
        return Err(error.context("nothing was published"));
    }
    let mut hook_env = hook_base.clone();
    hook_env.insert("SHIPCRATE_COMMIT".into(), commit.clone());
    hook_env.insert("SHIPCRATE_CRATES".into(), crates.join(" "));
    hook_env.insert(
        "SHIPCRATE_PRISTINE_DIR".into(),
        tree_root.display().to_string(),
    );
    let run_hooks = |stage: &str, commands: &[String]| -> Result<()> {
        if cfg.dry_run {
            for command in commands {
                reporter.status("Would run", &format!("{stage} hook `{command}` (dry run)"));
            }
            return Ok(());
        }
        if cfg.entry.is_none() || commands.is_empty() {
            return hooks::run(
                stage,
                commands,
                &tools.sh,
                &root,
                &hook_env,
                reporter.masker(),
                reporter,
            );
        }
        // `.travis.yml`: as Travis ran them, in one bash shell.
        let bash = tools.bash.as_deref().with_context(|| {
            format!("Travis ran {stage} hooks with bash, and `bash` is not on PATH")
        })?;
        let assert = stage == "before_deploy";
        let (failed, end) = hooks::run_in_one_shell(
            stage,
            commands,
            bash,
            &root,
            &hook_env,
            reporter.masker(),
            assert,
        )?;
        for (command, code) in failed {
            reporter.warn(&format!(
                "{stage} hook `{command}` failed with exit status {code}; the rest ran, as on \
                 Travis, where {stage} failures did not fail the build"
            ));
        }
        if assert && fs_err::canonicalize(&end).ok() != fs_err::canonicalize(&root).ok() {
            reporter.status(
                "Note",
                &format!(
                    "the {stage} hooks ended in {}; the publish still runs in the pristine copy \
                     of the commit",
                    end.display()
                ),
            );
        }
        Ok(())
    };
    if halted.is_none()
        && let Err(error) = run_hooks("before_deploy", &cfg.before_deploy)
    {
        outcomes.extend(upload.iter().map(|p| {
            CrateOutcome::new(p, Outcome::NotStarted, Some("before_deploy failed".into()))
        }));
        reporter.finish(&summary(outcomes), &files, env)?;
        return Err(error.context("nothing was published"));
    }

    // 12. Upload, in order, each crate visible in the index before anything that needs it.
    if let Some(index) = index.as_mut()
        && halted.is_none()
    {
        let life: &mut dyn TokenLife = match &mut trusted {
            Some(session) => session,
            None => &mut Forever,
        };
        let uploads = cargo.upload(&upload, index, life, reporter);
        outcomes.extend(uploads.outcomes);
        halted = uploads.halted;
    }
    let failed = halted.is_some() || outcomes.iter().any(|c| c.outcome == Outcome::Failed);
    for crate_ in outcomes.iter().filter(|c| c.outcome == Outcome::Failed) {
        let reason = crate_.reason.as_deref().unwrap_or_default();
        if reason.contains("Trusted Publishing") && trusted.is_none() {
            reporter.warn(&format!(
                "{} accepts only trusted publishing: drop the token and give the job an OIDC \
                 identity (GitHub: `permissions: id-token: write`; GitLab: `id_tokens:`)",
                crate_.name
            ));
        } else if trusted.is_some() && new_names.contains(&crate_.name) {
            reporter.warn(&format!(
                "{} is a new crate: its first publish needs a normal API token; trusted \
                 publishing works from its second release on",
                crate_.name
            ));
        }
    }

    // 13. after_deploy, then the report — written whatever happened above.
    let after = if failed {
        Ok(())
    } else {
        run_hooks("after_deploy", &cfg.after_deploy)
    };
    drop(cargo);
    drop(index);
    drop(tree);
    if let Some(mut session) = trusted {
        session.close(reporter);
    }
    reporter.finish(&summary(outcomes.clone()), &files, env)?;
    if failed {
        let list = |o: Outcome| {
            let names: Vec<String> = outcomes
                .iter()
                .filter(|c| c.outcome == o)
                .map(|c| format!("{} v{}", c.name, c.version))
                .collect();
            if names.is_empty() {
                "nothing".to_owned()
            } else {
                names.join(", ")
            }
        };
        let why = halted.map(|e| format!("{e:#}; ")).unwrap_or_default();
        bail!(
            "{why}published: {}; failed: {}; not started: {}",
            list(Outcome::Published),
            list(Outcome::Failed),
            list(Outcome::NotStarted)
        );
    }
    after
}

/// 6. The pristine copy (or, with `allow_dirty`, the working tree as it is). Meanwhile, on
///    threads of their own, cargo's version is checked and the registry's index read.
/// 7. The plan: which crates, in which order.
/// 8. The index as cargo in the tree finds it.
fn copy_and_plan(
    tools: &tools::Tools,
    root: &Path,
    cfg: &Config,
    commit: &str,
    token: &LiveToken,
    clean_env: &Env,
    reporter: &Reporter,
) -> Result<(Option<PristineTree>, Plan, Index)> {
    std::thread::scope(|threads| -> Result<_> {
        let version = threads.spawn(|| tools::cargo_version(&tools.cargo, root, clean_env));
        let early_url = index::url_for(&cfg.target, &root.join(&cfg.path), clean_env).ok();
        let prefetch = early_url
            .clone()
            .map(|url| threads.spawn(|| Index::open(url, clean_env, &tools.git, token)));
        let tree: Option<PristineTree> = if cfg.allow_dirty {
            reporter
                .warn("`allow_dirty` is set: publishing the working tree as it is, not the commit");
            None
        } else {
            reporter.status(
                "Copying",
                &format!("commit {} to a pristine tree", short(commit)),
            );
            Some(checkout::create(
                &tools.git, root, commit, &cfg.path, clean_env,
            )?)
        };
        reporter.status("Using", &joined(version)?);
        let tree_root = tree.as_ref().map_or(root, PristineTree::root);

        // 7. The plan: which crates, in which order.
        let plan = plan::plan(&tools.cargo, tree_root, root, cfg, clean_env)?;
        if tree.is_some() {
            checkout::ensure(&tools.git, tree_root, &plan.referenced, clean_env)?;
        }

        // 8. The index as cargo in the tree finds it: the one read early, unless the commit's
        //    cargo config names another than the checkout's.
        let url = index::url_for(&cfg.target, &plan.dir, clean_env)?;
        let index = match prefetch {
            Some(read) if early_url.as_deref() == Some(url.as_str()) => joined(read)?,
            _ => Index::open(url, clean_env, &tools.git, token)?,
        };
        Ok((tree, plan, index))
    })
}

/// The plan, before anything is uploaded.
fn print_plan(reporter: &Reporter, plan: &Plan, upload: &[Package]) {
    reporter.status(
        "Plan",
        &format!("{} crate(s) to upload, in this order:", upload.len()),
    );
    for package in &plan.publish {
        let action = if upload.contains(package) {
            "publish"
        } else {
            "skip: already published"
        };
        reporter.status(
            "",
            &format!("{} v{}: {action}", package.name, package.version),
        );
    }
    for (package, why) in &plan.skipped {
        reporter.status(
            "",
            &format!("{} v{}: skip: {why}", package.name, package.version),
        );
    }
}

/// `shipcrate copy DIR [COMMIT]`: the pristine copy of the commit (the built one unless
/// named), kept, and nothing else.
fn copy_only(
    root: &Path,
    facts: &git::GitFacts,
    env: &Env,
    dest: &Path,
    commit: Option<&str>,
    reporter: &Reporter,
) -> Result<()> {
    let tools = tools::find(env, root)?;
    let commit = match commit {
        Some(commit) => commit.to_owned(),
        None => ci::detect(env, facts)
            .commit
            .context("no commit to copy: HEAD is unborn")?,
    };
    if dest.exists() && fs_err::read_dir(dest)?.next().is_some() {
        return Err(crate::error::UsageError(format!("`{}` is not empty", dest.display())).into());
    }
    fs_err::create_dir_all(dest)?;
    checkout::create_in(
        &tools.git,
        root,
        &commit,
        Path::new(""),
        &secret::scrub(env, None, &[], secret::Child::Build),
        dest,
    )?;
    reporter.status(
        "Copied",
        &format!("commit {} to {}", short(&commit), dest.display()),
    );
    Ok(())
}

/// On every way out after the plan: files cargo made in the checkout's target dir go back to
/// the checkout's owner (we may be root in a container, the checkout someone else's).
struct HandBack<'a> {
    root: &'a Path,
    dir: &'a Path,
    reporter: &'a Reporter,
}

impl Drop for HandBack<'_> {
    fn drop(&mut self) {
        if let Err(error) = ownership::hand_back(self.root, self.dir) {
            self.reporter.warn(&format!("{error:#}"));
        }
    }
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

/// Drops a value (a temp dir's owner) on a thread of its own, and waits for that when it is
/// dropped itself, so the removal overlaps other work but never outlives the run.
struct DropBehind(Option<std::thread::JoinHandle<()>>);

impl DropBehind {
    fn start<T: Send + 'static>(value: Option<T>) -> Self {
        DropBehind(value.map(|value| std::thread::spawn(move || drop(value))))
    }
}

impl Drop for DropBehind {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            // A panic while removing a temp dir has nothing left to stop.
            thread.join().ok();
        }
    }
}

/// A thread's result; its panic goes on in ours.
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// `shipcrate explain`: settings with sources and the build; [`explain_plan`] adds the plan
/// and the decision. Changes nothing.
fn explain(cfg: &Config, ctx: &BuildContext, cargo: &str, token: Option<&secret::Token>) {
    let file = cfg
        .file
        .as_ref()
        .map_or("none".to_owned(), |f| f.display().to_string());
    println!("Configuration (file: {file}):");
    let width = cfg
        .sources
        .iter()
        .map(|(k, _, _)| k.len())
        .max()
        .unwrap_or(0);
    for (key, value, origin) in &cfg.sources {
        println!("  {key:<width$}  {value:<24}  ({origin})");
    }
    println!(
        "  token resolves to: {}",
        token.map_or("nothing (needed unless dry_run)".to_owned(), |t| format!(
            "*** from {}",
            t.from
        ))
    );
    println!("\nBuild ({}):", ctx.provider);
    let none = || "(unknown)".to_owned();
    println!(
        "  commit:          {}",
        ctx.commit.clone().unwrap_or_else(none)
    );
    println!(
        "  branch:          {}",
        ctx.branch.clone().unwrap_or_else(|| "(none)".to_owned())
    );
    println!(
        "  tags:            {}",
        if ctx.tags.is_empty() {
            "(none)".to_owned()
        } else {
            ctx.tags.join(", ")
        }
    );
    println!("  pull request:    {}", ctx.pull_request);
    println!(
        "  repository:      {}",
        ctx.slug.clone().unwrap_or_else(none)
    );
    println!(
        "  default branch:  {}",
        ctx.default_branch.clone().unwrap_or_else(none)
    );
    println!("  cargo:           {cargo}");
}

/// The plan of `shipcrate explain` (`listed[i]`: the index has `plan.publish[i]` already) and
/// the decision, which says whether a publishing build would upload anything. A plan that
/// can't be made fails a publishing build, as a run would; a skipping build only shows why.
fn explain_plan(
    decision: &Decision,
    target: &Target,
    planned: Result<(Plan, Vec<bool>)>,
) -> Result<()> {
    let (plan, listed) = match (planned, decision) {
        (Ok(planned), _) => planned,
        (Err(error), Decision::Skip(why)) => {
            println!("\nPlan: cannot be made: {error:#}");
            println!("\nDecision: skip: {why}");
            return Ok(());
        }
        (Err(error), Decision::Publish) => {
            println!("\nPlan: cannot be made (below)");
            println!("\nDecision: publish, but the run would fail");
            return Err(error);
        }
    };
    let upload: Vec<&Package> = plan
        .publish
        .iter()
        .zip(&listed)
        .filter(|(_, listed)| !**listed)
        .map(|(p, _)| p)
        .collect();
    println!("\nPlan ({target}, in this order):");
    let mut step = 0;
    for (package, listed) in plan.publish.iter().zip(&listed) {
        if *listed {
            println!(
                "      {} v{}: skip: already in the index",
                package.name, package.version
            );
        } else {
            step += 1;
            println!(
                "  {step:>3}. {} v{}: publish",
                package.name, package.version
            );
        }
    }
    for (package, why) in &plan.skipped {
        println!("      {} v{}: skip: {why}", package.name, package.version);
    }
    let decision = match decision {
        Decision::Skip(why) => format!("skip: {why}"),
        Decision::Publish if plan.publish.is_empty() => format!(
            "publish — nothing to upload: no crate of the workspace may go to {target} \
             (each is skipped above)"
        ),
        Decision::Publish if upload.is_empty() => format!(
            "publish — nothing to upload: every crate in the plan is already in the index ({})",
            plan.publish
                .iter()
                .map(Package::spec)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Decision::Publish => format!(
            "publish {} crate(s): {}",
            upload.len(),
            upload
                .iter()
                .map(|p| p.spec())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    println!("\nDecision: {decision}");
    Ok(())
}

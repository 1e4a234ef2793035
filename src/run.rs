//! The run, as named steps: settle (settings, where we run, the decision) → preflight →
//! prepare (copy ‖ plan ‖ index) → check what's published → verify → mint and `before_deploy`
//! → upload → finish. Checks that can fail for bad config all run before anything
//! irreversible; the report is written whatever happens after the decision.
//!
//! Decides in order only: each step's rules live in the module that owns its concern.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::checkout::PristineTree;
use crate::cli::{Action, Invocation};
use crate::conditions::Decision;
use crate::config::{Config, Mismatch, RetryPolicy};
use crate::index::{Index, Listed};
use crate::outcome::{CrateOutcome, Outcome};
use crate::plan::{self, Package, Plan};
use crate::prepare::{self, Prepared, Settled, Verifying};
use crate::publish::Cargo;
use crate::registry::Target;
use crate::report::{ReportFiles, Reporter, Summary};
use crate::secret::{self, LiveToken, Token};
use crate::tools::Tools;
use crate::trusted::{self, Session};
use crate::upload::{Early, Forever, TokenLife, Uploader, Uploads};
use crate::{
    Env, cargo_output, cmd, compare, copy, explain, git, hooks, migrate, ownership, retry, signals,
};

/// Run shipcrate as the process was started: its environment and working directory.
#[allow(
    clippy::needless_pass_by_value,
    reason = "main hands the invocation over"
)]
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
    let reporter = Reporter::new(&env);
    let result = prepare::refuse_unreadable(&unreadable, None)
        .and_then(|()| signals::install().context("could not install signal handlers"))
        .and_then(|()| pipeline(&invocation, &env, &unreadable, &cwd, &reporter));
    if let Err(error) = &result {
        reporter.error(&format!("{error:#}"));
    }
    result
}

/// What the command asks for: `migrate` and `copy` stop early; `explain` and `publish` settle
/// the run first.
fn pipeline(
    invocation: &Invocation,
    env: &Env,
    unreadable: &[String],
    cwd: &Path,
    reporter: &Reporter,
) -> Result<()> {
    if let Action::Migrate {
        to,
        file: Some(file),
    } = &invocation.action
    {
        return migrate::print(&cwd.join(file), *to);
    }
    let (root, facts) = git::open(cwd)?;
    if let Action::Copy { dir, commit } = &invocation.action {
        return copy::copy(
            &root,
            &facts,
            env,
            &cwd.join(dir),
            commit.as_deref(),
            reporter,
        );
    }
    if let Action::Migrate { to, file: None } = invocation.action {
        return migrate::print(&root.join(".travis.yml"), to);
    }
    let (settled, token) =
        prepare::settle(root, &facts, env, unreadable, &invocation.flags, reporter)?;
    if invocation.action == Action::Explain {
        let token = token.as_ref().ok().and_then(Option::as_ref);
        return explain::explain(&settled, token, reporter);
    }
    publish(&settled, token, env, reporter)
}

/// A build that may publish, from its decision to its report.
fn publish(
    settled: &Settled,
    token: Result<Option<Token>>,
    env: &Env,
    reporter: &Reporter,
) -> Result<()> {
    let Settled { root, cfg, ctx, .. } = settled;
    let report = Report::new(settled, env);
    if let Decision::Skip(why) = &settled.decision {
        reporter.notice(&format!("not publishing: {why}"));
        return report.write(reporter, Vec::new());
    }

    // 5. Pre-flight: a token when one is needed, a commit to copy.
    let (live, trusted, commit) = preflight(settled, token, env, reporter)?;

    // 6.–8. The pristine copy, the plan, the registry's index.
    let Prepared {
        tree,
        mut plan,
        index,
        verifying,
    } = prepare::prepare(
        settled,
        &commit,
        &live,
        cfg.dry_run || !cfg.no_verify,
        reporter,
    )?;
    let tree_root = tree.as_ref().map_or(root.as_path(), |t| t.root());
    let target_dir = plan.target_dir.clone();
    let _hand_back = HandBack {
        root,
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
        &settled.tools.cargo,
        &plan,
        cfg.cargo_flags(),
        &live,
        &settled.clean_env,
        index.auth_required(),
        reporter.masker(),
    );

    // 9. Pre-flight, all before any upload: what the registry has already, and whether it is
    //    what this commit holds.
    let (listed, verifying) = listed_and_judged(&index, &plan, verifying, &cargo)?;
    let checked = check_published(&cargo, &index, &plan, &listed, cfg, reporter)?;
    outcomes.extend(checked.published);
    let upload = checked.upload;
    print_plan(reporter, &plan, &upload);
    warn_rate_limit(cfg, upload.len(), checked.new_crates.len(), reporter);
    if upload.is_empty() {
        reporter.notice("nothing to upload: every crate in the plan is published or skipped");
        return report.write(reporter, outcomes);
    }
    let crates: Vec<String> = upload.iter().map(Package::spec).collect();

    // A dry run reads the index no further: its temp dir goes while cargo builds, not after.
    let (index, gone) = match cfg.dry_run {
        true => (None, Some(index)),
        false => (Some(index), None),
    };
    let _index_gone = DropBehind::start(gone);
    let mut publisher = Publisher {
        cargo,
        retry: cfg.retry_policy(),
        index,
        trusted,
        early: None,
    };
    publisher.start_early(cfg, &upload, &live);

    // 10. Verify every crate, each against the others' new versions, in one dry run (as
    //     cargo's multi-package publish does): each is built once, and a crate that doesn't
    //     build stops the run before any hook runs or anything is uploaded.
    let mut halted: Option<anyhow::Error> = None;
    if cfg.dry_run || !cfg.no_verify {
        let started = verifying.and_then(Verifying::take_over);
        let (checked, stop) = verify(
            &publisher.cargo,
            &upload,
            &crates,
            cfg.dry_run,
            started,
            reporter,
        )?;
        outcomes.extend(checked);
        halted = stop;
    }
    if halted.is_some() {
        // Refused at its gate, stopped: nothing went up.
        publisher.early = None;
    }

    // 11. The trusted-publishing token (GitHub), then before_deploy.
    let hooks = Hooks::new(settled, &commit, &crates, tree_root);
    if halted.is_none()
        && let Err((error, why)) = ready_to_upload(&mut publisher, &hooks, cfg, reporter)
    {
        outcomes.extend(
            upload
                .iter()
                .map(|p| CrateOutcome::new(p, Outcome::NotStarted, Some(why.into()))),
        );
        report.write(reporter, outcomes)?;
        return Err(error.context("nothing was published"));
    }

    // 12. Upload, in order, each crate visible in the index before anything that needs it.
    if halted.is_none()
        && let Some(uploads) = publisher.upload(&upload, reporter)
    {
        outcomes.extend(uploads.outcomes);
        halted = uploads.halted;
    }
    let failed = halted.is_some() || outcomes.iter().any(|c| c.outcome == Outcome::Failed);
    hint_trusted(
        &outcomes,
        publisher.trusted.is_some(),
        &checked.new_crates,
        reporter,
    );

    // 13. after_deploy, then the report — written whatever happened above.
    let after = if failed {
        Ok(())
    } else {
        hooks.run("after_deploy", &cfg.after_deploy, reporter)
    };
    publisher.close(tree, reporter);
    report.write(reporter, outcomes.clone())?;
    if failed {
        return Err(failure(halted, &outcomes));
    }
    after
}

/// 5. Pre-flight, before anything is copied: the token in force when one is needed (a dry run
///    goes on without), the trusted-publishing session that will mint one where it applies,
///    and the commit to copy.
fn preflight(
    settled: &Settled,
    token: Result<Option<Token>>,
    env: &Env,
    reporter: &Reporter,
) -> Result<(LiveToken, Option<Session>, String)> {
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
    let commit = prepare::commit(&settled.ctx, "publish")?;
    Ok((live, trusted, commit))
}

/// What the index lists of each planned crate, and the dry run started early if it goes on:
/// only when it verifies just what this plan uploads ([`takes_over`]); else it is stopped now,
/// before anything else runs cargo on the tree.
fn listed_and_judged(
    index: &Index,
    plan: &Plan,
    verifying: Option<Verifying>,
    cargo: &Cargo,
) -> Result<(Vec<Vec<Listed>>, Option<Verifying>)> {
    let listed: Vec<Vec<Listed>> = plan
        .publish
        .iter()
        .map(|p| index.versions(&p.name))
        .collect::<Result<_>>()?;
    let verifying = verifying.filter(|v| takes_over(v, plan, &listed, index, cargo));
    Ok((listed, verifying))
}

/// Whether the dry run started early (`cargo publish --dry-run --workspace` in the tree) is
/// this run's verification: it ran where the plan runs cargo and built in the plan's target
/// dir, and it verifies exactly the plan's crates — every member but those with `publish =
/// false`, none of them already in the index, in an order cargo can make — against an index
/// read without a token.
fn takes_over(
    verifying: &Verifying,
    plan: &Plan,
    listed: &[Vec<Listed>],
    index: &Index,
    cargo: &Cargo,
) -> bool {
    plan.whole_workspace
        && verifying.dir == plan.dir
        && verifying.target_dir == plan.target_dir
        && !plan.publish.is_empty()
        && plan
            .skipped
            .iter()
            .all(|(_, why)| why == plan::PUBLISH_FALSE)
        && plan
            .publish
            .iter()
            .zip(listed)
            .all(|(p, listed)| !listed.iter().any(|l| l.version == p.version))
        && !index.auth_required()
        && !cargo.cannot_order(&plan.publish)
}

/// What [`check_published`] found: the crates to upload (in plan order), the ones the
/// registry has already, and the names it has never seen.
struct Checked {
    upload: Vec<Package>,
    published: Vec<CrateOutcome>,
    new_crates: Vec<String>,
}

/// 9. What the registry has already, and whether it is what this commit holds: a version
///    already there with other content is a warning, an error with `checksum_mismatch: fail`,
///    and always an error for the crate the tag names.
fn check_published(
    cargo: &Cargo,
    index: &Index,
    plan: &Plan,
    listed: &[Vec<Listed>],
    cfg: &Config,
    reporter: &Reporter,
) -> Result<Checked> {
    let mut checked = Checked {
        upload: Vec::new(),
        published: Vec::new(),
        new_crates: Vec::new(),
    };
    for (package, listed) in plan.publish.iter().zip(listed) {
        if listed.is_empty() {
            checked.new_crates.push(package.name.clone());
        }
        if !listed.iter().any(|v| v.version == package.version) {
            checked.upload.push(package.clone());
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
        checked.published.push(CrateOutcome::new(
            package,
            Outcome::AlreadyPublished,
            Some(reason),
        ));
    }
    Ok(checked)
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

/// crates.io's rate limits, when this plan goes beyond their burst: the waits to expect.
fn warn_rate_limit(cfg: &Config, uploads: usize, new_crates: usize, reporter: &Reporter) {
    let new_versions = uploads.saturating_sub(new_crates);
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
}

/// 10. The dry run of every crate to upload: each crate's outcome when this is a dry run (else
///     only when verification failed), and the error that stops the run when it did.
fn verify(
    cargo: &Cargo,
    upload: &[Package],
    crates: &[String],
    dry_run: bool,
    started: Option<cmd::Streaming>,
    reporter: &Reporter,
) -> Result<(Vec<CrateOutcome>, Option<anyhow::Error>)> {
    let when = if dry_run {
        "(dry run)"
    } else {
        "before uploading any"
    };
    reporter.status("Verifying", &format!("{} {when}", crates.join(", ")));
    let checked = cargo.dry_run(upload, started, reporter)?;
    let failed: Vec<String> = checked
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .map(|c| format!("{}@{}", c.name, c.version))
        .collect();
    Ok(match failed.as_slice() {
        _ if dry_run => (checked, None),
        // All verified: the uploads report each crate.
        [] => (Vec::new(), None),
        failed => {
            // One crate when cargo's output named it; else the dry run as a whole.
            let why = match failed {
                [bad] => format!("{bad} failed to verify"),
                _ => "the dry run before the first upload failed".to_owned(),
            };
            let halted = anyhow::anyhow!("{why}: nothing was uploaded");
            let outcomes = checked
                .into_iter()
                .map(|c| match c.outcome {
                    Outcome::Failed => c,
                    _ => CrateOutcome {
                        outcome: Outcome::NotStarted,
                        reason: Some(why.clone()),
                        duration_ms: 0,
                        ..c
                    },
                })
                .collect();
            (outcomes, Some(halted))
        }
    })
}

/// The one owner of what talks to the registry: cargo, the index (none on a dry run, which
/// uploads nothing), and the trusted-publishing session. All three hold the run's one
/// [`LiveToken`], so a token the session renews reaches cargo and the index at once.
struct Publisher<'a> {
    cargo: Cargo<'a>,
    retry: RetryPolicy,
    index: Option<Index>,
    trusted: Option<Session>,
    /// The first upload cargo, started while the verification builds (see `upload::Early`).
    early: Option<Early>,
}

impl Publisher<'_> {
    /// 11. The trusted-publishing token, minted now that every crate has built (a slow build
    ///     doesn't eat its life) and, on GitHub, before any hook runs (renewal is free there;
    ///     a GitLab job's one JWT is minted right before the first upload instead, so a long
    ///     hook doesn't eat its life).
    fn mint_early(&mut self, dry_run: bool, reporter: &Reporter) -> Result<()> {
        match &mut self.trusted {
            Some(session) if !dry_run && session.mints_freely() => session
                .ensure(std::time::Duration::ZERO, reporter)
                .map(drop),
            _ => Ok(()),
        }
    }

    /// Nothing between the verification and the uploads can change them (no `before_deploy`,
    /// a token known now that lasts, an order cargo can make), and the index is read without
    /// a token: the upload cargo starts now and waits at its gate, its index update and
    /// packaging done while the verification builds. Should it not start, the uploads start
    /// after the verification, as they otherwise do.
    fn start_early(&mut self, cfg: &Config, upload: &[Package], live: &LiveToken) {
        if !cfg.dry_run
            && !cfg.no_verify
            && cfg.before_deploy.is_empty()
            && self.trusted.is_none()
            && self.index.as_ref().is_some_and(|i| !i.auth_required())
            && !self.cargo.cannot_order(upload)
            && let Some(token) = live.get()
        {
            self.early = Early::start(&self.cargo, upload, token).ok();
        }
    }

    /// 12. Upload, in order, each crate visible in the index before anything that needs it;
    ///     `None` on a dry run.
    fn upload(&mut self, upload: &[Package], reporter: &Reporter) -> Option<Uploads> {
        let index = self.index.as_mut()?;
        let life: &mut dyn TokenLife = match &mut self.trusted {
            Some(session) => session,
            None => &mut Forever,
        };
        let uploader = Uploader {
            cargo: &self.cargo,
            policy: self.retry,
        };
        Some(uploader.upload(upload, self.early.take(), index, life, reporter))
    }

    /// Done with the registry: cargo and the index go, then the pristine copy, then the
    /// session revokes its token (a failure is a warning).
    fn close(self, tree: Option<PristineTree>, reporter: &Reporter) {
        let Publisher {
            cargo,
            retry: _,
            index,
            trusted,
            early,
        } = self;
        drop(early);
        drop(cargo);
        drop(index);
        drop(tree);
        if let Some(mut session) = trusted {
            session.close(reporter);
        }
    }
}

/// 11. Ready to upload: the trusted-publishing token minted where that is free (GitHub), then
///     `before_deploy` — only when something will really be uploaded. An error comes with
///     what the crates not started are told.
fn ready_to_upload(
    publisher: &mut Publisher,
    hooks: &Hooks,
    cfg: &Config,
    reporter: &Reporter,
) -> Result<(), (anyhow::Error, &'static str)> {
    publisher
        .mint_early(cfg.dry_run, reporter)
        .map_err(|error| (error, "no trusted-publishing token"))?;
    hooks
        .run("before_deploy", &cfg.before_deploy, reporter)
        .map_err(|error| (error, "before_deploy failed"))
}

/// The advice a failed upload deserves under trusted publishing: a crate locked to it when
/// this run had a token, a new crate (which needs a token) when it had none.
fn hint_trusted(
    outcomes: &[CrateOutcome],
    trusted: bool,
    new_crates: &[String],
    reporter: &Reporter,
) {
    for crate_ in outcomes.iter().filter(|c| c.outcome == Outcome::Failed) {
        let reason = crate_.reason.as_deref().unwrap_or_default();
        if cargo_output::wants_trusted_publishing(reason) && !trusted {
            reporter.warn(&format!(
                "{} accepts only trusted publishing: drop the token and give the job an OIDC \
                 identity (GitHub: `permissions: id-token: write`; GitLab: `id_tokens:`)",
                crate_.name
            ));
        } else if trusted
            && new_crates.contains(&crate_.name)
            && cargo_output::refused_credentials(reason)
        {
            reporter.warn(&format!(
                "{} is a new crate: its first publish needs a normal API token; trusted \
                 publishing works from its second release on",
                crate_.name
            ));
        }
    }
}

/// The error of a run that failed after the decision: what stopped it, and what was
/// published, what failed and what never started.
fn failure(halted: Option<anyhow::Error>, outcomes: &[CrateOutcome]) -> anyhow::Error {
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
    anyhow::anyhow!(
        "{why}published: {}; failed: {}; not started: {}",
        list(Outcome::Published),
        list(Outcome::Failed),
        list(Outcome::NotStarted)
    )
}

/// The report of a run past its decision: where it goes and what it says besides the crates.
struct Report<'a> {
    settled: &'a Settled,
    files: ReportFiles,
    env: &'a Env,
}

impl<'a> Report<'a> {
    fn new(settled: &'a Settled, env: &'a Env) -> Self {
        let files = ReportFiles {
            json: settled.cfg.report.clone(),
            dotenv: settled.cfg.dotenv.clone(),
        };
        Report {
            settled,
            files,
            env,
        }
    }

    /// The log's summary, GitHub's outputs and step summary, the JSON report.
    fn write(&self, reporter: &Reporter, crates: Vec<CrateOutcome>) -> Result<()> {
        let Settled {
            cfg, ctx, decision, ..
        } = self.settled;
        let summary = Summary {
            decision: decision.clone(),
            dry_run: cfg.dry_run,
            commit: ctx.commit.clone(),
            registry: cfg.target.to_string(),
            crates,
        };
        reporter.finish(&summary, &self.files, self.env)
    }
}

/// `before_deploy` and `after_deploy`, in the checkout root with the hooks' environment plus
/// what shipcrate tells them (the commit, the crates, the pristine copy).
struct Hooks<'a> {
    cfg: &'a Config,
    tools: &'a Tools,
    root: &'a Path,
    env: Env,
}

impl<'a> Hooks<'a> {
    fn new(settled: &'a Settled, commit: &str, crates: &[String], tree_root: &Path) -> Self {
        let mut env = settled.hook_base.clone();
        env.insert("SHIPCRATE_COMMIT".into(), commit.to_owned());
        env.insert("SHIPCRATE_CRATES".into(), crates.join(" "));
        env.insert(
            "SHIPCRATE_PRISTINE_DIR".into(),
            tree_root.display().to_string(),
        );
        Hooks {
            cfg: &settled.cfg,
            tools: &settled.tools,
            root: &settled.root,
            env,
        }
    }

    /// One stage's commands: each in its own shell, or, for a `.travis.yml` entry, all in one
    /// bash shell as Travis ran them. A dry run says what it would run.
    fn run(&self, stage: &str, commands: &[String], reporter: &Reporter) -> Result<()> {
        let Hooks {
            cfg,
            tools,
            root,
            env: hook_env,
        } = self;
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
                root,
                hook_env,
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
            root,
            hook_env,
            reporter.masker(),
            assert,
        )?;
        for (command, code) in failed {
            reporter.warn(&format!(
                "{stage} hook `{command}` failed with exit status {code}; the rest ran, as on \
                 Travis, where {stage} failures did not fail the build"
            ));
        }
        if assert && fs_err::canonicalize(&end).ok() != fs_err::canonicalize(root).ok() {
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
    }
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

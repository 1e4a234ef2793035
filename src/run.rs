//! The pipeline, as numbered steps. Checks that can fail for bad config all run before anything
//! irreversible; the report is written whatever happens after the decision.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::checkout::{self, PristineTree};
use crate::ci::{self, BuildContext};
use crate::cli::{Action, Invocation};
use crate::conditions::{self, Decision};
use crate::config::{self, Config};
use crate::publish::{self, CrateOutcome, Outcome};
use crate::report::{ReportFiles, Reporter, Summary};
use crate::secret;
use crate::{Env, git, hooks, ownership, signals, tools};

/// Run shipcrate as the process was started: its environment and working directory.
pub fn run(invocation: Invocation) -> Result<()> {
    let env: Env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut reporter = Reporter::new(&env);
    let result = signals::install()
        .context("could not install signal handlers")
        .and_then(|()| pipeline(&invocation, &env, &cwd, &mut reporter));
    if let Err(error) = &result {
        reporter.error(&format!("{error:#}"));
    }
    result
}

fn pipeline(invocation: &Invocation, env: &Env, cwd: &Path, reporter: &mut Reporter) -> Result<()> {
    // 1. Settings, and the repository they belong to.
    let (root, facts) = git::open(cwd)?;
    let cfg = config::load(&root, env, &invocation.flags)?;

    // 2. The token, resolved now so it is masked before anything runs; an unresolvable one
    //    only matters once we know this build publishes (fork PRs have empty secrets).
    let token = secret::resolve(cfg.token.as_ref(), &cfg.target, env);
    if let Ok(Some(token)) = &token {
        reporter.add_secret(token.expose());
    }
    let clean_env = secret::scrub(env, token.as_ref().ok().and_then(Option::as_ref));

    // 3. Tools, then where we run.
    let tools = tools::find(env, &root)?;
    let cargo_version = tools::cargo_version(&tools.cargo, &root, &clean_env)?;
    let ctx = ci::detect(env, &facts);
    for warning in &ctx.warnings {
        reporter.warn(warning);
    }

    // 4. May this build publish?
    let decision = conditions::decide(&cfg.on, &ctx, |command| {
        hooks::condition(command, &tools.sh, &root, &clean_env, reporter.masker())
    })?;

    if invocation.action == Action::Explain {
        explain(
            &cfg,
            &ctx,
            &decision,
            &cargo_version,
            token.as_ref().ok().and_then(Option::as_ref),
        );
        return Ok(());
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
    if token.is_none() && !cfg.dry_run {
        return Err(secret::missing(&cfg.target, env));
    }
    reporter.status("Using", &cargo_version);
    if let Some(token) = &token {
        reporter.status("Token", &format!("from {}", token.from));
    }
    let commit = ctx
        .commit
        .clone()
        .context("no commit to publish: HEAD is unborn")?;

    // 6. The pristine copy (or, with `allow_dirty`, the working tree as it is).
    let tree: Option<PristineTree> = if cfg.allow_dirty {
        reporter.warn("`allow_dirty` is set: publishing the working tree as it is, not the commit");
        None
    } else {
        reporter.status(
            "Copying",
            &format!("commit {} to a pristine tree", short(&commit)),
        );
        Some(checkout::create(&tools.git, &root, &commit, &clean_env)?)
    };
    let tree_root: PathBuf = tree
        .as_ref()
        .map_or_else(|| root.clone(), |t| t.root().to_path_buf());

    // 7. The plan.
    let plan = publish::plan(&tools.cargo, &tree_root, &root, &cfg, &clean_env)?;
    let _hand_back = HandBack {
        root: &root,
        dir: &plan.target_dir,
        reporter,
    };
    let mut outcomes: Vec<CrateOutcome> = plan
        .skipped
        .iter()
        .map(|(p, why)| CrateOutcome {
            name: p.name.clone(),
            version: p.version.clone(),
            outcome: Outcome::Skipped,
            duration_ms: 0,
            reason: Some(why.clone()),
        })
        .collect();
    for (p, why) in &plan.skipped {
        reporter.status("Skipping", &format!("{} v{} ({why})", p.name, p.version));
    }
    if plan.publish.is_empty() {
        reporter.notice("nothing to publish: no crate in the plan may go to this registry");
        return reporter.finish(&summary(outcomes), &files, env);
    }
    let crates: Vec<String> = plan
        .publish
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();

    // 8. before_deploy — only when something will really be uploaded.
    let mut hook_env = clean_env.clone();
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
        hooks::run(
            stage,
            commands,
            &tools.sh,
            &root,
            &hook_env,
            reporter.masker(),
            reporter,
        )
    };
    if let Err(error) = run_hooks("before_deploy", &cfg.before_deploy) {
        outcomes.extend(
            plan.publish
                .iter()
                .map(|p| not_started(p, "before_deploy failed")),
        );
        reporter.finish(&summary(outcomes), &files, env)?;
        return Err(error.context("nothing was published"));
    }

    // 9. Publish.
    let verb = if cfg.dry_run {
        "Verifying"
    } else {
        "Publishing"
    };
    reporter.status(verb, &format!("{} to {}", crates.join(", "), cfg.target));
    reporter.group_start(
        "cargo_publish",
        &format!("cargo publish ({})", crates.join(", ")),
    );
    let published = publish::publish(
        &tools.cargo,
        &plan,
        &cfg,
        token.as_ref(),
        &clean_env,
        reporter.masker(),
    );
    reporter.group_end("cargo_publish");
    let published = published?;
    let failed = published.iter().any(|c| c.outcome == Outcome::Failed);
    outcomes.extend(published);

    // 10. after_deploy, then the report — written whatever happened above.
    let after = if failed {
        Ok(())
    } else {
        run_hooks("after_deploy", &cfg.after_deploy)
    };
    drop(tree);
    reporter.finish(&summary(outcomes.clone()), &files, env)?;
    if failed {
        let done: Vec<String> = outcomes
            .iter()
            .filter(|c| c.outcome == Outcome::Published)
            .map(|c| format!("{} v{}", c.name, c.version))
            .collect();
        bail!(
            "cargo publish failed; published: {}",
            if done.is_empty() {
                "nothing".to_owned()
            } else {
                done.join(", ")
            }
        );
    }
    after
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

fn not_started(p: &publish::Package, why: &str) -> CrateOutcome {
    CrateOutcome {
        name: p.name.clone(),
        version: p.version.clone(),
        outcome: Outcome::NotStarted,
        duration_ms: 0,
        reason: Some(why.to_owned()),
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// `shipcrate explain`: settings with sources, the build, the decision. Changes nothing.
fn explain(
    cfg: &Config,
    ctx: &BuildContext,
    decision: &Decision,
    cargo: &str,
    token: Option<&secret::Token>,
) {
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
    println!(
        "\nDecision: {}",
        match decision {
            Decision::Publish => "publish".to_owned(),
            Decision::Skip(why) => format!("skip: {why}"),
        }
    );
}

//! `shipcrate explain`: the settings with their sources, the build, the plan and the decision,
//! printed on stdout (the command's result, not a log, so it prints here, not through the
//! reporter). Changes nothing: the plan is made from a pristine copy that is gone again after.

use anyhow::Result;

use crate::Env;
use crate::ci::BuildContext;
use crate::conditions::Decision;
use crate::config::Config;
use crate::plan::{self, Package, Plan};
use crate::prepare::{self, Prepared, Settled};
use crate::registry::Target;
use crate::report::Reporter;
use crate::secret::{self, LiveToken};
use crate::tools;

/// Explain the settled run: what it would read, where it runs, what it would publish. A
/// publishing build with no token and no trusted publishing fails as the run would (exit 2),
/// after showing the plan.
#[allow(clippy::print_stdout)]
pub(crate) fn explain(
    settled: &Settled,
    token: Result<Option<secret::Token>>,
    env: &Env,
    reporter: &Reporter,
) -> Result<()> {
    let Settled {
        root,
        cfg,
        ctx,
        tools,
        decision,
        clean_env,
        ..
    } = settled;
    // The run asks for its credentials only when the build publishes; so does this.
    let (credentials, stop) = match decision {
        Decision::Publish => match prepare::credentials(settled, token, env, reporter) {
            Ok((live, trusted)) => (Credentials::from(live, trusted.is_some()), None),
            Err(error) => (Credentials::Missing, Some(error)),
        },
        Decision::Skip(_) => (
            token.ok().flatten().map_or(Credentials::Missing, |t| {
                Credentials::from(LiveToken::new(Some(t)), false)
            }),
            None,
        ),
    };
    settings(
        cfg,
        ctx,
        &tools::cargo_version(&tools.cargo, root, clean_env)?,
        &credentials,
    );
    if let (Some(entry), Decision::Publish) = (&cfg.entry, decision) {
        println!("\nDeploy entry:    {entry} (.travis.yml), the first whose rules hold");
    }
    // The plan as a run would make it, from a pristine copy that is gone again after.
    let live = match &credentials {
        Credentials::Token(live) => live.clone(),
        _ => LiveToken::new(None),
    };
    let planned = prepare::commit(ctx, "plan").and_then(|commit| {
        let Prepared {
            tree: _tree,
            mut plan,
            index,
            verifying: _,
        } = prepare::prepare(settled, &commit, &live, false, reporter)?;
        if ctx.is_tag_build() {
            plan::check_tags(&mut plan, &ctx.tags, cfg.check_tag)?;
        }
        let versions = plan
            .publish
            .iter()
            .map(|p| index.versions_deciding(&p.name, &p.spec()))
            .collect::<Result<Vec<_>>>()?;
        let listed = plan
            .publish
            .iter()
            .zip(&versions)
            .map(|(p, listed)| listed.iter().any(|v| v.version == p.version))
            .collect();
        let first_releases = plan
            .publish
            .iter()
            .zip(&versions)
            .filter(|(_, listed)| listed.is_empty())
            .map(|(p, _)| plan::first_release_line(&plan, p, &ctx.tags))
            .collect();
        Ok(Planned {
            plan,
            listed,
            first_releases,
        })
    });
    match stop {
        // The run stops before it copies anything: the plan only shows what it would be.
        Some(error) => {
            explain_plan(decision, &cfg.target, planned, true)?;
            Err(error)
        }
        None => explain_plan(decision, &cfg.target, planned, false),
    }
}

/// What a run would upload with.
enum Credentials {
    /// A token (its source is shown).
    Token(LiveToken),
    /// None yet: trusted publishing mints one at the upload.
    Trusted,
    /// None: a publishing build stops; a skip or a dry run needs none.
    Missing,
}

impl Credentials {
    fn from(live: LiveToken, trusted: bool) -> Self {
        match (live.get().is_some(), trusted) {
            (true, _) => Credentials::Token(live),
            (false, true) => Credentials::Trusted,
            (false, false) => Credentials::Missing,
        }
    }
}

/// The plan as `explain` shows it: `listed[i]` says the index has `plan.publish[i]` already;
/// `first_releases`, the line for each crate the registry has never seen.
struct Planned {
    plan: Plan,
    listed: Vec<bool>,
    first_releases: Vec<String>,
}

/// The settings with their sources, and the build; [`explain_plan`] adds the plan and the
/// decision.
#[allow(clippy::print_stdout)]
fn settings(cfg: &Config, ctx: &BuildContext, cargo: &str, credentials: &Credentials) {
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
        // An index URL may carry its credentials.
        let value = crate::secret::without_userinfo(value);
        println!("  {key:<width$}  {value:<24}  ({origin})");
    }
    let token = match credentials {
        Credentials::Token(live) => live
            .get()
            .map_or_else(String::new, |t| format!("*** from {}", t.from)),
        Credentials::Trusted => {
            "none: trusted publishing mints one from the CI's ID token at the upload".to_owned()
        }
        Credentials::Missing => "nothing (needed unless dry_run)".to_owned(),
    };
    println!("  token resolves to: {token}");
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
    match &ctx.pre_merge_sign {
        Some(sign) => println!("  pull request:    true ({sign})"),
        None => println!("  pull request:    {}", ctx.pull_request),
    }
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

/// The plan of `shipcrate explain` and the decision, which says whether a publishing build
/// would upload anything. A plan that can't be made fails a publishing build, as a run
/// would; a skipping build only shows why. `no_token`: a publishing build would stop before
/// the copy for want of a token (the caller returns that error), so the plan only shows
/// what it would be.
#[allow(clippy::print_stdout)]
fn explain_plan(
    decision: &Decision,
    target: &Target,
    planned: Result<Planned>,
    no_token: bool,
) -> Result<()> {
    const STOPS: &str = "publish, but the run would stop before copying anything: it has \
                         no token to upload with (exit 2, as the error below says)";
    let Planned {
        plan,
        listed,
        first_releases,
    } = match (planned, decision) {
        (Err(error), Decision::Publish) if no_token => {
            println!("\nPlan: cannot be made: {error:#}");
            println!("\nDecision: {STOPS}");
            return Ok(());
        }
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
    if !first_releases.is_empty() {
        println!();
    }
    for line in &first_releases {
        println!("Note: {line}");
    }
    let decision = match decision {
        Decision::Skip(why) => format!("skip: {why}"),
        Decision::Publish if no_token => STOPS.to_owned(),
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

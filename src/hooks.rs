//! `before_deploy` / `after_deploy`: shell commands run in order, in the checkout's root.
//!
//! Callers decide whether hooks run at all; this module never sees a token (its env is scrubbed
//! by the caller) and never changes what is packaged (the package is the commit).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::Env;
use crate::cmd;
use crate::config::Config;
use crate::report::Reporter;
use crate::secret::Masker;
use crate::tools::Tools;

/// `before_deploy` and `after_deploy`, in the checkout root with the hooks' environment plus
/// what shipcrate tells them (the commit, the crates, the pristine copy).
pub(crate) struct Hooks<'a> {
    cfg: &'a Config,
    tools: &'a Tools,
    root: &'a Path,
    env: Env,
}

impl<'a> Hooks<'a> {
    /// `base` is the hooks' environment, scrubbed of every token by the caller.
    pub(crate) fn new(
        cfg: &'a Config,
        tools: &'a Tools,
        root: &'a Path,
        base: &Env,
        commit: &str,
        crates: &[String],
        tree_root: &Path,
    ) -> Self {
        let mut env = base.clone();
        env.insert("SHIPCRATE_COMMIT".into(), commit.to_owned());
        env.insert("SHIPCRATE_CRATES".into(), crates.join(" "));
        env.insert(
            "SHIPCRATE_PRISTINE_DIR".into(),
            tree_root.display().to_string(),
        );
        Hooks {
            cfg,
            tools,
            root,
            env,
        }
    }

    /// The `before_deploy` commands (see [`Hooks::run`]).
    pub(crate) fn before_deploy(&self, reporter: &Reporter) -> Result<()> {
        self.run("before_deploy", &self.cfg.before_deploy, reporter)
    }

    /// The `after_deploy` commands (see [`Hooks::run`]).
    pub(crate) fn after_deploy(&self, reporter: &Reporter) -> Result<()> {
        self.run("after_deploy", &self.cfg.after_deploy, reporter)
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
            return run(
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
        let (failed, end) = run_in_one_shell(
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

/// Run `commands` one by one with `sh -c`; the first failure stops and names the hook.
pub(crate) fn run(
    stage: &str,
    commands: &[String],
    sh: &Path,
    dir: &Path,
    env: &Env,
    masker: &Masker,
    reporter: &Reporter,
) -> Result<()> {
    let mut env = env.clone();
    env.insert("SHIPCRATE_STAGE".to_owned(), stage.to_owned());
    for command in commands {
        reporter.status("Running", &format!("{stage} hook `{command}`"));
        let mut cmd = cmd::command(sh, dir, &env);
        cmd.arg("-c").arg(command);
        let finished = cmd::stream(cmd, masker)?;
        if finished.code != 0 {
            bail!(
                "{stage} hook `{command}` failed with exit status {}",
                finished.code
            );
        }
    }
    Ok(())
}

/// How Travis ran `before_deploy` / `after_deploy`: every command in the build's one bash
/// shell, so `cd` and `export` carry over. With `assert` (Travis's `before_deploy`) the first
/// failing command stops the rest and is named; without it (Travis's `after_deploy`, whose
/// commands were not asserted) every command runs and the failures are given back.
/// Gives the failed commands, and the directory the shell ended in.
pub(crate) fn run_in_one_shell(
    stage: &str,
    commands: &[String],
    bash: &Path,
    dir: &Path,
    env: &Env,
    masker: &Masker,
    assert: bool,
) -> Result<(Vec<(String, i32)>, PathBuf)> {
    let status = tempfile::NamedTempFile::new().context("cannot make a temp file for hooks")?;
    let quote = |text: &str| format!("'{}'", text.replace('\'', r"'\''"));
    let mut script = String::new();
    for (i, command) in commands.iter().enumerate() {
        let line = quote(&format!("{stage} hook `{command}`"));
        script += &format!("printf '%12s %s\\n' Running {line} >&2\n{command}\n");
        script += &format!(
            "__shipcrate_rc=$?; if [ \"$__shipcrate_rc\" -ne 0 ]; then \
             printf '%s %s\\n' {i} \"$__shipcrate_rc\" >> \"$SHIPCRATE_HOOK_STATUS\";{}fi\n",
            if assert {
                " exit \"$__shipcrate_rc\"; "
            } else {
                " "
            }
        );
    }
    script += "printf 'pwd %s\\n' \"$PWD\" >> \"$SHIPCRATE_HOOK_STATUS\"\n";
    let mut env = env.clone();
    env.insert("SHIPCRATE_STAGE".to_owned(), stage.to_owned());
    env.insert(
        "SHIPCRATE_HOOK_STATUS".to_owned(),
        status.path().display().to_string(),
    );
    let mut cmd = cmd::command(bash, dir, &env);
    cmd.arg("-c").arg(&script);
    let finished = cmd::stream(cmd, masker)?;
    let report = fs_err::read_to_string(status.path())?;
    let mut failed = Vec::new();
    let mut end = None;
    for line in report.lines() {
        if let Some(path) = line.strip_prefix("pwd ") {
            end = Some(PathBuf::from(path));
        } else if let Some((i, code)) = line.split_once(' ')
            && let (Ok(i), Ok(code)) = (i.parse::<usize>(), code.parse())
            && let Some(command) = commands.get(i)
        {
            failed.push((command.clone(), code));
        }
    }
    if assert && let Some((command, code)) = failed.first() {
        bail!("{stage} hook `{command}` failed with exit status {code}");
    }
    match end {
        Some(end) => Ok((failed, end)),
        // The shell ended before its last line: a command ran `exit`.
        None => bail!(
            "the {stage} hooks' shell ended early with exit status {} (a hook ran `exit`?)",
            finished.code
        ),
    }
}

/// Run one `on.condition` command and give its exit code.
/// A condition in Travis's `[[ … ]]` form runs with bash, anything else with `sh -c`.
pub(crate) fn condition(
    command: &str,
    tools: &Tools,
    dir: &Path,
    env: &Env,
    masker: &Masker,
) -> Result<i32> {
    let shell = if command.trim_start().starts_with("[[") {
        tools.bash.as_deref().with_context(|| {
            format!("the condition `{command}` is a bash test, but `bash` is not on PATH")
        })?
    } else {
        &tools.sh
    };
    let mut cmd = cmd::command(shell, dir, env);
    cmd.arg("-c").arg(command);
    Ok(cmd::stream(cmd, masker)?.code)
}

//! `before_deploy` / `after_deploy`: shell commands run in order, in the checkout's root.
//!
//! Callers decide whether hooks run at all; this module never sees a token (its env is scrubbed
//! by the caller) and never changes what is packaged (the package is the commit).

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::Env;
use crate::cmd;
use crate::report::Reporter;
use crate::secret::Masker;
use crate::tools::Tools;

/// Run `commands` one by one with `sh -c`; the first failure stops and names the hook.
pub fn run(
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

/// Run one `on.condition` command and give its exit code.
/// A condition in Travis's `[[ … ]]` form runs with bash, anything else with `sh -c`.
pub fn condition(
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
